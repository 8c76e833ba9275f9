"""Read-only by default: GET handlers and websockets read through a session that takes no write lock and cannot
write; handlers that write ask for the write session by name. An organiser's page view never waits behind the
writer, and a write slipped into a read fails loudly instead of taking the lock unseen."""

from __future__ import annotations

import asyncio
import inspect
from datetime import date
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from registration.events.models import Event
from tests.conftest import ADMIN_TOKEN

# GET handlers that write by design, each with why: nothing else may ask for the write session on a GET.
WRITING_GETS = {
    "/login/link/{token:str}": "a sign-in link is used up when followed: the session starts there",
    "/j/{token:str}": "a judge's personal link starts the tablet's session when followed",
    "/admin/events/{event_id:int}/checkin": "the page mints each check-in staff's one-time sign-in link",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _handlers(app: Litestar) -> list[tuple[str, set[str], set[str]]]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                params = set(inspect.signature(handler.fn).parameters)
                if "state.open_session()" in inspect.getsource(handler.fn):  # asks for the writer inside
                    params.add("write_session")
                found.append((route.path, set(handler.http_methods), params))
    return found


def test_gets_read_and_writes_ask_for_the_write_session(app: Litestar) -> None:
    handlers = _handlers(app)
    gets = [(path, params) for path, methods, params in handlers if methods <= {"GET", "HEAD"}]
    writes = [(path, params) for path, methods, params in handlers if methods & WRITE_METHODS]
    assert len(gets) > 60 and len(writes) > 60
    writing_gets = {path for path, params in gets if "write_session" in params}
    assert writing_gets == set(WRITING_GETS)
    reading_writes = [path for path, params in writes if "db_session" in params]
    assert reading_writes == []  # a handler that writes says so: `write_session: WriteSession`
    assert sum("write_session" in params for _, params in writes) > 60


async def test_a_page_view_does_not_wait_for_the_write_lock(app: Litestar, client: AsyncTestClient[Litestar],
                                                             admin: Any) -> None:
    created = await admin.post("/api/events", json={"event": {"name": "只读测试", "kind": "district",
                                                                "starts_on": "2027-06-01",
                                                                "award_policy": {"rule": "total_within_30pct"}},
                                                      "items": [{"code": "A", "name": "赛项", "exam_level": 4,
                                                                 "criteria": [{"code": "K", "name": "评分",
                                                                               "max": 100, "kind": "judgement"}]}]})
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]

    async def while_the_writer_holds_the_lock() -> list[httpx.Response]:
        # on the app's own event loop (the test client's portal): its pooled connections live there (asyncpg
        # refuses another loop's), and the page views run truly beside the writer, under a real timeout
        async with app.state.open_session() as writing:  # the writer holds the lock (a tablets' batch, say)
            await writing.exec(text("SELECT 1"))  # type: ignore[call-overload]
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as pages:
                return await asyncio.wait_for(asyncio.gather(
                    pages.get(f"/api/events/{event_id}"),
                    pages.get(f"/admin/events/{event_id}/registrations/list"),
                    pages.get(f"/results/{event_id}"),
                    pages.get("/health"),  # the venue's monitor too: a health check never queues behind the writer
                ), timeout=10)

    answered = client.blocking_portal.call(while_the_writer_holds_the_lock)
    assert [page.status_code for page in answered] == [200, 200, 200, 200], [page.text[:200] for page in answered]


async def test_a_write_through_the_read_session_fails_and_stores_nothing(app: Litestar,
                                                                        client: AsyncTestClient[Litestar]) -> None:
    async def on_the_apps_loop() -> None:
        # its pooled connections live on the app's loop (the test client's portal): asyncpg refuses another's
        async with app.state.read_session() as reading:
            reading.add(Event(name="不该写入", kind="district", starts_on=date(2027, 6, 1)))
            with pytest.raises(DBAPIError) as refused:
                await reading.commit()
        assert "read" in str(refused.value).lower()  # SQLite: readonly database; PostgreSQL: read-only transaction
        async with app.state.read_session() as reading:
            rows = (await reading.exec(text(  # type: ignore[call-overload]
                "SELECT count(*) FROM event WHERE name = '不该写入'"))).one()
        assert rows[0] == 0
        async with app.state.open_session() as writing:  # the same pooled connection writes again afterwards
            await writing.exec(text("UPDATE event SET name = name WHERE id < 0"))  # type: ignore[call-overload]
            await writing.commit()

    client.blocking_portal.call(on_the_apps_loop)
