"""Refusals: what a service says when it will not do something, in domain terms and both languages.

`Refusal(status, code, zh, en, **extra)` knows nothing of HTTP frameworks: services, the CLI and websocket
handlers raise it; the web layer (`contestday.web.http`) turns it into a response
`{"code", "message" (Chinese), "message_en", ...extra}` with `status` (an HTTP status, the one number a
refusal carries).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Refusal", "body_not_json", "body_not_object", "body_too_deep", "field_missing", "not_utf8"]


class Refusal(Exception):
    def __init__(self, status_code: int, code: str, message: str, message_en: str, **extra: Any):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.message_en = message_en
        self.extra_fields = extra
        self.headers: dict[str, str] | None = None  # e.g. Retry-After of a 429

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "message_en": self.message_en,
                **self.extra_fields}


def body_not_json() -> Refusal:
    return Refusal(400, "invalid_body", "请求内容不是有效的 JSON", "the body is not valid JSON")


def body_not_object() -> Refusal:
    return Refusal(400, "invalid_body", "请求内容应为 JSON 对象", "the body must be a JSON object")


def body_too_deep() -> Refusal:
    return Refusal(422, "upload_too_complex", "请求内容嵌套层数过多", "the body is nested too deeply")


def not_utf8() -> Refusal:
    """Bytes of the request (a form field, a query, a file read as text) that are not UTF-8: the client's, so a 400."""
    return Refusal(400, "invalid_encoding", "请求内容不是有效的 UTF-8 编码", "the request is not valid UTF-8")


def field_missing(field: str) -> Refusal:
    return Refusal(422, "missing_field", f"{field}：必填", f"{field} is required", field=field)
