"""The chief judge's re-check (复核) and tie ordering (并列裁定) pages in headless Chromium, reached from the
publish page's blockers: start a round, record each seat as right or corrected (a correction needs a note),
see the round done and the blocker gone; order a tied block with a reason and see the item become
publishable. Screenshots at 390, 1024 and 1440 px wide under tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.pool import NullPool

from contestday.accounts import service as accounts
from contestday.db.engine import create_engine, create_sessionmaker
from contestday.settings import Settings
from tests.browser.test_console_browser import _run
from tests.browser.test_pages_browser import _shot
from tests.results.test_publication import decrypt, lock, marked, recheck
from tests.support.judging_setup import Contest

pytestmark = pytest.mark.browser
WIDTHS = (390, 1024, 1440)


async def _seed(settings: Settings, same: bool, rechecked: bool) -> Contest:
    engine = create_engine(settings.database_url, poolclass=NullPool)
    db = create_sessionmaker(engine)
    try:
        contest = await marked(db, n=6 if not same else 4, same=same)
        await lock(db, contest)
        if rechecked:
            await recheck(db, contest)
        await decrypt(db, contest)
        async with db() as session:
            await accounts.add_user(session, "chief", "pw-12345678", ["chief_judge"], display_name="赵裁判长")
            await session.commit()
        return contest
    finally:
        await engine.dispose()


def _sign_in(page: Any, base: str, path: str) -> None:
    page.goto(f"{base}{path}")
    assert "/login" in page.url
    page.fill("input[name=name]", "chief")
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{base}{path}")


def _shots(page: Any, folder: Path, name: str) -> None:
    size = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _shot(page, folder / f"{name}-{width}.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, f"{name} overflows at {width}px"
    page.set_viewport_size(size)


def test_the_chief_judge_rechecks_an_item_from_the_publish_page(settings: Settings, live_server: str,
                                                                browser: Any, tmp_path: Path) -> None:
    contest = _run(_seed(settings, same=False, rechecked=False))
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    publish = f"/console/events/{contest.event_id}/publish"
    _sign_in(page, live_server, publish)
    blocker = page.locator('#item-LED li[data-code="recheck_not_done"]')
    assert "复核尚未完成" in blocker.inner_text()
    blocker.locator("a", has_text="复核该赛项").click()
    page.wait_for_url("**/items/LED/recheck")
    assert "尚未复核" in page.inner_text("#recheck-status")
    page.fill("input[name=ratio]", "50")
    page.click("#start-form button[type=submit]")
    page.wait_for_url("**/recheck?done=started")
    assert "已开始新一轮复核" in page.inner_text("[role=status]")
    rows = page.locator("#round-seats tbody tr")
    seats = [rows.nth(k).get_attribute("data-seat") for k in range(rows.count())]
    assert len(seats) >= 4  # the award zone (6 entries: 3 awarded) plus at least half the rest
    assert "获奖区" in page.inner_text("#round-seats")
    _shots(page, tmp_path, "recheck-open")

    first = page.locator(f'tr[data-seat="{seats[0]}"]')
    first.locator("button[value=corrected]").click()  # without a note: refused, the page says why
    assert "更正须说明更正内容" in page.inner_text("[role=alert]")
    page.locator(f'tr[data-seat="{seats[0]}"] input[name=note]').fill("B 项登分 35 误录为 53，已更正")
    page.locator(f'tr[data-seat="{seats[0]}"] button[value=corrected]').click()
    page.wait_for_url("**done=recorded**")
    assert page.locator(f'tr[data-seat="{seats[0]}"]').get_attribute("data-outcome") == "corrected"
    for seat in seats[1:]:
        page.locator(f'tr[data-seat="{seat}"] button[value=ok]').click()
        page.wait_for_selector(f'tr[data-seat="{seat}"][data-outcome="ok"]')
    # 1 correction of ≥ 4 seats is over 5 %: the round ends demanding a full re-check of every seat
    assert page.locator('[data-status="full_required"]').count() == 1
    assert "须对全部赛位重新复核" in page.inner_text("#recheck-status")
    page.click("#start-form button[type=submit]")  # 开始全面复核
    page.wait_for_url("**/recheck?done=started")
    assert "全面复核" in page.inner_text("#recheck-status")
    rows = page.locator("#round-seats tbody tr")
    assert rows.count() == 6
    for k in range(rows.count()):
        seat = rows.nth(k).get_attribute("data-seat")
        page.locator(f'tr[data-seat="{seat}"] button[value=ok]').click()
        page.wait_for_selector(f'tr[data-seat="{seat}"][data-outcome="ok"]')
    assert page.locator('[data-status="done"]').count() == 1 and "第 2 轮" in page.inner_text("#recheck-status")
    assert "第 1 轮" in page.inner_text("#earlier-rounds")
    _shots(page, tmp_path, "recheck-done")
    page.click("text=返回发布成绩")
    page.wait_for_url(f"**{publish}*")
    assert page.locator('#item-LED li[data-code="recheck_not_done"]').count() == 0
    assert page.locator(f'#item-LED form[action="{publish}/LED"]').count() == 1  # nothing blocks now
    assert errors == []


def test_the_chief_judge_orders_a_tie_from_the_publish_page(settings: Settings, live_server: str,
                                                            browser: Any, tmp_path: Path) -> None:
    contest = _run(_seed(settings, same=True, rechecked=True))  # four equal marks: one block over every boundary
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    publish = f"/console/events/{contest.event_id}/publish"
    _sign_in(page, live_server, publish)
    page.locator('#item-LED li[data-code="tie_unresolved"] a', has_text="裁定并列").click()
    page.wait_for_url("**/items/LED/ties")
    block = page.locator(".tie-block")
    assert block.count() == 1 and "并列第 1 名" in block.inner_text()
    seats = (block.get_attribute("data-seats") or "").split(",")
    assert sorted(seats) == sorted(contest.seats)
    _shots(page, tmp_path, "ties-open")
    wanted = seats[::-1]
    for place, seat in enumerate(wanted, start=1):
        page.select_option(f'select[name="pos_{seat}"]', str(place))
    page.click(".tie-block button[type=submit]")  # no reason: the browser's own check stops it
    assert "/ties" in page.url and "done=" not in page.url
    page.fill("textarea[name=reason]", "按操作规范得分高者在前")
    page.click(".tie-block button[type=submit]")
    page.wait_for_url("**/ties?done=decided")
    assert page.locator(".tie-block").count() == 0 and page.locator("#no-ties").is_visible()
    assert " > ".join(wanted) in page.inner_text("#decided") and "按操作规范" in page.inner_text("#decided")
    _shots(page, tmp_path, "ties-done")
    page.goto(f"{live_server}{publish}")
    assert page.locator('#item-LED li[data-code="tie_unresolved"]').count() == 0
    assert page.locator(f'#item-LED form[action="{publish}/LED"]').count() == 1
    assert errors == []
