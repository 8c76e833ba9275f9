"""Request bodies read by hand (the typed bodies of write routes are declared per route, `data: JSONBody[…]`),
and the OpenAPI description of a body a route reads whole as a document (`raw_body`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import msgspec
from litestar import Request
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from contestday.web.errors import body_not_json, body_not_object, field_missing

__all__ = ["Loose", "Scalar", "Sent", "json_object", "raw_body", "required_text"]

# Body fields typed loosely on purpose: any JSON value one level deep decodes, so the handler or its service
# refuses what it cannot use with its own code (`invalid_ratio`, `invalid_round`…), as when bodies were read
# by hand. `Sent`: absent (msgspec.UNSET) unless sent, where a field's absence counts, not only its value.
Scalar: TypeAlias = str | int | float | bool | None
Loose: TypeAlias = Scalar | list[Scalar] | dict[str, Scalar]
Sent: TypeAlias = Loose | msgspec.UnsetType


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise field_missing(field)
    return value


def required_text(body: msgspec.Struct, *fields: str) -> list[str]:
    """Each of `fields` of a typed body as non-empty text, in order; else `missing_field` naming the first that
    is not (what `json_object(request, *required)` checks of a hand-read body)."""
    return [_text(getattr(body, field), field) for field in fields]


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
        _text(body.get(field), field)
    return body
