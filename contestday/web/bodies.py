"""Request bodies read by hand (the typed bodies of write routes are declared per route)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from contestday.web.errors import Refusal

__all__ = ["json_object"]


async def json_object(request: Request[Any, Any, Any], *required: str) -> dict[str, Any]:
    """The request body as a JSON object, with each of `required` a non-empty string; else a refusal."""
    try:
        body = await request.json()
    except Exception as exc:
        raise Refusal(400, "invalid_body", "请求内容不是有效的 JSON", "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise Refusal(400, "invalid_body", "请求内容应为 JSON 对象", "the body must be a JSON object")
    for field in required:
        if not isinstance(body.get(field), str) or not body[field].strip():
            raise Refusal(422, "missing_field", f"{field}：必填", f"{field} is required", field=field)
    return body
