"""Contest day in Chromium: the kiosk's seat answer names the session the contestant checked in for, with its
day and start in Beijing time whatever the kiosk's own clock zone ("第2场 · 12月3日 18:00 开赛"); and a
contestant who checked in can no longer withdraw through 我的报名 (a page opened before the check-in is
refused with the Chinese message; opened after, it offers no withdrawal at all)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from contestday.settings import Settings
from scoring.event_file import CHINA_TZ
from tests.browser.test_kiosk_browser import _add_checkin_user, _call, _scan
from tests.browser.test_pages_browser import _shot
from tests.browser.test_registration_browser import _phone
from tests.registration.test_registration_api import person, reg_event

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/F")


def _event_with_sessions(base: str) -> tuple[int, datetime]:
    """LED with three sessions: the first over, the second starting in 30 minutes (check-in open now), the
    third in 4 hours (not yet open). Returns the event and the second session's start."""
    event_id = int(_call("POST", f"{base}/api/events", reg_event(unit_quota_per_group=None))["id"])
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    starts = [now - timedelta(hours=5), now + timedelta(minutes=30), now + timedelta(hours=4)]
    _call("PUT", f"{base}/api/events/{event_id}/items/LED/seat-plan", {"sessions": [
        {"name": f"第{n + 1}场", "starts_at": s.isoformat(), "seat_count": 20, "prefix": "ABC"[n]}
        for n, s in enumerate(starts)]})
    return event_id, starts[1]


def test_the_kiosk_seats_in_the_open_session_and_tells_its_day_in_beijing_time(
        settings: Settings, live_server: str, browser: Any) -> None:
    _add_checkin_user(settings)
    event_id, start = _event_with_sessions(live_server)
    code = _call("POST", f"{live_server}/api/events/{event_id}/registrations", person(name="李明轩"),
                 token=None)["ticket_code"]
    kiosk = f"/kiosk/events/{event_id}/checkin?station=A门"
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="UTC")
    page = context.new_page()
    page.goto(f"{live_server}/login?next={quote(kiosk)}")
    page.fill("input[name=name]", "desk")
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/kiosk/events/\d+/checkin.*"))
    page.wait_for_function("document.activeElement && document.activeElement.id === 'scan'")
    _scan(page, code)
    page.wait_for_selector("#panel.state-ok")
    page.click("#draw")
    page.wait_for_selector("#seat-box:not([hidden])")
    local = start.astimezone(CHINA_TZ)
    expected = f"第2场 · {local.month}月{local.day}日 {local:%H:%M} 开赛"
    assert page.locator("#seat-when").inner_text() == expected
    assert page.locator("#seat").inner_text().startswith("B")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 800})
        _shot(page, SHOTS / f"kiosk-seat-{width}.png", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 800})
    # scanned again later: the card names the seat's session and day too
    _scan(page, code)
    page.wait_for_selector("#panel.state-already")
    assert page.locator("#seat-when").inner_text() == expected
    context.close()


def test_mine_refuses_withdrawal_after_check_in(settings: Settings, live_server: str, browser: Any) -> None:
    event_id, _ = _event_with_sessions(live_server)
    body = person()
    code = _call("POST", f"{live_server}/api/events/{event_id}/registrations", body, token=None)["ticket_code"]
    page = _phone(browser)
    page.goto(f"{live_server}/r/{event_id}/mine")
    page.fill("#id_number", body["id_number"])
    page.fill("#phone", body["phone"])
    page.click("button[type=submit]")
    page.wait_for_selector("#withdraw")  # before check-in: withdrawal offered

    _call("POST", f"{live_server}/api/events/{event_id}/checkins", {"ticket_code": code, "station": "A门",
                                                                    "nonce": "mine-1"})
    _call("POST", f"{live_server}/api/events/{event_id}/draws", {"ticket_code": code, "station": "A门"})
    page.check("input[name=sure]")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#withdraw button[type=submit]")
    assert posted.value.status == 409
    alert = page.locator("#top-error")
    assert alert.inner_text() == "已检录，如需退赛请联系现场工作人员"
    assert alert.get_attribute("data-code") == "checked_in"
    assert page.locator("#withdraw").count() == 0 and "修改</a>" not in page.content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 844})
        _shot(page, SHOTS / f"mine-checked-in-{width}.png", full_page=False)

    page.goto(f"{live_server}/r/{event_id}/mine")  # opened after the check-in: nothing to withdraw
    assert page.inner_text("#checked-in") == "已检录，如需退赛请联系现场工作人员"
    assert page.locator("#withdraw").count() == 0
    page.goto(f"{live_server}/t/{code}")
    assert "报名成功" in page.inner_text("main")  # the entry and its seat stand
