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
from contestday.db import create_engine, create_sessionmaker
from contestday.settings import Settings
from registration.entries.models import EntryMember
from registration.entries.personal import PersonalData
from tests.judging_setup import SECRET
from tests.test_board_browser import _ready
from tests.test_console_browser import _run
from tests.test_pages_browser import _shot

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


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
