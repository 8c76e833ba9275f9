"""The chief judge's console in headless Chromium: the matrix with its findings highlighted, a mark entered on a
tablet appearing in its cell within a second (no reload), a re-mark request sent from the page reaching the
tablet, a criterion locked from the page. One screenshot is kept for the README (docs/screenshots/console.png,
refreshed with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool
from sqlmodel import select

from contestday.accounts import service as accounts
from contestday.db.engine import create_engine, create_sessionmaker
from contestday.settings import Settings
from judging.models import Judge
from results.console.actions import request_remark
from results.console.state import item_or_404
from tests.browser.test_pages_browser import _shot
from tests.judging.test_judging_ws import connect, op, recv
from tests.results.test_console import mark
from tests.support.judging_setup import Contest, judge_cookie, seated_contest

pytestmark = pytest.mark.browser

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "console.png"
JUDGES = (("王裁判", "评审中心"), ("李裁判", "单位1"), ("张裁判", "评审中心二"))
T = TypeVar("T")


def _run(coro: Awaitable[T]) -> T:
    """In its own thread and loop: Playwright's sync API owns the test thread's loop."""
    out: list[T] = []

    async def main() -> None:
        out.append(await coro)

    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    thread.join()
    assert out, "the set-up failed (see the log above)"
    return out[0]


async def seated_with_chief(settings: Settings, n: int, judges: tuple[tuple[str, str], ...],
                            fill: Callable[[Any, Contest], Awaitable[None]]) -> Contest:
    """A seated contest of `n` with `judges` on its panel and a chief judge "chief"; `fill(db, contest)` marks."""
    engine = create_engine(settings.database_url, poolclass=NullPool)
    db = create_sessionmaker(engine)
    try:
        contest = await seated_contest(db, n=n, judges=judges)
        async with db() as session:
            await accounts.add_user(session, "chief", "pw-12345678", ["chief_judge"], display_name="赵裁判长")
            await session.commit()
        await fill(db, contest)
        return contest
    finally:
        await engine.dispose()


async def _seed(settings: Settings) -> Contest:
    return await seated_with_chief(settings, 6, JUDGES, _fill)


async def _fill(db: Any, contest: Contest) -> None:
    """A full sheet for most seats; seat 0 with a spread on B and a disagreement on A; seat 5 half marked."""
    seats = contest.seats
    for k, seat in enumerate(seats[:5]):
        for name in ("王裁判", "李裁判", "张裁判"):
            if name == "李裁判" and contest.units[k] == "单位1":
                continue
            a = "30" if not (k == 0 and name == "张裁判") else "31.5"
            b = {"王裁判": 48 - 3 * k, "李裁判": 45 - 2 * k, "张裁判": 46 - 3 * k}[name]
            if k == 0 and name == "李裁判":
                b = 33  # 48 − 33 = 15 > max_spread 10
            await mark(db, name, seat, "A", a, f"{name}-{seat}-A")
            await mark(db, name, seat, "B", str(b), f"{name}-{seat}-B")
    for name in ("王裁判", "李裁判", "张裁判"):  # a deduction every expected judge agrees on (#18)
        await mark(db, name, seats[2], "S", "2", f"{name}-s")
    await mark(db, "王裁判", seats[5], "A", "28", "w-5a")


async def _unpublished_remark(settings: Settings, contest: Contest, seat: str) -> None:
    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        async with create_sessionmaker(engine)() as session:
            item = await item_or_404(session, contest.event_id, "LED")
            wang = (await session.exec(select(Judge).where(Judge.name == "王裁判"))).one()
            await request_remark(session, item, judge_id=wang.id or 0, seat=seat, criterion="A",
                                 message="请核对", by="test")  # committed; its outcome is not published
    finally:
        await engine.dispose()


async def _tablet_mark(base: str, token: str, message: dict[str, Any]) -> dict[str, Any]:
    sock = await connect(base, judge_cookie(base, token))
    await recv(sock)
    await sock.send(json.dumps(message))
    reply = await recv(sock)
    await sock.close()
    return reply


async def _tablet_waits_for_remark(base: str, token: str, ready: threading.Event) -> dict[str, Any]:
    sock = await connect(base, judge_cookie(base, token))
    await recv(sock)
    ready.set()
    while True:
        message = await asyncio.wait_for(recv(sock), timeout=20)
        if message["type"] == "remark":
            await sock.close()
            return message


def chief_console(browser: Any, base: str, event_id: int, width: int = 1440, height: int = 1000,
                  watch: Callable[[Any], None] | None = None) -> tuple[Any, list[str]]:
    """The console of the LED item, signed in as the chief judge through the login page it sends one to; and
    the list its script errors land in. `watch(page)` runs before the first navigation (to listen from the
    start)."""
    page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if watch is not None:
        watch(page)
    page.goto(f"{base}/console/events/{event_id}?item=LED")
    assert "/login" in page.url
    page.fill("input[name=name]", "chief")
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"**/console/events/{event_id}*")
    return page, errors


def test_console_shows_findings_and_receives_marks_live(settings: Settings, live_server: str, browser: Any,
                                                        tmp_path: Path) -> None:
    contest = _run(_seed(settings))
    seats = contest.seats
    sent: list[str] = []  # what the page sends on its websockets
    page, errors = chief_console(browser, live_server, contest.event_id, watch=lambda p: p.on(
        "websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame)))))
    page.wait_for_selector("#net[data-state=online]")

    # findings highlighted: the disagreement and the spread at seat 0, missing marks at seat 5
    assert page.locator("td.disagree").count() == 3 and page.locator("td.spread").count() == 3
    assert page.locator("td.missing").count() >= 5
    assert "分差" in page.inner_text("#findings") and seats[5] in page.inner_text("#findings")
    assert page.locator("#severity svg rect").count() >= 6 and page.locator("#distribution svg").count() == 4
    ranking = page.inner_text("#ranking")
    assert "一等奖" in ranking and seats[5] in page.inner_text("#ranking-note")
    assert "证书等级" in page.inner_text("#ranking thead")  # a 职业技能等级证书 item: the level column is there

    # a mark entered on a tablet reaches its cell within a second, without a reload
    page.evaluate("window.__sameDocument = true")
    wang_id = page.evaluate("""() => fetch(location.pathname.replace('/console/', '/api/console/') + '/items/LED')
                               .then(r => r.json()).then(s => s.judges.find(j => j.name === '王裁判').id)""")
    cell = page.locator(f'td[data-key="{seats[5]}|B|{wang_id}"]')
    assert cell.inner_text() == "" and "missing" in (cell.get_attribute("class") or "")
    started = time.monotonic()
    reply = _run(_tablet_mark(live_server, contest.links["王裁判"], op("live-1", seats[5], "44.5", criterion="B")))
    assert reply["type"] == "ack"
    page.wait_for_function(f"""() => document.querySelector('td[data-key="{seats[5]}|B|{wang_id}"]')
                              .textContent === '44.50'""", timeout=1000)
    assert time.monotonic() - started < 2.5  # the tablet's round trip plus at most the 1 s wait
    assert page.evaluate("window.__sameDocument") is True  # no reload happened

    # the mark asks for a refresh 400 ms after it settles; a gap arriving while that snapshot is on its way is
    # rightly not a gap (the snapshot is newer): let the refresh land first
    deadline = time.monotonic() + 5
    while not any('"why":"refresh"' in f for f in sent) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.wait_for_selector("#net[data-state=online]")

    # a change committed but never published (as the paper path does): the next message shows a gap in seq,
    # and the page asks for a snapshot at once, which brings the unpublished change
    _run(_unpublished_remark(settings, contest, seats[1]))
    reply = _run(_tablet_mark(live_server, contest.links["张裁判"], op("live-2", seats[5], "43", criterion="B")))
    assert reply["type"] == "ack"
    deadline = time.monotonic() + 3
    while not any('"why":"gap"' in f for f in sent) and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # Playwright delivers the frame events while it waits
    assert any('"why":"gap"' in f for f in sent), sent
    page.wait_for_selector(f'td.remark[data-key="{seats[1]}|A|{wang_id}"]', timeout=3000)

    # a re-mark request typed on the console reaches the tablet
    ready = threading.Event()
    remark: list[dict[str, Any]] = []
    waiter = threading.Thread(target=lambda: remark.append(
        asyncio.run(_tablet_waits_for_remark(live_server, contest.links["王裁判"], ready))))
    waiter.start()
    assert ready.wait(10)
    page.locator(f'td[data-key="{seats[0]}|B|{wang_id}"]').click()
    page.fill("#dialog-text", "B 项分差过大，请复核")
    page.click("#dialog-ok")
    waiter.join(timeout=20)
    assert remark and remark[0]["seat"] == seats[0] and remark[0]["message"] == "B 项分差过大，请复核"
    page.wait_for_selector(f'td.remark[data-key="{seats[0]}|B|{wang_id}"]', timeout=3000)

    # lock criterion S from its header; the header says so after the round trip
    page.locator("#matrix thead th.kind-deduction button").click()
    page.wait_for_selector("#matrix thead th.kind-deduction.locked", timeout=3000)
    page.wait_for_function("!document.getElementById('toast').classList.contains('show')", timeout=6000)
    page.wait_for_timeout(400)  # the toast's fade
    shot = _shot(page, tmp_path / "console.png")
    if os.environ.get("UPDATE_SCREENSHOTS"):
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        DOCS_SHOT.write_bytes(shot.read_bytes())
    assert errors == []
    page.close()


async def _make_special_ability(settings: Settings, event_id: int) -> None:
    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        async with create_sessionmaker(engine)() as session:
            await session.exec(text("UPDATE item SET certificate = 'special_ability', exam_level = NULL "  # type: ignore[call-overload]
                                    "WHERE event_id = :e"), params={"e": event_id})
            await session.commit()
    finally:
        await engine.dispose()


def test_console_ranking_of_a_special_ability_item_has_no_level_column(settings: Settings, live_server: str,
                                                                       browser: Any) -> None:
    """Seed 001 “参赛选手成绩合格的,按规定颁发相应专项职业能力证书”: such a certificate has no level, so the
    console's provisional ranking shows awards but no 证书等级 column (#18 point 1)."""
    contest = _run(_seed(settings))
    _run(_make_special_ability(settings, contest.event_id))
    page, errors = chief_console(browser, live_server, contest.event_id, 1024, 900)
    page.wait_for_selector("#ranking table")
    assert "一等奖" in page.inner_text("#ranking")
    assert "证书等级" not in page.inner_text("#ranking thead") and not errors
    heads = page.locator("#ranking thead tr").first.locator("th").count()
    cells = page.locator("#ranking tbody tr").first.locator("td, th").count()
    assert heads == cells  # the rows dropped the column too
