"""The organiser's registration pages: overview counts and the ≥ 50 warning, closing by hand, the review
queue, edit and withdraw, roster import (good and bad rows, dry run), exports and their round trip, the
photos ZIP, and who may see any of it."""

from __future__ import annotations

import base64
import csv
import io
import logging
import re
import zipfile
from datetime import date
from typing import Any

import xlsxwriter
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from contestday.accounts import service as accounts
from contestday.settings import Settings
from registration.entries.admin_service import group_counts
from registration.entries.exports import FORM_COLUMNS, SUMMARY_COLUMNS
from registration.entries.models import Entry, EntryMember
from registration.entries.personal import PersonalData
from registration.entries.roster import COLUMNS
from tests.registration.test_registration_api import make_event, person, post
from tests.support.helpers import post_login
from tests.support.idgen import make_id

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def base(event_id: int) -> str:
    return f"/admin/events/{event_id}/registrations"


async def entries(db: Any, event_id: int) -> list[tuple[Entry, list[EntryMember]]]:
    async with db() as session:
        rows = (await session.exec(select(Entry).where(Entry.event_id == event_id).order_by(col(Entry.id)))).all()
        out = []
        for e in rows:
            members = (await session.exec(select(EntryMember).where(EntryMember.entry_id == e.id)
                                          .order_by(col(EntryMember.position)))).all()
            out.append((e, list(members)))
        return out


