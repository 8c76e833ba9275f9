"""Organiser pages of the judge registry and panels (judging/admin_pages.py): add/edit with the ID number
masked everywhere but the judge's own page, examiner cards and their warnings against the contest day,
XLSX import with good and bad rows, panel assignment with the same-unit warning, personal links (QR,
revocation), the A4 link cards, organiser-only access."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from sqlmodel import select

from judging.cards import card_warnings, item_occupations, occupation_matches, valid_until_from_issue
from judging.models import ExaminerCard, Judge, JudgeIdentity, PanelMember
from registration.entries.personal import PersonalData
from scoring.identity import mask_id_number
from tests.support.helpers import EXAMPLE_EVENT, login_headers
from tests.support.idgen import make_id
from tests.support.judging_setup import SECRET, seated_contest

CONTEST_DAY = date(2026, 10, 20)  # EXAMPLE_EVENT's starts_on
HTML = {"Accept": "text/html"}


async def new_event(admin: Any) -> int:
    response = await admin.post("/api/events", json=EXAMPLE_EVENT)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def add_judge(admin: Any, event_id: int, **fields: str) -> int:
    body = {"name": "李考评", "unit": "某评审中心", "phone": "13900000001", "id_number": "", **fields}
    response = await admin.post(f"/admin/events/{event_id}/judges", data=body, follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(re.search(r"/judges/(\d+)", response.headers["location"]).group(1))  # type: ignore[union-attr]


async def add_card(admin: Any, event_id: int, judge_id: int, occupation: str, valid_until: str) -> None:
    response = await admin.post(f"/admin/events/{event_id}/judges/{judge_id}/cards", follow_redirects=False,
                                data={"occupation": occupation, "number": f"KPY-{judge_id}-{valid_until}",
                                      "valid_until": valid_until, "level": "3"})
    assert response.status_code == 303, response.text


async def seat(admin: Any, event_id: int, judge_id: int, role: str = "judge", code: str = "LED",
               criteria: tuple[str, ...] = ()) -> Any:
    return await admin.post(f"/admin/events/{event_id}/items/{code}/panel", follow_redirects=False,
                            data={"judge_id": str(judge_id), "role": role, "criteria": list(criteria)})


def warnings_of(html: str, judge_id: int) -> set[str]:
    row = re.search(rf'<tr class="role-\w+" data-judge="{judge_id}">(.*?)</tr>', html, re.S)
    assert row, html
    return set(re.findall(r'data-code="(\w+)"', row.group(1)))


# pure: cards -----------------------------------------------------------------------------------------------
def test_cards_are_valid_three_years_and_match_occupations_fuzzily() -> None:
    assert valid_until_from_issue(date(2023, 10, 21)) == date(2026, 10, 21)
    assert valid_until_from_issue(date(2024, 2, 29)) == date(2027, 2, 28)
    assert occupation_matches("4-03-02-01 中式烹调师", ["火锅调味", "中式烹调师"])
    assert occupation_matches("LED显示屏", ["LED显示屏应用"]) and not occupation_matches("电工", ["LED显示屏应用"])
    assert not occupation_matches("", ["LED显示屏应用"])
    assert "中式烹调师" in item_occupations("火锅调味", "4-03-02-01")
    from judging.cards import CardFacts

    on_day = [CardFacts("LED显示屏应用", "1", CONTEST_DAY)]  # valid through the contest day itself
    assert card_warnings(on_day, CONTEST_DAY, ["LED显示屏应用"]) == []


# add / edit ---------------------------------------------------------------------------------------------
async def test_add_and_edit_judge_with_the_id_number_masked_but_on_the_edit_page(admin: Any, db: Any) -> None:
    event_id = await new_event(admin)
    number = make_id()
    judge_id = await add_judge(admin, event_id, id_number=number)
    listing = (await admin.get(f"/admin/events/{event_id}/judges", headers=HTML)).text
    assert "李考评" in listing and number not in listing
    assert mask_id_number(number) in listing
    page = (await admin.get(f"/admin/events/{event_id}/judges/{judge_id}", headers=HTML)).text
    assert f'value="{number}"' in page  # the judge's own page: the whole number, to correct it
    async with db() as session:
        identity = await session.get(JudgeIdentity, judge_id)
        assert identity is not None and number not in identity.id_number_enc
        assert PersonalData(SECRET).decrypt(identity.id_number_enc) == number

    response = await admin.post(f"/admin/events/{event_id}/judges/{judge_id}", follow_redirects=False,
                                data={"name": "李考评", "unit": "重庆电子科技职业大学", "phone": "139 0000 0001",
                                      "id_number": number})
    assert response.status_code == 303
    async with db() as session:
        judge = await session.get(Judge, judge_id)
        assert judge is not None and judge.unit_key == "重庆电子科技职业大学" and judge.phone == "13900000001"
        assert judge.id_masked and number not in judge.id_masked

    bad = await admin.post(f"/admin/events/{event_id}/judges", data={"name": "王", "id_number": number[:-1] + "0"
                           if number[-1] != "0" else number[:-1] + "1"}, headers=HTML)
    assert bad.status_code == 422 and "校验位" in bad.text
    twice = await admin.post(f"/admin/events/{event_id}/judges", data={"name": "李二", "id_number": number},
                             headers=HTML)
    assert twice.status_code == 422 and "已在本赛事登记" in twice.text
    nameless = await admin.post(f"/admin/events/{event_id}/judges", data={"name": " "}, headers=HTML)
    assert nameless.status_code == 422 and "请填写姓名" in nameless.text
    # the number can be taken off again
    await admin.post(f"/admin/events/{event_id}/judges/{judge_id}",
                     data={"name": "李考评", "unit": "", "phone": "", "id_number": ""})
    async with db() as session:
        assert await session.get(JudgeIdentity, judge_id) is None
        assert (await session.get(Judge, judge_id)).id_masked is None  # type: ignore[union-attr]


async def test_english_pages(admin: Any) -> None:
    event_id = await new_event(admin)
    judge_id = await add_judge(admin, event_id)
    await seat(admin, event_id, judge_id, "chief_judge")
    headers = {**HTML, "Accept-Language": "en"}
    for url in (f"/admin/events/{event_id}/judges", f"/admin/events/{event_id}/judges/{judge_id}",
                f"/admin/events/{event_id}/items/LED/panel"):
        response = await admin.get(url, headers=headers)
        assert response.status_code == 200, url
        assert "Chief judge" in response.text and "no examiner card" in response.text, url
        assert "裁判长" not in response.text, url  # (the import hint names the Chinese column headers)


# import -------------------------------------------------------------------------------------------------
def judge_xlsx(rows: list[list[Any]], header: tuple[str, ...] | None = None) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    header = header or ("姓名", "单位", "手机", "身份证号", "考评员证职业", "考评员证等级", "考评员证编号", "有效期至",
                        "发证日期")
    for col, title in enumerate(header):
        sheet.write_string(0, col, title)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, date_format)  # a real date cell: Excel's day serial
            elif isinstance(value, int):
                sheet.write_number(r, c, value)
            elif value is not None:
                sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


async def import_file(admin: Any, event_id: int, data: bytes, name: str = "裁判名单.xlsx") -> Any:
    return await admin.post(f"/admin/events/{event_id}/judges/import", headers=HTML,
                            files={"file": (name, data, "application/octet-stream")})


def report(html: str) -> dict[int, str]:
    """row number → the code of the row's result ("ok" for an imported row)."""
    rows = {}
    for number, body in re.findall(r'<tr class="(?:ok|bad)" data-row="(\d+)">(.*?)</tr>', html, re.S):
        code = re.search(r"<code>(\w+)</code>", body)
        rows[int(number)] = code.group(1) if code else "ok"
    return rows


