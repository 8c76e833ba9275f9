"""Typed bodies: every write route declares its body, so the OpenAPI document shows it and a body that does not
decode gets the project's refusal (`code`, `message`, `message_en`, `field`), never litestar's own shape."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar import Litestar, post
from litestar.testing import AsyncTestClient

from contestday.app import _exception_handler


class _Sample(msgspec.Struct):
    name: str
    count: int = 0


@post("/sample")
async def _sample(data: _Sample) -> dict[str, Any]:
    return {"name": data.name}


@pytest.fixture
async def sample() -> Any:
    app = Litestar([_sample], exception_handlers={Exception: _exception_handler})
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.mark.parametrize(("content", "status", "code", "field"), [
    (b'{"count": 1}', 422, "missing_field", "name"),
    (b'{"name": 7}', 422, "invalid_field", "name"),
    (b'{"name": "x", "count": "many"}', 422, "invalid_field", "count"),
    (b"[1, 2]", 400, "invalid_body", None),
    (b"not json", 400, "invalid_body", None),
    (b"", 400, "invalid_body", None),
])
async def test_a_body_that_does_not_decode_gets_the_usual_refusal(sample: Any, content: bytes, status: int, code: str,
                                                                  field: str | None) -> None:
    answer = await sample.post("/sample", content=content, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == code and body.get("field") == field
    assert body["message"] and body["message_en"] and "status_code" not in body
    if field:
        assert body["message"].startswith(f"{field}：")
