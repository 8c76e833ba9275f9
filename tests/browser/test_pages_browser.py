"""The organiser pages in headless Chromium: sign in, build an event with the editor and the catalog
picker, see a validation error next to its field, switch to English; screenshots are checked and one is
kept for the README (docs/screenshots/event-editor.png)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from contestday.accounts import service as accounts
from contestday.app import create_app
from contestday.settings import Settings

pytestmark = pytest.mark.browser

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "event-editor.png"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _add_organiser(settings: Settings) -> None:
    """In its own thread and loop: Playwright's sync API owns the test thread's loop. (For the same
    reason the tests ask for `settings` and `live_server`, which migrate the database, before `browser`.)"""
    async def add() -> None:
        app: Litestar = create_app(settings)
        async with app.state.sessionmaker() as session:
            await accounts.add_user(session, "org", "pw-12345678", ["organiser"])
            await session.commit()
        await app.state.engine.dispose()

    thread = threading.Thread(target=asyncio.run, args=(add(),))
    thread.start()
    thread.join()


def _shot(page: Any, path: Path, full_page: bool = True) -> Path:
    """A PNG of the page, checked to hold something. A full page is shot through a viewport as tall as the
    page, so the sticky save bar sits at the bottom instead of across the middle."""
    size = page.viewport_size
    if full_page:
        page.set_viewport_size({"width": size["width"], "height": page.evaluate("document.body.scrollHeight")})
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000, f"{path} looks empty ({len(data)} bytes)"
    return path


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/admin/events")
    assert "/login?next=/admin/events" in page.url
    page.fill("input[name=name]", "org")
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{base}/admin/events")


def organiser_page(settings: Settings, browser: Any, base: str, width: int) -> tuple[Any, list[str]]:
    """A signed-in organiser's page on the new-event editor, and the list its script errors land in."""
    _add_organiser(settings)
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base)
    page.goto(f"{base}/admin/events/new")
    return page, errors


def post_event(page: Any, base: str, doc: dict[str, Any]) -> int:
    """Create an event through the API as the page's organiser (its session and CSRF token)."""
    csrf = page.evaluate("document.querySelector('[data-csrf]').dataset.csrf")
    created = page.request.post(f"{base}/api/events", data=json.dumps(doc, ensure_ascii=False),
                                headers={"content-type": "application/json", "x-csrf-token": csrf})
    assert created.status == 201, created.text()
    return int(created.json()["id"])