async def test_xlsx_import_good_and_bad_rows(admin: Any, db: Any) -> None:
    event_id = await new_event(admin)
    liu, chen = make_id(), make_id()
    rows: list[list[Any]] = [
        ["刘一", "单位甲", "13800000011", liu, "LED显示屏应用", "三级/高级工", "KP001", "2027-06-30", None],
        ["刘一", "单位甲", "13800000011", liu, "电工", "2", "KP002", "2027年1月5日", None],  # 2nd card, same judge
        ["陈二", "单位乙", "13800000012", chen, "LED显示屏应用", "", "KP003", None, "2023-10-19"],  # issue date only
        ["张三", "单位丙", "13800000013", None, "LED显示屏应用", "四级", "KP004", date(2028, 3, 1), None],  # date cell
        ["赵四", "单位丁", "13800000014", None, None, None, None, None, None],  # no card yet
        ["钱五", "单位戊", "13800000015", 500103199506150011, "电工", "", "KP005", "2027-01-01", None],  # numeric ID
        ["孙六", "单位己", "13800000016", None, "电工", "", "KP006", "明年", None],  # bad date
        ["周七", "单位庚", "13800000017", None, "电工", "", None, "2027-01-01", None],  # card without number
        ["吴八", "单位辛", "13800000018", liu[:-1] + ("0" if liu[-1] != "0" else "1"), None, None, None, None, None],
        [None, "单位壬", "13800000019", None, None, None, None, None, None],  # no name
        ["郑九", "单位癸", "123", None, None, None, None, None, None],  # bad phone
    ]
    response = await import_file(admin, event_id, judge_xlsx(rows))
    assert response.status_code == 200, response.text
    assert report(response.text) == {2: "ok", 3: "ok", 4: "ok", 5: "ok", 6: "ok", 7: "numeric_cell", 8: "bad_date",
                                     9: "incomplete_card", 10: "id_bad_check_digit", 11: "missing_name",
                                     12: "bad_phone"}
    async with db() as session:
        judges = {j.name: j for j in (await session.exec(select(Judge).where(Judge.event_id == event_id))).all()}
        assert set(judges) == {"刘一", "陈二", "张三", "赵四"}
        cards = (await session.exec(select(ExaminerCard))).all()
        by_number = {c.number: c for c in cards}
        assert {c.number for c in cards if c.judge_id == judges["刘一"].id} == {"KP001", "KP002"}
        assert by_number["KP001"].level == 3 and by_number["KP002"].level == 2
        assert by_number["KP002"].valid_until == date(2027, 1, 5)
        assert by_number["KP003"].valid_until == date(2026, 10, 19)  # issued 2023-10-19 + three years
        assert by_number["KP004"].valid_until == date(2028, 3, 1)
        assert judges["刘一"].id_masked and liu not in judges["刘一"].id_masked
    # the same file again adds nobody and no card twice
    again = await import_file(admin, event_id, judge_xlsx(rows))
    assert "已有裁判" in again.text
    async with db() as session:
        assert len((await session.exec(select(Judge).where(Judge.event_id == event_id))).all()) == 4
        assert len((await session.exec(select(ExaminerCard))).all()) == 4


