"""Load and validate the three offline inputs (contracts §3) into `results.model.Inputs`.

Every problem is an `InputError` naming the file, the sheet row (header = 1) and the column, in
Chinese then English. Problems are collected phase by phase (event file, ENTRIES cells, SCORES cells,
then cross-checks) and the first phase with any stops the run, so the first error listed is the first
bad value in reading order.
"""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from results.model import STATUSES, Entry, Inputs, Mark, Person
from results.tables import Table, TableError, read_table
from scoring.checks import check_deduction, check_measurement, check_score, check_spread
from scoring.event_file import EventFileError, EventSpec, ItemSpec, parse_event_document
from scoring.marking import team_theory
from scoring.rounding import decimal_places, parse_number

__all__ = [
    "ENTRIES_COLUMNS", "SCORES_COLUMNS", "BadInput", "InputError", "SheetErrors", "check_entries", "check_marks",
    "check_person", "cross_check", "load_event", "load_inputs",
]

ENTRIES_COLUMNS = ("entry", "name", "unit", "item", "group", "theory", "time_used_s", "status")
SCORES_COLUMNS = ("entry", "criterion", "judge", "score")


@dataclass(frozen=True)
class InputError:
    file: str
    row: int | None
    column: str | None  # a column name, or a field path in the event file
    letter: str
    zh: str
    en: str

    def render(self) -> str:
        if self.row is None and self.column and not self.letter:  # event file: a field path
            return f"{self.file}：字段 {self.column}：{self.zh}\n  {self.file}: field {self.column}: {self.en}"
        where_zh = "".join([f" 第 {self.row} 行" if self.row else "",
                            f" {self.letter} 列（{self.column}）" if self.column else ""])
        where_en = ", ".join([f"row {self.row}" if self.row else "",
                              f"column {self.letter} ({self.column})" if self.column else ""]).strip(", ")
        return f"{self.file}{where_zh}：{self.zh}\n  {self.file}{', ' if where_en else ''}{where_en}: {self.en}"


class BadInput(Exception):
    def __init__(self, errors: list[InputError], warnings: list[str] | None = None):
        self.errors, self.warnings = errors, warnings or []
        super().__init__("\n".join(e.render() for e in errors))


def load_event(path: Path) -> EventSpec:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
        doc: Any = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput([InputError(name, None, None, "", f"无法读取赛事文件：{exc}",
                                   f"cannot read the event file: {exc}")]) from exc
    try:
        return parse_event_document(doc)
    except EventFileError as exc:
        raise BadInput([InputError(name, None, e.path, "", e.zh, e.en) for e in exc.errors]) from exc


class SheetErrors:
    """Error collector bound to one table (the row-by-row checkers below; `results.fast_inputs` hands
    them only the rows its column checks flagged)."""

    def __init__(self, table: Table, errors: list[InputError]):
        self.table, self.errors = table, errors

    def err(self, row: int | None, column: str | None, zh: str, en: str) -> None:
        letter = self.table.letter(column) if column else ""
        self.errors.append(InputError(self.table.path.name, row, column, letter, zh, en))

    def number(self, row: int, cells: dict[str, str], column: str) -> Decimal | None:
        text = cells[column]
        value = parse_number(text)
        if value is None:
            self.err(row, column, f"“{text}”不是数字", f"{text!r} is not a number")
        return value


def _read(path: Path, columns: tuple[str, ...]) -> Table:
    try:
        return read_table(path, columns)
    except TableError as exc:
        err = InputError(path.name, exc.row, exc.column, "", exc.zh, exc.en)
        raise BadInput([err]) from exc


