"""Arbitration's page in headless Chromium: the organiser sees the event's appeals (the contestant named only
masked), filters them, records a paper appeal and rules on both through the page; a ruling that changes the
results is refused with the publish gate's blockers (the appeal stays open, the reasons kept) and, once the
gate is clear, publishes version 2. The chief judge reads the same page without any form."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool
from sqlmodel import select

from contestday.accounts import service as accounts
from contestday.db.engine import create_engine, create_sessionmaker
from contestday.settings import Settings
from registration.entries.models import Entry, EntryMember
from results.notice import notice_until
from tests.browser.test_board_browser import _ready
from tests.browser.test_console_browser import _run
from tests.browser.test_pages_browser import _shot

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SHOT_DIR", "/tmp/shots/C"))


async def _sql(settings: Settings, statement: str, **params: Any) -> Any:
    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        async with create_sessionmaker(engine)() as session:
            result = await session.exec(text(statement).bindparams(**params))  # type: ignore[call-overload]
            rows = result.all() if result.returns_rows else None
            await session.commit()
            return rows
    finally:
        await engine.dispose()


async def _seed(settings: Settings, live: str) -> tuple[int, str]:
    """The board test's contest, published by its chief judge, an organiser, and one contestant's appeal;
    returns the event and the appellant's full name (which the page must not show)."""
    event_id, token, csrf = await _ready(settings)
    httpx.post(f"{live}/api/events/{event_id}/items/LED/publication", json={},
               cookies={"contestday_session": token}, headers={"X-CSRF-Token": csrf}).raise_for_status()
    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        async with create_sessionmaker(engine)() as session:
            await accounts.add_user(session, "org", "pw-12345678", ["organiser"])
            await session.commit()
            entry = (await session.exec(select(Entry).order_by(Entry.id))).first()  # type: ignore[arg-type]
            assert entry is not None
            member = (await session.exec(select(EntryMember).where(EntryMember.entry_id == entry.id))).one()
    finally:
        await engine.dispose()
    appeal = {"ticket_code": entry.ticket_code, "text": "A 项操作时间计时有误，请求复核"}
    httpx.post(f"{live}/api/events/{event_id}/appeals", json=appeal).raise_for_status()
    return event_id, member.name


def _sign_in(page: Any, live: str, name: str, target: str) -> None:
    page.goto(f"{live}/login?next={quote(target)}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/appeals.*"))


def _session(page: Any) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "contestday_session")


def test_arbitration_rules_through_the_page(settings: Settings, live_server: str, browser: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    event_id, full_name = _run(_seed(settings, live_server))
    url = f"/console/events/{event_id}/appeals"
    page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live_server, "org", url)
    assert page.inner_text("h1") == "申诉与仲裁"
    first = page.locator("#appeal-1")
    assert first.get_attribute("data-state") == "open" and "待裁定" in first.inner_text()
    by = first.locator("dd.by").inner_text()
    assert by.startswith("选手 · ") and full_name[0] in by and full_name not in page.inner_text("main")
    assert "计时有误" in first.inner_text()

    # the filter: nothing decided yet
    page.select_option("#filter select[name=state]", "decided")
    page.click("#filter button[type=submit]")
    assert "没有符合条件的申诉" in page.inner_text("main") and "state=decided" in page.url
    page.goto(f"{live_server}{url}")

    # a paper appeal, recorded through the form
    page.fill("#paper input[name=filed_by]", "某职业学院领队")
    page.fill("#paper textarea[name=text]", "书面申诉：B 项评分标准理解不一致")
    page.click("#paper button[type=submit]")
    page.wait_for_selector("#done")
    assert "已登记书面申诉（第 2 号）" in page.inner_text("#done")
    assert "书面 · 某职业学院领队" in page.inner_text("#appeal-2")

    # dismissed, through the page
    page.check("#appeal-2 input[value=dismissed]")
    page.fill("#appeal-2 textarea[name=text]", "评分标准已在赛前说明会统一")
    page.click("#appeal-2 button[type=submit]")
    page.wait_for_selector("#done")
    assert "已裁定第 2 号申诉" in page.inner_text("#done")
    assert page.locator("#appeal-2").get_attribute("data-state") == "dismissed"

    # upheld and changing the results while the scores are unlocked: the gate refuses, nothing is lost
    locked = _run(_sql(settings, "SELECT scores_locked_at FROM item_stage"))[0][0]
    _run(_sql(settings, "UPDATE item_stage SET scores_locked_at = NULL"))
    page.check("#appeal-1 input[value=upheld]")
    page.check("#appeal-1 input[name=changes_results]")
    page.fill("#appeal-1 textarea[name=text]", "A 项计时更正，补计 2 分")
    page.click("#appeal-1 button[type=submit]")
    page.wait_for_selector("#error")
    assert page.get_attribute("#error", "data-code") == "publish_blocked"
    assert "发布前检查未通过" in page.inner_text("#error") and "成绩尚未锁定" in page.inner_text("#error")
    assert page.input_value("#appeal-1 textarea[name=text]") == "A 项计时更正，补计 2 分"
    assert page.is_checked("#appeal-1 input[name=changes_results]")
    _shot(page, SHOTS / "appeals-refused-1024.png")
    organiser = httpx.Client(base_url=live_server, cookies={"contestday_session": _session(page)})
    assert [a["state"] for a in organiser.get(f"/api/events/{event_id}/appeals").json()] == ["open", "dismissed"]

    # the gate clear again: the same ruling publishes version 2
    _run(_sql(settings, "UPDATE item_stage SET scores_locked_at = :t", t=locked))
    page.click("#appeal-1 button[type=submit]")
    page.wait_for_selector("#done")
    assert "成绩已重新发布为第 2 版" in page.inner_text("#done")
    listed = organiser.get(f"/api/events/{event_id}/appeals").json()
    assert [(a["state"], a["version"]) for a in listed] == [("upheld", 2), ("dismissed", None)]
    public = organiser.get(f"/api/public/events/{event_id}/results").json()["items"][0]["view"]
    assert public["version"] == 2 and "申诉第 1 号" in organiser.get(
        f"/api/events/{event_id}/items/LED/publication").json()["current"]["reason"]
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        _shot(page, SHOTS / f"appeals-{width}.png")

    # the board names the end of the notice period as every page does
    page.goto(f"{live_server}/board/{event_id}")
    page.wait_for_selector("section.item[data-version='2']")
    assert notice_until(public["notice"]["last_day"]) in page.inner_text("#board")
    assert errors == []


def test_the_chief_judge_reads_the_appeals_without_forms(settings: Settings, live_server: str,
                                                         browser: Any) -> None:
    event_id, _name = _run(_seed(settings, live_server))
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    _sign_in(page, live_server, "chief", f"/console/events/{event_id}/appeals")
    assert "计时有误" in page.inner_text("#appeal-1") and "裁判长只能查看" in page.inner_text("main")
    assert page.locator("form.ruling-form").count() == 0 and page.locator("#paper").count() == 0
    _shot(page, SHOTS / "appeals-chief-390.png")
    chief = httpx.Client(base_url=live_server, cookies={"contestday_session": _session(page)})
    csrf = page.get_attribute("input[name=csrf_token]", "value")
    refused = chief.post(f"/console/events/{event_id}/appeals/1/ruling",
                         data={"ruling": "dismissed", "text": "x", "csrf_token": csrf})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
