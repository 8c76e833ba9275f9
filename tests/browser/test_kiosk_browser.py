"""The check-in kiosk in headless Chromium, driven like a USB scanner (keys typed into whatever has the focus,
then Enter): a first scan checks in (green) and the draw shows a seat; the same ticket again is amber with the
first station; an unknown code is red; a scan sent while the network is down is kept and retried with the same
nonce; a lapsed session stops the kiosk with a message. One screenshot is kept for the README
(docs/screenshots/kiosk.png, refreshed with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar

from contestday.accounts import service as accounts
from contestday.app import create_app
from contestday.settings import Settings
from tests.browser.test_pages_browser import _shot
from tests.conftest import ADMIN_TOKEN
from tests.registration.test_registration_api import person, reg_event

pytestmark = pytest.mark.browser

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "kiosk.png"


def _add_checkin_user(settings: Settings) -> None:
    """In its own thread and loop: Playwright's sync API owns the test thread's loop."""
    async def add() -> None:
        app: Litestar = create_app(settings)
        async with app.state.sessionmaker() as session:
            await accounts.add_user(session, "desk", "pw-12345678", ["checkin"], display_name="检录员小王")
            await session.commit()
        await app.state.engine.dispose()

    thread = threading.Thread(target=asyncio.run, args=(add(),))
    thread.start()
    thread.join()


def _call(method: str, url: str, body: dict[str, Any], token: str | None = ADMIN_TOKEN) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method, headers={
        "Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _seed(base: str) -> tuple[int, list[tuple[str, str]]]:
    """An event whose LED item starts in 30 minutes (check-in open now), and three contestants."""
    event_id = int(_call("POST", f"{base}/api/events", reg_event(unit_quota_per_group=None))["id"])
    start = datetime.now(UTC) + timedelta(minutes=30)
    _call("PUT", f"{base}/api/events/{event_id}/items/LED/seat-plan", {"sessions": [
        {"name": "第1场", "starts_at": start.isoformat(), "seat_count": 30, "prefix": "A"}]})
    people = []
    contestants = (("李明轩", "重庆市工业高级技工学校"), ("王思雨", "重庆电子科技职业大学"),
                   ("陈浩然", "重庆城市管理职业学院"))
    for name, unit in contestants:
        code = _call("POST", f"{base}/api/events/{event_id}/registrations", person(name=name, unit=unit),
                     token=None)["ticket_code"]
        people.append((name, code))
    return event_id, people


def _scan(page: Any, code: str) -> None:
    """What a USB scanner does: type into the focused element, then Enter. No click first."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_kiosk_checks_in_draws_and_refuses(settings: Settings, live_server: str, browser: Any, tmp_path: Path) -> None:
    _add_checkin_user(settings)
    event_id, people = _seed(live_server)
    kiosk = f"/kiosk/events/{event_id}/checkin?station=A门"
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server}/login?next={quote(kiosk)}")
    page.fill("input[name=name]", "desk")
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/kiosk/events/\d+/checkin\?station=.*"))
    panel = page.locator("#panel")
    assert "state-ready" in (panel.get_attribute("class") or "")
    assert page.locator("#station-name").inner_text() == "A门"  # the default from ?station=, kept for the device
    page.wait_for_function("document.activeElement && document.activeElement.id === 'scan'")
    page.wait_for_function("document.getElementById('net').dataset.state === 'online'")
    assert page.locator("#camera").is_hidden()  # no BarcodeDetector in Chromium on Linux: no camera button
    _shot(page, tmp_path / "ready.png", full_page=False)

    # 1. first scan: green, who it is; then the draw
    name, code = people[0]
    _scan(page, code)
    page.wait_for_selector("#panel.state-ok")
    assert page.locator("#state-text").inner_text() == "检录成功"
    assert page.locator("#name").inner_text() == name
    assert "**********" in page.locator("#id-masked").inner_text()
    assert page.locator("#unit").inner_text() == "重庆市工业高级技工学校"
    assert page.locator("#item").inner_text() == "LED显示屏应用（LED）"
    assert page.locator("#group").inner_text() == "学生组"
    assert page.locator("#photo-none").inner_text() == name[0]  # no photo: the placeholder
    _shot(page, tmp_path / "ok.png", full_page=False)
    page.click("#draw")
    page.wait_for_selector("#seat-box:not([hidden])")
    seat = page.locator("#seat").inner_text()
    assert re.fullmatch(r"A(0[1-9]|[12]\d|30)", seat), seat
    assert page.locator("#seat-when").inner_text().startswith("第1场 · ")
    assert page.locator("#draw-box").is_hidden()
    # after a click the scanner's input has the focus again
    page.wait_for_function("document.activeElement && document.activeElement.id === 'scan'")
    _shot(page, DOCS_SHOT if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "seat.png", full_page=False)

    # 2. the same ticket again: amber, with the first time and station, and the seat already drawn
    _scan(page, code)
    page.wait_for_selector("#panel.state-already")
    assert page.locator("#state-text").inner_text() == "已检录"
    detail = page.locator("#state-detail").inner_text()
    assert detail.startswith("首次检录：") and detail.endswith("A门"), detail
    assert page.locator("#seat").inner_text() == seat and page.locator("#draw-box").is_hidden()
    _shot(page, tmp_path / "already.png", full_page=False)

    # 3. an unknown code: red, with the server's Chinese message
    _scan(page, "ABCDEFGHJKMNPQRSTUVWXYZ234")
    page.wait_for_selector("#panel.state-refused")
    assert page.locator("#refused-title").inner_text() == "无效凭证"
    assert page.locator("#refused-message").inner_text() == "无效的参赛凭证：查无此码"
    _shot(page, tmp_path / "refused.png", full_page=False)

    # 4. the QR holds the ticket page's URL: a 2D scanner types the URL, the kiosk takes the code from it
    name2, code2 = people[1]
    _scan(page, f"{live_server}/t/{code2}")
    page.wait_for_selector("#panel.state-ok")
    assert page.locator("#name").inner_text() == name2

    # 5. the network drops for the first attempt: the scan is kept and retried with the SAME nonce
    name3, code3 = people[2]
    nonces: list[str] = []

    def flaky(route: Any) -> None:
        nonces.append(json.loads(route.request.post_data)["nonce"])
        if len(nonces) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/api/events/*/checkins", flaky)
    _scan(page, code3)
    page.wait_for_selector("#pending:not([hidden])")
    assert "网络中断" in page.locator("#pending").inner_text()
    assert page.locator("#net").get_attribute("data-state") == "offline"
    _shot(page, tmp_path / "retrying.png", full_page=False)
    page.wait_for_selector("#panel.state-ok", timeout=10_000)
    assert page.locator("#name").inner_text() == name3
    assert len(nonces) == 2 and nonces[0] == nonces[1]
    assert page.evaluate("window.kiosk.queue().length") == 0 and page.locator("#pending").is_hidden()
    page.unroute("**/api/events/*/checkins")

    # 6. the session lapses: a clear message, and the scan waits in the queue for the next sign-in
    page.route("**/api/events/*/checkins", lambda route: route.fulfill(
        status=401, content_type="application/json", body=json.dumps({"code": "not_authenticated"})))
    _scan(page, code)
    page.wait_for_selector("#expired:not([hidden])")
    assert page.locator("#expired h2").inner_text() == "登录已过期"
    assert page.evaluate("window.kiosk.queue().length") == 1
    _shot(page, tmp_path / "expired.png", full_page=False)
    assert errors == []


def test_kiosk_search_by_name_checks_in(settings: Settings, live_server: str, browser: Any, tmp_path: Path) -> None:
    _add_checkin_user(settings)
    event_id, people = _seed(live_server)
    page = browser.new_page(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/login?next={quote(f'/kiosk/events/{event_id}/checkin')}")
    page.fill("input[name=name]", "desk")
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/kiosk/events/\d+/checkin$"))
    # no station yet on this device: it asks once
    page.wait_for_selector("#station-dialog:not([hidden])")
    page.fill("#station-input", "B门")
    page.click("#station-form button[type=submit]")
    assert page.locator("#station-name").inner_text() == "B门"

    page.click("#search-open")
    page.keyboard.type(people[1][0][:2])  # the search field has the focus now
    pick = page.locator("#search-results button.k-pick").first
    pick.wait_for()
    assert people[1][0] in pick.inner_text()
    _shot(page, tmp_path / "search.png", full_page=False)
    pick.click()
    page.wait_for_selector("#panel.state-ok")
    assert page.locator("#name").inner_text() == people[1][0]
    assert "B门" in page.locator("#state-detail").inner_text()
    page.set_viewport_size({"width": 800, "height": 1280})  # a portrait tablet: photo above the details
    page.click("#draw")
    page.wait_for_selector("#seat-box:not([hidden])")
    assert page.locator("#draw").is_hidden() and page.locator("#seat").is_visible()
    box = page.locator("#seat").bounding_box()
    assert box and box["y"] + box["height"] <= 1280
    _shot(page, tmp_path / "portrait.png", full_page=False)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'scan'")
    assert errors == []


def test_organiser_desk_and_printed_seat_list(settings: Settings, live_server: str, browser: Any,
                                              tmp_path: Path) -> None:
    from tests.browser.test_pages_browser import _add_organiser, _sign_in

    _add_organiser(settings)
    event_id, people = _seed(live_server)
    start = datetime.now(UTC) + timedelta(minutes=30)
    _call("PUT", f"{live_server}/api/events/{event_id}/items/LED/seat-plan", {"sessions": [
        {"name": "上午场", "starts_at": start.isoformat(), "seat_count": 12, "prefix": "A"},
        {"name": "下午场", "starts_at": (start + timedelta(hours=4)).isoformat(), "seat_count": 12, "prefix": "B"}]})
    for n, (_name, code) in enumerate(people[:2]):
        _call("POST", f"{live_server}/api/events/{event_id}/checkins", {"ticket_code": code, "station": "A门",
                                                                        "nonce": f"n{n}"})
        _call("POST", f"{live_server}/api/events/{event_id}/draws", {"ticket_code": code, "station": "A门"})
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live_server)

    desk = f"{live_server}/admin/events/{event_id}/checkin"
    page.goto(desk)
    led = page.locator('tr[data-item="LED"]')
    assert led.locator(".present").inner_text() == "2" and led.locator(".not-yet").inner_text() == "1"
    _shot(page, tmp_path / "desk.png")
    led.locator("details.confirm summary").click()
    led.locator("button.mark-absent").click()
    page.wait_for_url(re.compile(r".*/checkin\?done=absent&n=1$"))
    assert page.locator(".notice.ok").inner_text() == "已将未检录者记为缺考：1 人"
    assert page.locator('tr[data-item="LED"] .absent').inner_text() == "1"

    # the seat plan form of an item without one: an error next to its field, then saved
    page.goto(f"{live_server}/admin/events/{event_id}/items/WPS/seat-plan")
    page.fill("input[name=s0_name]", "第1场")
    page.fill("input[name=s0_starts_at]", "2026-12-20T09:00")
    page.fill("input[name=s0_seat_count]", "三十")
    page.click(".seat-plan button[type=submit]")
    assert "应为 1–999 的整数" in page.locator("#s0_seat_count-error").inner_text()
    _shot(page, tmp_path / "plan-error.png")
    page.fill("input[name=s0_seat_count]", "30")
    page.click(".seat-plan button[type=submit]")
    page.wait_for_url(re.compile(r".*/checkin\?done=plan$"))
    assert "30 个座位" in page.locator('tr[data-item="WPS"]').inner_text()

    # the blind list: one A4 page per session when printed
    page.goto(f"{live_server}/admin/events/{event_id}/items/LED/seats.html")
    assert page.locator("section.sheet").count() == 2 and page.locator("tr.occupied").count() == 2
    _shot(page, tmp_path / "seats.png")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    (tmp_path / "seats.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2
    assert errors == []