def check_person(sheet: SheetErrors, row: int, c: dict[str, str], items: dict[str, ItemSpec]) -> Person | None:
    before = len(sheet.errors)
    if not c["entry"]:
        sheet.err(row, "entry", "参赛编号为空", "entry is empty")
    item = items.get(c["item"])
    if item is None:
        sheet.err(row, "item", f"未知赛项“{c['item']}”", f"unknown item {c['item']!r}")
    elif c["group"] not in item.group_names:
        allowed = "、".join(item.groups) or "（空）"
        sheet.err(row, "group", f"赛项 {item.code} 没有组别“{c['group']}”（可选：{allowed}）",
                  f"item {item.code} has no group {c['group']!r} (one of: {', '.join(item.groups) or '(empty)'})")
    theory = None
    if c["theory"]:
        theory = sheet.number(row, c, "theory")
        if theory is not None and not (0 <= theory <= 100 and decimal_places(theory) <= 2):
            sheet.err(row, "theory", f"理论成绩 {theory} 应在 0–100 之间且最多 2 位小数",
                      f"theory {theory} must lie in 0–100 with at most 2 decimals")
    time_used = None
    if c["time_used_s"]:
        time_used = sheet.number(row, c, "time_used_s")
        if time_used is not None and time_used < 0:
            sheet.err(row, "time_used_s", f"用时 {time_used} 不能为负", f"time used {time_used} is negative")
    status = c["status"].lower()
    if status not in STATUSES:
        sheet.err(row, "status", f"未知状态“{c['status']}”（可选：present、absent、disqualified）",
                  f"unknown status {c['status']!r} (one of present, absent, disqualified)")
    if len(sheet.errors) > before:
        return None
    return Person(row, c["entry"], c["name"], c["unit"], c["item"], c["group"], theory, time_used, status)


def check_entries(sheet: SheetErrors, people: list[Person], items: dict[str, ItemSpec],
             warnings: list[str]) -> list[Entry]:
    members: dict[str, list[Person]] = defaultdict(list)
    for p in people:
        members[p.entry].append(p)
    entries = []
    for order, (entry_id, team) in enumerate(members.items()):
        head = team[0]
        for p in team[1:]:
            for column, mine, theirs in (("item", p.item, head.item), ("group", p.group, head.group),
                                         ("status", p.status, head.status)):
                if mine != theirs:
                    sheet.err(p.row, column,
                              f"同一参赛编号 {entry_id} 的成员{column}不一致（第 {head.row} 行为“{theirs}”）",
                              f"members of entry {entry_id} differ in {column} (row {head.row} has {theirs!r})")
        timed = [p for p in team if p.time_used is not None]
        times = {p.time_used for p in timed}
        if len(times) > 1:
            bad = next(p for p in timed if p.time_used != timed[0].time_used)
            sheet.err(bad.row, "time_used_s", f"同一参赛编号 {entry_id} 的用时不一致",
                      f"members of entry {entry_id} give different time_used_s")
        item = items[head.item]
        if head.status == "present" and item.theory_weight > 0:
            for p in team:
                if p.theory is None:
                    sheet.err(p.row, "theory", f"赛项 {item.code} 计理论成绩（占比 {item.theory_weight}），不能为空",
                              f"item {item.code} weighs theory at {item.theory_weight}: theory is required")
        if len(team) != item.team_size:
            warnings.append(f"{sheet.table.path.name} 第 {head.row} 行：参赛编号 {entry_id} 有 {len(team)} 人，"
                            f"赛项 {item.code} 每队 {item.team_size} 人 / entry {entry_id} has {len(team)} "
                            f"members, item {item.code} has team_size {item.team_size}")
        entries.append(Entry(entry_id, head.item, head.group, head.status, order,
                             team_theory([p.theory for p in team]),
                             next(iter(times)) if times else None, tuple(team)))
    return entries


