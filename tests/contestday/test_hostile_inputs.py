"""R4 of issue 17: hand-made hostile inputs. Each is refused with a 4xx and a stable code, or rendered inert;
nothing stored is lost and the server still answers afterwards.

Covered here: bombs on the upload routes tests/contestday/test_upload_bounds.py leaves out (the theory sheet by
API and page, the event file page, registration photos by form and API, the certificate design and layout);
path traversal in uploaded file names; huge, deep, non-UTF-8 and NUL-holding bodies, forms and queries; script
in contestants' names on the organiser's pages, the public results and board, and the certificate PDF."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contestday.settings import Settings
from contestday.web import uploads
from tests.contestday.test_pdf_escaping import pdf_text
from tests.contestday.test_upload_bounds import XLSX, bomb
from tests.registration.test_registration_api import make_event, person
from tests.registration.test_registration_pages import form
from tests.results.test_publication import marked, settle
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest

pytestmark = pytest.mark.reliability

HTML = {"Accept": "text/html"}
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'


def pixel_bomb(side: int = 60_000) -> bytes:
    """A PNG of a few hundred bytes whose header says side × side pixels (3.6 billion: ~10 GB decoded)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\x00" * 4096)  # the start of the first rows: a decoder would go on for gigabytes
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


async def _count(db: Any, table: str) -> int:
    async with db() as session:
        return int((await session.exec(text(f"SELECT count(*) FROM {table}"))).one()[0])  # type: ignore[call-overload]


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


