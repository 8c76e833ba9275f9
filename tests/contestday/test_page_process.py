"""The page process (contestday/web/page_process.py): the heaviest read-only pages are answered by a second
process of the same app on the same database; it sees every commit, a page is answered even when it is
missing, it is started again after it died, and it never outlives the server."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from contestday.app import create_app
from contestday.settings import Settings, load_settings
from contestday.web import page_process
from contestday.web.page_process import PageProcess, forwarded
from tests.conftest import ADMIN_TOKEN
from tests.registration.test_registration_api import person, reg_event
from tests.support.helpers import assert_child_ends_with_killed_server, process_running

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _answered_there(client: AsyncTestClient[Litestar], pages: PageProcess, path: str,
                          timeout: float = 60) -> Any:
    """GET `path` until the page process (not this one) answers it: it takes a moment to start."""
    deadline = time.monotonic() + timeout
    while True:
        before = pages.answered
        response = await client.get(path, headers=AUTH)
        assert response.status_code == 200, response.text  # answered here meanwhile, never refused
        if pages.answered > before:
            return response
        assert time.monotonic() < deadline, "the page process never answered"
        await asyncio.sleep(0.1)


async def test_marked_pages_are_answered_by_the_page_process_which_sees_every_commit(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, page_process=True))
    pages: PageProcess = app.state.pages
    async with AsyncTestClient(app=app) as client:
        created = await client.post("/api/events", json=reg_event(name="页面进程赛"), headers=AUTH)
        assert created.status_code == 201, created.text
        event_id = created.json()["id"]
        # public results (JSON): the event just created in this process, read by the other one
        answer = await _answered_there(client, pages, f"/api/public/events/{event_id}/results")
        assert pages.pid is not None and pages.pid != os.getpid()
        assert answer.json()["event"] == "页面进程赛"
        # an organiser's page, signed in by the bearer token: guards run in the page process too
        entry = await client.post(f"/api/events/{event_id}/registrations", json=person(name="王页面"))
        assert entry.status_code == 201, entry.text
        listing = await _answered_there(client, pages, f"/admin/events/{event_id}/registrations/list")
        assert "王页面" in listing.text and listing.headers["content-type"].startswith("text/html")
        # a download: bytes and headers come back whole
        xlsx = await _answered_there(client, pages, f"/admin/events/{event_id}/registrations/summary.xlsx")
        assert xlsx.content[:2] == b"PK" and "attachment" in xlsx.headers["content-disposition"]
        # refused there as here: the same code, no principal
        before = pages.answered
        refused = await client.get(f"/admin/events/{event_id}/registrations/list")
        assert refused.status_code in (401, 303) and pages.answered == before + 1
        # what is not marked, and every write, stays here
        here = pages.answered
        assert (await client.get(f"/api/events/{event_id}", headers=AUTH)).status_code == 200
        assert pages.answered == here
    assert not process_running(pages.pid)  # it ends with the server


async def test_a_page_is_answered_here_while_the_page_process_is_missing_and_it_is_started_again(
        settings: Settings, monkeypatch: Any) -> None:
    monkeypatch.setattr(page_process, "RESTART_AFTER_S", 0.5)
    app = create_app(dataclasses.replace(settings, page_process=True))
    pages: PageProcess = app.state.pages
    async with AsyncTestClient(app=app) as client:
        event_id = (await client.post("/api/events", json=reg_event(), headers=AUTH)).json()["id"]
        path = f"/api/public/events/{event_id}/results"
        await _answered_there(client, pages, path)
        first = pages.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)  # out of memory, an operator
        while process_running(first):
            await asyncio.sleep(0.05)
        here = pages.here
        response = await client.get(path)
        assert response.status_code == 200 and pages.here == here + 1  # answered by this process instead
        await _answered_there(client, pages, path)  # and a new page process answers again
        assert pages.pid not in (first, None)


def test_only_gets_to_marked_handlers_are_forwarded() -> None:
    class Handler:
        def __init__(self, opt: dict[str, Any]) -> None:
            self.opt = opt

    marked, plain = Handler(page_process.IN_PAGE_PROCESS), Handler({})
    assert forwarded({"method": "GET", "route_handler": marked})
    assert forwarded({"method": "HEAD", "route_handler": marked})
    assert not forwarded({"method": "POST", "route_handler": marked})
    assert not forwarded({"method": "GET", "route_handler": plain})
    assert not forwarded({"method": "GET"})


def test_the_setting_is_on_for_the_server_and_can_be_turned_off(tmp_path: Path) -> None:
    env = {"CONTESTDAY_DATA_DIR": str(tmp_path)}
    assert load_settings(env, dotenv=False).page_process is False  # tests and scripts: one process
    assert load_settings(env, dotenv=False, page_process=True).page_process is True  # `contestday serve`
    assert load_settings({**env, "CONTESTDAY_PAGE_PROCESS": "0"}, dotenv=False, page_process=True).page_process is False
    try:
        load_settings({**env, "CONTESTDAY_PAGE_PROCESS": "maybe"}, dotenv=False)
    except ValueError as exc:
        assert "CONTESTDAY_PAGE_PROCESS" in str(exc) and "1 或 0" in str(exc)
    else:
        raise AssertionError("a bad value was accepted")


def test_the_page_process_ends_when_the_server_is_killed(settings: Settings, tmp_path: Path) -> None:
    assert_child_ends_with_killed_server(f"""
        import time
        from functools import partial
        from contestday.app import create_app
        from contestday.settings import load_settings
        from contestday.web.page_process import PageProcess
        settings = load_settings({{"CONTESTDAY_DATA_DIR": {str(tmp_path / "data")!r},
                                  "CONTESTDAY_DATABASE_URL": {settings.database_url!r}}}, dotenv=False)
        if __name__ == "__main__":
            pages = PageProcess(partial(create_app, settings, as_page_process=True))
            pages.start()
            print(pages.pid, flush=True)
            time.sleep(120)
    """, tmp_path, settle_s=1.0)
