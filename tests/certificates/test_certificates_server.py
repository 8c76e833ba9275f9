"""Certificates on the server: issued from published results only (one valid per person, serials per item in
handing-out order), verified by the QR's signed URL (valid, then revoked), reissued under a new serial, printed
in a batch with progress, and fetched by the contestant at the self-service kiosk."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import select

from certificates.store import SERIAL_RANDOM, IssuedCertificate, mask_name, sign
from registration.entries.models import Entry, EntryMember
from registration.entries.personal import PersonalData
from registration.entries.tickets import ALPHABET
from tests.results.test_publication import marked, settle
from tests.support.helpers import finished_job, login_headers
from tests.support.judging_setup import SECRET


def numbered(event_id: int, n: int) -> re.Pattern[str]:
    """The serial of the n-th certificate of the LED item: readable number, then the random part."""
    return re.compile(rf"E{event_id}-LED-{n:04d}-[{ALPHABET}]{{{SERIAL_RANDOM}}}")


async def serial_of(db: Any, event_id: int, n: int) -> str:
    async with db() as session:
        return (await session.exec(select(IssuedCertificate.serial).where(
            IssuedCertificate.serial.startswith(f"E{event_id}-LED-{n:04d}-")))).one()  # type: ignore[attr-defined]


async def published(client: Any, db: Any) -> tuple[Any, dict[str, str]]:
    contest = await marked(db)
    chief = await login_headers(client, db, "chief", "chief_judge")
    organiser = await login_headers(client, db, "org", "organiser")
    issue = f"/api/events/{contest.event_id}/certificates/issue"
    early = await client.post(issue, json={"item": "LED"}, headers=organiser)
    assert early.status_code == 409 and early.json()["code"] == "not_published"
    await settle(db, contest)
    assert (await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={},
                              headers=chief)).status_code == 201
    return contest, organiser


async def test_issue_verify_revoke_and_reissue(client: Any, db: Any) -> None:
    contest, organiser = await published(client, db)
    issue = f"/api/events/{contest.event_id}/certificates/issue"
    assert (await client.post(issue, json={}, headers=organiser)).json()["issued"] == 6
    assert (await client.post(issue, json={}, headers=organiser)).json()["issued"] == 0  # one per person
    listed = (await client.get(f"/api/events/{contest.event_id}/certificates", headers=organiser)).json()
    assert [bool(numbered(contest.event_id, n).fullmatch(c["serial"])) for n, c in enumerate(listed, 1)] == [True] * 6
    assert [c["award"] for c in listed][:3] == ["一等奖", "二等奖", "二等奖"]
    serial = listed[0]["serial"]
    good = (await client.get(f"/api/certificates/{serial}", params={"s": sign(SECRET, serial)})).json()
    assert good["valid"] and not good["revoked"] and good["qr_genuine"] and good["award"] == "一等奖"
    full = listed[0]["name"]
    assert good["name"] == mask_name(full) and good["name"].startswith(full[0]) and full not in str(good)
    forged = (await client.get(f"/api/certificates/{serial}", params={"s": "0" * 16})).json()
    assert forged["qr_genuine"] is False
    page = await client.get(f"/verify/{serial}", params={"s": sign(SECRET, serial)})
    assert page.status_code == 200 and 'data-state="valid"' in page.text and full not in page.text
    assert (await client.get("/verify/E9-NOPE-0001")).status_code == 404
    assert (await client.post(f"/api/certificates/{serial}/revoke", json={"reason": " "},
                              headers=organiser)).json()["code"] == "missing_field"
    new = await client.post(f"/api/certificates/{serial}/reissue", json={"reason": "单位名称有误"}, headers=organiser)
    assert new.status_code == 201 and new.json()["replaces"] == serial
    assert numbered(contest.event_id, 7).fullmatch(new.json()["serial"])
    old = (await client.get(f"/api/certificates/{serial}", params={"s": sign(SECRET, serial)})).json()
    assert old["revoked"] and not old["valid"] and old["reason"] == "单位名称有误"
    revoked_page = await client.get(f"/verify/{serial}")
    assert 'data-state="revoked"' in revoked_page.text
    again = await client.post(f"/api/certificates/{serial}/revoke", json={"reason": "x"}, headers=organiser)
    assert again.status_code == 409 and again.json()["code"] == "already_revoked"


async def test_a_batch_in_handing_out_order_with_progress_and_one_certificate(client: Any, db: Any) -> None:
    contest, organiser = await published(client, db)
    await client.post(f"/api/events/{contest.event_id}/certificates/issue", json={}, headers=organiser)
    started = await client.post(f"/console/events/{contest.event_id}/certificates/print", data={"item": "LED"},
                                headers=organiser, follow_redirects=False)
    assert started.status_code == 303
    job = started.headers["location"]
    view = await finished_job(client, job, organiser)
    assert view["state"] == "done" and view["done"] == view["total"] == 6
    pdf = (await client.get(f"{job}/archive.zip", headers=organiser)).content
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 6
    serial = await serial_of(db, contest.event_id, 1)
    one = await client.get(f"/certificates/{serial}.pdf", headers=organiser)
    assert one.status_code == 200 and one.content.startswith(b"%PDF")
    assert (await client.get(f"/certificates/{serial}.pdf")).status_code == 403  # no organiser, no token


async def test_the_self_service_kiosk_finds_ones_own_certificate(client: Any, db: Any) -> None:
    contest, organiser = await published(client, db)
    await client.post(f"/api/events/{contest.event_id}/certificates/issue", json={}, headers=organiser)
    async with db() as session:
        cert = (await session.exec(select(IssuedCertificate).where(IssuedCertificate.serial.contains("-0001-")))).one()  # type: ignore[attr-defined]
        entry = await session.get(Entry, cert.entry_id)
        member = (await session.exec(select(EntryMember).where(EntryMember.entry_id == cert.entry_id))).one()
    assert entry is not None
    number = PersonalData(SECRET).decrypt(member.id_number_enc) or ""
    url = f"/kiosk/events/{contest.event_id}/certificates"
    assert "领取荣誉证书" in (await client.get(url)).text
    by_ticket = await client.post(url, data={"ticket": entry.ticket_code.lower()})
    assert by_ticket.status_code == 200 and cert.serial in by_ticket.text
    by_name = await client.post(url, data={"name": member.name, "digits": number[-6:]})
    assert by_name.status_code == 200 and cert.serial in by_name.text
    other = "000000" if number[-6:] != "000000" else "111111"
    wrong = await client.post(url, data={"name": member.name, "digits": other})
    assert wrong.status_code == 404 and cert.serial not in wrong.text
    empty = await client.post(url, data={})
    assert empty.status_code == 422
    link = re.search(r'href="(/certificates/[^"]+)"', by_ticket.text)
    assert link
    path = link.group(1).replace("&amp;", "&")
    fetched = await client.get(path)
    assert fetched.status_code == 200 and fetched.content.startswith(b"%PDF")
    tampered = urlsplit(path)._replace(query="t=9999999999.deadbeef").geturl()
    assert (await client.get(tampered)).status_code == 403


async def test_the_publish_page_issues_and_prints(client: Any, db: Any) -> None:
    contest, organiser = await published(client, db)
    page = f"/console/events/{contest.event_id}/publish"
    shown = await client.get(page, headers=organiser)
    assert "/certificates/issue" in shown.text and "/certificates/print" in shown.text
    done = await client.post(f"/console/events/{contest.event_id}/certificates/issue", data={"item": "LED"},
                             headers=organiser, follow_redirects=False)
    assert done.status_code == 303 and "issued=6" in done.headers["location"]
    assert "已颁发 6 张荣誉证书。" in (await client.get(done.headers["location"], headers=organiser)).text


async def test_the_events_design_layout_and_calibration_on_the_server(client: Any, db: Any, settings: Any) -> None:
    import io

    from PIL import Image

    contest, organiser = await published(client, db)
    url = f"/console/events/{contest.event_id}/certificates"
    image = io.BytesIO()
    Image.new("RGB", (600, 424), (251, 246, 232)).save(image, "JPEG")
    bad = await client.post(f"{url}/template", headers=organiser, data={"layout": "{not json"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_layout"
    not_image = await client.post(f"{url}/template", headers=organiser, files={"design": ("d.jpg", b"GIF89a....")})
    assert not_image.status_code == 422 and not_image.json()["code"] == "invalid_image"
    layout = '{"fields": {"name": {"x_mm": 100, "y_mm": 120, "size": 28}}}'
    saved = await client.post(f"{url}/template", headers=organiser, follow_redirects=False,
                              data={"layout": layout, "offset_x_mm": "2", "offset_y_mm": "-1"},
                              files={"design": ("design.jpg", image.getvalue())})
    assert saved.status_code == 303 and saved.headers["location"].endswith("/calibration.pdf")
    calibration = await client.get(saved.headers["location"], headers=organiser)
    assert calibration.status_code == 200 and calibration.content.startswith(b"%PDF")
    await client.post(f"/api/events/{contest.event_id}/certificates/issue", json={}, headers=organiser)
    one = await client.get(f"/certificates/{await serial_of(db, contest.event_id, 1)}.pdf", headers=organiser)
    assert one.status_code == 200 and b"/Subtype /Image" in one.content  # the design is on the page
    folder = settings.data_dir / "certificates" / f"event-{contest.event_id}"
    assert (folder / "design.jpg").is_file() and '"offset_x_mm": 2.0' in (folder / "template.json").read_text()


async def test_no_certificates_while_an_appeal_of_the_item_is_open(client: Any, db: Any) -> None:
    """Arbitration may still change the awards: issuing and printing wait for its ruling (409 appeal_open),
    on the API and on the publish page's issue and print buttons; the whole event leaves the item out."""
    contest, organiser = await published(client, db)
    base = f"/api/events/{contest.event_id}"
    paper = await client.post(f"{base}/appeals/paper", headers=organiser,
                              json={"item": "LED", "text": "书面申诉：计时有误", "filed_by": "某单位领队"})
    assert paper.status_code == 201
    refused = await client.post(f"{base}/certificates/issue", json={"item": "LED"}, headers=organiser)
    assert refused.status_code == 409 and refused.json()["code"] == "appeal_open"
    assert "申诉尚未裁定" in refused.json()["message"] and refused.json()["item"] == "LED"
    assert (await client.post(f"{base}/certificates/issue", json={}, headers=organiser)).json() == {
        "issued": 0, "held_by_appeals": ["LED"]}
    button = await client.post(f"/console/events/{contest.event_id}/certificates/issue", data={"item": "LED"},
                               headers=organiser, follow_redirects=False)
    assert button.status_code == 409 and 'data-code="appeal_open"' in button.text and "申诉尚未裁定" in button.text
    printing = await client.post(f"/console/events/{contest.event_id}/certificates/print", data={"item": "LED"},
                                 headers=organiser, follow_redirects=False)
    assert printing.status_code == 409 and 'data-code="appeal_open"' in printing.text
    async with db() as session:
        assert (await session.exec(select(IssuedCertificate))).first() is None
    ruled = await client.post(f"{base}/appeals/{paper.json()['id']}/ruling", headers=organiser,
                              json={"ruling": "dismissed", "text": "计时记录无误"})
    assert ruled.status_code == 200
    assert (await client.post(f"{base}/certificates/issue", json={"item": "LED"}, headers=organiser)).json() == {
        "issued": 6, "held_by_appeals": []}


