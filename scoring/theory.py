"""Theory scores as they arrive from the exam (#14): the rows of one item's theory sheet, checked against the
item's entries. Pure: no database, no files; the caller reads the sheet and says who is entered.

A row names a person by resident ID number (or, failing that, the entry's ticket code) and gives a score 0–100
with at most 2 decimals, or says the person missed the exam (缺考, with the reason: theory 0, never silently).
The name, when given, must be the entry's. One import is all or nothing: every problem of every row is
reported, and nothing counts while one remains."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from scoring.identity import normalise_id_number
from scoring.rounding import decimal_places

__all__ = ["MAX_THEORY", "Candidate", "TheoryCheck", "TheoryMark", "TheoryProblem", "TheoryRow", "check_theory_rows"]

MAX_THEORY = Decimal(100)


@dataclass(frozen=True)
class TheoryRow:
    """One row of the sheet as typed (texts; `id_numeric`: the ID cell was typed as a number)."""

    row: int  # the spreadsheet's row number, for the report
    id_number: str = ""
    ticket: str = ""
    name: str = ""
    score: str = ""
    absent: str = ""  # 缺考: the reason (or a mark such as "是"/"缺考"), blank when present
    id_numeric: bool = False


@dataclass(frozen=True)
class Candidate:
    """A person entered for the item: `id_key` is what `key_of` gives for their ID number (an HMAC, so the
    caller never has to decrypt anyone's number), `ticket` their entry's ticket code."""

    member_id: int
    entry_id: int
    name: str
    id_key: str
    ticket: str


@dataclass(frozen=True)
class TheoryMark:
    row: int
    member_id: int
    entry_id: int
    value: Decimal  # 0 for a person who missed the exam
    absent_reason: str | None = None


@dataclass(frozen=True)
class TheoryProblem:
    row: int
    column: str  # id_number | ticket | name | score | absent
    code: str
    message: str
    message_en: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.column, "code": self.code, "message": self.message,
                "message_en": self.message_en}


@dataclass(frozen=True)
class TheoryCheck:
    marks: list[TheoryMark]
    problems: list[TheoryProblem]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.marks)


_ABSENT_WORDS = {"是", "y", "yes", "true", "1", "缺考", "absent", "√", "✓"}


def _score(row: TheoryRow) -> tuple[Decimal | None, TheoryProblem | None]:
    def problem(code: str, zh: str, en: str) -> tuple[None, TheoryProblem]:
        return None, TheoryProblem(row.row, "score", code, zh, en)

    text = row.score.strip()
    if not text:
        return problem("missing_score", "理论成绩为空：请填写分数，缺考的请在“缺考”列注明原因",
                       "no theory score: give one, or say in the 缺考 column why the person missed the exam")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return problem("invalid_score", f"理论成绩“{text}”不是数字", f"theory score {text!r} is not a number")
    if not value.is_finite():
        return problem("invalid_score", f"理论成绩“{text}”不是数字", f"theory score {text!r} is not a number")
    if not 0 <= value <= MAX_THEORY:
        return problem("out_of_range", f"理论成绩 {text} 应在 0–100 之间", f"theory score {text} must lie in 0–100")
    if decimal_places(value) > 2:
        return problem("too_many_decimals", f"理论成绩 {text} 最多保留 2 位小数",
                       f"theory score {text} has more than 2 decimals")
    return value, None


def check_theory_rows(rows: Sequence[TheoryRow], candidates: Iterable[Candidate],
                      key_of: Callable[[str], str]) -> TheoryCheck:
    """Every row matched to one person entered for the item, or reported: `numeric_cell` (an ID typed as a
    number: Excel kept 15 digits), `unknown_person`, `name_required` (a team's ticket without the name),
    `name_mismatch`, `duplicate_row`,
    `missing_score`, `invalid_score`, `out_of_range`, `too_many_decimals`, `absent_with_score`, `empty_file`."""
    people = list(candidates)
    by_key = {c.id_key: c for c in people}
    by_ticket: dict[str, list[Candidate]] = {}
    for c in people:
        by_ticket.setdefault(c.ticket.upper(), []).append(c)
    marks: list[TheoryMark] = []
    problems: list[TheoryProblem] = []
    seen: dict[int, int] = {}  # member id -> the row that named them first
    if not rows:
        problems.append(TheoryProblem(0, "", "empty_file", "文件中没有理论成绩行", "the file holds no theory scores"))
    for row in rows:
        found: list[TheoryProblem] = []
        person: Candidate | None = None
        if row.id_numeric:
            found.append(TheoryProblem(row.row, "id_number", "numeric_cell",
                                       f"“身份证号”单元格是数字格式（{row.id_number}），Excel 只保留 15 位有效数字，"
                                       "号码已经损坏：请把该列设为“文本”格式后重新填写",
                                       f"the ID number cell is a number ({row.id_number}); Excel keeps 15 digits, "
                                       "so it is corrupted: format the column as text and type it again"))
        elif row.id_number.strip():
            number = normalise_id_number(row.id_number)
            person = by_key.get(key_of(number))
            if person is None:
                found.append(TheoryProblem(row.row, "id_number", "unknown_person",
                                           "本赛项没有此身份证号的参赛选手",
                                           "nobody entered for this item has this ID number"))
        elif row.ticket.strip():
            team = by_ticket.get(row.ticket.strip().upper(), [])
            named = [c for c in team if not row.name.strip() or c.name == row.name.strip()]
            if not team:
                found.append(TheoryProblem(row.row, "ticket", "unknown_person", "本赛项没有此参赛凭证号",
                                           "no entry of this item has this ticket code"))
            elif len(team) > 1 and not row.name.strip():
                found.append(TheoryProblem(row.row, "name", "name_required",
                                           "团队参赛凭证：请填写队员姓名，以确定是哪一位",
                                           "a team's ticket: give the member's name to say which one"))
            elif named:
                person = named[0]
            else:
                person = team[0]  # the name check below reports it
        else:
            found.append(TheoryProblem(row.row, "id_number", "unknown_person", "请填写身份证号（或参赛凭证号）",
                                       "give the ID number (or the ticket code)"))
        if person is not None and row.name.strip() and row.name.strip() != person.name:
            found.append(TheoryProblem(row.row, "name", "name_mismatch",
                                       f"姓名“{row.name.strip()}”与报名信息（{person.name}）不符",
                                       f"the name {row.name.strip()!r} is not the entry's ({person.name})"))
        if person is not None and person.member_id in seen:
            found.append(TheoryProblem(row.row, "id_number", "duplicate_row",
                                       f"与第 {seen[person.member_id]} 行是同一人",
                                       f"the same person as row {seen[person.member_id]}"))
        absent = row.absent.strip()
        value: Decimal | None
        if absent:
            value = Decimal(0)
            if row.score.strip() and row.score.strip() not in ("0", "0.0", "0.00"):
                found.append(TheoryProblem(row.row, "score", "absent_with_score",
                                           "已注明缺考，理论成绩应为空或 0",
                                           "marked absent: the theory score must be blank or 0"))
        else:
            value, problem = _score(row)
            if problem is not None:
                found.append(problem)
        if person is not None and person.member_id not in seen:
            seen[person.member_id] = row.row
        if found:
            problems.extend(found)
        elif person is not None and value is not None:
            reason = None if not absent else ("缺考" if absent.lower() in _ABSENT_WORDS else absent)
            marks.append(TheoryMark(row.row, person.member_id, person.entry_id, value, reason))
    return TheoryCheck(marks, problems)
