"""The venue check: each section's rules (address, fonts, database, Redis, disk, time zone), the slow checks'
timeouts against servers that never answer, the page for organisers only, the public /venue/ok and /venue/clock,
and the printer test sheet — one A4 page whose ruler measures 100 mm in the PDF's own geometry and whose QR code
opens /venue/ok. (The page in Chromium: tests/browser/test_venue_browser.py.)"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import create_async_engine

from contestday import settings as settings_module
from contestday.app import create_app
from contestday.pdf import fonts
from contestday.pdf.fonts import FontReport, cjk_font, font_report
from contestday.settings import DataDirState, Settings
from contestday.venue import checks
from contestday.venue.sheet import RULER_MM, printer_sheet_pdf
from tests.certificates.test_certificates_offline import _tool
from tests.conftest import ADMIN_TOKEN, PG_URL, _free_port
from tests.support.helpers import login_headers

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")  # no 𠮷
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # no Chinese at all
REDIS = os.environ.get("CONTESTDAY_TEST_REDIS_URL")
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PT_PER_MM = 72 / 25.4


def _section(html: str, key: str) -> tuple[str, str]:
    """(state, text) of one section of the page."""
    found = re.search(rf'<section class="card venue-check" id="venue-{key}" data-state="(\w+)">(.*?)</section>',
                      html, re.S)
    assert found, f"no section {key}"
    return found.group(1), re.sub(r"<[^>]+>", " ", found.group(2))


@contextlib.contextmanager
def _silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers: a database or Redis that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


# --- the rules -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("public", ["http://127.0.0.1:8000", "http://127.8.9.10", "http://localhost:8000",
                                    "http://[::1]:8000", "http://0.0.0.0:8000", "http://app.localhost"])
def test_a_loopback_public_address_is_a_warning(public: str) -> None:
    found = checks.address_check(public, public.split("//", 1)[1])
    assert found.state == "warn" and len(found.notes) == 1
    assert "公开地址指向本机" in found.notes[0][0] and "points at this machine" in found.notes[0][1]
    assert dict(found.facts)["二维码内容"] == f"{public}/venue/ok"


@pytest.mark.parametrize(("public", "host", "state"), [
    ("http://192.168.1.10:8000", "192.168.1.10:8000", "ok"),
    ("https://contest.example.cn", "contest.example.cn", "ok"),
    ("https://contest.example.cn", "Contest.Example.CN:443", "ok"),  # the default port, in any case
    ("http://192.168.1.10:8000", "192.168.1.10", "warn"),  # port 80 is not 8000
    ("http://192.168.1.10:8000", "10.0.0.5:8000", "warn"),  # opened at another address
    ("http://192.168.1.10:8000", "127.0.0.1:8000", "warn"),
])
def test_an_address_other_than_the_browsers_is_a_warning(public: str, host: str, state: str) -> None:
    found = checks.address_check(public, host)
    assert found.state == state
    assert all("本机" not in zh for zh, _ in found.notes)  # none of these public addresses is loopback
    if state == "warn":
        assert f"本页是通过 {host} 打开的" in found.notes[0][0] and public in found.notes[0][1]


def test_the_time_zone_other_than_china_time_is_a_warning() -> None:
    china = datetime(2026, 10, 20, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    found = checks.clock_check(china, "Asia/Shanghai")
    assert found.state == "ok" and not found.notes
    assert dict(found.facts) == {"服务器时区": "Asia/Shanghai（UTC+08:00）", "服务器时间": "2026-10-20 09:30:00",
                                 "北京时间": "2026-10-20 09:30:00"}
    utc = checks.clock_check(china.astimezone(UTC), "Etc/UTC")
    assert utc.state == "warn" and "UTC+00:00" in utc.notes[0][0] and "Asia/Shanghai" in utc.notes[0][1]
    assert dict(utc.facts)["北京时间"] == "2026-10-20 09:30:00"
    india = checks.clock_check(china.astimezone(timezone(timedelta(hours=5, minutes=30))), "")
    assert india.state == "warn" and "UTC+05:30" in dict(india.facts)["服务器时区"]
    assert checks.clock_check().facts  # the machine's own zone can be told


def test_the_disk_ok_low_and_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert checks.disk_check(tmp_path, DataDirState("ok", 50_000)).state == "ok"
    low = checks.disk_check(tmp_path, DataDirState("ok", 700))
    assert low.state == "warn" and "不到 1 GiB" in low.notes[0][0]
    assert dict(low.facts) == {"数据目录": str(tmp_path), "剩余空间": "700 MiB（0.7 GiB）"}
    full = checks.disk_check(tmp_path, DataDirState("full", 40))
    assert full.state == "error" and f"至少需要 {settings_module.MIN_FREE_MIB} MiB" in full.notes[0][0]
    read_only = checks.disk_check(tmp_path, DataDirState("read_only", None, "OSError: Read-only file system"))
    assert read_only.state == "error" and "不可写" in read_only.notes[0][0]
    assert dict(read_only.facts)["剩余空间"] == "?"


def test_the_font_states(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = checks.font_check(FontReport(found=False, problem_zh="找不到字体", problem_en="no font"))
    assert missing.state == "error" and missing.notes == (("找不到字体", "no font"),)
    assert checks.sheet_check(FontReport(found=False)).state == "error"
    if not WQY.is_file():
        pytest.skip("needs fonts-wqy-zenhei")
    wqy = font_report(str(WQY))
    no_rare = checks.font_check(wqy)
    assert no_rare.state == "warn" and "𠮷" in no_rare.notes[0][0] and fonts.FONT_ENV in no_rare.notes[0][1]
    assert dict(no_rare.facts)["生僻字 𠮷（U+20BB7）"] == "无法打印（空白）"
    if DEJAVU.is_file():  # a configured font without Chinese: names would come out blank
        latin = checks.font_check(font_report(str(DEJAVU)))
        assert latin.state == "error" and "缺少常用汉字" in latin.notes[0][0]
    monkeypatch.setattr(checks, "missing_glyphs", lambda font, text: [])  # a font with every character
    full = checks.font_check(replace(wqy, rare_glyphs=True))
    assert full.state == "ok" and not full.notes and dict(full.facts)["生僻字 𠮷（U+20BB7）"] == "可以打印"


async def test_the_database_reachable_unreachable_and_hanging(settings: Settings) -> None:
    engine = create_async_engine(settings.database_url)
    try:
        found = await checks.database_check(engine, settings.database_url)
    finally:
        await engine.dispose()
    assert found.state == "ok", found.notes
    facts = dict(found.facts)
    assert facts["类型"] == ("PostgreSQL" if PG_URL else "SQLite") and facts["数据库版本"] == facts["程序要求的版本"]

    closed = f"postgresql+asyncpg://venue:s3cret-pw@127.0.0.1:{_free_port()}/contest"
    silent_started = time.monotonic()
    with _silent_server() as port:
        for url, timeout in ((closed, 3.0), (f"postgresql+asyncpg://venue:s3cret-pw@127.0.0.1:{port}/contest", 0.5)):
            engine = create_async_engine(url)
            started = time.monotonic()
            try:
                found = await checks.database_check(engine, url, timeout=timeout)
            finally:
                await engine.dispose()
            assert time.monotonic() - started < timeout + 1
            assert found.state == "error" and "数据库无法连接" in found.notes[0][0]
            assert dict(found.facts)["服务器"].startswith("127.0.0.1:") and dict(found.facts)["用户"] == "venue"
            assert "s3cret-pw" not in repr(found)  # the password never shown
    assert "TimeoutError" in found.notes[0][0] and time.monotonic() - silent_started < 10


async def test_redis_not_configured_unreachable_and_hanging() -> None:
    alone = await checks.redis_check(None)
    assert alone.state == "ok" and "未配置" in dict(alone.facts)["配置"]
    refused = await checks.redis_check(f"redis://:s3cret-pw@127.0.0.1:{_free_port()}/0")
    assert refused.state == "error" and "Redis 无法连接" in refused.notes[0][0]
    assert dict(refused.facts)["地址"] == f"redis://:***@127.0.0.1:{dict(refused.facts)['地址'].rsplit(':', 1)[1]}"
    assert "s3cret-pw" not in repr(refused)
    with _silent_server() as port:
        started = time.monotonic()
        hung = await checks.redis_check(f"redis://127.0.0.1:{port}/0", timeout=0.5)
        assert hung.state == "error" and time.monotonic() - started < 2


async def test_redis_reachable() -> None:
    if not REDIS:
        pytest.skip("set CONTESTDAY_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to PING a real Redis")
    found = await checks.redis_check(REDIS)
    assert found.state == "ok" and dict(found.facts)["PING"] == "成功"


# --- the pages -----------------------------------------------------------------------------------------------

async def test_the_page_for_organisers_only(client: AsyncTestClient[Litestar], db: Any) -> None:
    page = await client.get("/admin/venue", headers=AUTH)
    assert page.status_code == 200
    for key in ("address", "fonts", "database", "redis", "disk", "clock", "sheet"):
        _section(page.text, key)
    assert _section(page.text, "database")[0] == "ok" and _section(page.text, "redis")[0] == "ok"
    assert _section(page.text, "address")[0] == "warn"  # http://127.0.0.1:8000, the default
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text and 'href="/admin/venue/test-sheet.pdf"' in page.text
    assert "postgres:postgres@" not in page.text

    assert (await client.get("/admin/venue")).status_code == 401
    redirect = await client.get("/admin/venue", headers={"Accept": "text/html"}, follow_redirects=False)
    assert redirect.status_code in (302, 303, 307) and redirect.headers["location"] == "/login?next=/admin/venue"
    judge = await login_headers(client, db, "judge-wang", "judge")
    for path in ("/admin/venue", "/admin/venue/test-sheet.pdf"):
        refused = await client.get(path, headers=judge)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    checkin = await login_headers(client, db, "desk-li", "checkin")
    assert (await client.get("/admin/venue", headers=checkin)).status_code == 403


async def test_the_page_in_english(client: AsyncTestClient[Litestar]) -> None:
    page = await client.get("/admin/venue", headers={**AUTH, "Cookie": "lang=en"})
    assert "Venue check" in page.text and "Public address" in page.text and "Printer test sheet" in page.text
    assert "points at this machine itself" in page.text and "公开地址指向本机" not in page.text
    assert ">场地检查<" not in page.text


async def test_the_public_connected_page_and_clock(client: AsyncTestClient[Litestar]) -> None:
    ok = await client.get("/venue/ok")
    assert ok.status_code == 200 and "连接成功" in ok.text and "Connected" in ok.text
    assert 'name="viewport" content="width=device-width' in ok.text
    assert re.search(r'<dd id="reached">http://testserver\.local</dd>', ok.text)
    before = int(time.time() * 1000)
    clock = await client.get("/venue/clock")
    assert clock.headers["cache-control"] == "no-store"
    assert before - 5 <= clock.json()["server_ms"] <= int(time.time() * 1000) + 5


@pytest.fixture
async def redis_closed_client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(replace(settings, redis_url=f"redis://127.0.0.1:{_free_port()}/0"))
    async with AsyncTestClient(app=app) as c:
        yield c


async def test_the_page_shows_redis_unreachable_as_an_error(
        redis_closed_client: AsyncTestClient[Litestar]) -> None:
    started = time.monotonic()
    page = await redis_closed_client.get("/admin/venue", headers=AUTH)
    assert page.status_code == 200 and time.monotonic() - started < 10
    state, text = _section(page.text, "redis")
    assert state == "error" and "Redis 无法连接" in text and "PING" in text and "失败" in text
    assert 'id="venue-summary" data-state="error"' in page.text


async def test_the_page_shows_redis_reachable(settings: Settings) -> None:
    if not REDIS:
        pytest.skip("set CONTESTDAY_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to PING a real Redis")
    async with AsyncTestClient(app=create_app(replace(settings, redis_url=REDIS))) as c:
        page = await c.get("/admin/venue", headers=AUTH)
    state, text = _section(page.text, "redis")
    assert state == "ok" and "成功" in text


async def test_the_page_with_a_font_without_rare_characters_and_with_none(
        client: AsyncTestClient[Litestar], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not WQY.is_file():
        pytest.skip("needs fonts-wqy-zenhei")
    own = tmp_path / "venue-own-font.ttc"
    shutil.copyfile(WQY, own)
    monkeypatch.setenv(fonts.FONT_ENV, str(own))  # the organiser's own font, lacking 𠮷
    state, text = _section((await client.get("/admin/venue", headers=AUTH)).text, "fonts")
    assert state == "warn" and str(own) in text and "Custom-venue-own-font" in text and "无法打印（空白）" in text

    monkeypatch.delenv(fonts.FONT_ENV)  # no font anywhere: as on a bare Windows or macOS without CJK fonts
    monkeypatch.setattr(fonts, "_SYSTEM_FONTS", (("Nowhere", "/nowhere/wqy-zenhei.ttc", 0),))
    monkeypatch.setattr(fonts, "font_dirs", lambda environ=None: ())
    page = (await client.get("/admin/venue", headers=AUTH)).text
    state, text = _section(page, "fonts")
    assert state == "error" and "找不到可嵌入 PDF 的中文字体" in text and "fonts-wqy-zenhei" in text
    assert _section(page, "sheet")[0] == "error" and 'href="/admin/venue/test-sheet.pdf"' not in page
    refused = await client.get("/admin/venue/test-sheet.pdf", headers=AUTH)
    assert refused.status_code == 503 and refused.json()["code"] == "font_missing"


# --- the printer test sheet ----------------------------------------------------------------------------------

def _words(pdf: Path) -> list[tuple[str, float, float, float, float]]:
    """(text, xMin, yMin, xMax, yMax) of every word, in points from the top-left corner."""
    out = subprocess.run([_tool("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True)
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(m.group(5), float(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4)))
            for m in re.finditer(pattern, out.stdout)]


def _ruler_positions(words: list[tuple[str, float, float, float, float]], across: bool) -> list[float]:
    """Where the numbers 0, 10, … 100 of one ruler stand: their centres along it (x across, y down)."""
    numbers = [str(n) for n in range(0, RULER_MM + 1, 10)]
    lines: dict[float, list[tuple[str, float]]] = {}
    for text, x0, y0, x1, y1 in words:
        if text in numbers:
            key, along = (round(y0, 1), (x0 + x1) / 2) if across else (round(x1, 1), (y0 + y1) / 2)
            lines.setdefault(key, []).append((text, along))
    for found in lines.values():
        if [t for t, _ in sorted(found, key=lambda w: w[1])] == numbers:
            return sorted(a for _, a in found)
    raise AssertionError(f"no ruler {'across' if across else 'down'} with the numbers {numbers}")


async def test_the_test_sheet_is_one_a4_page_with_a_100_mm_ruler(client: AsyncTestClient[Litestar],
                                                                 tmp_path: Path) -> None:
    response = await client.get("/admin/venue/test-sheet.pdf", headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(response.content)
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+1\n", info) and "595.276 x 841.89 pts (A4)" in info

    words = _words(pdf)
    for across in (True, False):
        at = _ruler_positions(words, across)
        assert abs(at[-1] - at[0] - RULER_MM * PT_PER_MM) < 0.2  # 100 mm = 283.46 pt, end to end
        assert all(abs(b - a - 10 * PT_PER_MM) < 0.2 for a, b in pairwise(at))
    text = " ".join(w[0] for w in words)
    for phrase in ("打印测试页", "实际大小", "100%，不要选“适合页面”。", "100 mm × 50 mm", "灰度", "常见姓氏", "生僻字",
                   "http://127.0.0.1:8000"):
        assert phrase in text, phrase
    assert "U+20BB7" in text or "本字体可以打印以上全部字符" in text  # 𠮷 named where the font lacks it

    subprocess.run([_tool("pdftoppm"), "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "sheet")],
                   check=True, timeout=60)
    decoded = subprocess.run([_tool("zbarimg"), "-q", "--raw", str(tmp_path / "sheet.png")], capture_output=True,
                             text=True, timeout=30)
    assert decoded.stdout.strip() == "http://127.0.0.1:8000/venue/ok"


def test_the_test_sheet_names_the_characters_its_font_lacks(tmp_path: Path) -> None:
    if not WQY.is_file():
        pytest.skip("needs fonts-wqy-zenhei")
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(printer_sheet_pdf(cjk_font(str(WQY)), "http://192.168.1.10:8000",
                                      "http://192.168.1.10:8000/venue/ok", "Custom-wqy-zenhei (test)",
                                      now=datetime(2026, 10, 20, 8, 0, tzinfo=UTC)))
    text = " ".join(w[0] for w in _words(pdf))
    assert "missing from the font：U+20BB7" in text  # WenQuanYi has no 𠮷: named by code point, not drawn blank
    assert "2026-10-20 16:00 北京时间" in text and "Custom-wqy-zenhei" in text and "http://192.168.1.10:8000" in text


async def test_the_page_carries_the_address_stored_on_the_event_page(client: AsyncTestClient[Litestar],
                                                                     db: Any) -> None:
    from contestday.db.server_settings import write_setting
    from contestday.web.public_address import KEY

    async with db() as session:  # as the event page's form stores it (tests/contestday/test_public_address.py)
        await write_setting(session, KEY, "http://192.168.1.10:8000", "wang")
        await session.commit()
    page = await client.get("/admin/venue", headers=AUTH)
    state, text = _section(page.text, "address")
    assert "http://192.168.1.10:8000" in text and "127.0.0.1:8000" not in text
    assert state == "warn" and "testserver" in text  # not loopback now, but not the address this browser used
