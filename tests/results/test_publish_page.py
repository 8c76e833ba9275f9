"""The publish page and the console with items that are not (or not all) judged yet: a seat drawn in an item
nobody marks is pending with its reason, never a 500; one item's failure stays in that item's row; the page
ranks only the items someone sits in, keeps the blockers the gate API gives, and reads without the write
lock."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from typing import Any

import pytest

import results.gate
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest


@pytest.mark.parametrize(("judges", "reason"), [
    ((), "no_panel"),  # no panel at all, as 31 of the demo's 33 items
    ((("王裁判", "单位0"),), "missing_marks"),  # the only judge is from seat 0's own unit: nobody can mark it
])
async def test_a_seat_nobody_marks_is_pending_not_an_error(client: Any, db: Any, judges: Any, reason: str) -> None:
    contest = await seated_contest(db, n=1, judges=judges)
    chief = await login_headers(client, db, "chief", "chief_judge")
    console = await client.get(f"/api/console/events/{contest.event_id}/items/LED", headers=chief)
    assert console.status_code == 200, console.text
    ranking = console.json()["ranking"]
    assert not ranking["complete"] and all(not g["rows"] for g in ranking["groups"])
    [pending] = ranking["pending"]
    assert pending["seat"] == contest.seats[0] and f"A:{reason}" in pending["reasons"]
    assert ("未设裁判组" if reason == "no_panel" else "缺评") in pending["text"]
    gate = await client.get(f"/api/events/{contest.event_id}/items/LED/publication", headers=chief)
    assert gate.status_code == 200 and reason in {b["code"] for b in gate.json()["blockers"]}
    page = await client.get(f"/console/events/{contest.event_id}/publish", headers=chief)
    assert page.status_code == 200, page.text
    assert f'data-code="{reason}"' in page.text and 'id="item-WPS"' in page.text
    if reason == "no_panel":
        assert "未设裁判组" in page.text


async def test_one_item_that_fails_is_that_items_blocker_and_the_page_still_answers(
        client: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    contest = await seated_contest(db, n=2)
    real = results.gate.ranking_and_state

    async def broken(session: Any, event_id: int, code: str | None, loaded: Any = None) -> Any:
        if code == "LED":
            raise RuntimeError("boom")
        return await real(session, event_id, code, loaded)

    monkeypatch.setattr(results.gate, "ranking_and_state", broken)
    chief = await login_headers(client, db, "chief", "chief_judge")
    logged: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record)

    handler = Keep()
    logger = logging.getLogger("contestday.results.gate")
    logger.addHandler(handler)  # the app's logging does not propagate to caplog
    try:
        page = await client.get(f"/console/events/{contest.event_id}/publish", headers=chief)
    finally:
        logger.removeHandler(handler)
    assert page.status_code == 200, page.text
    led = page.text.split('id="item-LED"', 1)[1].split("</section>", 1)[0]
    assert 'data-code="internal_error"' in led and "RuntimeError" in led
    wps = page.text.split('id="item-WPS"', 1)[1].split("</section>", 1)[0]
    assert 'data-code="not_locked"' in wps and "internal_error" not in wps
    assert any("publish gate failed" in r.getMessage() and r.exc_info for r in logged)


async def test_the_page_ranks_only_seated_items_and_keeps_the_gates_blockers(
        client: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    contest = await seated_contest(db, n=3)  # LED seated and judged by one judge; WPS and DUO: nobody seated
    ranked: list[str | None] = []
    real = results.gate.ranking_and_state

    async def counting(session: Any, event_id: int, code: str | None, loaded: Any = None) -> Any:
        ranked.append(code)
        return await real(session, event_id, code, loaded)

    monkeypatch.setattr(results.gate, "ranking_and_state", counting)
    chief = await login_headers(client, db, "chief", "chief_judge")
    page = (await client.get(f"/console/events/{contest.event_id}/publish", headers=chief)).text
    assert ranked == ["LED"]
    for code in ("LED", "WPS", "DUO"):
        row = page.split(f'id="item-{code}"', 1)[1].split("</section>", 1)[0]
        gate = (await client.get(f"/api/events/{contest.event_id}/items/{code}/publication", headers=chief)).json()
        assert [b["code"] for b in gate["blockers"]] == [
            part.split('"', 1)[0] for part in row.split('data-code="')[1:]], code


async def test_the_publish_page_does_not_wait_for_the_write_lock(client: Any, db: Any, settings: Any) -> None:
    contest = await seated_contest(db, n=1)
    chief = await login_headers(client, db, "chief", "chief_judge")
    held, release = threading.Event(), threading.Event()

    def long_write() -> None:  # another writer holds SQLite's write lock (BEGIN IMMEDIATE) for 3 s
        connection = sqlite3.connect(settings.database_url.split(":///", 1)[1], isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(3)
        connection.execute("ROLLBACK")
        connection.close()

    async def hold_pg() -> None:  # PostgreSQL: a writer locks the item table against every other writer for 3 s
        import asyncpg  # only with the PostgreSQL driver installed

        connection = await asyncpg.connect(settings.database_url.replace("postgresql+asyncpg://", "postgresql://"))
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("LOCK TABLE item IN EXCLUSIVE MODE")  # readers (ACCESS SHARE) still pass
        held.set()
        await asyncio.to_thread(release.wait, 3)
        await transaction.rollback()
        await connection.close()

    if not settings.database_url.startswith("sqlite"):
        long_write = lambda: asyncio.run(hold_pg())  # noqa: E731

    writer = threading.Thread(target=long_write)
    writer.start()
    assert held.wait(10)
    started = time.monotonic()
    try:
        page = await client.get(f"/console/events/{contest.event_id}/publish", headers=chief)
    finally:
        elapsed = time.monotonic() - started
        release.set()
        writer.join()
    assert page.status_code == 200 and elapsed < 2, elapsed
