"""Certificate serials cannot be walked: each new one is the readable `E{event}-{ITEM}-{NNNN}` plus 7 characters
from the CSPRNG (34.7 bits), so knowing one serial gives no other; serials issued before keep verifying; and a
serial typed without the QR's signature shows what contracts §5 names (valid, masked name, event, item, group,
award, issued_on, revoked) — no issuer, no revocation reason, no replacing serial. SQLite, and PostgreSQL when
CONTESTDAY_TEST_DATABASE_URL is set."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from certificates.store import SERIAL_MAX, SERIAL_RANDOM, IssuedCertificate, new_serial, sign
from registration.entries.tickets import ALPHABET
from tests.certificates.test_certificates_server import published
from tests.support.judging_setup import SECRET

CONTRACT = {"valid", "name", "event", "item", "group", "award", "issued_on", "revoked"}
SHAPE = re.compile(rf"E(\d+)-(\w+)-(\d{{4}})-([{ALPHABET}]{{{SERIAL_RANDOM}}})")


def test_new_serials_are_readable_then_random() -> None:
    serials = {new_serial(3, "SA01", 7) for _ in range(2000)}
    assert len(serials) == 2000  # 31**7 choices: no repeats in a contest's worth
    for serial in serials:
        match = SHAPE.fullmatch(serial)
        assert match and match.group(1, 2, 3) == ("3", "SA01", "0007"), serial
        assert not set(match.group(4)) & set("0O1IL")
    assert len(ALPHABET) ** SERIAL_RANDOM >= 2 ** 30
    long = new_serial(123456, "X" * 32, 12345)
    assert len(long) <= SERIAL_MAX and long.startswith("E123456-XXX") and "-12345-" in long


async def _issued(client: Any, db: Any) -> tuple[int, dict[str, str], list[IssuedCertificate]]:
    contest, organiser = await published(client, db)
    issued = await client.post(f"/api/events/{contest.event_id}/certificates/issue", json={}, headers=organiser)
    assert issued.json()["issued"] == 6
    async with db() as session:
        rows = list((await session.exec(select(IssuedCertificate).order_by(IssuedCertificate.id))).all())  # type: ignore[arg-type]
    return contest.event_id, organiser, rows


async def test_issued_serials_cannot_be_walked(client: Any, db: Any) -> None:
    event_id, organiser, rows = await _issued(client, db)
    serials = [r.serial for r in rows]
    assert [SHAPE.fullmatch(s).group(3) for s in serials] == [f"{n:04d}" for n in range(1, 7)]  # type: ignore[union-attr]
    assert len({s.rsplit("-", 1)[1] for s in serials}) == 6
    # before: the next one was E{event}-LED-0002; now the readable part alone finds nothing
    for guess in (f"E{event_id}-LED-0002", f"E{event_id}-LED-0002-", serials[0][:-1] + "2"):
        if guess not in serials:
            assert (await client.get(f"/api/certificates/{guess}")).status_code == 404, guess
            assert (await client.get(f"/verify/{guess}")).status_code == 404
    reissued = await client.post(f"/api/certificates/{serials[0]}/reissue", json={"reason": "单位名称有误"},
                                 headers=organiser)
    new = reissued.json()["serial"]
    assert SHAPE.fullmatch(new) and new.startswith(f"E{event_id}-LED-0007-") and new not in serials


async def test_a_serial_typed_without_the_signature_shows_only_the_contract(client: Any, db: Any) -> None:
    _event_id, organiser, rows = await _issued(client, db)
    serial = rows[0].serial
    await client.post(f"/api/certificates/{serial}/reissue", json={"reason": "单位名称有误：应为重庆市某某学校"},
                      headers=organiser)
    bare = (await client.get(f"/api/certificates/{serial}")).json()
    assert set(bare) >= CONTRACT and bare["revoked"] and not bare["valid"]
    assert set(bare) - CONTRACT <= {"serial", "qr_genuine"} and bare["qr_genuine"] is None
    page = await client.get(f"/verify/{serial}")
    assert page.status_code == 200 and 'data-state="revoked"' in page.text
    assert "某某学校" not in page.text and "-0007-" not in page.text and rows[0].issuer not in page.text
    forged = (await client.get(f"/api/certificates/{serial}", params={"s": "0" * 16})).json()
    assert forged["qr_genuine"] is False and "reason" not in forged and "replaced_by" not in forged
    signed = (await client.get(f"/api/certificates/{serial}", params={"s": sign(SECRET, serial)})).json()
    assert signed["qr_genuine"] is True and signed["reason"].startswith("单位名称有误")
    assert "-0007-" in signed["replaced_by"] and signed["issuer"] == rows[0].issuer
    signed_page = await client.get(f"/verify/{serial}", params={"s": sign(SECRET, serial)})
    assert signed["replaced_by"] in signed_page.text and rows[0].issuer in signed_page.text


async def test_serials_issued_before_the_random_part_keep_verifying(client: Any, db: Any) -> None:
    _event_id, _organiser, rows = await _issued(client, db)
    old = f"E{rows[1].event_id}-LED-0002"  # the old format, as printed on earlier certificates
    async with db() as session:
        await session.exec(text("UPDATE certificate SET serial = :old WHERE id = :id")  # type: ignore[call-overload]
                           .bindparams(old=old, id=rows[1].id))
        await session.commit()
    signed = await client.get(f"/api/certificates/{old}", params={"s": sign(SECRET, old)})
    assert signed.status_code == 200 and signed.json()["valid"] and signed.json()["qr_genuine"] is True
    page = await client.get(f"/verify/{old}", params={"s": sign(SECRET, old)})
    assert page.status_code == 200 and 'data-state="valid"' in page.text and "二维码签名正确" in page.text