async def register_ok(client: Client, event_id: int, **overrides: Any) -> dict[str, Any]:
    response = await post(client, event_id, person(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def xlsx(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    """A roster as units make them: text cells, except where a test puts a number (int/float)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for c, title in enumerate(header or [zh for zh, _ in COLUMNS]):
        sheet.write_string(0, c, title)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value:
                sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


def roster_row(p: dict[str, Any], item: str = "LED显示屏应用") -> list[Any]:
    ins = p.get("instructors") or []
    first = ins[0] if ins else {"name": "", "phone": ""}
    return [item, p["group"], "学生" if p["identity"] == "student" else "职工", p["name"], p["id_number"], p["phone"],
            p["unit"], "中专/技校", p.get("skill_level", ""), "", "", first["name"], first["phone"], "", ""]


async def upload(admin: Client, event_id: int, data: bytes, name: str = "名单.xlsx", dry_run: bool = False) -> Any:
    form = {"dry_run": "1"} if dry_run else {}
    return await admin.post(f"{base(event_id)}/roster", data=form, files={"file": (name, data, XLSX)})


def report_rows(html: str) -> list[tuple[str, str, str]]:
    """(row number, ✓/✗, code or ticket) of the report table on the page."""
    found = re.findall(r'<tr class="(ok|bad)">\s*<td class="num">(\d+)</td>.*?(?:<code>([a-z_]+)</code>|</tr>)', html,
                       re.S)
    return [(n, "✓" if k == "ok" else "✗", code) for k, n, code in found]


# overview -----------------------------------------------------------------------------------------------------
async def test_overview_counts_per_item_and_group_and_warns_below_50(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_per_group=None)
    for i in range(3):
        await register_ok(client, event_id, unit=f"学校{i % 2}")
    await register_ok(client, event_id, group="职工组", identity="employee", unit="某公司")  # flagged: qualification
    gone = await register_ok(client, event_id, unit="学校9")
    withdrawn = await admin.post(f"{base(event_id)}/{gone['registration_id']}/withdraw", follow_redirects=False)
    assert withdrawn.status_code == 303

    async with db() as session:
        counts = {(c.item_code, c.group): c for c in await group_counts(session, event_id)}
    led = counts[("LED", "学生组")]
    assert (led.active, led.pending, led.withdrawn, led.rejected, led.units) == (3, 0, 1, 0, 2)
    staff = counts[("LED", "职工组")]
    assert (staff.active, staff.pending, staff.units) == (1, 1, 1)
    assert ("DUO", "") in counts and counts[("DUO", "")].active == 0  # nobody yet: listed all the same
    assert all(c.below_minimum for c in counts.values())

    page = await admin.get(f"{base(event_id)}/")
    assert page.status_code == 200
    assert "不足 50 人（队）" in page.text and "报名中" in page.text and "2099-01-01 00:00" in page.text
    assert re.search(r"学生组</td>\s*<td class=\"num strong\">3</td>", page.text)


async def test_a_group_of_50_is_not_warned(db: Any, admin: Client) -> None:
    event_id = await make_event(admin, unit_quota_per_group=None)
    rows = [roster_row(person(unit=f"学校{i}")) for i in range(50)]
    response = await upload(admin, event_id, xlsx(rows))
    assert response.status_code == 200 and "成功 50 行" in response.text, response.text[-3000:]
    async with db() as session:
        counts = {(c.item_code, c.group): c for c in await group_counts(session, event_id)}
    assert counts[("LED", "学生组")].active == 50 and not counts[("LED", "学生组")].below_minimum
    assert counts[("LED", "职工组")].below_minimum


async def test_close_and_reopen_by_hand_with_a_reason(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("contestday.registration").addHandler(handler)
    try:
        refused = await admin.post(f"{base(event_id)}/close", data={"reason": " "})
        assert refused.status_code == 422 and "请填写原因" in refused.text
        assert (await register_ok(client, event_id))["ticket_code"]

        closed = await admin.post(f"{base(event_id)}/close", data={"reason": "名额已满"}, follow_redirects=False)
        assert closed.status_code == 303 and closed.headers["location"].endswith("?done=closed")
        response = await post(client, event_id, person())
        assert response.status_code == 422 and response.json()["code"] == "registration_closed"
        page = await admin.get(f"{base(event_id)}/")
        assert "已截止" in page.text and "已手动截止于" in page.text and "重新开放报名" in page.text

        reopened = await admin.post(f"{base(event_id)}/reopen", data={"reason": "补报一天"}, follow_redirects=False)
        assert reopened.status_code == 303
        assert (await post(client, event_id, person())).status_code == 201
    finally:
        logging.getLogger("contestday.registration").removeHandler(handler)
    assert [r.getMessage() for r in records] == ["registration closed by hand", "registration reopened"]
    assert records[0].reason == "名额已满" and records[0].event_id == event_id  # type: ignore[attr-defined]


# list, detail ---------------------------------------------------------------------------------------------------
async def test_list_filters_and_masks_the_id_number_everywhere_but_the_detail_page(admin: Client,
                                                                                   client: Client) -> None:
    event_id = await make_event(admin, unit_quota_per_group=None)
    number = make_id()
    first = await register_ok(client, event_id, name="欧阳娜", id_number=number, unit="重庆电子科技职业大学")
    await register_ok(client, event_id, item="WPS", name="李明")
    await register_ok(client, event_id, group="职工组", identity="employee", name="赵工")

    everything = await admin.get(f"{base(event_id)}/list")
    assert everything.status_code == 200 and "共 3 条" in everything.text
    assert number not in everything.text and number[:4] + "**********" + number[-4:] in everything.text
    by_item = await admin.get(f"{base(event_id)}/list", params={"item": "WPS"})
    assert "李明" in by_item.text and "欧阳娜" not in by_item.text
    by_name = await admin.get(f"{base(event_id)}/list", params={"q": "欧阳"})
    assert "欧阳娜" in by_name.text and "李明" not in by_name.text and "共 1 条" in by_name.text
    by_unit = await admin.get(f"{base(event_id)}/list", params={"unit": "电子科技"})
    assert "共 1 条" in by_unit.text
    pending = await admin.get(f"{base(event_id)}/list", params={"review": "pending"})
    assert "赵工" in pending.text and "共 1 条" in pending.text
    assert "共 0 条" in (await admin.get(f"{base(event_id)}/list", params={"state": "withdrawn"})).text

    detail = await admin.get(f"{base(event_id)}/{first['registration_id']}")
    assert detail.status_code == 200 and number in detail.text
    for path in ("/list", "/review", f"/{first['registration_id']}/edit", "/"):
        assert number not in (await admin.get(base(event_id) + path)).text, path


# review ---------------------------------------------------------------------------------------------------------
async def test_review_queue_approve_and_reject_with_a_reason(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_mode="warn")
    older = await register_ok(client, event_id, name="王五", phone="13700137000")
    twin = await register_ok(client, event_id, name="王五", phone="13700137000", item="WPS")
    staff = await register_ok(client, event_id, group="职工组", identity="employee", name="赵工", unit="某公司")
    assert twin["review"] == staff["review"] == "pending"

    queue = await admin.get(f"{base(event_id)}/review")
    assert "疑似重复报名" in queue.text and "职工资格待核实" in queue.text and "对照已有报名" in queue.text
    assert f'{base(event_id)}/{older["registration_id"]}"' in queue.text  # the other entry, side by side

    no_reason = await admin.post(f"{base(event_id)}/{twin['registration_id']}/review", data={"decision": "reject"})
    assert no_reason.status_code == 422 and "驳回须填写理由" in no_reason.text
    rejected = await admin.post(f"{base(event_id)}/{twin['registration_id']}/review",
                                data={"decision": "reject", "reason": "同一人重复报名"}, follow_redirects=False)
    assert rejected.status_code == 303
    approved = await admin.post(f"{base(event_id)}/{staff['registration_id']}/review",
                                data={"decision": "approve", "reason": ""}, follow_redirects=False)
    assert approved.status_code == 303
    stored = {e.id: e for e, _ in await entries(db, event_id)}
    assert (stored[twin["registration_id"]].state, stored[twin["registration_id"]].review) == ("rejected", "rejected")
    assert stored[twin["registration_id"]].review_reason == "同一人重复报名"
    assert (stored[staff["registration_id"]].state, stored[staff["registration_id"]].review) == ("active", "approved")
    assert "没有待审核的报名" in (await admin.get(f"{base(event_id)}/review")).text


# edit, withdraw -------------------------------------------------------------------------------------------------
async def test_edit_through_the_page_and_a_refused_edit_changes_nothing(db: Any, admin: Client,
                                                                        client: Client) -> None:
    event_id = await make_event(admin, unit_quota_per_group=None)
    other = person()
    await register_ok(client, event_id, **other)
    mine = await register_ok(client, event_id, name="陈晨", phone="13912345678")
    url = f"{base(event_id)}/{mine['registration_id']}/edit"
    form = await admin.get(url)
    assert form.status_code == 200 and 'value="陈晨"' in form.text and 'value="13912345678"' in form.text

    fields = dict(re.findall(r'<input name="([^"]+)" value="([^"]*)"', form.text))
    fields.update({"item": "LED", "group": "学生组", "identity": "student", "unit": "重庆市渝北职业教育中心",
                   "phone": "13912340000", "skill_level": "4"})
    done = await admin.post(url, data=fields, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=saved")
    [(entry, [member])] = [(e, m) for e, m in await entries(db, event_id) if e.id == mine["registration_id"]]
    assert (entry.unit, member.phone, member.skill_level, entry.ticket_code) == (
        "重庆市渝北职业教育中心", "13912340000", 4, mine["ticket_code"])
    before = member.id_number_enc

    taken = await admin.post(url, data={**fields, "id_number": other["id_number"], "phone": "13900000000"})
    assert taken.status_code == 409 and "未保存" in taken.text
    assert re.search(r'name="id_number"[^>]*class=" invalid"', taken.text)  # the error sits at its field
    bad = await admin.post(url, data={**fields, "id_number": "500103199506151234", "phone": "13900000000"})
    assert bad.status_code == 422 and re.search(r'name="id_number"[^>]*class=" invalid"', bad.text)
    assert "身份证号码有误" in bad.text
    [(entry, [member])] = [(e, m) for e, m in await entries(db, event_id) if e.id == mine["registration_id"]]
    assert (member.phone, member.id_number_enc, entry.state, member.person_key is not None) == (
        "13912340000", before, "active", True)


async def test_withdraw_asks_first_and_frees_the_place(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    body = person()
    mine = await register_ok(client, event_id, **body)
    confirm = await admin.get(f"{base(event_id)}/{mine['registration_id']}/withdraw")
    assert confirm.status_code == 200 and "确定撤回" in confirm.text and body["name"] in confirm.text
    done = await admin.post(f"{base(event_id)}/{mine['registration_id']}/withdraw", follow_redirects=False)
    assert done.status_code == 303
    [(entry, _)] = await entries(db, event_id)
    assert entry.state == "withdrawn" and entry.withdrawn_at is not None
    assert (await post(client, event_id, body)).status_code == 201  # the person may enter again
    again = await admin.post(f"{base(event_id)}/{mine['registration_id']}/withdraw")
    assert again.status_code == 409


# roster import ----------------------------------------------------------------------------------------------------
async def test_roster_import_registers_good_rows_and_reports_every_bad_one(db: Any, admin: Client) -> None:
    event_id = await make_event(admin)  # enforce: 2 per unit and group
    a, b, c = person(unit="甲校"), person(unit="乙校"), person(unit="乙校")
    quota = person(unit="乙校")
    rows = [
        roster_row(a),                                                           # 2 ✓
        roster_row(person(id_number="500103199506151234")),                       # 3 ✗ invalid_id_number
        [*roster_row(person())[:4], 500103199506151234, *roster_row(person())[5:]],  # 4 ✗ numeric_cell
        roster_row(person(), item="不存在的赛项"),                                   # 5 ✗ unknown_item
        roster_row(b),                                                           # 6 ✓
        roster_row({**a, "phone": "13000000001"}),                                # 7 ✗ duplicate_in_file
        roster_row(c),                                                           # 8 ✓
        roster_row(quota),                                                       # 9 ✗ unit_quota_exceeded
        roster_row(person(phone="123")),                                         # 10 ✗ invalid_phone
    ]
    rows[4][0] = "LED"  # the item's code works as well as its name
    page = await upload(admin, event_id, xlsx(rows))
    assert page.status_code == 200
    assert report_rows(page.text) == [("2", "✓", ""), ("3", "✗", "invalid_id_number"), ("4", "✗", "numeric_cell"),
                                      ("5", "✗", "unknown_item"), ("6", "✓", ""), ("7", "✗", "duplicate_in_file"),
                                      ("8", "✓", ""), ("9", "✗", "unit_quota_exceeded"),
                                      ("10", "✗", "invalid_phone")]
    assert "成功 3 行" in page.text and "失败 6 行" in page.text
    assert "Excel 只保留 15 位有效数字" in page.text and "与本文件第 2 行是同一人" in page.text
    assert "手机：请填写 11 位手机号码" in page.text  # the column's Chinese name, not the request key
    stored = await entries(db, event_id)
    assert sorted(m[0].name for _, m in stored) == sorted([a["name"], b["name"], c["name"]])
    assert {e.source for e, _ in stored} == {"roster"}

    # the report as a workbook, from the page's download link
    link = re.search(r'href="data:[^;]+;base64,([^"]+)"', page.text)
    assert link is not None
    header, report, _ = sheet_cells(base64.b64decode(link.group(1)))
    assert header == ["行号", "姓名", "结果", "报名编号/错误代码", "说明"] and len(report) == 9
    assert (report[2]["行号"], report[2]["结果"], report[2]["报名编号/错误代码"]) == ("4", "✗", "numeric_cell")
    assert report[0]["结果"] == "✓" and len(report[0]["报名编号/错误代码"]) == 26


async def test_numeric_id_cell_is_refused_even_when_it_looks_whole(admin: Client) -> None:
    """5.00103199506151E+17 comes back from a float as …151168: plausible digits, wrong number."""
    event_id = await make_event(admin)
    row = roster_row(person())
    row[4] = 5.001031995061512e17
    page = await upload(admin, event_id, xlsx([row]))
    assert report_rows(page.text) == [("2", "✗", "numeric_cell")] and "5.00103199506151E+17" in page.text


async def test_dry_run_checks_every_rule_and_stores_nothing(db: Any, admin: Client) -> None:
    event_id = await make_event(admin)
    same_unit = [person(unit="丙校") for _ in range(3)]
    page = await upload(admin, event_id, xlsx([roster_row(p) for p in same_unit]), dry_run=True)
    assert page.status_code == 200 and "检查结果（未导入）" in page.text and "可导入 2 行" in page.text
    # the quota is counted across the rows of the dry run too: the database's own constraints decided it
    assert [r[1:] for r in report_rows(page.text)] == [("✓", ""), ("✓", ""), ("✗", "unit_quota_exceeded")]
    assert await entries(db, event_id) == []
    page = await upload(admin, event_id, xlsx([roster_row(p) for p in same_unit]))
    assert "成功 2 行" in page.text and len(await entries(db, event_id)) == 2


async def test_csv_roster_in_gbk_and_a_file_without_the_columns(admin: Client, db: Any) -> None:
    event_id = await make_event(admin)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([zh for zh, _ in COLUMNS])
    writer.writerow(roster_row(person()))
    bad = roster_row(person())
    bad[4] = "5.00103E+17"
    writer.writerow(bad)
    page = await upload(admin, event_id, out.getvalue().encode("gb18030"), "名单.csv")
    assert report_rows(page.text) == [("2", "✓", ""), ("3", "✗", "numeric_cell")]

    missing = await upload(admin, event_id, xlsx([["张三"]], header=["姓名", "备注"]))
    assert missing.status_code == 422 and "缺少必需的列" in missing.text and "身份证号" in missing.text
    junk = await upload(admin, event_id, b"not a spreadsheet", "名单.xls")
    assert junk.status_code == 422 and ".xlsx" in junk.text
    assert len(await entries(db, event_id)) == 1


async def test_roster_template_has_the_columns_as_text(admin: Client) -> None:
    event_id = await make_event(admin)
    response = await admin.get(f"{base(event_id)}/roster-template.xlsx")
    assert response.status_code == 200 and response.headers["content-type"].startswith(XLSX)
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = zipfile.ZipFile(io.BytesIO(response.content))
    strings = book.read("xl/sharedStrings.xml").decode()
    assert all(zh in strings for zh, _ in COLUMNS) and "LED显示屏应用" in strings
    assert 'formatCode="@"' in book.read("xl/styles.xml").decode()  # whole columns formatted as text
    assert re.search(r'<col min="5" max="5"[^>]* style="1"', book.read("xl/worksheets/sheet1.xml").decode())


async def test_a_team_item_imports_two_rows_as_one_team(db: Any, admin: Client) -> None:
    event_id = await make_event(admin)
    header = [zh for zh, _ in COLUMNS] + ["队伍"]
    one, two = person(group="", unit="丁校"), person(group="", unit="丁校")
    rows = [[*roster_row(p, item="DUO"), "1"] for p in (one, two)]
    page = await upload(admin, event_id, xlsx(rows, header))
    assert [r[1] for r in report_rows(page.text)] == ["✓", "✓"]
    [(_entry, members)] = await entries(db, event_id)
    assert [m.name for m in members] == [one["name"], two["name"]]


# exports --------------------------------------------------------------------------------------------------------------
def sheet_cells(data: bytes) -> tuple[list[str], list[dict[str, str]], str]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    strings = re.findall(r"<si><t[^>]*>([^<]*)</t></si>", archive.read("xl/sharedStrings.xml").decode())
    rows: list[list[str]] = []
    for row in re.findall(r"<row [^>]*>(.*?)</row>", sheet):
        cells = {}
        for ref, t, v in re.findall(r'<c r="([A-Z]+)\d+"(?: s="\d+")?(?: t="(\w+)")?><v>([^<]*)</v></c>', row):
            index = 0
            for ch in ref:
                index = index * 26 + ord(ch) - 64
            cells[index - 1] = strings[int(v)] if t == "s" else v
        rows.append([cells.get(i, "") for i in range(max(cells) + 1)] if cells else [])
    header = rows[0]
    return header, [dict(zip(header, r, strict=False)) for r in rows[1:]], sheet


async def test_exports_have_the_columns_and_text_cells_for_numbers(admin: Client, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_per_group=None)
    number = make_id(date(1999, 9, 9))
    await register_ok(client, event_id, name="刘洋", id_number=number, phone="13800001111", skill_level=4,
                      instructors=[{"name": "陈老师", "phone": "13600136000"}])
    await register_ok(client, event_id, item="WPS", name="黄河")
    forms = await admin.get(f"{base(event_id)}/forms.xlsx")
    assert forms.status_code == 200 and "%E6%8A%A5%E5%90%8D%E8%A1%A8" in forms.headers["content-disposition"]
    header, rows, sheet = sheet_cells(forms.content)
    assert tuple(header) == FORM_COLUMNS
    assert ' t="n"' not in sheet and re.search(r'<c r="I2" s="\d+" t="s">', sheet)  # ID number: a text cell
    [liu] = [r for r in rows if r["姓名"] == "刘洋"]
    assert (liu["身份证号"], liu["手机"], liu["出生日期"], liu["技能等级"], liu["指导教师1"]) == (
        number, "13800001111", "1999-09-09", "四级/中级工", "陈老师")
    assert 'formatCode="@"' in zipfile.ZipFile(io.BytesIO(forms.content)).read("xl/styles.xml").decode()

    summary = await admin.get(f"{base(event_id)}/summary.xlsx", params={"item": "WPS"})
    header, rows, _ = sheet_cells(summary.content)
    assert tuple(header) == SUMMARY_COLUMNS and [r["姓名"] for r in rows] == ["黄河"]


async def test_round_trip_export_the_forms_then_import_them_into_a_fresh_event(
        db: Any, settings: Settings, admin: Client, client: Client) -> None:
    source = await make_event(admin, unit_quota_per_group=None)
    people = [person(unit="甲校", skill_level=3, instructors=[{"name": "陈老师", "phone": "13600136000"}]),
              person(item="WPS", unit="乙校"),
              person(group="职工组", identity="employee", unit="某公司", skill_level=4)]
    for p in people:
        await register_ok(client, source, **p)
    exported = (await admin.get(f"{base(source)}/forms.xlsx")).content

    target = await make_event(admin, unit_quota_per_group=None)
    page = await upload(admin, target, exported, "参赛选手报名表.xlsx")
    assert [r[1] for r in report_rows(page.text)] == ["✓", "✓", "✓"], page.text[-2000:]

    personal = PersonalData(settings.secret_key)

    async def who(event_id: int) -> set[tuple[Any, ...]]:
        return {(e.item_id > 0, e.group_name, e.unit, m.name, personal.decrypt(m.id_number_enc), m.phone,
                 m.skill_level, tuple((i["name"], i["phone"]) for i in m.instructors))
                for e, ms in await entries(db, event_id) for m in ms}

    assert await who(source) == await who(target) and len(await who(target)) == 3


async def test_photos_zip_names_files_unit_plus_name_and_separates_clashes(
        db: Any, settings: Settings, admin: Client, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_mode="warn")
    twins = [await register_ok(client, event_id, name="张伟", unit="甲校", phone=f"1390000000{i}") for i in (1, 2)]
    await register_ok(client, event_id, name="无照", unit="甲校")
    folder = settings.data_dir / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    async with db() as session:
        for i, t in enumerate(twins):
            member = (await session.exec(select(EntryMember).where(EntryMember.entry_id == t["registration_id"]))).one()
            member.photo = f"{t['registration_id']}-0.jpg"
            (folder / member.photo).write_bytes(b"\xff\xd8\xff" + bytes([i]) * 50)
            session.add(member)
        await session.commit()
    response = await admin.get(f"{base(event_id)}/photos.zip")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["甲校+张伟-2.jpg", "甲校+张伟.jpg", "缺少照片.txt"]
    assert archive.read("甲校+张伟.jpg").endswith(bytes([0]) * 50)
    assert "甲校 无照" in archive.read("缺少照片.txt").decode()


# who may see it ---------------------------------------------------------------------------------------------------
async def sign_in(client: Client, db: Any, name: str, role: str) -> str:
    """Sign the shared test client in through /login (one client per app: a second one would run the app's
    lifespan on another event loop, which asyncpg's pooled connections refuse); return its CSRF token."""
    async with db() as session:
        await accounts.add_user(session, name, "pw-12345678", [role])
        await session.commit()
    done = await post_login(client, {"name": name, "password": "pw-12345678", "next": "/"},
                             follow_redirects=False)
    assert done.status_code == 303
    return str((await client.get("/api/me")).json()["csrf_token"])


PAGES = ["/", "/list", "/review", "/roster", "/1", "/1/edit", "/1/withdraw", "/forms.xlsx", "/summary.xlsx",
         "/photos.zip", "/roster-template.xlsx"]


async def test_organiser_only(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    await register_ok(client, event_id)
    for path in PAGES:
        anonymous = await client.get(base(event_id) + path, headers=HTML, follow_redirects=False)
        assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login?next="), path
        assert (await client.get(base(event_id) + path)).status_code == 401, path
    assert (await client.post(f"{base(event_id)}/close", data={"reason": "x"})).status_code == 401
    token = await sign_in(client, db, "judge1", "judge")
    for path in PAGES:
        assert (await client.get(base(event_id) + path)).status_code == 403, path
        assert (await admin.get(base(event_id) + path)).status_code == 200, path  # the bearer token wins
    refused = await client.post(f"{base(event_id)}/close", data={"reason": "x", "csrf_token": token})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


async def test_page_posts_need_the_csrf_token(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    token = await sign_in(client, db, "org", "organiser")
    refused = await client.post(f"{base(event_id)}/close", data={"reason": "x"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    page = await client.get(f"{base(event_id)}/")
    assert f'name="csrf_token" value="{token}"' in page.text
    done = await client.post(f"{base(event_id)}/close", data={"reason": "x", "csrf_token": token},
                             follow_redirects=False)
    assert done.status_code == 303


async def test_pages_in_english_show_no_untranslated_chinese_of_their_own(db: Any, admin: Client,
                                                                          client: Client) -> None:
    from tests.contestday.test_i18n import untranslated

    event_id = await make_event(admin, unit_quota_mode="warn")
    await post(admin, event_id, person(unit="Alpha School", name="Li Lei", phone="13700137000", item="LED"))
    await post(admin, event_id, person(unit="Alpha School", name="Li Lei", phone="13700137000", item="WPS"))
    token = await sign_in(client, db, "org", "organiser")
    client.cookies.set("lang", "en")
    pages = {path: await client.get(base(event_id) + path) for path in ("/", "/list", "/review", "/roster", "/1",
                                                                         "/1/edit", "/1/withdraw")}
    pages["import"] = await client.post(f"{base(event_id)}/roster", data={"csrf_token": token, "dry_run": "1"},
                                        files={"file": ("r.xlsx", xlsx([]), XLSX)})
    # data stays as entered (event and item names, group names, flag messages stored in Chinese)
    data = ("“巴渝工匠”杯重庆市第二届专项职业能力技能大赛", "LED显示屏应用", "WPS办公软件应用", "双人赛项", "学生组",
            "职工组", "疑似以不同身份证号码重复报名", "Li Lei", "›")
    for path, response in pages.items():
        assert response.status_code == 200, path
        left = [line for line in untranslated(response.text) if not any(d in line for d in data)]
        assert left == [], (path, left)
    assert "Pending review" in pages["/"].text and "Compared with existing entries" in pages["/review"].text
