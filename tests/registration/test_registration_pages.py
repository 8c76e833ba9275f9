"""The contestants' pages without a browser: the QR form (no-JS multipart POST), refusals next to their
fields in Chinese, photo sniffing, the ticket page and PDF, the organiser's poster, "my registration"
(look-up, amend, withdraw, neutral answer, rate limit) and masking on every public page."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image
from sqlmodel import select

from contestday.settings import DEFAULT_PUBLIC_URL
from registration.entries import public_views
from registration.entries.models import Entry, EntryMember
from registration.entries.photos import PhotoError, prepare_photo
from tests.registration.test_registration_api import make_event, person
from tests.support.idgen import make_id

Client = AsyncTestClient[Litestar]
ZBAR = shutil.which("zbarimg")


def png(size: tuple[int, int] = (400, 300), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 80, 40) if mode == "RGB" else 0).save(out, "PNG")
    return out.getvalue()


def form(body: dict[str, Any], *, confirm: bool = True) -> dict[str, str]:
    """A person() body as the form's fields (what a browser without JavaScript posts)."""
    fields = {k: str(v) for k, v in body.items() if k not in ("name", "id_number", "phone", "instructors")}
    fields.update({"m0_name": body["name"], "m0_id_number": body["id_number"], "m0_phone": body["phone"]})
    fields["group"] = body.get("group") or "-"
    if confirm:
        fields["confirm"] = "1"
    return fields


