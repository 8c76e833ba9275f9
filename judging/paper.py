"""The paper path: a judge's paper score sheet is typed in twice by two different people; the differences are
shown and a third person resolves them; only then do the marks count (four eyes, enforced here, not in the
browser). Marks enter the same `score` table and the same audit log as tablet marks (kind "paper")."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import UTCDateTime, utcnow
from contestday.web.errors import Refusal
from judging import audit, remarks
from judging.models import Judge, Score
from registration.checkin.models import Attendance, SeatAssignment
from registration.entries.models import Entry
from registration.events.models import Criterion, Item
from scoring.checks import check_score

__all__ = ["PaperEntry", "PaperResolution", "enter_sheet", "resolve_sheet", "sheet_state"]

Marks = dict[tuple[str, str], str | None]  # (seat, criterion) -> value


class PaperEntry(SQLModel, table=True):
    """One typing of a judge's paper sheet (round 1 or 2), by one person."""

    __tablename__ = "paper_entry"
    __table_args__ = (UniqueConstraint("item_id", "judge_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False))
    judge_id: int = Field(sa_column=Column(Integer, ForeignKey("judge.id", ondelete="CASCADE"), nullable=False))
    round: int
    entered_by: str = Field(max_length=80)
    marks: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    at: Any = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaperResolution(SQLModel, table=True):
    __tablename__ = "paper_resolution"
    __table_args__ = (UniqueConstraint("item_id", "judge_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False))
    judge_id: int = Field(sa_column=Column(Integer, ForeignKey("judge.id", ondelete="CASCADE"), nullable=False))
    resolved_by: str = Field(max_length=80)
    at: Any = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _read(raw: Any, criteria: dict[str, Criterion]) -> Marks:
    if not isinstance(raw, list) or not raw:
        raise Refusal(422, "invalid_sheet", "评分表为空", "the sheet is empty")
    marks: Marks = {}
    for n, row in enumerate(raw):
        seat, code, value = str(row.get("seat", "")), str(row.get("criterion", "")), row.get("value")
        criterion = criteria.get(code)
        if criterion is None:
            raise Refusal(422, "unknown_criterion", f"第 {n + 1} 行：没有评分项 {code}",
                           f"row {n + 1}: no criterion {code}")
        if value not in (None, ""):
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                raise Refusal(422, "invalid_score", f"第 {n + 1} 行：分数格式不正确",
                               f"row {n + 1}: not a number") from None
            found = check_score(criterion.spec(), number)
            if found:
                raise Refusal(422, found[0].code, f"第 {n + 1} 行：{found[0].zh}", f"row {n + 1}: {found[0].en}")
            value = f"{number:.2f}"
        marks[(seat, code)] = value or None
    return marks


async def _criteria(session: AsyncSession, item_id: int) -> dict[str, Criterion]:
    return {c.code: c for c in (await session.exec(select(Criterion).where(Criterion.item_id == item_id))).all()}


async def enter_sheet(session: AsyncSession, item_id: int, judge: Judge, round_: int, raw: Any, by: str) -> None:
    """Store one typing. The second must be by someone else than the first (four eyes). Commits."""
    if round_ not in (1, 2):
        raise Refusal(422, "invalid_round", "录入轮次只能是 1 或 2", "round is 1 or 2")
    marks = _read(raw, await _criteria(session, item_id))
    other = (await session.exec(select(PaperEntry).where(PaperEntry.item_id == item_id,
                                                         PaperEntry.judge_id == judge.id,
                                                         PaperEntry.round == 3 - round_))).first()
    if other is not None and other.entered_by == by:
        raise Refusal(409, "four_eyes", "两次录入须由不同的人完成", "the two typings must be by different people")
    session.add(PaperEntry(item_id=item_id, judge_id=judge.id or 0, round=round_, entered_by=by,
                           marks=[{"seat": s, "criterion": c, "value": v} for (s, c), v in sorted(marks.items())]))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Refusal(409, "already_entered", f"第 {round_} 次录入已完成",
                       f"round {round_} is already entered") from None


def _marks(entry: PaperEntry | None) -> Marks:
    return {} if entry is None else {(m["seat"], m["criterion"]): m["value"] for m in entry.marks}


async def sheet_state(session: AsyncSession, item_id: int, judge_id: int) -> dict[str, Any]:
    entries = {e.round: e for e in (await session.exec(select(PaperEntry).where(
        PaperEntry.item_id == item_id, PaperEntry.judge_id == judge_id))).all()}
    first, second = _marks(entries.get(1)), _marks(entries.get(2))
    keys = sorted(set(first) | set(second))
    resolved = (await session.exec(select(PaperResolution).where(PaperResolution.item_id == item_id,
                                                                 PaperResolution.judge_id == judge_id))).first()
    return {"rounds": {r: {"by": e.entered_by, "at": e.at.isoformat()} for r, e in entries.items()},
            "differences": [{"seat": s, "criterion": c, "first": first.get((s, c)), "second": second.get((s, c))}
                            for s, c in keys if len(entries) == 2 and first.get((s, c)) != second.get((s, c))],
            "resolved_by": resolved.resolved_by if resolved else None}


def _resolver(cell: remarks.Cell, by: str) -> Any:
    return lambda s: remarks.resolve_cell(s.connection(), cell, how="paper", by=by, device="paper")


async def resolve_sheet(session: AsyncSession, item_id: int, judge: Judge, choices: Any,
                        by: str) -> list[dict[str, Any]]:
    """A third person settles every difference; the sheet's marks then count, and resolve the judge's open
    re-mark requests on them. Returns the changes, as the console channel carries them (`score` and
    `remark_resolved`, to publish after the commit)."""
    entries = {e.round: e for e in (await session.exec(select(PaperEntry).where(
        PaperEntry.item_id == item_id, PaperEntry.judge_id == judge.id))).all()}
    if len(entries) < 2:
        raise Refusal(409, "needs_two_entries", "需两人各录入一次后才能核定", "both typings are needed first")
    if by in {e.entered_by for e in entries.values()}:
        raise Refusal(409, "four_eyes", "核定人须是两位录入人之外的第三人", "the resolver must be a third person")
    criteria = await _criteria(session, item_id)
    first, second = _marks(entries[1]), _marks(entries[2])
    chosen = _read(choices, criteria) if choices else {}
    final: Marks = {}
    for key in sorted(set(first) | set(second)):
        if first.get(key) == second.get(key):
            final[key] = first.get(key)
        elif key in chosen:
            final[key] = chosen[key]
        else:
            raise Refusal(422, "unresolved_difference", f"赛位 {key[0]} 评分项 {key[1]} 的差异尚未核定",
                           f"seat {key[0]}, criterion {key[1]}: difference not settled", seat=key[0],
                           criterion=key[1])
    seats = dict((await session.exec(
        select(SeatAssignment.seat_label, Entry).join(Entry, col(Entry.id) == SeatAssignment.entry_id)
        .join(Attendance, col(Attendance.entry_id) == Entry.id)
        .where(SeatAssignment.item_id == item_id, Attendance.status == "present"))).all())
    changes: list[dict[str, Any]] = []
    item_code = (await session.exec(select(Item.code).where(Item.id == item_id))).one()
    for (seat, code), value in final.items():
        entry = seats.get(seat)
        if entry is None:
            raise Refusal(422, "empty_seat", f"赛位 {seat} 没有选手", f"nobody sits at {seat}", seat=seat)
        if judge.unit_key and judge.unit_key == entry.unit_key:
            raise Refusal(409, "conflict_of_interest", f"赛位 {seat}：该裁判与选手同单位，须回避",
                           f"seat {seat}: the judge is from the contestant's unit", seat=seat)
        criterion = criteria[code]
        number = None if value is None else Decimal(value)
        score = (await session.exec(select(Score).where(Score.entry_id == entry.id, Score.criterion_id == criterion.id,
                                                        Score.judge_id == judge.id))).first()
        old = (score.value, score.version) if score else (None, None)
        if score is None:
            score = Score(event_id=judge.event_id, item_id=item_id, entry_id=entry.id or 0,
                          criterion_id=criterion.id or 0, judge_id=judge.id or 0, value=number, source="paper")
        else:
            score.value, score.version, score.source, score.updated_at = number, score.version + 1, "paper", utcnow()
        session.add(score)
        link = await audit.append(session, judge.event_id, "paper", actor=by, device="paper", item_id=item_id,
                           entry_id=entry.id, criterion_id=criterion.id, judge_id=judge.id, old=old,
                           new=(number, score.version), reason=f"纸质评分表：{entries[1].entered_by}、"
                                                               f"{entries[2].entered_by} 录入，{by} 核定")
        changes.append({"type": "score", "seq": link.seq, "item": item_code, "seat": seat, "criterion": code,
                        "judge_id": judge.id, "value": value, "version": score.version})
        cell = remarks.Cell(judge.event_id, item_id, item_code, judge.id or 0, seat, code, criterion.id, entry.id)
        changes.extend(await session.run_sync(_resolver(cell, by)))
    session.add(PaperResolution(item_id=item_id, judge_id=judge.id or 0, resolved_by=by))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Refusal(409, "already_resolved", "该评分表已核定", "this sheet is already resolved") from None
    return changes