def check_marks(sheet: SheetErrors, entries: dict[str, Entry], items: dict[str, ItemSpec]) -> list[Mark]:
    marks, seen = [], set()
    criteria = {(item.code, c.code): c for item in items.values() for c in item.criteria}
    for row, c in sheet.table.rows:
        before = len(sheet.errors)
        entry = entries.get(c["entry"])
        criterion = None
        if entry is None:
            sheet.err(row, "entry", f"参赛编号“{c['entry']}”不在参赛名单中", f"entry {c['entry']!r} is not in ENTRIES")
        else:
            criterion = criteria.get((entry.item, c["criterion"]))
            if criterion is None:
                sheet.err(row, "criterion", f"赛项 {entry.item} 没有评分项“{c['criterion']}”",
                          f"item {entry.item} has no criterion {c['criterion']!r}")
        score = sheet.number(row, c, "score") if c["score"] else None
        if not c["score"]:
            sheet.err(row, "score", "分数为空", "score is empty")
        # The common case (0 ≤ mark ≤ max, ≤ 2 decimals as written, whole on the 0–3 scale) skips building
        # findings.
        plain = score is not None and criterion is not None and 0 <= score <= criterion.max and (
            "." not in c["score"] or len(c["score"].rsplit(".", 1)[1]) <= 2) and (
            criterion.scale != "0-3" or score == score.to_integral_value())
        if not plain and score is not None and criterion is not None:
            for finding in check_score(criterion, score, c["judge"]):
                sheet.err(row, "score", finding.zh, finding.en)
        key = (c["entry"], c["criterion"], c["judge"])
        if key in seen:
            sheet.err(row, "judge", f"裁判 {c['judge']} 对 {c['entry']} 的 {c['criterion']} 重复评分",
                      f"judge {c['judge']!r} scored {c['entry']} on {c['criterion']} twice")
        seen.add(key)
        if len(sheet.errors) == before and score is not None:
            marks.append(Mark(row, c["entry"], c["criterion"], c["judge"], score))
    return marks


def cross_check(entries_sheet: SheetErrors, scores_sheet: SheetErrors, entries: list[Entry], marks: list[Mark],
                 items: dict[str, ItemSpec], warnings: list[str]) -> None:
    by_entry: dict[str, dict[str, list[Mark]]] = defaultdict(lambda: defaultdict(list))
    for m in marks:
        by_entry[m.entry][m.criterion].append(m)
    scores_name = scores_sheet.table.path.name
    for entry in entries:
        if entry.status != "present":
            continue
        sheet_marks = by_entry.get(entry.entry, {})
        for criterion in items[entry.item].criteria:
            given = sheet_marks.get(criterion.code, [])
            pairs = [(m.judge, m.score) for m in given]
            if not given and criterion.kind != "deduction":
                entries_sheet.err(entry.members[0].row, "entry",
                                  f"参赛者 {entry.entry} 的评分项 {criterion.code} 在 {scores_name} 中没有评分",
                                  f"entry {entry.entry} has no marks for criterion {criterion.code} in {scores_name}")
            for finding in check_measurement(criterion, pairs) + check_deduction(criterion, pairs):
                bad = next(m for m in given if m.score != given[0].score)
                scores_sheet.err(bad.row, "score", f"参赛者 {entry.entry}：{finding.zh}",
                                 f"entry {entry.entry}: {finding.en}")
            for finding in check_spread(criterion, pairs):
                warnings.append(f"{scores_name} 参赛者 {entry.entry}：{finding.zh} / entry {entry.entry}: {finding.en}")


def load_inputs(event_path: Path, entries_path: Path, scores_path: Path) -> tuple[Inputs, list[str]]:
    """Validated inputs and the warnings (spread over max_spread, team size); raises BadInput."""
    event = load_event(event_path)
    items = {item.code: item for item in event.items}
    warnings: list[str] = [f"{event_path.name}：{w.path}：{w.zh} / {w.en}" for w in event.warnings]
    entries_table = _read(entries_path, ENTRIES_COLUMNS)
    scores_table = _read(scores_path, SCORES_COLUMNS)
    errors: list[InputError] = []
    entries_sheet, scores_sheet = SheetErrors(entries_table, errors), SheetErrors(scores_table, errors)
    people = [check_person(entries_sheet, row, cells, items) for row, cells in entries_table.rows]
    if errors:
        raise BadInput(errors, warnings)
    entries = check_entries(entries_sheet, [p for p in people if p is not None], items, warnings)
    if errors:
        raise BadInput(errors, warnings)
    marks = check_marks(scores_sheet, {e.entry: e for e in entries}, items)
    if errors:
        raise BadInput(errors, warnings)
    cross_check(entries_sheet, scores_sheet, entries, marks, items, warnings)
    if errors:
        raise BadInput(errors, warnings)
    return Inputs(event, tuple(entries), tuple(marks)), warnings
