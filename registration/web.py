"""Web plumbing shared by every context: stable error codes, the error body, language choice.

Every refusal is `ApiError(status, code, zh, en, **extra)` and reaches clients as
`{"code", "message" (Chinese), "message_en", ...extra}`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["ApiError", "DbSession", "download", "error_body", "json_object", "preferred_language"]

# The request's database session, provided by the composition root under the name `db_session`.
DbSession = NamedDependency[AsyncSession]


class ApiError(HTTPException):
    def __init__(self, status_code: int, code: str, message: str, message_en: str, **extra: Any):
        super().__init__(status_code=status_code, detail=message)
        self.code = code
        self.message = message
        self.message_en = message_en
        self.extra_fields = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "message_en": self.message_en,
                **self.extra_fields}


_GENERIC: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求有误", "bad request"),
    401: ("not_authenticated", "请先登录", "please sign in"),
    403: ("forbidden", "没有权限执行此操作", "you are not allowed to do this"),
    404: ("not_found", "找不到该资源", "not found"),
    405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
    409: ("conflict", "与已有数据冲突", "conflicts with stored data"),
    413: ("too_large", "提交的内容过大", "request too large"),
    415: ("unsupported_media_type", "不支持的内容类型", "unsupported content type"),
    422: ("invalid", "提交的内容无效", "invalid input"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试", "too many requests"),
    500: ("internal_error", "服务器内部错误，已记录", "internal error, logged"),
}


def error_body(exc: Exception) -> tuple[int, dict[str, Any]]:
    """The status and JSON body for any exception a handler let through."""
    if isinstance(exc, ApiError):
        return exc.status_code, exc.body()
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code, zh, en = _GENERIC.get(status, _GENERIC[500] if status >= 500 else _GENERIC[400])
    body: dict[str, Any] = {"code": code, "message": zh, "message_en": en}
    extra = getattr(exc, "extra", None)
    if status == 400 and extra:  # litestar's own validation errors: keep where, drop the English noise
        body["code"], body["message"], body["message_en"] = "invalid", "提交的内容无效", "invalid input"
        body["errors"] = extra if isinstance(extra, list) else [extra]
    return status, body


def preferred_language(connection: ASGIConnection[Any, Any, Any, Any] | Request[Any, Any, Any]) -> str:
    """Chinese first: English only when chosen (cookie) or the browser asks for no Chinese at all."""
    chosen = connection.cookies.get("lang")
    if chosen in ("zh", "en"):
        return chosen
    accept = connection.headers.get("accept-language", "")
    if accept and "zh" not in accept.lower() and accept.lower().startswith("en"):
        return "en"
    return "zh"


async def json_object(request: Request[Any, Any, Any], *required: str) -> dict[str, Any]:
    """The request body as a JSON object, with each of `required` a non-empty string; else a refusal."""
    try:
        body = await request.json()
    except Exception as exc:
        raise ApiError(400, "invalid_body", "请求内容不是有效的 JSON", "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "请求内容应为 JSON 对象", "the body must be a JSON object")
    for field in required:
        if not isinstance(body.get(field), str) or not body[field].strip():
            raise ApiError(422, "missing_field", f"{field}：必填", f"{field} is required", field=field)
    return body


def download(data: bytes, filename: str, media_type: str, *, inline: bool = False, ascii_stem: str = "download",
             no_store: bool = False) -> Response[bytes]:
    """A file for the browser. RFC 6266: an ASCII fallback name (`ascii_stem` + the extension) plus the UTF-8
    Chinese one; `inline` opens it in the browser (PDFs), `no_store` keeps personal data out of caches."""
    kind = "inline" if inline else "attachment"
    headers = {"Content-Disposition": f"{kind}; filename=\"{ascii_stem}.{filename.rsplit('.', 1)[-1]}\"; "
                                      f"filename*=UTF-8''{quote(filename)}"}
    if no_store:
        headers["Cache-Control"] = "no-store"
    return Response(data, media_type=media_type, headers=headers)