async def test_the_certificate_page_revokes_and_reissues(client: Any, db: Any) -> None:
    contest, organiser = await published(client, db)
    await client.post(f"/api/events/{contest.event_id}/certificates/issue", json={}, headers=organiser)
    url = f"/console/events/{contest.event_id}/certificates"
    serial = await serial_of(db, contest.event_id, 1)
    async with db() as session:
        full = (await session.exec(select(IssuedCertificate).where(IssuedCertificate.serial == serial))).one().name
    page = await client.get(url, headers=organiser)
    assert page.status_code == 200 and serial in page.text and mask_name(full) in page.text and full not in page.text
    assert f'href="/certificates/{serial}.pdf"' in page.text
    assert f"/verify/{serial}?s={sign(SECRET, serial)}" in page.text
    assert (await client.get(url)).status_code in (401, 403)  # the organiser's page
    found = await client.get(url, params={"q": full}, headers=organiser)
    assert found.text.count('data-serial="') == 1
    no_reason = await client.post(f"{url}/{serial}/reissue", data={"reason": " "}, headers=organiser)
    assert no_reason.status_code == 422 and "须填写原因" in no_reason.text
    done = await client.post(f"{url}/{serial}/reissue", data={"reason": "单位名称有误"}, headers=organiser,
                             follow_redirects=False)
    assert done.status_code == 303
    shown = await client.get(done.headers["location"], headers=organiser)
    new = await serial_of(db, contest.event_id, 7)
    assert f"新证书编号 {new}（替代 {serial}）" in shown.text and f"已由 {new} 替代" in shown.text
    assert (await client.get(f"/api/certificates/{serial}", params={"s": sign(SECRET, serial)})).json()[
        "replaced_by"] == new
    other = await serial_of(db, contest.event_id, 2)
    revoked = await client.post(f"{url}/{other}/revoke", data={"reason": "获奖资格取消"}, headers=organiser,
                                follow_redirects=False)
    assert f"已作废证书 {other}。" in (await client.get(revoked.headers["location"], headers=organiser)).text
    listed = {c["serial"]: c for c in (await client.get(f"/api/events/{contest.event_id}/certificates",
                                                          headers=organiser)).json()}
    assert listed[other]["state"] == "revoked" and listed[other]["reason"] == "获奖资格取消"
    assert listed[new]["state"] == "valid" and listed[new]["replaces"] == serial
