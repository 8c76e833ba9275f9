"""The judge list organisers keep in Excel, imported row by row: one row per examiner card (a judge with
two cards has two rows; a judge without a card one row with the card columns empty).

Cells are read as text by the roster reader (registration.entries.roster): its XLSX reader also says which
cells were typed as numbers, and an 18-digit ID number in a number cell is already corrupted by Excel, so
such rows are refused. A row is matched to a judge already on record by ID number, else by name and phone,
so importing the same file twice changes nothing. Each row is applied in its own savepoint: a bad row
never spoils the others.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import xlsxwriter
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.errors import Refusal
from judging import judge_registry as svc
from judging.cards import valid_until_from_issue
from judging.models import Judge, JudgeIdentity
from registration.entries import roster
from registration.entries.personal import PersonalData, normalise_phone
from scoring.identity import InvalidIdNumber, parse_id_number

__all__ = ["COLUMNS", "ImportResult", "import_judges", "parse_date", "read_table", "template_xlsx"]

COLUMNS: tuple[tuple[str, str], ...] = (
    ("姓名", "name"), ("单位", "unit"), ("手机", "phone"), ("身份证号", "id_number"),
    ("考评员证职业", "occupation"), ("考评员证等级", "level"), ("考评员证编号", "number"), ("有效期至", "valid_until"),
    ("发证日期", "issued_on"),
)
_HEADERS = {**{zh: key for zh, key in COLUMNS}, **{key: key for _, key in COLUMNS},
            "工作单位": "unit", "单位名称": "unit", "手机号": "phone", "手机号码": "phone", "联系电话": "phone",
            "身份证号码": "id_number", "证件号码": "id_number", "考评职业": "occupation", "职业（工种）": "occupation",
            "考评员证职业（工种）": "occupation", "等级": "level", "考评员证号": "number", "证书编号": "number",
            "有效期": "valid_until", "有效期至（年月日）": "valid_until", "发证时间": "issued_on"}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 with Excel's 1900 leap-year bug folded in


@dataclass(frozen=True)
class ImportResult:
    number: int  # the spreadsheet's row number
    name: str
    ok: bool
    code: str = ""  # refusal code, or what happened: judge_added | judge_matched
    message: str = ""
    message_en: str = ""
    card: str = ""  # the card added or renewed


class _RowError(ValueError):
    def __init__(self, code: str, zh: str, en: str):
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


def _key(raw: str) -> str | None:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).lstrip("*")
    return _HEADERS.get(text) or _HEADERS.get(unicodedata.normalize("NFKC", text)) or _HEADERS.get(text.lower())


def read_table(data: bytes, filename: str) -> tuple[list[roster.RosterRow], list[str]]:
    """(rows keyed by column key, ignored headers); roster.RosterError when the file cannot be read."""
    rows, ignored, _present = roster.keyed_rows(
        roster.read_cells(data, filename), _key, {"name"},
        roster.RosterError("no_header", "找不到表头行（应含“姓名”列，可下载模板对照）",
                           "no header row with 姓名 (name): compare with the template"))
    return rows, ignored


def parse_date(cell: roster.Cell | None) -> date | None:
    """2027-06-30, 2027/6/30, 2027.6.30, 2027年6月30日, 20270630, or a date cell (Excel's day serial);
    ValueError for anything else."""
    if cell is None or not cell.text.strip():
        return None
    text = unicodedata.normalize("NFKC", cell.text).strip()
    if cell.numeric and text.isdigit() and 20000 <= int(text) <= 80000:
        return _EXCEL_EPOCH + timedelta(days=int(text))
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = _DATE.match(text.split(" ")[0].split("T")[0])
    if match is None:
        raise _RowError("bad_date", f"日期“{cell.text}”无法识别（应如 2027-06-30）",
                        f"cannot read the date {cell.text!r} (like 2027-06-30)")
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError as exc:
        raise _RowError("bad_date", f"日期“{cell.text}”不存在", f"no such date {cell.text!r}") from exc


def _level(text: str) -> int | None:
    if not text:
        return None
    parsed = roster.parse_skill_level(text)
    if parsed.isdigit() and 1 <= int(parsed) <= 5:
        return int(parsed)
    raise _RowError("bad_level", f"考评员证等级“{text}”无法识别（应如“三级/高级工”或 1–5）",
                    f"cannot read the card level {text!r} (like 三级/高级工 or 1–5)")


@dataclass(frozen=True)
class _Row:
    name: str
    unit: str
    phone: str
    id_number: str | None
    card: tuple[str, int | None, str, date] | None


def _read_row(row: roster.RosterRow) -> _Row:
    id_cell = row.cells.get("id_number")
    if id_cell is not None and id_cell.numeric:
        raise _RowError("numeric_cell", "“身份证号”单元格是数字格式，Excel 只保留 15 位有效数字，号码已经损坏："
                        "请把该列设为“文本”格式后重新填写",
                        "the ID number cell is a number: Excel keeps 15 digits, so it is corrupted; "
                        "format the column as text and type it again")
    number_cell = row.cells.get("number")
    if number_cell is not None and number_cell.numeric and len(number_cell.text) > 15:
        raise _RowError("numeric_cell", "“考评员证编号”单元格是数字格式，超过 15 位的号码已被 Excel 损坏",
                        "the card number cell is a number longer than 15 digits: Excel corrupted it")
    name = row.text("name")
    if not name:
        raise _RowError("missing_name", "缺少姓名", "the name is missing")
    id_number = None
    if row.text("id_number"):
        try:
            id_number = parse_id_number(row.text("id_number")).number
        except InvalidIdNumber as exc:
            raise _RowError(f"id_{exc.code}", exc.zh, exc.en) from exc
    phone = normalise_phone(row.text("phone"))
    if phone and not re.fullmatch(r"1\d{10}", phone):
        raise _RowError("bad_phone", f"手机号码“{row.text('phone')}”应为 11 位", "a mobile number has 11 digits")
    card = None
    card_cells = [row.text(k) for k in ("occupation", "level", "number", "valid_until", "issued_on")]
    if any(card_cells):
        occupation, number = row.text("occupation"), row.text("number")
        valid_until = parse_date(row.cells.get("valid_until"))
        if valid_until is None and (issued := parse_date(row.cells.get("issued_on"))) is not None:
            valid_until = valid_until_from_issue(issued)  # seed 003: valid three years
        missing = [zh for zh, value in (("考评员证职业", occupation), ("考评员证编号", number),
                                        ("有效期至（或发证日期）", valid_until)) if not value]
        if missing:
            raise _RowError("incomplete_card", f"考评员证信息不完整，缺少：{'、'.join(missing)}",
                            f"the examiner card is incomplete: {', '.join(missing)} missing")
        assert valid_until is not None
        card = (occupation, _level(row.text("level")), number, valid_until)
    return _Row(name, row.text("unit"), phone, id_number, card)


async def _find(session: AsyncSession, personal: PersonalData, event_id: int, row: _Row) -> Judge | None:
    if row.id_number:
        found = (await session.exec(select(Judge).join(JudgeIdentity, JudgeIdentity.judge_id == Judge.id)  # type: ignore[arg-type]
                                    .where(JudgeIdentity.event_id == event_id,
                                           JudgeIdentity.person_hash == personal.person_hash(row.id_number)))).first()
        if found is not None:
            return found
    if not row.phone:
        return None
    found = (await session.exec(select(Judge).where(Judge.event_id == event_id, Judge.name == row.name,
                                                    Judge.phone == row.phone))).first()
    # a namesake with another ID number on record is another person
    return found if found is not None and not (row.id_number and found.id_masked) else None


async def _apply(session: AsyncSession, personal: PersonalData, event_id: int, row: _Row) -> tuple[str, str]:
    judge = await _find(session, personal, event_id, row)
    if judge is None:
        judge = await svc.create_judge(session, personal, event_id, row.name, row.unit, row.phone, row.id_number)
        code = "judge_added"
    else:
        code = "judge_matched"
        if row.id_number and not judge.id_masked:  # a number the earlier row lacked
            await svc.update_judge(session, personal, judge, judge.name, row.unit or judge.unit,
                                   row.phone or judge.phone, row.id_number)
    card = ""
    if row.card:
        occupation, level, number, valid_until = row.card
        await svc.add_card(session, judge, occupation, level, number, valid_until)
        card = f"{occupation} {number}（{valid_until}）"
    return code, card


async def import_judges(session: AsyncSession, personal: PersonalData, event_id: int,
                        rows: list[roster.RosterRow]) -> list[ImportResult]:
    """Apply every row (the caller commits); one result per row, in the file's order."""
    results = []
    for raw in rows:
        name = raw.text("name")
        try:
            row = _read_row(raw)
            async with session.begin_nested():
                code, card = await _apply(session, personal, event_id, row)
        except _RowError as exc:
            results.append(ImportResult(raw.number, name, False, exc.code, exc.zh, exc.en))
        except Refusal as exc:
            results.append(ImportResult(raw.number, name, False, exc.code, exc.message, exc.message_en))
        except IntegrityError:
            results.append(ImportResult(raw.number, name, False, "conflict", "与已有数据冲突，未导入",
                                        "conflicts with data on record; not imported"))
        else:
            results.append(ImportResult(raw.number, name, True, code, card=card))
    return results


def template_xlsx() -> bytes:
    """The import template: header row, every column formatted as text (ID numbers stay whole)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#F2F4F7", "border": 1, "num_format": "@"})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet("裁判名单")
    for col, (zh, _) in enumerate(COLUMNS):
        sheet.set_column(col, col, 22 if zh in ("身份证号", "单位", "考评员证编号") else 14, text)
        sheet.write_string(0, col, zh, head)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("说明")  # not on the list's sheet: a note there would import as a row
    notes.set_column(0, 0, 90)
    for row, tip in enumerate(("每张考评员证一行；同一裁判有多张证时，姓名与手机（或身份证号）填写一致即可。",
                               "“有效期至”与“发证日期”填一项即可：证卡有效期三年（渝职鉴发〔2025〕8号）。",
                               "身份证号、考评员证编号请保持文本格式（模板已设置），不要让 Excel 转成数字。")):
        notes.write_string(row, 0, tip)
    book.close()
    return out.getvalue()
