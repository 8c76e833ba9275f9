"""交卷 on the judge's tablet in headless Chromium (#14 A.2): the button on a seat's sheet asks first, a hand-in
tapped offline is queued with the moment of the tap and stored with that moment when the network returns, and the
seat then shows 已交卷 with the time used (also after a reload, from the snapshot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from contestday.db.types import utcnow
from registration.checkin.models import SeatSession
from tests.browser.test_tablet_browser import TABLET, _run, _wait_for
from tests.support.judging_setup import Contest, seated_contest

pytestmark = pytest.mark.browser


def _moment(raw: Any) -> datetime:
    """A stored moment as SQLite (text) or PostgreSQL (a datetime) gives it, in UTC."""
    moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _times(db: Any) -> dict[str, tuple[datetime, str]]:
    async def read() -> dict[str, tuple[datetime, str]]:
        async with db() as session:
            rows = (await session.exec(sa.text(  # type: ignore[call-overload]
                "SELECT sa.seat_label, t.handed_in_at, t.source FROM time_used t "
                "JOIN seat_assignment sa ON sa.entry_id = t.entry_id"))).all()
        return {seat: (_moment(at), source) for seat, at, source in rows}

    return dict(_run(read))


def test_a_hand_in_tapped_offline_keeps_its_moment(settings: Any, live_server: str, db: Any, browser: Any,
                                                     tmp_path: Path) -> None:
    contest: Contest = _run(lambda: seated_contest(db, n=3))

    async def started() -> None:
        async with db() as session:
            await session.exec(sa.update(SeatSession).values(starts_at=utcnow() - timedelta(hours=1)))
            await session.commit()

    _run(started)
    seat = sorted(contest.seats)[0]
    context = browser.new_context(**TABLET)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # 确认…现在交卷？
    page.goto(f"{live_server}/j/{contest.links['王裁判']}")
    page.wait_for_selector("#net[data-state=online]")
    page.tap(f".t-seat[data-seat='{seat}']")
    button = page.locator("#hand-in")
    assert button.inner_text() == "交卷" and button.is_enabled()

    context.set_offline(True)
    page.evaluate("window.__tablet.dropSocket()")
    page.wait_for_selector("#net[data-state=offline]")
    tapped = utcnow()
    button.tap()
    page.wait_for_function("document.querySelector('#hand-in').dataset.state === 'waiting'")
    assert "待发送" in button.inner_text() and not button.is_enabled() and seat not in _times(db)
    page.screenshot(path=str(tmp_path / "tablet-hand-in-waiting.png"))
    page.wait_for_timeout(2500)  # offline a while: the stored moment is the tap's, not the reconnect's

    context.set_offline(False)
    _wait_for(page, lambda: seat in _times(db), what="the queued hand-in")
    at, source = _times(db)[seat]
    assert source == "tablet" and abs((at - tapped).total_seconds()) < 2
    page.wait_for_function("document.querySelector('#hand-in').dataset.state === 'done'")
    assert button.inner_text().startswith("已交卷 · 用时 ") and not button.is_enabled()
    page.screenshot(path=str(tmp_path / "tablet-hand-in-done.png"))

    page.reload()
    page.wait_for_selector("#net[data-state=online]")
    page.tap(f".t-seat[data-seat='{seat}']")
    page.wait_for_function("document.querySelector('#hand-in').dataset.state === 'done'")
    other = sorted(contest.seats)[1]
    page.tap(f".t-seat[data-seat='{other}']")
    page.wait_for_function("document.querySelector('#hand-in').dataset.state === 'open'")
    context.close()
