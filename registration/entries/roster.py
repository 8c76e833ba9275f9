"""Rosters units send as spreadsheets (XLSX, XLS or WPS .et, CSV), read and written — pure, no database.

Every cell is read as text. An XLSX is read from its XML (stdlib zipfile) rather than through a dataframe
reader, because only the XML says whether a cell was typed as a number: Excel keeps 15 significant
digits, so an 18-digit ID number typed into a numeric cell is already corrupted (5.00103199506151E+17 →
…151000), and a reader that turns it back into text hides that. Such cells are refused, row by row.
An .xls (Excel 97–2003, and WPS's .et, the same OLE2 format) is read with python-calamine, which gives each
cell's type too: a number cell there is refused the same way.
The file is bounded first and while it is read (contestday.web.uploads: a 1 MB XLSX can hold a 200 MB sheet).
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any, TypeVar
from xml.etree import ElementTree

import python_calamine
import xlsxwriter

from contestday.web import uploads
from contestday.web.errors import Refusal
from registration.entries.request import RequestError
from scoring.skill_levels import level_from_text

__all__ = [
    "COLUMNS", "ID_COLUMN", "Cell", "Roster", "RosterError", "RosterRow", "keyed_rows", "parse_skill_level",
    "read_cells", "read_roster", "row_payload", "template_xlsx",
]

# (header of the template, request key): the columns a unit fills in, in the template's order
COLUMNS: tuple[tuple[str, str], ...] = (
    ("赛项", "item"), ("组别", "group"), ("身份", "identity"), ("姓名", "name"), ("身份证号", "id_number"),
    ("手机", "phone"), ("单位", "unit"), ("学历", "education"), ("技能等级", "skill_level"),
    ("证书编号", "certificate_number"), ("从业年限", "years_in_occupation"),
    ("指导教师1", "instructor1"), ("指导教师1电话", "instructor1_phone"),
    ("指导教师2", "instructor2"), ("指导教师2电话", "instructor2_phone"),
)
ID_COLUMN = "id_number"
# other spellings units use, and the optional columns of our own exports (so an export imports again)
_ALIASES = {
    "赛项名称": "item", "竞赛项目": "item", "赛项代码": "item_code", "身份证号码": "id_number", "证件号码": "id_number",
    "手机号": "phone", "手机号码": "phone", "联系电话": "phone", "工作单位": "unit", "所在单位": "unit",
    "单位名称": "unit", "参赛身份": "identity", "文化程度": "education", "现技能等级": "skill_level",
    "女职工退休基准": "female_base", "队伍": "team", "item_code": "item_code", "female_base": "female_base",
    "team": "team", "专业": "major", "所学专业": "major", "major": "major",
}
HEADERS: dict[str, str] = {**{zh: key for zh, key in COLUMNS}, **{key: key for _, key in COLUMNS}, **_ALIASES}
REQUIRED = ("item", "name", "id_number", "phone", "unit")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


class RosterError(ValueError):
    """The file as a whole cannot be read (not a spreadsheet, no header row, a required column missing)."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False  # typed as a number in the spreadsheet (or written as 5.0E+17 in a CSV)


@dataclass(frozen=True)
class RosterRow:
    number: int  # the spreadsheet's row number (the header is row 1), for the report
    cells: Mapping[str, Cell]

    def text(self, key: str) -> str:
        cell = self.cells.get(key)
        return cell.text.strip() if cell else ""


@dataclass
class Roster:
    rows: list[RosterRow]
    ignored_columns: list[str] = field(default_factory=list)


def _col_index(ref: str) -> int:
    letters = "".join(ch for ch in ref if ch.isalpha())
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


