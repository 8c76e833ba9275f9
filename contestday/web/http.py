"""The HTTP mapping of refusals and of every other exception a handler lets through."""

from __future__ import annotations

import re
from typing import Any

from litestar.exceptions import HTTPException, ValidationException

from contestday.web.errors import Refusal, body_not_json, body_not_object, body_too_deep, field_missing, not_utf8
from contestday.web.request_bounds import nul_in_text

__all__ = ["body_refusal", "error_body"]


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


_BODY_DECODERS = {"decode_json", "decode_msgpack"}  # litestar.serialization's, called by Request.json()/msgpack()
_NUL_IN_TEXT = "22021"  # PostgreSQL's character_not_in_repertoire: "invalid byte sequence for encoding UTF8: 0x00"
_MISSING = re.compile(r"Object missing required field `([^`]+)`")
_EXPECTED = re.compile(r"Expected `([^`]+)`")
_TYPES_ZH = {"str": "文本", "int": "整数", "float": "数字", "bool": "true 或 false", "array": "列表", "object": "对象",
             "null": "空值", "decimal": "数字"}
_UNION_ZH = {**_TYPES_ZH, "bool": "布尔值"}  # "true 或 false" reads badly inside a list of choices


def body_refusal(exc: HTTPException) -> Refusal | None:
    """A typed body that did not decode, as the refusal a hand-read body gave: `invalid_body` (not JSON, not an
    object), `missing_field` (with `field`), `invalid_field` (with `field` and what it should be). None when
    the problem is not the body's (a path or query parameter)."""
    if exc.status_code == 400 and str(exc.detail).startswith(("JSON is malformed", "Invalid UTF-8")):
        return body_not_json()
    if not isinstance(exc, ValidationException):
        return None
    extra = exc.extra if isinstance(exc.extra, list) else []
    first = next((e for e in extra if isinstance(e, dict) and e.get("source") == "body"), None)
    if first is None:
        return None
    message, key = str(first.get("message", "")), str(first.get("key", ""))
    if missing := _MISSING.search(message):
        return field_missing(missing.group(1))
    if key == "data" or not key:  # the body as a whole: empty, an array, a string…
        return body_not_object()
    wanted = _EXPECTED.search(message)
    kinds = [k.strip() for k in wanted.group(1).split("|")] if wanted else []
    kinds = [k for k in kinds if k != "null"] or kinds
    names = [_TYPES_ZH.get(k.split(" ")[0], k) if len(kinds) == 1 else _UNION_ZH.get(k.split(" ")[0], k)
             for k in kinds]
    zh = "应为" + ("、".join(names[:-1]) + "或" if len(names) > 1 else "") + names[-1] if names else "格式不正确"
    return Refusal(422, "invalid_field", f"{key}：{zh}", f"{key}: {message}", field=key)


def _decoding_a_body(exc: BaseException) -> bool:
    """Raised while litestar decoded the request's body (not a recursion of the server's own)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in _BODY_DECODERS:
            return True
        tb = tb.tb_next
    return False


def error_body(exc: Exception) -> tuple[int, dict[str, Any]]:
    """The status and JSON body for any exception a handler let through. A `UnicodeDecodeError` is the client's
    bytes (litestar decodes multipart fields as UTF-8 and lets the error through): `invalid_encoding`, a 400; so is
    PostgreSQL's refusal of a NUL in text (the query was the client's; nothing was stored); a body nested so deep
    that msgspec's decoder gives up (`RecursionError`) is `upload_too_complex`, as an event file's depth is."""
    if isinstance(exc, UnicodeDecodeError):
        exc = not_utf8()
    if isinstance(exc, RecursionError) and _decoding_a_body(exc):  # JSON nested past msgspec's depth limit
        exc = body_too_deep()
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == _NUL_IN_TEXT:  # a NUL in a body, on PostgreSQL
        exc = nul_in_text()
    if isinstance(exc, HTTPException) and (refused := body_refusal(exc)) is not None:
        exc = refused
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