def test_organiser_builds_an_event_in_the_editor(settings: Settings, live_server: str, browser: Any,
                                                 tmp_path: Path) -> None:
    _add_organiser(settings)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live_server)
    _shot(page, tmp_path / "list-empty.png")
    assert page.locator("text=还没有赛事").is_visible()
    page.click("text=新建赛事")
    page.wait_for_url(f"{live_server}/admin/events/new")
    assert not page.locator("#raw").evaluate("el => el.open")  # the fallback folds away with JavaScript on

    page.fill('[data-path="event.name"]', "第三届“巴渝工匠”杯电工技能大赛")
    page.fill('[data-path="event.starts_on"]', "2026-10-20")
    page.select_option('[data-path="event.kind"]', "district")
    page.fill('[data-path="event.organiser"]', "重庆市人力资源和社会保障局")

    page.fill(".item .picker-q", "电工")
    pick = page.locator(".item .picker-results button.pick").first
    pick.wait_for()
    page.evaluate("document.querySelector('.item .picker').scrollIntoView({block: 'start'})")
    _shot(page, tmp_path / "picker.png", full_page=False)
    picked_name = pick.locator("strong").inner_text()
    assert "电工" in picked_name
    pick.click()
    assert page.input_value('[data-path="items[0].name"]') == picked_name
    assert re.fullmatch(r"\d-\d\d-\d\d(-\d\d)?", page.input_value('[data-path="items[0].catalog_code"]'))
    page.fill('[data-path="items[0].code"]', "DG")

    page.fill('[data-path="items[0].criteria[0].name"]', "电路安装与调试")
    page.fill('[data-path="items[0].criteria[0].max"]', "70")
    page.click(".item [data-action=add-criterion]")
    page.fill('[data-path="items[0].criteria[1].code"]', "B")
    page.fill('[data-path="items[0].criteria[1].name"]', "工艺与职业素养")
    page.select_option('[data-path="items[0].criteria[1].kind"]', "judgement")
    page.select_option('[data-path="items[0].criteria[1].aggregate"]', "trimmed_mean")
    page.fill('[data-path="items[0].criteria[1].max"]', "30")
    page.fill('[data-path="items[0].criteria[1].max_spread"]', "6")
    page.click(".item [data-action=add-criterion]")
    page.fill('[data-path="items[0].criteria[2].code"]', "S")
    page.fill('[data-path="items[0].criteria[2].name"]', "安全文明生产扣分")
    page.select_option('[data-path="items[0].criteria[2].kind"]', "deduction")
    page.fill('[data-path="items[0].criteria[2].max"]', "10")
    assert page.inner_text(".item .practical-max") == "100"  # 70 + 30, the deduction not counted
    page.fill('[data-path="items[0].tie_break"]', "practical, criterion:B, time_used")

    page.click("#save")
    page.wait_for_url(re.compile(r".*/admin/events/\d+\?saved=1$"))
    assert page.locator("#status").inner_text() == "已保存"
    event_id = int(page.url.split("/")[-1].split("?")[0])
    stored = page.request.get(f"{live_server}/api/events/{event_id}").json()
    item = stored["items"][0]
    assert item["name"] == picked_name and item["catalog_code"] and item["code"] == "DG"
    assert [c["kind"] for c in item["criteria"]] == ["measurement", "judgement", "deduction"]
    assert item["criteria"][1]["aggregate"] == "trimmed_mean" and item["tie_break"][1] == "criterion:B"
    assert stored["event"]["kind"] == "district"
    page.evaluate("window.scrollTo(0, 0)")
    # the README's picture is refreshed only on request, so a test run leaves the tree clean
    _shot(page, DOCS_SHOT if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "editor.png")

    page.click("header.top >> text=赛事列表")
    row = page.locator("table.events tbody tr").first
    assert "第三届“巴渝工匠”杯电工技能大赛" in row.inner_text() and "区县级竞赛" in row.inner_text()
    _shot(page, tmp_path / "list-zh.png")

    # an invalid edit: the API's error appears next to the field and in the summary; nothing is stored
    page.click("text=第三届“巴渝工匠”杯电工技能大赛")
    page.fill('[data-path="items[0].theory_weight"]', "0.5")
    page.click("#save")
    error = page.locator('[data-path="items[0].theory_weight"] + .field-error')
    error.wait_for()
    assert "理论成绩占比不得超过 30%" in error.inner_text()
    assert "items[0].theory_weight" in page.inner_text("#error-summary")
    assert "invalid" in (page.get_attribute('[data-path="items[0].theory_weight"]', "class") or "")
    assert page.request.get(f"{live_server}/api/events/{event_id}").json() == stored
    _shot(page, tmp_path / "editor-error.png", full_page=False)

    # English through the message catalog, errors included
    page.click("text=English")
    page.wait_for_selector("h1 >> text=Edit event")
    assert page.locator("#save").inner_text() == "Save event"
    assert page.locator('label:has-text("Theory weight (0–0.3)")').count() == 1
    page.fill('[data-path="items[0].theory_weight"]', "0.5")
    page.click("#save")
    error.wait_for()
    assert "theory weight must not exceed 0.3" in error.inner_text()
    _shot(page, tmp_path / "editor-en.png")

    # a phone: nothing wider than the screen but the criteria table, which scrolls inside its box
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/admin/events/{event_id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#save").bounding_box()["height"] >= 44
    _shot(page, tmp_path / "editor-phone.png", full_page=False)
    assert errors == [], errors


def test_editor_without_javascript_uses_the_file_form(settings: Settings, live_server: str, browser: Any,
                                                      tmp_path: Path) -> None:
    _add_organiser(settings)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1024, "height": 900},
                                  locale="zh-CN")
    page = context.new_page()
    _sign_in(page, live_server)
    page.click("text=新建赛事")
    assert page.locator("#save").is_hidden() and page.locator("#raw textarea").is_visible()
    text = page.input_value("#raw textarea").replace('"name": null', '"name": "无脚本赛事"', 1)
    page.fill("#raw textarea", text)
    page.click("#raw button[type=submit]")
    summary = page.locator("#error-summary")
    assert summary.is_visible()  # the blank item and date are still missing: listed, nothing stored
    assert "event.starts_on" in summary.inner_text() and "items[0].code" in summary.inner_text()
    assert page.locator('[data-path="items[0].code"] + .field-error').inner_text() == "必填"
    _shot(page, tmp_path / "nojs-errors.png")
    assert page.request.get(f"{live_server}/api/events").json() == []
    context.close()
