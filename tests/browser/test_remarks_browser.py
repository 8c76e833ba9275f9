"""A re-mark request from start to end in headless Chromium, the console and the tablet side by side: the chief
judge sends it from the console → the tablet shows the banner → the judge changes the mark → the banner is gone,
the console lists it as done and the publication gate no longer holds the item for it (`remark_open`). Then the
other two ends: the judge keeps a mark (确认原分), and the chief judge closes a request with a note (关闭请求)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from contestday.accounts import service as accounts
from contestday.db.engine import create_engine, create_sessionmaker
from contestday.settings import Settings
from tests.browser.test_console_browser import _run
from tests.browser.test_pages_browser import _shot
from tests.results.test_console import mark
from tests.support.judging_setup import seated_contest

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/helperA")
JUDGES = (("王裁判", "评审中心"), ("李裁判", "评审中心二"))
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "locale": "zh-CN"}


async def _with_db(settings: Settings, sql: str | None = None) -> Any:
    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        db = create_sessionmaker(engine)
        if sql is not None:
            async with db() as session:
                return [tuple(r) for r in (await session.exec(text(sql))).all()]  # type: ignore[call-overload]
        contest = await seated_contest(db, n=4, judges=JUDGES)
        async with db() as session:
            await accounts.add_user(session, "chief", "pw-12345678", ["chief_judge"], display_name="赵裁判长")
            await session.commit()
        for k, seat in enumerate(contest.seats):
            await mark(db, "王裁判", seat, "A", f"{30 + k}", f"w-{seat}-A")
            await mark(db, "王裁判", seat, "B", f"{40 + k}", f"w-{seat}-B")
        return contest
    finally:
        await engine.dispose()


def _rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    return _run(_with_db(settings, sql))  # type: ignore[no-any-return]


def _blockers(console: Any) -> list[str]:
    return console.evaluate("""() => fetch(location.pathname.replace('/console/', '/api/') + '/items/LED/publication')
                               .then(r => r.json()).then(g => g.blockers.map(b => b.code))""")


def _ask(console: Any, seat: str, criterion: str, judge_id: int, message: str) -> None:
    console.locator(f'td[data-key="{seat}|{criterion}|{judge_id}"]').click()
    console.fill("#dialog-text", message)
    console.click("#dialog-ok")
    console.wait_for_selector(f'td.remark[data-key="{seat}|{criterion}|{judge_id}"]', timeout=3000)


def test_a_re_mark_request_ends_on_the_tablet_and_frees_the_publication_gate(
        settings: Settings, live_server: str, browser: Any) -> None:
    contest = _run(_with_db(settings))
    s0, s1, s2 = sorted(contest.seats)[:3]
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []

    board_ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    console = board_ctx.new_page()
    console.on("pageerror", lambda exc: errors.append(f"console: {exc}"))
    console.goto(f"{live_server}/console/events/{contest.event_id}?item=LED")
    console.fill("input[name=name]", "chief")
    console.fill("input[name=password]", "pw-12345678")
    console.click("form.card button[type=submit]")
    console.wait_for_url(f"**/console/events/{contest.event_id}*")
    console.wait_for_selector("#net[data-state=online]")
    wang = console.evaluate("""() => fetch(location.pathname.replace('/console/', '/api/console/') + '/items/LED')
                               .then(r => r.json()).then(s => s.judges.find(j => j.name === '王裁判').id)""")
    assert "remark_open" not in _blockers(console)

    tablet_ctx = browser.new_context(**TABLET)
    tablet = tablet_ctx.new_page()
    tablet.on("pageerror", lambda exc: errors.append(f"tablet: {exc}"))
    tablet.goto(f"{live_server}/j/{contest.links['王裁判']}")
    tablet.wait_for_selector("#net[data-state=online]")
    assert tablet.locator("#remarks").is_hidden()

    # 1. the console sends a re-mark → the tablet shows the banner, the gate holds the item
    _ask(console, s0, "A", wang, "A 项测量值请复核")
    tablet.wait_for_selector("#remarks:not([hidden])", timeout=3000)
    assert "A 项测量值请复核" in tablet.inner_text("#remarks") and s0 in tablet.inner_text("#remarks")
    assert "A 项测量值请复核" in console.inner_text("#findings")
    assert "没有需要处理的问题" not in console.inner_text("#findings")  # an open request needs attention
    assert "remark_open" in _blockers(console)
    for width in (390, 1024, 1440):
        tablet.set_viewport_size({"width": width, "height": 768 if width > 390 else 844})
        _shot(tablet, SHOTS / f"tablet-banner-{width}.png", full_page=False)
    tablet.set_viewport_size(TABLET["viewport"])

    # 2. the judge changes that mark → the banner is gone, the console lists it done, the gate lets go
    tablet.locator("#remarks .t-remark").tap()
    assert "A 项测量值请复核" in tablet.locator(".t-row[data-criterion='A'] .t-row-remark").inner_text()
    field = tablet.locator(".t-input[data-criterion='A']")
    field.tap()
    field.fill("31.5")
    field.press("Enter")
    tablet.wait_for_selector("#remarks", state="hidden", timeout=3000)
    assert tablet.locator(".t-row[data-criterion='A'] .t-row-remark").is_hidden()
    console.wait_for_selector(f'td.remark[data-key="{s0}|A|{wang}"]', state="detached", timeout=3000)
    console.wait_for_selector("#remarks-done-card:not([hidden])", timeout=3000)
    assert "裁判已修改分数" in console.inner_text("#remarks-done")
    assert "A 项测量值请复核" not in console.inner_text("#findings")
    assert console.locator(f'td[data-key="{s0}|A|{wang}"]').inner_text() == "31.50"
    assert "remark_open" not in _blockers(console)
    tablet.reload()  # and it does not come back from the snapshot
    tablet.wait_for_selector("#net[data-state=online]")
    assert tablet.locator("#remarks").is_hidden()

    # 3. the judge keeps a mark: 确认原分 resolves the request, the mark stays as it was
    kept = console.locator(f'td[data-key="{s1}|B|{wang}"]').inner_text()
    _ask(console, s1, "B", wang, "B 项请再看一下")
    tablet.wait_for_selector("#remarks:not([hidden])", timeout=3000)
    tablet.locator("#remarks .t-keep").tap()
    tablet.wait_for_selector("#remarks", state="hidden", timeout=3000)
    assert "已确认原分" in tablet.inner_text("#banner")
    console.wait_for_function("document.getElementById('remarks-done').textContent.includes('裁判确认原分')",
                              timeout=3000)
    assert console.locator(f'td[data-key="{s1}|B|{wang}"]').inner_text() == kept

    # 4. the chief judge closes a request sent by mistake, with a note → gone from the tablet too
    _ask(console, s2, "A", wang, "误发")
    tablet.wait_for_selector("#remarks:not([hidden])", timeout=3000)
    console.wait_for_selector("#findings li.remark button", timeout=3000)
    for width in (390, 1024, 1440):
        console.set_viewport_size({"width": width, "height": 900})
        _shot(console, SHOTS / f"console-open-{width}.png", full_page=False)
    console.set_viewport_size({"width": 1440, "height": 1000})
    console.locator("#findings li.remark button").click()
    console.click("#dialog-ok")  # a note is required
    assert "请填写原因" in console.inner_text("#dialog-error")
    console.fill("#dialog-text", "发错赛位，已核对无误")
    console.click("#dialog-ok")
    console.wait_for_function("document.getElementById('toast').textContent === '已关闭复评请求'", timeout=3000)
    tablet.wait_for_selector("#remarks", state="hidden", timeout=3000)
    assert "裁判长已关闭复评请求" in tablet.inner_text("#banner")
    console.wait_for_function("document.getElementById('remarks-done').textContent.includes('发错赛位，已核对无误')",
                              timeout=3000)
    console.wait_for_selector(f'td.remark[data-key="{s2}|A|{wang}"]', state="detached", timeout=3000)
    assert "remark_open" not in _blockers(console)
    assert _rows(settings, "SELECT resolution FROM remark_request ORDER BY id") == [
        ("changed",), ("kept",), ("closed",)]
    assert _rows(settings, "SELECT count(*) FROM score_event WHERE kind = 'resolve'") == [(3,)]
    assert _rows(settings, "SELECT value, version FROM score s JOIN seat_assignment sa ON sa.entry_id = s.entry_id "
                           f"JOIN criterion c ON c.id = s.criterion_id WHERE sa.seat_label = '{s1}' "
                           "AND c.code = 'B'") == [(round(float(kept) * 100), 1)]

    console.wait_for_function("!document.getElementById('toast').classList.contains('show')", timeout=6000)
    for width in (390, 1024, 1440):
        console.set_viewport_size({"width": width, "height": 900})
        _shot(console, SHOTS / f"console-remarks-{width}.png", full_page=False)
    console.goto(f"{live_server}/console/events/{contest.event_id}/publish")
    _shot(console, SHOTS / "publish-after.png")
    assert errors == []
    tablet_ctx.close()
    board_ctx.close()