async def submit(client: Client, event_id: int, fields: dict[str, str], photo: tuple[str, bytes] | None = None) -> Any:
    # a browser sends the file part even when no file is chosen: empty name, empty content
    files = {"m0_photo": (photo[0], photo[1], "image/jpeg") if photo else ("", b"", "application/octet-stream")}
    return await client.post(f"/r/{event_id}", data=fields, files=files, follow_redirects=False)


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="ferr" id="e-{name}">([^<]*)</p>', html)
    return match.group(1) if match else ""


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_fonts(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


async def test_form_page_is_chinese_and_small(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    page = await client.get(f"/r/{event_id}")
    assert page.status_code == 200 and "本人确认未重复报名、未以多重身份报名" in page.text
    assert "LED显示屏应用" in page.text and "双人赛项" in page.text and 'enctype="multipart/form-data"' in page.text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert assets == ["/static/register.js"]  # CSS is inline: one extra request in all
    total = len(page.content)
    for asset in assets:
        total += len((await client.get(asset)).content)
    assert total < 100_000, total


async def test_no_js_post_registers_and_redirects_to_the_ticket(tmp_path: Path, db: Any, admin: Client,
                                                                client: Client) -> None:
    event_id = await make_event(admin)
    body = person()
    response = await submit(client, event_id, form(body), ("me.jpg", png((2400, 1600))))  # a PNG named .jpg
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/t/[2-9A-HJKMNP-Z]{26}\?new=1", location), location
    ticket = await client.get(location)
    assert ticket.status_code == 200
    for shown in (body["name"], "LED显示屏应用", "学生组", "报名成功", body["id_number"][:4] + "*" * 10):
        assert shown in ticket.text
    assert "<svg" in ticket.text and re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-", ticket.text)
    async with db() as session:
        member = (await session.exec(select(EntryMember))).one()
    assert member.photo == f"{member.entry_id}-0.jpg"
    stored = Path(client.app.state.settings.data_dir) / "photos" / member.photo
    img = Image.open(stored)
    assert img.format == "JPEG" and max(img.size) == 1200 and not img.getexif()


@pytest.mark.parametrize(("change", "field", "code", "words"), [
    ({"id_number": "500103199506151234"}, "m0_id_number", "invalid_id_number", "校验位不符"),
    ({"id_number": make_id(date(2011, 1, 1))}, "m0_id_number", "age_out_of_range", "16"),
    ({"group": "职工组"}, "identity", "group_identity_mismatch", "只接受职工"),
    ({"phone": "12345"}, "m0_phone", "invalid_phone", "11 位手机号码"),
    ({"unit": ""}, "unit", "missing_field", "必填"),
])
async def test_refusals_are_shown_next_to_their_field(admin: Client, client: Client, change: dict[str, str],
                                                      field: str, code: str, words: str) -> None:
    event_id = await make_event(admin)
    body = person(**change)
    response = await submit(client, event_id, form(body))
    assert response.status_code in (409, 422), response.text
    assert words in field_error(response.text, field), response.text
    assert f'data-code="{code}"' in response.text
    assert f'value="{body["name"]}"' in response.text  # what was typed is kept


async def test_duplicate_entry_and_unticked_confirmation(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    body = person()
    unticked = await submit(client, event_id, form(body, confirm=False))
    assert unticked.status_code == 422 and "请勾选确认" in field_error(unticked.text, "confirm")
    assert 'data-code="not_confirmed"' in unticked.text
    assert (await submit(client, event_id, form(body))).status_code == 303
    again = await submit(client, event_id, form({**body, "item": "WPS"}))
    assert again.status_code == 409 and "每人只能报名一个赛项" in field_error(again.text, "m0_id_number")
    async with db() as session:
        assert len((await session.exec(select(Entry))).all()) == 1


@pytest.mark.parametrize(("photo", "words"), [
    (("photo.jpg", b"this is a text file, not a picture\n"), "只能是 JPEG 或 PNG"),
    (("wide.png", png((7000, 10))), "6000×6000"),
    (("bomb.png", png((12000, 12000), mode="1")), "6000×6000"),
    (("cut.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 100), "无法识别"),
])
async def test_bad_photos_are_refused_and_nothing_is_stored(db: Any, admin: Client, client: Client,
                                                           photo: tuple[str, bytes], words: str) -> None:
    event_id = await make_event(admin)
    response = await submit(client, event_id, form(person()), photo)
    assert response.status_code == 422 and 'data-code="invalid_photo"' in response.text
    assert words in field_error(response.text, "m0_photo")
    async with db() as session:
        assert (await session.exec(select(Entry))).all() == []


def test_photo_is_turned_upright_and_stripped() -> None:
    img = Image.new("RGB", (300, 100), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    result = Image.open(io.BytesIO(prepare_photo(out.getvalue())))
    assert result.size == (100, 300) and not result.getexif() and "icc_profile" not in result.info
    with pytest.raises(PhotoError):
        prepare_photo(b"\x89PNG\r\n\x1a\n" + b"x" * (5 * 1024 * 1024))


async def test_photo_that_cannot_be_saved_keeps_the_registration(monkeypatch: pytest.MonkeyPatch, db: Any,
                                                                 admin: Client, client: Client) -> None:
    def broken(*args: Any) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(public_views, "store_photo", broken)
    event_id = await make_event(admin)
    response = await submit(client, event_id, form(person()), ("p.png", png()))
    assert response.status_code == 303 and "photo=failed" in response.headers["location"]
    page = await client.get(response.headers["location"])
    assert "照片保存失败" in page.text
    async with db() as session:
        assert (await session.exec(select(EntryMember))).one().photo is None


async def test_team_item_takes_two_member_blocks(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    a, b = person(item="DUO", group=""), person()
    fields = form(a)
    fields.update({"m1_name": b["name"], "m1_id_number": b["id_number"], "m1_phone": b["phone"]})
    response = await submit(client, event_id, fields)
    assert response.status_code == 303, response.text
    ticket = (await client.get(response.headers["location"])).text
    assert a["name"] in ticket and b["name"] in ticket and "队员2" in ticket and "不分组" in ticket


async def test_ticket_pdf_embeds_the_font(tmp_path: Path, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    body = person()
    code = (await submit(client, event_id, form(body))).headers["location"].split("/")[2].split("?")[0]
    response = await client.get(f"/t/{code}.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert body["name"] in text and "LED显示屏应用" in text and code[:4] in text
    fonts = [line for line in pdf_fonts(response.content, tmp_path).splitlines()[2:] if line.strip()]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # every font embedded
    assert any("WenQuanYi" in line or "UMing" in line or "Custom" in line for line in fonts)
    if ZBAR:
        (tmp_path / "t.pdf").write_bytes(response.content)
        subprocess.run(["pdftoppm", "-png", "-r", "200", str(tmp_path / "t.pdf"), str(tmp_path / "t")], check=True)
        decoded = subprocess.run([ZBAR, "-q", "--raw", str(tmp_path / "t-1.png")], capture_output=True, text=True)
        assert decoded.stdout.strip() == f"{DEFAULT_PUBLIC_URL}/t/{code}"


async def test_unknown_ticket_is_a_chinese_404(client: Client) -> None:
    for path in ("/t/ABCDEFGHJKMNPQRSTUVWXYZ234", "/t/nope.pdf"):
        response = await client.get(path)
        assert response.status_code == 404 and "找不到该参赛凭证" in response.text


async def test_poster_pdf_and_qr_png(tmp_path: Path, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    response = await admin.get(f"/admin/events/{event_id}/poster.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = pdf_text(response.content, tmp_path)
    assert "扫码报名" in text and "LED显示屏应用" in text and "双人赛项" in text and "巴渝工匠" in text
    assert "no " not in pdf_fonts(response.content, tmp_path).split("\n", 2)[2]
    qr = await admin.get(f"/admin/events/{event_id}/qr.png")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(qr.content))
    assert img.format == "PNG" and img.size[0] == img.size[1] and 200 <= img.size[0] <= 1000
    url = f"{DEFAULT_PUBLIC_URL}/r/{event_id}"
    if ZBAR:
        (tmp_path / "qr.png").write_bytes(qr.content)
        decoded = subprocess.run([ZBAR, "-q", "--raw", str(tmp_path / "qr.png")], capture_output=True, text=True)
        assert decoded.stdout.strip() == url
        (tmp_path / "poster.pdf").write_bytes(response.content)
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(tmp_path / "poster.pdf"),
                        str(tmp_path / "poster")], check=True)
        decoded = subprocess.run([ZBAR, "-q", "--raw", str(tmp_path / "poster-1.png")], capture_output=True, text=True)
        assert decoded.stdout.strip() == url
    anonymous = await client.get(f"/admin/events/{event_id}/poster.pdf", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401


async def test_closed_registration_says_so_and_refuses(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin, registration_closes="2020-01-01T00:00:00+08:00")
    page = await client.get(f"/r/{event_id}")
    assert page.status_code == 200 and "报名已截止" in page.text and "<form" not in page.text
    response = await submit(client, event_id, form(person()))
    assert response.status_code == 422 and "报名已截止" in response.text
    async with db() as session:
        assert (await session.exec(select(Entry))).all() == []
    assert (await client.get("/r/999999")).status_code == 404


async def lookup(client: Client, event_id: int, id_number: str, phone: str) -> Any:
    return await client.post(f"/r/{event_id}/mine", data={"id_number": id_number, "phone": phone},
                             follow_redirects=False)


def mine_token(html: str) -> str:
    match = re.search(r'name="mine" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_my_registration_lookup_amend_and_withdraw(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    body = person()
    await submit(client, event_id, form(body), ("p.png", png()))
    found = await lookup(client, event_id, body["id_number"].lower(), "+86 " + body["phone"])
    assert found.status_code == 303 and "contestday_mine" in found.headers["set-cookie"]
    assert "httponly" in found.headers["set-cookie"].lower()
    mine = await client.get(f"/r/{event_id}/mine")
    assert body["name"] in mine.text and "撤回报名" in mine.text and "修改" in mine.text
    edit = await client.get(f"/r/{event_id}/mine/edit")
    assert edit.status_code == 200 and f'value="{body["name"]}"' in edit.text and "不修改请留空" in edit.text
    fields = {**form(body), "m0_id_number": "", "m0_phone": "", "unit": "重庆市轻工业学校",
              "mine": mine_token(edit.text)}
    amended = await client.post(f"/r/{event_id}/mine/edit", data=fields,
                                files={"m0_photo": ("", b"", "application/octet-stream")}, follow_redirects=False)
    assert amended.status_code == 303, amended.text
    assert "报名信息已修改" in (await client.get(amended.headers["location"])).text
    async with db() as session:
        entry = (await session.exec(select(Entry))).one()
        member = (await session.exec(select(EntryMember))).one()
    assert entry.unit == "重庆市轻工业学校" and member.phone == body["phone"] and member.photo == f"{entry.id}-0.jpg"
    forged = await client.post(f"/r/{event_id}/mine/withdraw", data={"sure": "1", "mine": "x"})
    assert forged.status_code == 422 and "请重新查询" in forged.text
    token = mine_token((await client.get(f"/r/{event_id}/mine")).text)
    unsure = await client.post(f"/r/{event_id}/mine/withdraw", data={"mine": token})
    assert unsure.status_code == 422 and "请先勾选确认" in unsure.text
    done = await client.post(f"/r/{event_id}/mine/withdraw", data={"sure": "1", "mine": token})
    assert done.status_code == 200 and "报名已撤回" in done.text
    async with db() as session:
        assert (await session.exec(select(Entry))).one().state == "withdrawn"
    assert (await lookup(client, event_id, body["id_number"], body["phone"])).status_code == 404
    assert (await submit(client, event_id, form(body))).status_code == 303  # the person may enter again


async def test_wrong_pair_is_neutral_and_lookups_are_rate_limited(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    a, b = person(), person()
    for body in (a, b):
        await submit(client, event_id, form(body))
    answers = [await lookup(client, event_id, a["id_number"], b["phone"]),  # someone else's phone
               await lookup(client, event_id, make_id(), a["phone"]),  # nobody's ID number
               await lookup(client, event_id, "12345", a["phone"])]  # not an ID number at all
    for answer in answers:
        assert answer.status_code == 404 and 'data-code="not_found"' in answer.text
        assert b["name"] not in answer.text and a["name"] not in answer.text
    assert len({re.sub(r'value="[^"]*"', "", r.text) for r in answers}) == 1  # the same neutral page
    for _ in range(17):  # 20 failed look-ups per address (contestday/accounts/limits.py MINE)
        await lookup(client, event_id, make_id(), a["phone"])
    limited = await lookup(client, event_id, a["id_number"], a["phone"])
    assert limited.status_code == 429 and 'data-code="too_many_attempts"' in limited.text


async def test_after_the_deadline_my_registration_is_read_only(admin: Client, client: Client, db: Any) -> None:
    event_id = await make_event(admin)
    body = person()
    await submit(client, event_id, form(body))
    await admin.put(f"/api/events/{event_id}", json=_closed_doc())
    await lookup(client, event_id, body["id_number"], body["phone"])
    mine = await client.get(f"/r/{event_id}/mine")
    assert "报名已截止" in mine.text and "撤回报名</button>" not in mine.text
    assert (await client.get(f"/r/{event_id}/mine/edit", follow_redirects=False)).status_code == 303


def _closed_doc() -> dict[str, Any]:
    from tests.registration.test_registration_api import reg_event

    return reg_event(registration_closes="2020-01-01T00:00:00+08:00")


async def test_public_pages_never_show_a_full_id_number_or_phone(tmp_path: Path, admin: Client,
                                                                 client: Client) -> None:
    event_id = await make_event(admin)
    body = person(instructors=[])
    code = (await submit(client, event_id, form(body), ("p.png", png()))).headers["location"].split("/")[2][:26]
    await lookup(client, event_id, body["id_number"], body["phone"])
    pages = {path: (await client.get(path)).text for path in (
        f"/r/{event_id}", f"/t/{code}", f"/t/{code}?new=1", f"/r/{event_id}/mine", f"/r/{event_id}/mine/edit")}
    pages["ticket.pdf"] = pdf_text((await client.get(f"/t/{code}.pdf")).content, tmp_path)
    assert body["phone"][:3] + "****" + body["phone"][-4:] in pages[f"/t/{code}"]
    for where, text in pages.items():
        assert body["id_number"] not in text, where
        assert body["phone"] not in text, where
        assert body["id_number"][6:14] not in text, where  # not even the birth date


def test_cjk_font_finder_and_wrapping(monkeypatch: pytest.MonkeyPatch) -> None:
    from contestday.pdf import fonts as pdf_fonts

    wqy = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
    monkeypatch.delenv(pdf_fonts.FONT_ENV, raising=False)
    assert pdf_fonts.find_cjk_font()[1:] == (wqy, 0)
    assert pdf_fonts.find_cjk_font(f"{wqy}#1") == ("Custom-wqy-zenhei", wqy, 1)
    monkeypatch.setenv(pdf_fonts.FONT_ENV, "/nowhere/fangzheng.ttf")
    with pytest.raises(pdf_fonts.FontNotFound, match="no such font file"):
        pdf_fonts.find_cjk_font()
    monkeypatch.delenv(pdf_fonts.FONT_ENV)
    monkeypatch.setattr(pdf_fonts, "_SYSTEM_FONTS", (("X", "/nowhere/x.ttc", 0),))
    with pytest.raises(pdf_fonts.FontNotFound, match="fonts-wqy-zenhei"):
        pdf_fonts.find_cjk_font(roots=())  # nor any font directory (tests/contestday/test_pdf_fonts.py)
    monkeypatch.undo()
    font = pdf_fonts.cjk_font()
    assert pdf_fonts.missing_glyphs(font, "张𠮷") == ["𠮷"]
    text = "请扫描二维码，填写报名表：https://example.cn/r/12345 然后提交。" * 3
    lines = pdf_fonts.wrap_text(text, font, 11, 120)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(line and line[0] not in "，。：；！？）" for line in lines)
    assert sum("https://example.cn/r/12345" in line for line in lines) == 3  # URLs are never split
