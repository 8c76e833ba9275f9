"""Organiser exports of an event's active entries: 参赛选手报名表 (every form field, one row per person),
参赛信息汇总表 (the summary list), the photos as a ZIP named 单位+姓名, and the roster import report.

Seed 002 asks units for these two forms and for photos "以“单位+姓名”方式命名"; it names the forms
(附件 10 选手报名表, 附件 11 参赛信息汇总表) without printing their columns, so the columns are the form
fields of domain.md "Registration". ID numbers, phones and certificate numbers are written as text cells
with the text format "@": Excel would otherwise show 5.00103E+17 and keep only 15 digits.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registration.entries.identities import IDENTITIES, unit_label
from registration.entries.models import Entry, EntryMember
from registration.entries.personal import PersonalData
from registration.events.models import Item
from scoring.identity import GENDER_NAMES
from scoring.skill_levels import LEVEL_NAMES

__all__ = [
    "FORM_COLUMNS", "SUMMARY_COLUMNS", "PersonRow", "Sheet", "form_sheet", "form_xlsx", "load_people", "photo_name",
    "photos_zip", "report_xlsx", "summary_sheet", "summary_xlsx", "text_xlsx",
]

# 参赛选手报名表: every field of the form. The first columns are the roster template's, so an export
# imports again as a roster (赛项代码 wins over 赛项; 性别 and 出生日期 come from the ID number and are ignored).
FORM_COLUMNS = ("序号", "赛项代码", "赛项", "组别", "身份", "姓名", "性别", "出生日期", "身份证号", "手机", "单位",
                "学历", "技能等级", "证书编号", "从业年限", "女职工退休基准", "专业", "在渝声明", "指导教师1",
                "指导教师1电话", "指导教师2", "指导教师2电话", "队伍", "照片", "审核", "报名来源", "报名编号")
# 参赛信息汇总表: one line per contestant, for the item's mailbox and the organising committee
SUMMARY_COLUMNS = ("序号", "赛项", "组别", "单位", "姓名", "性别", "身份证号", "手机", "参赛身份", "学历",
                   "现技能等级", "专业", "在渝声明", "指导教师", "备注")
TEXT_COLUMNS = ("身份证号", "手机", "证书编号", "指导教师1电话", "指导教师2电话", "报名编号", "队伍")
_REVIEW_NAMES = {"none": "", "pending": "待审核", "approved": "已通过", "rejected": "已驳回"}
_SOURCE_NAMES = {"form": "扫码报名", "api": "扫码报名", "roster": "名单导入", "organiser": "组委会录入"}


@dataclass(frozen=True)
class PersonRow:
    item_code: str
    item_name: str
    group: str
    unit: str
    team: str  # the entry's ticket code (short) for members of a team, else ""
    member: EntryMember
    id_number: str  # decrypted
    review: str
    source: str
    ticket_code: str


async def load_people(session: AsyncSession, event_id: int, personal: PersonalData,
                      item_code: str = "") -> list[PersonRow]:
    """Every person of the active entries, in item, group, unit order; ID numbers decrypted."""
    query = (select(Entry, Item, EntryMember).join(Item, col(Item.id) == Entry.item_id)
             .join(EntryMember, col(EntryMember.entry_id) == Entry.id)
             .where(Entry.event_id == event_id, Entry.state == "active"))
    if item_code:
        query = query.where(Item.code == item_code)
    rows = (await session.exec(query.order_by(col(Item.position), col(Entry.group_name), col(Entry.unit_key),
                                              col(Entry.id), col(EntryMember.position)))).all()
    return [PersonRow(item.code, item.name, entry.group_name, unit_label(entry.unit),  # 灵活就业 for no unit
                      entry.ticket_code[:8] if item.team_size > 1 else "", member,
                      personal.decrypt(member.id_number_enc) or member.id_masked, entry.review, entry.source,
                      entry.ticket_code) for entry, item, member in rows]


def _instructor(m: EntryMember, i: int, key: str) -> str:
    return str(m.instructors[i].get(key) or "") if len(m.instructors) > i else ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _declared(m: EntryMember) -> str:
    """Seed 002's "应在渝工作、学习或居住": ticked by the contestant on the form."""
    return "已声明" if m.residence_declared else ""