async def test_import_refuses_a_file_without_a_header_or_of_another_kind(admin: Any) -> None:
    event_id = await new_event(admin)
    no_header = await import_file(admin, event_id, judge_xlsx([["x"]], header=("编号", "备注")))
    assert no_header.status_code == 422 and "表头" in no_header.text
    wrong = await import_file(admin, event_id, b"%PDF-1.4", "judges.pdf")
    assert wrong.status_code == 422 and ".xlsx" in wrong.text
    csv = "姓名,手机,考评员证职业,考评员证编号,有效期至\n何十,13800000020,LED显示屏应用,KP9,2027-01-01\n"
    ok = await import_file(admin, event_id, csv.encode("gb18030"), "judges.csv")
    assert report(ok.text) == {2: "ok"}
    template = await admin.get(f"/admin/events/{event_id}/judges/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"


# warnings and panels ----------------------------------------------------------------------------------------
async def test_card_warnings_on_the_panel_missing_expired_other_occupation(admin: Any) -> None:
    event_id = await new_event(admin)
    none = await add_judge(admin, event_id, name="无证", phone="13900000002")
    expired = await add_judge(admin, event_id, name="过期", phone="13900000003")
    await add_card(admin, event_id, expired, "LED显示屏应用", "2026-10-19")  # the day before the contest
    other = await add_judge(admin, event_id, name="外行", phone="13900000004")
    await add_card(admin, event_id, other, "电工", "2029-01-01")
    good = await add_judge(admin, event_id, name="合格", phone="13900000005")
    await add_card(admin, event_id, good, "LED显示屏", "2026-10-20")  # valid on the contest day itself
    for judge_id in (none, expired, other, good):
        assert (await seat(admin, event_id, judge_id)).status_code == 303
    page = (await admin.get(f"/admin/events/{event_id}/items/LED/panel", headers=HTML)).text
    assert warnings_of(page, none) == {"card_missing"}
    assert warnings_of(page, expired) == {"card_expired"}
    assert warnings_of(page, other) == {"card_other_occupation"}
    assert warnings_of(page, good) == set()
    # the registry shows the same per seat
    listing = (await admin.get(f"/admin/events/{event_id}/judges", headers=HTML)).text
    assert 'data-code="card_expired"' in listing and 'data-code="card_other_occupation"' in listing
    # panel as a whole: no chief judge, no encryption judge yet
    assert 'data-code="chief_judge_count"' in page and 'data-code="no_encryption_judge"' in page


async def test_panel_assign_criteria_same_unit_warning_and_remove(admin: Any, db: Any) -> None:
    contest = await seated_contest(db, n=2, judges=(("同单位", "单位0"),))
    event_id = contest.event_id
    chief = await add_judge(admin, event_id, name="裁判长甲", phone="13900000006")
    crypt = await add_judge(admin, event_id, name="加密乙", phone="13900000007")
    part = await add_judge(admin, event_id, name="评B", phone="13900000008", unit="单 位1")  # spelled apart
    assert (await seat(admin, event_id, chief, "chief_judge")).status_code == 303
    assert (await seat(admin, event_id, crypt, "encryption_judge")).status_code == 303
    assert (await seat(admin, event_id, part, "judge", criteria=("B",))).status_code == 303
    page = (await admin.get(f"/admin/events/{event_id}/items/LED/panel", headers=HTML)).text
    async with db() as session:
        same = (await session.exec(select(Judge).where(Judge.name == "同单位"))).one()
        member = (await session.exec(select(PanelMember).where(PanelMember.judge_id == part))).one()
        assert member.criteria == ["B"]
    assert "same_unit" in warnings_of(page, same.id or 0)
    assert "same_unit" in warnings_of(page, part)  # normalised unit: 单 位1 is 单位1
    assert "same_unit" not in warnings_of(page, chief)
    assert 'data-code="chief_judge_count"' not in page and 'data-code="no_encryption_judge"' not in page

    twice = await seat(admin, event_id, part, "judge")
    assert twice.status_code == 409 and "已担任" in twice.text
    unknown = await seat(admin, event_id, chief, "judge", criteria=("Z",))
    assert unknown.status_code == 422
    stranger = await seat(admin, event_id, 999999)
    assert stranger.status_code == 404

    response = await admin.post(f"/admin/events/{event_id}/items/LED/panel/{member.id}/delete",
                                follow_redirects=False)
    assert response.status_code == 303
    async with db() as session:
        assert (await session.exec(select(PanelMember).where(PanelMember.judge_id == part))).first() is None


# personal links ---------------------------------------------------------------------------------------------
def link_of(html: str) -> str:
    match = re.search(r'class="copy link-url" readonly value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_personal_link_revoke_old_refused_new_works(admin: Any, client: Any) -> None:
    event_id = await new_event(admin)
    judge_id = await add_judge(admin, event_id)
    assert (await seat(admin, event_id, judge_id)).status_code == 303
    page_url = f"/admin/events/{event_id}/judges/{judge_id}"
    old = link_of((await admin.get(page_url, headers=HTML)).text)
    assert old.startswith("http://127.0.0.1:8000/j/")
    path = old.removeprefix("http://127.0.0.1:8000")
    opened = await client.get(path, follow_redirects=False)
    assert opened.status_code == 303 and "contestday_session" in opened.headers.get("set-cookie", "")
    tablet = {"Cookie": f"contestday_session={opened.cookies['contestday_session']}"}
    assert (await client.get("/api/me", headers=tablet)).status_code == 200
    client.cookies.clear()
    qr = await admin.get(f"{page_url}/qr.png")
    assert qr.status_code == 200 and qr.content[:8] == b"\x89PNG\r\n\x1a\n"

    revoked = await admin.post(f"{page_url}/revoke", follow_redirects=False)
    assert revoked.status_code == 303
    refused = await client.get(path, follow_redirects=False, headers={"Accept": "application/json"})
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_link"
    assert (await client.get("/api/me", headers=tablet)).status_code == 401  # the tablet is signed out too
    new = link_of((await admin.get(page_url, headers=HTML)).text)
    assert new != old
    reopened = await client.get(new.removeprefix("http://127.0.0.1:8000"), follow_redirects=False)
    assert reopened.status_code == 303
    client.cookies.clear()


async def test_link_cards_pdf_holds_every_judge_and_a_readable_qr(admin: Any, tmp_path: Path) -> None:
    event_id = await new_event(admin)
    names = [f"裁判{chr(0x4E00 + k)}" for k in range(9)]  # 9 cards: two pages
    for k, name in enumerate(names):
        await add_judge(admin, event_id, name=name, phone=f"1390000010{k}")
    response = await admin.get(f"/admin/events/{event_id}/judges/link-cards.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes(response.content)
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext not installed (poppler-utils)")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for name in names:
        assert name in text
    assert "/j/" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert all(" yes " in line for line in fonts.splitlines()[2:])  # every font embedded
    if not shutil.which("zbarimg") or not shutil.which("pdftoppm"):
        pytest.skip("zbarimg/pdftoppm not installed: QR not decoded")
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    [png] = tmp_path.glob("page*.png")
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True).stdout
    links = [line for line in decoded.splitlines() if line]
    assert len(links) == 8 and all(link.startswith("http://127.0.0.1:8000/j/") for link in links)


async def test_names_the_print_font_cannot_draw_are_named_before_printing(admin: Any) -> None:
    event_id = await new_event(admin)
    await add_judge(admin, event_id, name="\U00020BB7大明")  # 𠮷: missing from WQY and UMing
    page = (await admin.get(f"/admin/events/{event_id}/judges", headers=HTML)).text
    assert 'class="notice warn unprintable"' in page and "\U00020BB7大明" in page


# access ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["judge", "chief_judge", "encryption_judge", "checkin", None])
async def test_only_organisers_reach_the_judge_pages(admin: Any, client: Any, db: Any, role: str | None) -> None:
    event_id = await new_event(admin)
    judge_id = await add_judge(admin, event_id)
    headers = {"Accept": "application/json"}
    if role:
        headers.update(await login_headers(client, db, f"u-{role}", role))
    base = f"/admin/events/{event_id}"
    for method, url in (("GET", f"{base}/judges"), ("GET", f"{base}/judges/{judge_id}"),
                        ("GET", f"{base}/judges/link-cards.pdf"), ("GET", f"{base}/judges/{judge_id}/qr.png"),
                        ("GET", f"{base}/items/LED/panel"), ("POST", f"{base}/judges"),
                        ("POST", f"{base}/judges/{judge_id}/revoke"), ("POST", f"{base}/items/LED/panel")):
        response = await client.request(method, url, headers=headers)
        assert response.status_code == (403 if role else 401), (role, method, url)
