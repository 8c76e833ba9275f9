"""Staff accounts in Chromium: an event's organiser opens 账号与角色 from the event hub, creates an account that
judges one item, sees its one-time link with the QR code; the link signs the judge in once and is refused the
second time; the blind rule shows on the form in Chinese; disabling the account refuses its open session at once.
Screenshots at 390, 1024 and 1440 px go to $STAFF_SHOTS (default /tmp/shots/h6-staff)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from contestday.accounts import service as accounts
from contestday.app import create_app
from contestday.settings import Settings
from registration.events import service as events
from scoring.event_file import parse_event_document
from tests.browser.test_console_browser import _run
from tests.browser.test_pages_browser import _shot
from tests.support.helpers import EXAMPLE_EVENT

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("STAFF_SHOTS", "/tmp/shots/h6-staff"))
WIDTHS = (390, 1024, 1440)


async def _seed(settings: Settings) -> int:
    """An event of two items and its organiser (for this event only)."""
    app: Litestar = create_app(settings)
    try:
        async with app.state.sessionmaker() as session:
            doc = copy.deepcopy(EXAMPLE_EVENT)
            second = copy.deepcopy(doc["items"][0])
            second.update(code="WEB", name="网页设计")
            doc["items"].append(second)
            event_id = await events.create_event(session, parse_event_document(doc))
            await accounts.add_user(session, "org", "pw-12345678", ["organiser"], display_name="组委会陈老师",
                                    event_id=event_id, by="test")
            await session.commit()
            return event_id
    finally:
        await app.state.engine.dispose()


def _shots(page: Any, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _shot(page, SHOTS / f"{name}-{width}.png")
    page.set_viewport_size({"width": 1024, "height": 900})


def test_organiser_creates_a_judge_whose_link_signs_in_once(settings: Settings, live_server: str,
                                                            browser: Any) -> None:
    event_id = _run(_seed(settings))
    SHOTS.mkdir(parents=True, exist_ok=True)
    desk = browser.new_context(viewport={"width": 1024, "height": 900}, locale="zh-CN").new_page()
    errors: list[str] = []
    desk.on("pageerror", lambda exc: errors.append(str(exc)))
    desk.goto(f"{live_server}/login")
    desk.fill("input[name=name]", "org")
    desk.fill("input[name=password]", "pw-12345678")
    desk.click("form.card button[type=submit]")
    desk.wait_for_url(f"{live_server}/start")

    desk.goto(f"{live_server}/admin/events/{event_id}")
    desk.eval_on_selector_all("#hub details", "els => els.forEach(d => { d.open = true; })")
    desk.click(f'#hub a[href="/admin/events/{event_id}/accounts"]')
    desk.wait_for_url(f"{live_server}/admin/events/{event_id}/accounts")
    assert desk.locator("h1").inner_text() == "账号与角色"
    assert "org" in desk.locator("table.accounts").inner_text()
    _shots(desk, "accounts-list")

    desk.fill("form.new-account input[name=name]", "zhang")
    desk.fill("form.new-account input[name=display_name]", "张评审")
    desk.select_option("select[name=role_0]", "judge")
    desk.select_option("select[name=scope_0]", f"E{event_id}:WEB")
    desk.click("form.new-account button[type=submit]")
    desk.wait_for_load_state()
    card = desk.locator("#new-link")
    assert card.is_visible() and "一次性登录链接" in card.inner_text()
    assert desk.locator("#new-link img").evaluate("img => img.complete && img.naturalWidth > 100")
    link = desk.locator("#new-link input.link-url").input_value()
    assert "/login/link/" in link and "WEB" in desk.locator("#roles").inner_text()
    _shots(desk, "account-new-link")

    # the judge's phone: the link signs in once
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    phone.goto(link.replace("http://127.0.0.1:8000", live_server))
    assert phone.url == f"{live_server}/start" and phone.locator("h1").inner_text() == "我的工作台"
    assert "张评审" in phone.locator(".start-who").inner_text()
    other = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    refused = other.goto(link.replace("http://127.0.0.1:8000", live_server))
    assert refused is not None and refused.status == 401
    assert "这个登录链接已经用过" in other.locator("#link-refused").inner_text()
    for width in WIDTHS:
        other.set_viewport_size({"width": width, "height": 700})
        _shot(other, SHOTS / f"link-used-{width}.png", full_page=False)

    # the blind rule, on the form, in Chinese; nothing stored
    desk.select_option("form.give-form select[name=role]", "encryption_judge")
    desk.select_option("form.give-form select[name=scope]", f"E{event_id}:LED")
    desk.click("form.give-form button[type=submit]")
    desk.wait_for_load_state()
    assert "不能再担任加密裁判" in desk.locator("#form-error").inner_text()
    assert "加密裁判" not in desk.locator("ul.grants").inner_text()
    _shots(desk, "account-role-conflict")

    # disabled: the judge's open session is refused on the next request
    desk.click("#account form[action$='/disable'] button")
    desk.wait_for_load_state()
    assert "账号已停用" in desk.locator(".notice.ok").inner_text()
    assert desk.locator("#record tr[data-action=disable]").count() == 1
    _shots(desk, "account-disabled")
    phone.goto(f"{live_server}/start")
    assert "/login" in phone.url, phone.url
    assert errors == []
