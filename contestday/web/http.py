"""The HTTP mapping of refusals and of every other exception a handler lets through."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import HTTPException

from contestday.web.errors import Refusal

__all__ = ["error_body"]


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
    if isinstance(exc, Refusal):
        return exc.status_code, exc.body()
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code, zh, en = _GENERIC.get(status, _GENERIC[500] if status >= 500 else _GENERIC[400])
    body: dict[str, Any] = {"code": code, "message": zh, "message_en": en}
    extra = getattr(exc, "extra", None)
    if status == 400 and extra:  # litestar's own validation errors: keep where, drop the English noise
        body["code"], body["message"], body["message_en"] = "invalid", "提交的内容无效", "invalid input"
        body["errors"] = extra if isinstance(extra, list) else [extra]
    return status, body
