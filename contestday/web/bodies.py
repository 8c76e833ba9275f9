"""Request bodies read by hand (the typed bodies of write routes are declared per route)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from contestday.web.errors import body_not_json, body_not_object, field_missing

__all__ = ["json_object"]


async def json_object(request: Request[Any, Any, Any], *required: str) -> dict[str, Any]:
    """The request body as a JSON object, with each of `required` a non-empty string; else a refusal."""
    try:
        body = await request.json()
    except Exception as exc:
        raise body_not_json() from exc
    if not isinstance(body, dict):
        raise body_not_object()
    for field in required:
        if not isinstance(body.get(field), str) or not body[field].strip():
            raise field_missing(field)
    return body