async def test_bombs_on_every_upload_route_the_bounds_test_leaves_out(admin: Any, client: Any, db: Any,
                                                                     settings: Settings) -> None:
    contest = await seated_contest(db, n=2)
    event, item = contest.event_id, "LED"
    organiser = await login_headers(client, db, "org", "organiser")
    stored = {table: await _count(db, table) for table in ("event", "entry", "theory_import", "theory_score")}

    # the theory sheet, by the API and by the console's page: a 300 MB zip bomb refused from the zip directory
    sheet = await admin.post(f"/api/events/{event}/items/{item}/theory/file",
                             files={"file": ("理论成绩.xlsx", bomb(300), XLSX)})
    assert sheet.status_code == 422 and sheet.json()["code"] == "upload_too_complex", sheet.text
    page = await client.post(f"/console/events/{event}/items/{item}/theory", headers={**organiser, **HTML},
                             files={"file": ("理论成绩.xlsx", bomb(300), XLSX)}, data={"reason": "x"})
    assert page.status_code == 422 and "40 MB" in page.text, page.text[:300]

    # the event file page: JSON nested 100,000 deep, and one past its size limit
    deep = ('{"event": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()
    nested = await admin.post("/admin/events/import", headers=HTML,
                              files={"file": ("赛事.json", deep, "application/json")})
    assert nested.status_code == 422 and "32 层" in nested.text, nested.text[:300]
    padded = b" " * (uploads.MAX_EVENT_FILE_BYTES + 1)
    huge = await admin.post("/admin/events/import", headers=HTML,
                            files={"file": ("赛事.json", padded, "application/json")})
    assert huge.status_code == 413, huge.status_code

    # a registration photo of 3.6 billion pixels: by the public form and by the API (base64)
    reg_event = await make_event(admin, photo_required=True)
    posted = await client.post(f"/r/{reg_event}", data=form(person()), follow_redirects=False,
                               files={"m0_photo": ("me.png", pixel_bomb(), "image/png")})
    assert posted.status_code == 422 and "6000×6000" in posted.text, posted.text[:300]
    api = await client.post(f"/api/events/{reg_event}/registrations",
                            json=person(photo=base64.b64encode(pixel_bomb()).decode()))
    assert api.status_code == 422 and api.json()["code"] == "invalid_photo", api.text
    assert "6000×6000" in api.json()["message"]

    # the certificate design (its header only is read) and a layout nested 100,000 deep
    template = f"/console/events/{event}/certificates/template"
    design = await client.post(template, headers={**organiser, **HTML},
                               files={"design": ("底图.png", pixel_bomb(), "image/png")})
    assert design.status_code == 422 and "百万像素" in design.text, design.text[:300]
    layout = await client.post(template, headers={**organiser, **HTML},
                               files={"layout": ("版式.json", b"[" * 100_000 + b"]" * 100_000, "application/json")})
    assert 400 <= layout.status_code < 500, layout.status_code

    assert {table: await _count(db, table) for table in stored} == {**stored, "event": stored["event"] + 1}
    assert (await client.get("/health")).status_code == 200


async def test_path_traversal_in_uploaded_file_names_writes_nothing_outside(admin: Any, client: Any, db: Any,
                                                                          settings: Settings, tmp_path: Path) -> None:
    from tests.registration.test_registration_pages import png

    event_id = await make_event(admin, photo_required=True)
    before = _files(tmp_path)
    evil = "../../../../../evil.png"
    posted = await client.post(f"/r/{event_id}", data=form(person()), follow_redirects=False,
                               files={"m0_photo": (evil, png(), "image/png")})
    assert posted.status_code == 303, posted.text[:300]
    contest = await seated_contest(db, n=2)
    organiser = await login_headers(client, db, "org", "organiser")
    sheet = await admin.post(f"/api/events/{contest.event_id}/items/LED/theory/file",
                             files={"file": ("../../../evil.csv", "赛位,理论成绩\nA01,80\n".encode(), "text/csv")})
    assert sheet.status_code < 500, sheet.text
    design = await client.post(f"/console/events/{contest.event_id}/certificates/template",
                               headers={**organiser, **HTML}, files={"design": (evil, png((800, 566)), "image/png")},
                               follow_redirects=False)
    assert design.status_code < 500, design.text[:300]
    new = _files(tmp_path) - before
    assert new, "the photo and the design were stored"
    for path in new:
        assert path.resolve().is_relative_to(tmp_path.resolve()), path
        assert "evil" not in path.name and ".." not in path.parts, path
    assert not list(tmp_path.parent.glob("evil*")) and not list(Path("/").glob("evil*"))
    async with db() as session:
        stored = text("SELECT photo FROM entry_member WHERE photo IS NOT NULL AND photo <> ''")
        [photo] = (await session.exec(stored)).one()  # type: ignore[call-overload]
    assert "/" not in photo and "evil" not in photo and (settings.data_dir / "photos" / photo).is_file()


async def test_huge_deep_non_utf8_and_nul_inputs_are_refused_and_nothing_is_lost(admin: Any, client: Any,
                                                                              db: Any) -> None:
    event_id = await make_event(admin)
    kept = await client.post(f"/api/events/{event_id}/registrations", json=person())
    assert kept.status_code == 201
    url = f"/api/events/{event_id}/registrations"
    json_headers = {"Content-Type": "application/json"}
    cases: list[tuple[str, Any, set[str]]] = [
        ("15 MB body", await client.post(url, content=b'{"unit": "' + b"x" * (15 * 1024 * 1024) + b'"}',
                                         headers=json_headers), {"upload_too_large"}),
        ("nested 100,000 deep", await client.post(url, content=b'{"unit": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                                  headers=json_headers), {"upload_too_complex"}),
        ("invalid UTF-8 JSON", await client.post(url, content=b'{"unit": "\xff\xfe"}', headers=json_headers),
         {"invalid_body"}),
        ("NUL in the query", await admin.get(f"/api/events/{event_id}/checkin/search?q=%E5%BC%A0%00"),
         {"invalid_text"}),
        ("invalid UTF-8 multipart field", await client.post(
            f"/r/{event_id}", content=b'--B\r\nContent-Disposition: form-data; name="m0_name"\r\n\r\n'
                                      b'\xff\xfe\r\n--B--\r\n',
            headers={"Content-Type": "multipart/form-data; boundary=B"}), {"invalid_encoding"}),
    ]
    for what, answer, codes in cases:
        assert 400 <= answer.status_code < 500 and answer.json()["code"] in codes, (what, answer.text[:300])
    # invalid UTF-8 in a query and an urlencoded form: decoded leniently, answered, never a 5xx
    query = await admin.get(f"/api/events/{event_id}/checkin/search?q=%FF%FE%E5%BC")
    assert query.status_code < 500, query.text
    urlencoded = await client.post(f"/r/{event_id}", content=b"m0_name=%FF%FE&unit=\xff",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert urlencoded.status_code < 500, urlencoded.text[:300]
    assert await _count(db, "entry") == 1  # the registration made first is still there, nothing else stored
    assert (await client.get("/health")).status_code == 200
    assert (await admin.get(f"/api/events/{event_id}")).status_code == 200


async def test_script_in_names_is_inert_on_pages_board_and_certificates(client: Any, db: Any) -> None:
    contest = await marked(db)
    async with db() as session:
        rows = (await session.exec(text("SELECT id FROM entry_member ORDER BY id"))).all()  # type: ignore[call-overload]
        for (member_id,), name in zip(rows[:2], (SCRIPT, ATTRIBUTE), strict=True):
            await session.exec(text("UPDATE entry_member SET name = :n WHERE id = :i"),  # type: ignore[call-overload]
                               params={"n": name, "i": member_id})
        await session.commit()
    chief = await login_headers(client, db, "chief", "chief_judge")
    organiser = await login_headers(client, db, "org", "organiser")
    await settle(db, contest)
    published = await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={}, headers=chief)
    assert published.status_code == 201, published.text
    pages = {
        "registrations": (f"/admin/events/{contest.event_id}/registrations/list", organiser),
        "public results": (f"/results/{contest.event_id}", {}),
        "board": (f"/board/{contest.event_id}", {}),
    }
    for what, (url, headers) in pages.items():
        page = await client.get(url, headers={**headers, **HTML})
        assert page.status_code == 200, (what, page.text[:300])
        assert SCRIPT not in page.text and ATTRIBUTE not in page.text, what
        assert "<img src=x" not in page.text, what
    board = (await client.get(f"/api/public/events/{contest.event_id}/results")).text
    assert "alert(1)" in board  # the data itself is kept as typed (JSON escapes it; the board sets textContent)
    for url, headers in (pages["registrations"], pages["public results"]):  # shown, as text
        shown_page = (await client.get(url, headers={**headers, **HTML})).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown_page, url
    await client.post(f"/api/events/{contest.event_id}/certificates/issue", json={}, headers=organiser)
    async with db() as session:
        serials = dict((await session.exec(text("SELECT name, serial FROM certificate"))).all())  # type: ignore[call-overload]
    shown = {}
    for name in (SCRIPT, ATTRIBUTE):
        if name in serials:
            pdf = await client.get(f"/certificates/{serials[name]}.pdf", headers=organiser)
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:300]
            shown[name] = "".join(name.split()) in pdf_text(pdf.content)
    assert shown and all(shown.values()), (shown, list(serials))
