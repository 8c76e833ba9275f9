"""The venue check in Chromium: an organiser opens 场地检查 from the header, sees every section with its state at
390, 1024 and 1440 px, the QR code decodes (zbarimg, from a screenshot of the page) to the public address's
/venue/ok, which a 390 px phone opens as 连接成功; the test sheet downloads as a PDF; a tablet whose clock is five
minutes fast and whose zone is not China time gets the clock warning. Screenshots go to $VENUE_SHOTS (default
/tmp/shots/h15e-venue)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from contestday.accounts import service as accounts
from contestday.app import create_app
from contestday.pdf.fonts import font_report
from contestday.settings import Settings, data_dir_state
from contestday.venue import checks
from tests.browser.test_console_browser import _run
from tests.browser.test_pages_browser import _shot
from tests.certificates.test_certificates_offline import _tool
from tests.conftest import PG_URL, _free_port, served

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("VENUE_SHOTS", "/tmp/shots/h15e-venue"))
WIDTHS = (390, 1024, 1440)
SECTIONS = ("address", "fonts", "database", "redis", "disk", "clock", "sheet")


async def _seed(settings: Settings) -> None:
    app: Litestar = create_app(settings)
    try:
        async with app.state.sessionmaker() as session:
            await accounts.add_user(session, "org", "pw-12345678", ["organiser"], display_name="组委会陈老师",
                                    by="test")
            await session.commit()
    finally:
        await app.state.engine.dispose()


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=name]", "org")
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{base}/start")


def _zbar(png: Path) -> str:
    out = subprocess.run([_tool("zbarimg"), "-q", "--raw", str(png)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _states(page: Any) -> dict[str, str]:
    return page.eval_on_selector_all("section.venue-check", "els => Object.fromEntries(els.map(e => "
                                     "[e.id.replace('venue-', ''), e.dataset.state]))")


def _open_venue(browser: Any, base: str, timezone_id: str, fast_by: timedelta | None = None) -> tuple[Any, list[str]]:
    """An organiser's page of the venue check, opened from the header once its script compared the clocks; the
    script errors seen."""
    context = browser.new_context(viewport={"width": 1024, "height": 900}, locale="zh-CN", timezone_id=timezone_id)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base)
    if fast_by is not None:
        page.clock.set_fixed_time(datetime.now() + fast_by)
    page.click("header.top nav a[href='/admin/venue']")  # linked from every organiser page's header
    page.wait_for_url(f"{base}/admin/venue")
    page.wait_for_function("() => !document.querySelector('#browser-clock dd[data-role=offset]')"
                           ".textContent.includes('正在比较')")
    return page, errors


@pytest.fixture
def venue(settings: Settings) -> tuple[Settings, int]:
    """The settings with the public address at the live server's own port, so the QR code really opens."""
    port = _free_port()
    _run(_seed(settings))
    return replace(settings, public_url=f"http://127.0.0.1:{port}"), port


def test_the_venue_check_in_chromium(venue: tuple[Settings, int], browser: Any) -> None:
    settings, port = venue
    SHOTS.mkdir(parents=True, exist_ok=True)
    with served(settings, port) as base:
        page, errors = _open_venue(browser, base, "Asia/Shanghai")
        assert page.locator("h1").inner_text().startswith("场地检查")

        states = _states(page)
        assert tuple(states) == SECTIONS
        report = font_report()
        expected = {
            "address": "warn",  # 127.0.0.1: loopback, phones cannot open it
            "fonts": "ok" if report.rare_glyphs else "warn",
            "database": "ok", "redis": "ok",
            "disk": checks.disk_check(settings.data_dir, data_dir_state(settings.data_dir)).state,
            "clock": checks.clock_check().state,  # the server's zone; the browser here is in step and in China time
            "sheet": "ok"}
        assert states == expected
        address = page.locator("#venue-address").inner_text()
        assert "公开地址指向本机（127.0.0.1）" in address and "用手机扫码：应打开“连接成功”页面" in address
        assert "本页是通过" not in address  # the page was opened at the public address itself
        fonts = page.locator("#venue-fonts").inner_text()
        assert report.name in fonts and report.path in fonts
        assert ("无法打印（空白）" in fonts) is (not report.rare_glyphs)
        database = page.locator("#venue-database").inner_text()
        assert ("PostgreSQL" if PG_URL else "SQLite") in database and "成功" in database
        assert ":postgres@" not in page.content()  # the password never shown
        assert "未配置（单实例" in page.locator("#venue-redis").inner_text()
        assert "剩余空间" in page.locator("#venue-disk").inner_text()
        clock = page.locator("#venue-clock").inner_text()
        assert "一致（相差" in clock and "Asia/Shanghai（UTC+08:00）" in clock
        assert page.locator("#venue-clock [data-role=clock-note]").is_hidden()
        summary = page.locator("#venue-summary")
        assert summary.get_attribute("data-state") == "warn" and "有需要注意的项目" in summary.inner_text()

        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing runs off the side
            _shot(page, SHOTS / f"venue-check-{width}.png")
        page.set_viewport_size({"width": 1024, "height": 900})

        qr_png = SHOTS / "venue-qr.png"
        page.locator("#venue-qr").screenshot(path=str(qr_png))
        target = _zbar(qr_png)
        assert target == f"{base}/venue/ok"

        sheet = page.context.request.get(base + page.locator("#test-sheet").get_attribute("href"))  # the session
        assert sheet.ok and sheet.headers["content-type"] == "application/pdf" and sheet.body().startswith(b"%PDF")
        assert not errors

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                    device_scale_factor=2, locale="zh-CN").new_page()
        phone.goto(target)
        assert phone.locator("#connected").inner_text() == "连接成功"
        assert "Connected" in phone.inner_text("body")
        assert phone.locator("#reached").inner_text() == base
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        _shot(phone, SHOTS / "venue-ok-390.png", full_page=False)


def test_a_device_whose_clock_is_off_gets_the_clock_warning(venue: tuple[Settings, int], browser: Any) -> None:
    settings, port = venue
    SHOTS.mkdir(parents=True, exist_ok=True)
    with served(settings, port) as base:
        page, errors = _open_venue(browser, base, "Europe/Berlin", fast_by=timedelta(minutes=5))
        offset = page.locator("#browser-clock dd[data-role=offset]")
        assert offset.inner_text().startswith("比服务器快 ")
        seconds = int(offset.inner_text().removeprefix("比服务器快 ").removesuffix(" 秒"))
        assert 280 <= seconds <= 320
        notes = page.locator("#venue-clock [data-role=clock-note]").all_inner_texts()
        assert any("本设备的时区不是北京时间" in n for n in notes)
        assert any("相差超过 60 秒" in n for n in notes)
        assert page.locator("#venue-clock").get_attribute("data-state") == "warn"
        assert page.locator("#venue-clock [data-role=state]").inner_text().startswith("注意")
        assert page.locator("#venue-summary").get_attribute("data-state") in ("warn", "error")
        page.set_viewport_size({"width": 390, "height": 900})
        page.locator("#venue-clock").screenshot(path=str(SHOTS / "venue-clock-off-390.png"))
        assert not errors