def _numeric_text(raw: str) -> str:
    """A number cell as the text a person would have typed: 4.0 → 4, 13800138000 → 13800138000."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return raw
    return str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")


def _shared_strings(book: zipfile.ZipFile, budget: uploads.TableBudget) -> list[str]:
    shared: list[str] = []
    if "xl/sharedStrings.xml" not in book.namelist():
        return shared
    with uploads.member_stream(book, "xl/sharedStrings.xml") as stream:
        for _event, si in ElementTree.iterparse(stream):
            if si.tag == f"{{{_NS['m']}}}si":
                text = "".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t"))
                budget.cell(0, text)  # no more strings than the cells they could fill, none too long
                shared.append(text)
                si.clear()
    budget.cells = 0
    return shared


_M = f"{{{_NS['m']}}}"
_ROW, _C, _V, _IS, _T = (_M + tag for tag in ("row", "c", "v", "is", "t"))


@functools.lru_cache(maxsize=1024)
def _column(letters: str) -> int:
    return _col_index(letters)


def _sheet_rows(stream: IO[bytes], shared: list[str], budget: uploads.TableBudget) -> list[list[Cell]]:
    """The sheet's rows, parsed as a stream: each row is emptied once read, and the bounds are checked
    before any row or cell is allocated (a row numbered 1,000,000,000 would otherwise be)."""
    rows: list[list[Cell]] = []
    for _event, row in ElementTree.iterparse(stream):  # "end" events: the row is complete
        if row.tag != _ROW:
            continue
        r = row.get("r") or ""
        number = int(r) if r.isdigit() else 0
        number = number or len(rows) + 1
        budget.row(max(number, len(rows) + 1))
        cells: list[Cell] = []
        for c in row:
            if c.tag != _C:
                continue
            ref = (c.get("r") or "").rstrip("0123456789")
            index = _column(ref) if ref and len(ref) <= 12 else len(cells)
            kind = c.get("t", "n")
            raw, inline = "", None
            for part in c:
                if part.tag == _V:
                    raw = part.text or ""
                elif part.tag == _IS:
                    inline = "".join(t.text or "" for t in part.iter(_T))
            budget.cell(max(index, len(cells)), raw if inline is None else inline)
            if kind == "s":
                cell = Cell(shared[int(raw)] if raw.isdigit() and int(raw) < len(shared) else "")
            elif kind == "inlineStr":
                cell = Cell(inline or "")
            elif kind in ("str", "e"):
                cell = Cell(raw)
            elif kind == "b":
                cell = Cell("TRUE" if raw == "1" else "FALSE")
            else:
                cell = Cell(_numeric_text(raw), numeric=bool(raw))
            if index > len(cells):
                cells.extend(Cell("") for _ in range(index - len(cells)))
            cells.append(cell)
        if number - 1 > len(rows):  # keep spreadsheet row numbers
            rows.extend([] for _ in range(number - 1 - len(rows)))
        rows.append(cells)
        row.clear()  # only the cells above are kept, not the tree
    return rows


def _xlsx_rows(data: bytes) -> list[list[Cell]]:
    book = uploads.open_xlsx(data)  # refuses a zip bomb from its directory, before decompressing
    budget = uploads.TableBudget()
    try:
        workbook = ElementTree.fromstring(uploads.read_member(book, "xl/workbook.xml"))
        first = workbook.find("m:sheets/m:sheet", _NS)
        rels = ElementTree.fromstring(uploads.read_member(book, "xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target", "") for r in rels if first is not None and r.get("Id") == first.get(_REL))
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        shared = _shared_strings(book, budget)
        with uploads.member_stream(book, path) as stream:
            return _sheet_rows(stream, shared, budget)
    except (zipfile.BadZipFile, KeyError, StopIteration, ElementTree.ParseError, zlib.error, EOFError,
            NotImplementedError) as exc:
        raise _unreadable() from exc


def _unreadable() -> uploads.UploadRefused:
    return uploads.not_readable("无法读取该 XLSX 文件，请用 Excel 或 WPS 另存为 .xlsx 后重试",
                                "cannot read this XLSX file; save it again as .xlsx")


def _csv_rows(data: bytes) -> list[list[Cell]]:
    uploads.check_size(data, uploads.MAX_SPREADSHEET_BYTES, "表格文件", "the spreadsheet")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV in GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise uploads.not_readable("无法识别 CSV 文件的编码（应为 UTF-8 或 GBK）",
                                   "cannot decode the CSV file (UTF-8 or GBK expected)")
    budget = uploads.TableBudget()
    rows: list[list[Cell]] = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            budget.row(number)
            for column, value in enumerate(row):
                budget.cell(column, value)
            rows.append([Cell(v, numeric=bool(_SCIENTIFIC.match(v.strip()))) for v in row])
    except csv.Error as exc:  # e.g. a field past csv's own limit
        raise uploads.not_readable("无法读取该 CSV 文件（格式有误）", "cannot read this CSV file") from exc
    return rows


def _header_key(raw: str) -> str | None:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).lstrip("*")
    return HEADERS.get(text) or HEADERS.get(text.lower())


def _value_cell(value: Any) -> Cell:
    """One of calamine's values as a cell: numbers keep their type, as the XLSX reader's do."""
    if isinstance(value, bool):  # before int: a bool is one
        return Cell("TRUE" if value else "FALSE")
    if isinstance(value, int | float):
        return Cell(_numeric_text(repr(value)), numeric=True)
    if isinstance(value, datetime.datetime):  # a date cell: the date as text (judge_import.parse_date reads it)
        return Cell(value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" "))
    if isinstance(value, datetime.date):
        return Cell(value.isoformat())
    return Cell(value if isinstance(value, str) else str(value))


def _xls_rows(data: bytes) -> list[list[Cell]]:
    """The first sheet of an .xls or .et: bounded from its records before calamine opens it (uploads.check_xls)."""
    uploads.check_xls(data)
    try:
        with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) as book:
            values = book.get_sheet_by_index(0).to_python(skip_empty_area=False)  # keeps the row numbers
    except python_calamine.PasswordError as exc:  # an .xls encrypted with its password (FILEPASS)
        raise uploads.password_protected() from exc
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise uploads.not_xls() from exc
    budget = uploads.TableBudget()
    rows: list[list[Cell]] = []
    for number, raw in enumerate(values, start=1):
        budget.row(number)
        cells = [_value_cell(value) for value in raw]
        for column, cell in enumerate(cells):
            if cell.text:
                budget.cell(column, cell.text)
        rows.append(cells)
    return rows


_XLS_NAMES = (".xls", ".xlt", ".et", ".ett")  # Excel 97–2003 workbook and template, WPS 表格 and its template


def read_cells(data: bytes, filename: str) -> list[list[Cell]]:
    """The first sheet of an .xlsx, an .xls or WPS .et, or a .csv (UTF-8 or GBK), as rows of cells; RosterError
    otherwise. The content decides before the name: an OLE2 file is an .xls, a zip an .xlsx."""
    lower = filename.lower()
    if data.startswith(uploads.OLE_MAGIC):
        return _xls_rows(data)
    if lower.endswith(".csv"):
        return _csv_rows(data)
    if lower.endswith((".xlsx", ".xlsm")) or data.startswith(b"PK"):
        return _xlsx_rows(data)
    if lower.endswith(_XLS_NAMES):  # named so but no OLE2 file: refused as not an .xls (uploads.not_xls)
        return _xls_rows(data)
    raise RosterError("unsupported_file", "只支持 .xlsx、.xls、.et（WPS 表格）或 .csv 文件",
                      "only .xlsx, .xls, .et (WPS) or .csv files")


def keyed_rows(table: list[list[Cell]], key: Callable[[str], str | None], needs: set[str],
               no_header: RosterError) -> tuple[list[RosterRow], list[str], set[str]]:
    """The rows under the header (the first of the first ten rows whose column keys include `needs`), keyed by
    `key(header text)`, blank lines and cells dropped; also the headers no key matched, and the keys present.
    Rows keep their spreadsheet numbers (the header row's number + 1, …) for the reports."""
    header_at = next((i for i, row in enumerate(table[:10]) if needs <= {key(c.text) for c in row}), None)
    if header_at is None:
        raise no_header
    keys = [key(c.text) for c in table[header_at]]
    rows = []
    for offset, raw in enumerate(table[header_at + 1:], start=header_at + 2):
        cells = {k: c for k, c in zip(keys, raw, strict=False) if k and c.text.strip()}
        if cells:  # blank lines between blocks are common
            rows.append(RosterRow(offset, cells))
    ignored = [c.text for c, k in zip(table[header_at], keys, strict=False) if not k and c.text.strip()]
    return rows, ignored, {k for k in keys if k}


def read_roster(data: bytes, filename: str) -> Roster:
    """The roster's rows keyed by request keys; the first row holding a 姓名/name column is the header."""
    rows, ignored, present = keyed_rows(
        read_cells(data, filename), _header_key, {"name"},
        RosterError("no_header", "找不到表头行（应含“姓名”“身份证号”等列，可下载模板对照）",
                    "no header row (with 姓名/name, 身份证号/id_number, …): compare with the template"))
    missing = [zh for zh, key in COLUMNS if key in REQUIRED and key not in present
               and not (key == "item" and "item_code" in present)]
    if missing:
        raise RosterError("missing_columns", f"缺少必需的列：{'、'.join(missing)}",
                          f"required columns missing: {', '.join(missing)}")
    return Roster(rows, ignored)


def parse_skill_level(text: str) -> str:
    """'四级/中级工', '中级工', '四级（中级工）' or '4' → '4'; anything else is passed on for the request to refuse."""
    text = unicodedata.normalize("NFKC", text).strip()
    for part in re.split(r"[/()、,\s]+", text):
        level = level_from_text(part)
        if level is not None:
            return str(level)
    return text


def _as_excel_shows(text: str) -> str:
    """A long number the way Excel displays it (5.00103199506151E+17): what the unit sees in its file."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return f"{value:.14E}" if abs(value) >= Decimal("1e15") and "e" not in text.lower() else text


def row_payload(row: RosterRow, item_codes: Mapping[str, str]) -> dict[str, Any]:
    """The request body (contracts §5) of one roster row; RequestError for a cell Excel already corrupted.
    `item_codes` maps item names and codes to codes."""
    for key, cell in row.cells.items():
        if cell.numeric and key in (ID_COLUMN, "certificate_number"):
            zh_name = next((zh for zh, k in COLUMNS if k == key), key)
            shown = _as_excel_shows(cell.text)
            raise RequestError("numeric_cell", key,
                               f"“{zh_name}”单元格是数字格式（{shown}），Excel 只保留 15 位有效数字，号码已经损坏："
                               "请把该列设为“文本”格式后重新填写",
                               f"the {key} cell is a number ({shown}); Excel keeps 15 digits, so it is "
                               "corrupted: format the column as text and type it again")
    item = row.text("item_code") or row.text("item")
    identity = row.text("identity")
    group = row.text("group")
    # left empty, the group says it: 学生组 students, 职工组 employees (院校教师 and 灵活就业人员 are written
    # out; read_request takes the Chinese names)
    if not identity:
        identity = {"学生组": "student", "职工组": "employee"}.get(group, "")
    payload: dict[str, Any] = {
        "item": item_codes.get(item, item), "group": group, "identity": identity, "name": row.text("name"),
        "id_number": row.text("id_number"), "phone": row.text("phone"), "unit": row.text("unit"),
        "education": row.text("education") or None, "major": row.text("major") or None,
        "certificate_number": row.text("certificate_number") or None,
        "skill_level": parse_skill_level(row.text("skill_level")) or None,
        "years_in_occupation": re.sub(r"\s*年$", "", row.text("years_in_occupation")) or None,
        "female_base": re.sub(r"\s*岁$", "", row.text("female_base")) or None,
        "instructors": [{"name": row.text(f"instructor{i}"), "phone": row.text(f"instructor{i}_phone")}
                        for i in (1, 2) if row.text(f"instructor{i}") or row.text(f"instructor{i}_phone")],
    }
    return payload


def template_xlsx(items: Sequence[tuple[str, str, Sequence[str]]]) -> bytes:
    """The roster template: the header row, whole columns formatted as text (so an ID number typed in stays
    text), and a sheet listing the event's items and groups. `items` is (code, name, groups)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#F2F4F7", "border": 1, "num_format": "@"})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet("报名名单")
    for col, (zh, _key) in enumerate(COLUMNS):
        width = 22 if zh in ("身份证号", "单位", "赛项") else 14
        sheet.set_column(col, col, width, text)
        sheet.write_string(0, col, zh, head)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("赛项与说明")
    notes.set_column(0, 0, 16)
    notes.set_column(1, 2, 36)
    for col, title in enumerate(("赛项代码", "赛项名称", "组别")):
        notes.write_string(0, col, title, head)
    for row, (code, name, groups) in enumerate(items, start=1):
        notes.write_string(row, 0, code)
        notes.write_string(row, 1, name)
        notes.write_string(row, 2, "、".join(groups) or "（不分组）")
    tips = ("“赛项”填赛项名称或赛项代码；“身份”填学生、职工、院校教师或灵活就业人员（灵活就业人员可不填单位）；"
            "“技能等级”填如“四级/中级工”。",
            "身份证号、手机请保持文本格式（模板已设置），不要让 Excel 转成数字。",
            "指导教师可填 0–2 位，每位须同时填写姓名和手机。")
    for offset, tip in enumerate(tips):
        notes.write_string(len(items) + 2 + offset, 0, tip)
    book.close()
    return out.getvalue()


T = TypeVar("T")


async def parse_upload(upload: Any, parse: Callable[[bytes, str], T], what_zh: str, what_en: str) -> T:
    """An uploaded sheet (.xlsx, .xls, .et or .csv) parsed off the event loop by `parse(data, filename)`: 422
    `missing_file` without one (naming `what`), the sheet's own refusal (`no_header`, `missing_columns`, …) when
    unreadable. Called before the route's first query: on SQLite that query opens the write transaction."""
    if upload is None or not upload.filename:
        raise Refusal(422, "missing_file", f"请选择{what_zh}文件（.xlsx、.xls 或 .csv）",
                      f"choose {what_en} (.xlsx, .xls or .csv)")
    try:
        return await uploads.off_loop(parse, await upload.read(), upload.filename)
    except RosterError as exc:
        raise Refusal(422, exc.code, exc.zh, exc.en) from None
