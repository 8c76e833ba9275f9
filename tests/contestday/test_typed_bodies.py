"""Typed bodies: every write route declares its body, so the OpenAPI document shows it and a body that does not
decode gets the project's refusal (`code`, `message`, `message_en`, `field`), never litestar's own shape.

A write handler declares its body as `data: JSONBody[…]` (or a form: `URLEncodedBody[…]`, `MultipartBody[…]`),
or reads it whole itself with `operation_class=raw_body(…)` (contestday/web/bodies.py), or reads none and is
listed in `BODYLESS` with why."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from contestday.app import _exception_handler


class _Sample(msgspec.Struct):
    name: str
    count: int = 0


@post("/sample")
async def _sample(data: JSONBody[_Sample]) -> dict[str, Any]:
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


# --- every write handler declares its body ---------------------------------------------------------------------
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RAW_BODY_OPERATION = "RawBodyOperation"  # the class contestday.web.bodies.raw_body makes

# Write handlers that read no body, each with why: the path (and who asks) says everything. A form posted to one
# of these carries only the CSRF token, which the guard reads (contestday/accounts/guards.py), not the handler.
_ACCOUNT_CHANGES = {
    "disable": "disable the account (its sessions end): the path names the change",
    "enable": "enable the account again: the path names the change",
    "reset": "reset the account's password (a new one is shown once): the path names the change",
    "link": "mint a one-time sign-in link for the account: the path names the change",
}
BODYLESS: dict[str, str] = {
    "POST /logout": "ends the caller's own session; its form carries only the CSRF token (checked by the handler "
                    "itself, as the route has no guard)",
    **{f"POST {prefix}/{{user_id:int}}/{what}": why for prefix in ("/admin/accounts",
                                                                    "/admin/events/{event_id:int}/accounts")
       for what, why in _ACCOUNT_CHANGES.items()},
    **{f"POST {prefix}/{{user_id:int}}/links/{{link_id:int}}/revoke": "revoke a sign-in link: the path names it"
       for prefix in ("/admin/accounts", "/admin/events/{event_id:int}/accounts")},
    "POST /console/events/{event_id:int}/items/{code:str}/theory/{import_id:int}/confirm":
        "the theory page's 确认 button: confirm the pending import the path names (the confirmer is the caller)",
    "POST /console/events/{event_id:int}/items/{code:str}/theory/{import_id:int}/discard":
        "the theory page's 作废导入 button: discard the pending import the path names",
    "POST /api/events/{event_id:int}/items/{code:str}/theory/{import_id:int}/confirm":
        "confirm the pending theory import the path names (the confirmer is the caller)",
    "POST /api/events/{event_id:int}/items/{code:str}/theory/{import_id:int}/discard":
        "discard the pending theory import the path names",
    "POST /admin/events/{event_id:int}/registrations/{entry_id:int}/withdraw":
        "withdraw the registration the path names (the organiser's button; no reason is asked)",
    "POST /admin/events/{event_id:int}/judges/{judge_id:int}/cards/{card_id:int}/delete":
        "delete the examiner card the path names",
    "POST /admin/events/{event_id:int}/judges/{judge_id:int}/revoke":
        "revoke the judge's personal link (their tablets close): the path names the judge",
    "POST /admin/events/{event_id:int}/items/{code:str}/panel/{member_id:int}/delete":
        "take the panel seat the path names off the item's panel",
    "POST /api/events/{event_id:int}/items/{code:str}/absent":
        "mark the item's no-shows absent at the start: the path names the item",
    "POST /admin/events/{event_id:int}/items/{code:str}/absent":
        "the page's button to mark the item's no-shows absent: the path names the item",
    "POST /api/console/events/{event_id:int}/items/{code:str}/criteria/{criterion:str}/lock":
        "lock the criterion the path names (unlocking needs a reason, locking none)",
    "POST /api/console/events/{event_id:int}/items/{code:str}/seats/{seat:str}/hand-in":
        "the contestant at the seat the path names hands in now (the first hand-in stands)",
    "POST /api/console/events/{event_id:int}/items/{code:str}/lock":
        "lock the item's scores (unlocking needs a reason, locking none)",
    "POST /console/events/{event_id:int}/exports":
        "start the event's export in the background: the path names the event",
}


def _write_handlers(app: Litestar) -> Iterator[tuple[str, HTTPRouteHandler]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(set(handler.http_methods) & WRITE_METHODS):
                yield f"{method} {route.path}", handler


def _declares_body(handler: HTTPRouteHandler) -> bool:
    return ("data" in inspect.signature(handler.fn).parameters
            or getattr(handler.operation_class, "__name__", "") == RAW_BODY_OPERATION)


def test_every_write_handler_declares_its_body(app: Litestar) -> None:
    handlers = list(_write_handlers(app))
    assert len(handlers) > 60
    undeclared = {key for key, handler in handlers if not _declares_body(handler)}
    assert sorted(undeclared - BODYLESS.keys()) == [], (
        "these write handlers declare no body: add `data: JSONBody[…]` (or a form dataclass), "
        "`operation_class=raw_body(…)` if they read it themselves, or list them in BODYLESS with why")
    assert sorted(BODYLESS.keys() - undeclared) == [], "BODYLESS lists routes that are gone or declare a body"
    assert all(reason.strip() for reason in BODYLESS.values())


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)  # /x/{event_id:int} → /x/{event_id}


async def test_the_openapi_document_shows_every_write_body(client: AsyncTestClient[Litestar]) -> None:
    bodyless = {(method, _openapi_path(path)) for method, _, path in (key.partition(" ") for key in BODYLESS)}
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    writes = [(method.upper(), path, operation) for path, operations in paths.items()
              for method, operation in operations.items() if method.upper() in WRITE_METHODS]
    assert len(writes) > 25
    missing = sorted(f"{method} {path}" for method, path, operation in writes
                     if (method, path) not in bodyless and not operation.get("requestBody"))
    assert missing == []
    documented_bodyless = sorted(f"{method} {path}" for method, path, operation in writes
                                 if (method, path) in bodyless and operation.get("requestBody"))
    assert documented_bodyless == []  # a route listed as bodyless documents no body either
