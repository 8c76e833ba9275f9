"""Rosters and judge lists in Excel 97–2003 (.xls) and WPS (.et): read through python-calamine with each cell's
type, so an ID number typed as a number is refused as in an .xlsx; told by content before name; bounded from
the file's records before calamine expands a sheet; imported through the organiser's pages.

The files under data/ were written by scripts/make_xls_fixtures (xlwt, BIFF8: the format of both)."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import pytest
import python_calamine
from sqlmodel import select

from contestday.web import uploads
from judging.models import ExaminerCard, Judge
from registration.entries import roster
from registration.entries.request import RequestError
from tests.judging.test_judges_admin import import_file, new_event
from tests.judging.test_judges_admin import report as judge_report
from tests.registration.test_registration_admin import base, entries, report_rows, upload
from tests.registration.test_registration_api import make_event

DATA = Path(__file__).parent / "data"
ROSTER = (DATA / "roster.xls").read_bytes()
JUDGES = (DATA / "judges.xls").read_bytes()
ROSTER_REPORT = [("3", "✓", ""), ("4", "✓", ""), ("5", "✗", "numeric_cell"), ("7", "✓", "")]


def test_an_xls_is_read_with_each_cells_type_and_its_row_numbers() -> None:
    table = roster.read_cells(ROSTER, "名单.xls")
    assert table[0][0].text.startswith("2026年") and table[1][3].text == "姓名"  # title row, then the header
    name, id_cell, phone = table[2][3], table[2][4], table[2][5]
    assert (name.text, len(id_cell.text), id_cell.numeric, phone.numeric) == ("王小明", 18, False, False)
    corrupted = table[4][4]  # typed as a number: Excel kept 15 digits
    assert corrupted.numeric and corrupted.text == "500103199506151200"
    assert not any(c.text for c in table[5])  # the blank row is kept, so row numbers match the file
    assert table[6][5].numeric and table[6][5].text == "13800000704"  # a number cell reads as the digits typed
    rows = roster.read_roster(ROSTER, "名单.xls").rows
    assert [r.number for r in rows] == [3, 4, 5, 7]
    with pytest.raises(RequestError) as refused:
        roster.row_payload(rows[2], {})
    assert refused.value.code == "numeric_cell"
    assert roster.row_payload(rows[0], {})["id_number"] == table[2][4].text


def test_cell_types_map_as_the_xlsx_reader_maps_them() -> None:
    cell = roster._value_cell
    assert cell(4) == roster.Cell("4", numeric=True) and cell(4.0) == roster.Cell("4", numeric=True)
    assert cell(0.5) == roster.Cell("0.5", numeric=True) and cell(True) == roster.Cell("TRUE")
    assert cell(datetime.date(2027, 6, 30)) == roster.Cell("2027-06-30")
    assert cell(datetime.datetime(2027, 6, 30)) == roster.Cell("2027-06-30")
    assert cell(datetime.datetime(2027, 6, 30, 8, 30)) == roster.Cell("2027-06-30 08:30:00")
    assert cell("") == roster.Cell("")


def test_the_content_decides_before_the_name() -> None:
    expected = roster.read_cells(ROSTER, "名单.xls")
    for name in ("名单.et", "名单.XLS", "名单.xlsx", "名单", "名单.csv"):  # WPS, upper case, misnamed, no extension
        assert roster.read_cells(ROSTER, name) == expected, name


def test_what_is_not_an_xls_is_refused_with_a_clear_message() -> None:
    page = b"<html><body><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table></body></html>"
    for data, name in ((page, "导出.xls"), (page, "导出.et"), (ROSTER[:3000], "名单.xls"), (b"", "名单.xls")):
        with pytest.raises(uploads.UploadRefused) as refused:
            roster.read_cells(data, name)
        assert refused.value.code == "upload_not_readable" and "另存为 .xlsx" in refused.value.zh, name
    with pytest.raises(roster.RosterError) as other:
        roster.read_cells(b"%PDF-1.4", "名单.pdf")
    assert other.value.code == "unsupported_file" and ".xls" in other.value.zh and ".et" in other.value.zh


def test_a_workbook_with_a_password_is_refused_as_such() -> None:
    """Excel saves an .xlsx with an open password as an OLE2 file (an EncryptedPackage inside): it starts like an
    .xls, so it is told apart and named for what it is."""
    data = (DATA / "password.xlsx").read_bytes()
    assert data.startswith(uploads.OLE_MAGIC)
    with pytest.raises(uploads.UploadRefused) as refused:
        roster.read_cells(data, "名单.xlsx")
    assert refused.value.code == "upload_not_readable" and "密码" in refused.value.zh


@pytest.mark.parametrize(("name", "limit"), [("far_row.xls", "max_rows"), ("far_grid.xls", "max_grid_cells")])
def test_a_small_file_with_far_cells_is_refused_before_calamine_expands_it(
        name: str, limit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """calamine builds every sheet as a grid from A1 when it opens the file: 5.6 KB with cells at A1 and
    A65536 (or GR20000) would be tens of millions of cells. The records are scanned first."""
    data = (DATA / name).read_bytes()
    assert len(data) < 10_000

    def never(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("calamine was handed the file")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", never)
    started = time.perf_counter()
    with pytest.raises(uploads.UploadRefused) as refused:
        roster.read_cells(data, name)
    assert refused.value.code == "upload_too_complex" and limit in refused.value.extra_fields
    assert time.perf_counter() - started < 1.0


def test_an_xls_past_no_bound_reaches_calamine() -> None:
    uploads.check_xls(ROSTER)  # passes: the fixtures are ordinary files
    uploads.check_xls(JUDGES)


async def test_roster_page_imports_an_xls_and_refuses_its_numeric_id_cell(db: Any, admin: Any) -> None:
    event_id = await make_event(admin)
    form = await admin.get(f"{base(event_id)}/roster", headers={"Accept": "text/html"})
    assert 'accept=".xlsx,.xls,.et,.csv"' in form.text and ".xls" in form.text
    page = await upload(admin, event_id, ROSTER, "甲校名单.xls")
    assert page.status_code == 200, page.text
    assert report_rows(page.text) == ROSTER_REPORT
    assert "5.00103199506151E+17" in page.text and "Excel 只保留 15 位有效数字" in page.text
    stored = await entries(db, event_id)
    assert sorted(m[0].name for _, m in stored) == sorted(["王小明", "李小红", "钱小芳"])


async def test_roster_page_takes_a_wps_et_file_the_same_way(db: Any, admin: Any) -> None:
    event_id = await make_event(admin)
    page = await upload(admin, event_id, ROSTER, "名单.et", dry_run=True)
    assert page.status_code == 200 and "检查结果（未导入）" in page.text
    assert report_rows(page.text) == ROSTER_REPORT
    assert await entries(db, event_id) == []
    junk = await upload(admin, event_id, b"<html></html>", "名单.xls")
    assert junk.status_code == 422 and "不是 Excel 97–2003 格式" in junk.text and ".xlsx" in junk.text


async def test_judge_list_imports_from_an_xls_with_its_date_cells(admin: Any, db: Any) -> None:
    event_id = await new_event(admin)
    response = await import_file(admin, event_id, JUDGES, "裁判名单.xls")
    assert response.status_code == 200, response.text
    assert judge_report(response.text) == {2: "ok", 3: "ok", 4: "numeric_cell"}
    async with db() as session:
        judges = {j.name for j in (await session.exec(select(Judge).where(Judge.event_id == event_id))).all()}
        assert judges == {"孙评委", "周评委"}
        cards = {c.number: c for c in (await session.exec(select(ExaminerCard))).all()}
        assert cards["KPX01"].valid_until.isoformat() == "2027-06-30"  # a date cell in the .xls
        assert cards["KPX01"].level == 3 and cards["KPX02"].level == 2
