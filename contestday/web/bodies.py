"""Request bodies read by hand (the typed bodies of write routes are declared per route, `data: JSONBody[…]`),
and the OpenAPI description of a body a route reads whole as a document (`raw_body`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from contestday.web.errors import body_not_json, body_not_object, field_missing

__all__ = ["json_object", "raw_body"]


def raw_body(description: str, *media_types: str, binary: bool = False) -> type[Operation]:
    """An `operation_class` for a route that reads its body whole as a document in one of `media_types` (the
    event file as JSON or TOML, a workbook): it keeps its own size and format checks, and this documents the
    body it takes. `binary`: a file's bytes rather than a structured document."""
    schema = (Schema(type=OpenAPIType.STRING, format="binary") if binary  # type: ignore[arg-type]
              else Schema(type=OpenAPIType.OBJECT, additional_properties=True))
    body = RequestBody(description=description, required=True,
                       content={media: OpenAPIMediaType(schema=schema) for media in media_types})

    @dataclass
    class RawBodyOperation(Operation):
        def __post_init__(self) -> None:
            if self.request_body is None:
                self.request_body = body

    return RawBodyOperation


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
