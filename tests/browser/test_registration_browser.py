"""The QR form on a phone in headless Chromium, as WeChat's browser shows it (390 × 844, a MicroMessenger
user agent): the ID number checked as typed, the server's refusal next to its field (with and without
JavaScript), a team entry with a photo through to the ticket. The README's screenshot
(docs/screenshots/registration-form.png) is refreshed only with UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from contestday.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.registration.test_registration_api import person, reg_event
from tests.support.idgen import make_id

pytestmark = pytest.mark.browser

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "registration-form.png"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13; V2219A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47."
             "2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64")


def _event(base: str) -> int:
    response = httpx.post(f"{base}/api/events", json=reg_event(), headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _phone(browser: Any, *, javascript: bool = True) -> Any:
    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=WECHAT_UA, is_mobile=True,
                                  has_touch=True, device_scale_factor=2, locale="zh-CN",
                                  java_script_enabled=javascript)
    return context.new_page()


def _shot(page: Any, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000, f"{path} looks empty ({len(data)} bytes)"
    return path


def _fill_person(page: Any, body: dict[str, Any], prefix: str = "m0_") -> None:
    page.fill(f"#{prefix}name", body["name"])
    page.fill(f"#{prefix}id_number", body["id_number"])
    page.fill(f"#{prefix}phone", body["phone"])


def test_form_checks_the_id_as_typed_and_shows_the_server_refusal(settings: Settings, live_server: str,
                                                                   browser: Any, tmp_path: Path) -> None:
    event_id = _event(live_server)
    page = _phone(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/r/{event_id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    assert page.locator("#member-1").is_hidden()  # no team item chosen yet
    page.select_option("#item", "LED")
    assert page.locator("#group option").all_inner_texts() == ["请选择", "学生组", "职工组"]
    page.select_option("#group", "学生组")
    assert page.input_value("#identity") == "student"
    assert page.locator("#m0_skill_level").is_hidden()  # employee fields only for employees
    body = person()
    _fill_person(page, body)

    # as typed: a wrong check character, then a correct number shows the age on the first day
    page.fill("#m0_id_number", "500103199506151234")
    page.focus("#unit")
    error = page.locator("#e-m0_id_number")
    assert error.is_visible() and "校验位不正确" in error.inner_text()
    page.fill("#unit", body["unit"])
    page.check("#confirm")
    page.click("button[type=submit]")  # refused in the page: nothing is sent
    assert page.url.endswith(f"/r/{event_id}") and error.is_visible()
    _shot(page, tmp_path / "typed-error.png")

    # a well-formed number the server refuses (under 16 on the first day): its message sits by the field
    page.fill("#m0_id_number", make_id(date(2011, 1, 1)))
    assert "未满 16 周岁" in page.inner_text("#age-0")
    page.click("button[type=submit]")
    page.wait_for_selector("#top-error")
    assert "身份证号码" in page.inner_text("#top-error")
    server_error = page.locator("#e-m0_id_number")
    assert server_error.is_visible() and "16" in server_error.inner_text()
    assert page.input_value("#m0_name") == body["name"] and page.is_checked("#confirm")
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, DOCS_SHOT if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "registration-form.png")
    assert errors == [], errors


def test_form_without_javascript_gets_the_server_error(settings: Settings, live_server: str, browser: Any,
                                                       tmp_path: Path) -> None:
    event_id = _event(live_server)
    page = _phone(browser, javascript=False)
    page.goto(f"{live_server}/r/{event_id}")
    assert page.locator("#member-1").is_visible()  # without JavaScript the second member block stays, labelled
    body = person(id_number="500103199506151234")
    page.select_option("#item", "LED")
    page.select_option("#group", "学生组")
    page.select_option("#identity", "student")
    _fill_person(page, body)
    page.fill("#unit", body["unit"])
    page.check("#confirm")
    page.click("button[type=submit]")
    page.wait_for_selector("#top-error")
    assert "校验位不符" in page.inner_text("#e-m0_id_number")
    assert page.inner_text("#top-error").startswith("身份证号码有误：")
    _shot(page, tmp_path / "nojs-error.png")


def test_team_entry_with_photo_reaches_the_ticket(settings: Settings, live_server: str, browser: Any,
                                                  tmp_path: Path) -> None:
    event_id = _event(live_server)
    photo = tmp_path / "me.jpg"  # a PNG under a .jpg name: the server sniffs the bytes
    buffer = io.BytesIO()
    Image.new("RGB", (900, 1200), (90, 140, 200)).save(buffer, "PNG")
    photo.write_bytes(buffer.getvalue())
    page = _phone(browser)
    page.goto(f"{live_server}/r/{event_id}")
    page.select_option("#item", "DUO")
    assert page.locator("#member-1").is_visible()
    assert page.locator("#group option").all_inner_texts() == ["不分组"]
    page.select_option("#identity", "employee")
    assert page.locator("#m0_skill_level").is_visible()
    a, b = person(), person()
    _fill_person(page, a)
    _fill_person(page, b, "m1_")
    page.select_option("#m0_skill_level", "3")
    page.set_input_files("#m0_photo", str(photo))
    page.fill("#unit", "重庆机电职业技术大学")
    page.check("#confirm")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/t/" in url)
    text = page.inner_text("main")
    assert a["name"] in text and b["name"] in text and "双人赛项" in text and "已上传" in text
    assert page.locator("svg[aria-label=QR]").is_visible()
    assert a["id_number"] not in page.content() and a["phone"] not in page.content()
    _shot(page, tmp_path / "ticket.png")

    # "my registration": look up by ID number + phone, then withdraw after confirming
    page.click("text=我的报名（修改、撤回）")
    page.fill("#id_number", a["id_number"])
    page.fill("#phone", a["phone"])
    page.click("button[type=submit]")
    page.wait_for_selector("#withdraw")
    assert a["name"] in page.inner_text("main") and a["id_number"] not in page.content()
    _shot(page, tmp_path / "mine.png")
    with page.expect_navigation():
        page.locator("a.btn", has_text="修改").click()
    assert page.url.endswith("/mine/edit")
    assert page.input_value("#m1_name") == b["name"] and page.input_value("#m0_id_number") == ""
    _shot(page, tmp_path / "mine-edit.png")
    page.go_back()
    page.click("#withdraw button[type=submit]")  # the required box stops it: nothing withdrawn yet
    assert page.locator("#withdraw").is_visible()
    page.check("#withdraw input[name=sure]")
    page.click("#withdraw button[type=submit]")
    page.wait_for_selector("h1 >> text=报名已撤回")
