"""The verify page and the self-service kiosk in headless Chromium at a phone's size: the QR's URL opens a
valid certificate; the contestant types name + last six ID digits and opens their PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.pool import NullPool
from sqlmodel import select

from certificates.store import IssuedCertificate, issue, sign
from contestday.db.engine import create_engine, create_sessionmaker
from contestday.settings import Settings
from registration.entries.models import EntryMember
from registration.entries.personal import PersonalData
from tests.browser.test_board_browser import _ready
from tests.browser.test_console_browser import _run
from tests.browser.test_pages_browser import _shot
from tests.support.judging_setup import SECRET

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


async def _issued(settings: Settings, live: str) -> tuple[int, str, str, str]:
    """The board test's contest, published by its chief judge, with certificates issued."""
    event_id, token, csrf = await _ready(settings)
    httpx.post(f"{live}/api/events/{event_id}/items/LED/publication", json={},
               cookies={"contestday_session": token}, headers={"X-CSRF-Token": csrf}).raise_for_status()
    engine = create_engine(settings.database_url, poolclass=NullPool)
    db = create_sessionmaker(engine)
    try:
        async with db() as session:
            await issue(session, event_id)
            cert = (await session.exec(select(IssuedCertificate).order_by(IssuedCertificate.id))).first()  # type: ignore[arg-type]
            assert cert is not None
            member = (await session.exec(select(EntryMember).where(EntryMember.entry_id == cert.entry_id))).one()
        number = PersonalData(SECRET).decrypt(member.id_number_enc) or ""
        return event_id, cert.serial, member.name, number[-6:]
    finally:
        await engine.dispose()


def test_verify_page_and_self_service_kiosk(settings: Settings, live_server: str, browser: Any,
                                           tmp_path: Path) -> None:
    event_id, serial, name, digits = _run(_issued(settings, live_server))
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/verify/{serial}?s={sign(SECRET, serial)}")
    assert page.inner_text("#state").startswith("✔ 证书有效")
    assert "二维码签名正确" in page.inner_text("main") and name not in page.inner_text("main")
    _shot(page, tmp_path / "verify.png")
    page.goto(f"{live_server}/kiosk/events/{event_id}/certificates")
    page.fill("#name", name)
    page.fill("#digits", digits)
    page.click("button[type=submit]")
    page.wait_for_selector("#found")
    assert serial in page.inner_text("#found")
    href = page.get_attribute("a.download", "href")
    assert href
    pdf = httpx.get(f"{live_server}{href}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    _shot(page, tmp_path / "self-service.png")
    assert errors == []


async def _organiser(settings: Settings) -> None:
    from contestday.accounts import service as accounts

    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        async with create_sessionmaker(engine)() as session:
            await accounts.add_user(session, "org", "pw-12345678", ["organiser"])
            await session.commit()
    finally:
        await engine.dispose()


def test_the_organiser_revokes_and_reissues_on_the_certificate_page(settings: Settings, live_server: str,
                                                                    browser: Any) -> None:
    import re
    from urllib.parse import quote

    from certificates.store import mask_name

    shots = Path("/tmp/shots/C")
    shots.mkdir(parents=True, exist_ok=True)
    event_id, serial, name, _digits = _run(_issued(settings, live_server))
    _run(_organiser(settings))
    url = f"/console/events/{event_id}/certificates"
    page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/login?next={quote(url)}")
    page.fill("input[name=name]", "org")
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/certificates$"))
    assert page.inner_text("h1") == "荣誉证书管理" and page.locator("tr[data-serial]").count() == 6
    row = page.locator(f"tr[data-serial='{serial}']")
    assert mask_name(name) in row.inner_text() and name not in page.inner_text("main") and "一等奖" in row.inner_text()
    assert row.locator("a.pdf").get_attribute("href") == f"/certificates/{serial}.pdf"
    assert row.locator("a.verify").get_attribute("href") == f"/verify/{serial}?s={sign(SECRET, serial)}"
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        _shot(page, shots / f"certificates-{width}.png")
    page.set_viewport_size({"width": 1024, "height": 900})

    # search by serial, then reissue it with a reason
    page.fill("#search input[name=q]", serial.lower())
    page.click("#search button[type=submit]")
    assert page.locator("tr[data-serial]").count() == 1
    row = page.locator(f"tr[data-serial='{serial}']")
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("单位名称有误")
    row.locator("button.reissue").click()
    page.wait_for_selector("#done")
    done = re.search(r"新证书编号 (E\S+)（替代 (E\S+)）", page.inner_text("#done"))
    assert done and done.group(2) == serial and done.group(1).startswith(f"E{event_id}-LED-0007-")
    new = done.group(1)
    old = page.locator(f"tr[data-serial='{serial}']")
    assert old.get_attribute("data-state") == "revoked" and f"已由 {new} 替代" in old.inner_text()
    assert page.locator(f"tr[data-serial='{new}']").get_attribute("data-state") == "valid"
    _shot(page, shots / "certificates-reissued-1024.png")

    # search by name finds the person's old and new certificates; revoke the new one
    page.fill("#search input[name=q]", name)
    page.click("#search button[type=submit]")
    assert {page.locator("tr[data-serial]").nth(i).get_attribute("data-serial") for i in range(2)} == {serial, new}
    row = page.locator(f"tr[data-serial='{new}']")
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("获奖资格取消")
    row.locator("button.revoke").click()
    page.wait_for_selector("#done")
    assert f"已作废证书 {new}" in page.inner_text("#done")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "contestday_session")
    listed = {c["serial"]: c for c in httpx.get(f"{live_server}/api/events/{event_id}/certificates",
                                                cookies={"contestday_session": token}).json()}
    assert listed[serial]["state"] == "revoked" and listed[serial]["reason"] == "单位名称有误"
    assert listed[new]["state"] == "revoked" and listed[new]["replaces"] == serial
    assert listed[new]["reason"] == "获奖资格取消"
    assert errors == []