def _form_row(n: int, p: PersonRow) -> list[str]:
    m = p.member
    return [str(n), p.item_code, p.item_name, p.group, IDENTITIES.get(m.identity, m.identity), m.name,
            GENDER_NAMES.get(m.gender, m.gender),
            m.birth_date.isoformat() if isinstance(m.birth_date, date) else _text(m.birth_date),
            p.id_number, m.phone, p.unit, _text(m.education), LEVEL_NAMES.get(m.skill_level or 0, ""),
            _text(m.certificate_number), _text(m.years_in_occupation), _text(m.female_base), _text(m.major),
            _declared(m), _instructor(m, 0, "name"), _instructor(m, 0, "phone"), _instructor(m, 1, "name"),
            _instructor(m, 1, "phone"), p.team, photo_name(p.unit, m.name) if m.photo else "",
            _REVIEW_NAMES.get(p.review, p.review), _SOURCE_NAMES.get(p.source, p.source), p.ticket_code]


def _summary_row(n: int, p: PersonRow) -> list[str]:
    m = p.member
    note = "；".join(x for x in (_REVIEW_NAMES.get(p.review, ""), f"队伍 {p.team}" if p.team else "") if x)
    return [str(n), p.item_name, p.group, p.unit, m.name, GENDER_NAMES.get(m.gender, m.gender), p.id_number,
            m.phone, IDENTITIES.get(m.identity, m.identity), _text(m.education),
            LEVEL_NAMES.get(m.skill_level or 0, ""), _text(m.major), _declared(m),
            "、".join(i.get("name", "") for i in m.instructors), note]


def text_xlsx(columns: Sequence[str], rows: Sequence[Sequence[str]], sheet: str,
              text_columns: Sequence[str] = TEXT_COLUMNS) -> bytes:
    """Every column a String column: xlsxwriter writes strings as text cells; "@" keeps `text_columns` text
    when edited (numbers like ID numbers and phones must never become numbers)."""
    frame = pl.DataFrame([list(r) for r in rows], schema={c: pl.String for c in columns}, orient="row")
    out = io.BytesIO()
    wide = ("身份证号", "单位", "赛项", "报名编号", "说明", "指导教师")
    widths: dict[Any, Any] = {c: 190 if c in wide else 96 for c in columns}  # in pixels
    frame.write_excel(out, worksheet=sheet, column_formats={c: "@" for c in columns if c in text_columns},
                      column_widths=widths, header_format={"bold": True, "bg_color": "#F2F4F7", "border": 1},
                      autofilter=True, freeze_panes=(1, 0), table_style=None, include_header=True)
    return out.getvalue()


Sheet = tuple[Sequence[str], list[list[str]], str]  # columns, rows of text, the worksheet's name: text_xlsx's


def form_sheet(people: Sequence[PersonRow]) -> Sheet:
    """The 报名表 as plain text rows (what a render process can draw: no database objects)."""
    return FORM_COLUMNS, [_form_row(n, p) for n, p in enumerate(people, 1)], "参赛选手报名表"


def summary_sheet(people: Sequence[PersonRow]) -> Sheet:
    return SUMMARY_COLUMNS, [_summary_row(n, p) for n, p in enumerate(people, 1)], "参赛信息汇总表"


def form_xlsx(people: Sequence[PersonRow]) -> bytes:
    return text_xlsx(*form_sheet(people))


def summary_xlsx(people: Sequence[PersonRow]) -> bytes:
    return text_xlsx(*summary_sheet(people))


def report_xlsx(results: Sequence[Any]) -> bytes:
    """The roster import report: row, name, ✓ ticket code or ✗ the message and its code."""
    rows = [[str(r.number), r.name, "✓" if r.ok else "✗", r.ticket_code if r.ok else r.code,
             "、".join(r.flags) if r.ok else r.message] for r in results]
    return text_xlsx(("行号", "姓名", "结果", "报名编号/错误代码", "说明"), rows, "导入结果")


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def photo_name(unit: str, name: str) -> str:
    """单位+姓名, without the characters Windows refuses in a file name."""
    return _UNSAFE.sub("_", f"{unit.strip()}+{name.strip()}")


def photos_zip(people: Sequence[PersonRow], photo_dir: Path) -> tuple[bytes, list[str]]:
    """A ZIP of the stored photos named 单位+姓名.jpg (a clash gets -2, -3, …); and who has no photo."""
    out = io.BytesIO()
    missing: list[str] = []
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:  # JPEGs do not compress further
        for p in people:
            path = photo_dir / p.member.photo if p.member.photo else None
            if path is None or not path.is_file() or path.parent != photo_dir:
                missing.append(f"{p.unit} {p.member.name}")
                continue
            base = photo_name(p.unit, p.member.name)
            name, n = f"{base}.jpg", 1
            while name.lower() in used:
                n += 1
                name = f"{base}-{n}.jpg"
            used.add(name.lower())
            archive.writestr(name, path.read_bytes())
        if missing:
            archive.writestr("缺少照片.txt", "\r\n".join(missing) + "\r\n")
    return out.getvalue(), missing
