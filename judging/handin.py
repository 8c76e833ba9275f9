"""Time used on the server (#14 A.2): 交卷 (a contestant hands in) recorded by a judge of the panel on the tablet or
by the chief judge on the console, or imported / corrected per item; read back as whole seconds for the
`time_used` tie-break.

The clock starts at the seat session's start (the seat plan) and stops at the hand-in; minutes given back after
an equipment fault (`minutes_returned` of the contestant's seat moves) are taken off when it is read, so a move
recorded after the hand-in still counts (scoring/time_used.py). An import or a correction may give the seconds
themselves; those stand as given.

Invariant in the schema: one time per entry (UNIQUE entry_id). The first hand-in stands (a second tap on another
tablet is acked with the first); changing a time is a correction through `set_times`, which needs a reason once
the item's scores are locked. Every change is a link of the audit chain with the old and new seconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Column, Connection, ForeignKey, Integer, UniqueConstraint, bindparam, func, select
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import UTCDateTime, utcnow
from contestday.db.writer import Prepared, Retry, insert_or_ignore, row_values, run_in_session, run_job, table
from contestday.web.errors import Refusal
from judging import audit
from judging.models import ItemStage
from registration.checkin.models import Attendance, SeatAssignment, SeatMove, SeatSession
from registration.entries.models import Entry
from scoring.time_used import TimeProblem, parse_seconds, seconds_used

__all__ = ["MAX_ROWS", "TimeRow", "TimeUsed", "entry_times", "hand_in", "handed_in_message", "parse_moment",
           "record_hand_in", "seat_times", "set_times", "time_state"]

MAX_ROWS = 5_000
FUTURE_SLACK = timedelta(minutes=2)  # a tablet's clock a little ahead is fine; an hour ahead is not


class TimeUsed(SQLModel, table=True):
    """An entry's hand-in (`handed_in_at`) or its time used as imported or corrected (`seconds`, which then
    stands as given)."""

    __tablename__ = "time_used"
    __table_args__ = (UniqueConstraint("entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False,
                                          index=True))
    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("entry.id", ondelete="CASCADE"), nullable=False))
    handed_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    seconds: int | None = None
    source: str = Field(max_length=16)  # tablet | console | import | correction
    reason: str = Field(default="", max_length=500)
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class TimeRow:
    """One row of an import: the seat or the ticket code, then the seconds or the hand-in time."""

    row: int
    seat: str = ""
    ticket: str = ""
    seconds: object = None
    finished_at: str = ""


_TU, _SA, _SS, _SM, _EN, _AT, _ST = (table(TimeUsed), table(SeatAssignment), table(SeatSession), table(SeatMove),
                                     table(Entry), table(Attendance), table(ItemStage))
_RETURNED = (select(func.coalesce(func.sum(_SM.c.minutes_returned), 0)).where(_SM.c.assignment_id == _SA.c.id)
             .scalar_subquery())
# the present, seated entries of an item with their session's start, the minutes given back and their time
_SEATS = (select(_SA.c.seat_label, _EN.c.ticket_code, _EN.c.id, _SS.c.starts_at, _RETURNED, _TU.c.handed_in_at,
                 _TU.c.seconds)
          .select_from(_SA.join(_EN, _EN.c.id == _SA.c.entry_id).join(_SS, _SS.c.id == _SA.c.session_id)
                       .join(_AT, sa.and_(_AT.c.entry_id == _EN.c.id, _AT.c.status == "present"))
                       .outerjoin(_TU, _TU.c.entry_id == _EN.c.id)))
_SEAT = Prepared(_SEATS.add_columns(_ST.c.scores_locked_at).outerjoin(_ST, _ST.c.item_id == _SA.c.item_id)
                 .where(_SA.c.item_id == bindparam("item_id"), _SA.c.seat_label == bindparam("seat")))


@dataclass(frozen=True)
class _Seated:
    seat: str
    ticket: str
    entry_id: int
    starts_at: datetime
    returned: int
    handed_in_at: datetime | None
    seconds: int | None

    def used(self) -> int | None:
        if self.seconds is not None:
            return self.seconds
        if self.handed_in_at is None:
            return None
        return seconds_used(self.starts_at, self.handed_in_at, self.returned)


def _seated(row: Sequence[Any]) -> _Seated:
    return _Seated(*row[:7])


def _link(conn: Connection, event_id: int, item_id: int, entry_id: int, by: str, device: str, reason: str,
          old: int | None, new: int | None) -> int:
    return audit.append_link(conn, event_id, "time_used", actor=by, device=device, reason=reason, item_id=item_id,
                             entry_id=entry_id, old=(None if old is None else Decimal(old), None),
                             new=(None if new is None else Decimal(new), None)).seq


def parse_moment(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise TimeProblem("invalid_time", f"时间“{raw[:40]}”格式不正确，应如 2026-10-20T10:30:00+08:00",
                          f"{raw[:40]!r} is not a date-time like 2026-10-20T10:30:00+08:00") from None
    if moment.tzinfo is None:
        raise TimeProblem("invalid_time", "时间须注明时区，如 +08:00", "give the time zone, e.g. +08:00")
    return moment


def record_hand_in(conn: Connection, *, event_id: int, item_id: int, seat: str, at: datetime | None, by: str,
                   device: str, source: str) -> dict[str, Any]:
    """交卷 for the contestant at `seat` (at `at`, default now), in the connection's transaction. Answers
    `{"seat", "handed_in_at", "seconds", "already"}` (and the audit link's `seq` when it stored one); the first
    hand-in stands. Raises TimeProblem (`empty_seat`,
    `locked`, `before_start`, `invalid_time`)."""
    now = utcnow()
    moment = now if at is None else at
    if moment > now + FUTURE_SLACK:
        raise TimeProblem("invalid_time", "交卷时间晚于当前时间，请检查平板的时钟",
                          "the hand-in time is in the future: check the tablet's clock")
    row = _SEAT.execute(conn, {"item_id": item_id, "seat": seat}).first()
    if row is None:
        raise TimeProblem("empty_seat", f"赛位 {seat} 没有到场的选手", f"nobody present sits at {seat}")
    found, locked = _seated(row), row[7]
    if found.handed_in_at is not None or found.seconds is not None:
        return _answer(found, already=True)
    if locked is not None:
        raise TimeProblem("locked", "成绩已锁定：用时请由裁判长更正（须填写原因）",
                          "scores are locked: the chief judge corrects the time used, with a reason")
    seconds = seconds_used(found.starts_at, moment, found.returned)  # refuses a hand-in before the start
    stored = insert_or_ignore(conn, TimeUsed).execute(conn, row_values(
        TimeUsed, item_id=item_id, entry_id=found.entry_id, handed_in_at=moment, source=source, by=by[:80]))
    if stored.rowcount != 1:
        raise Retry()  # handed in meanwhile on another connection: the first stands
    seq = _link(conn, event_id, item_id, found.entry_id, by, device, "交卷", None, seconds)
    fresh = _Seated(found.seat, found.ticket, found.entry_id, found.starts_at, found.returned, moment, None)
    return _answer(fresh, already=False) | {"seq": seq}


def _answer(found: _Seated, already: bool) -> dict[str, Any]:
    return {"seat": found.seat, "handed_in_at": None if found.handed_in_at is None else found.handed_in_at.isoformat(),
            "seconds": found.used(), "already": already}


async def hand_in(session: AsyncSession, event_id: int, item_id: int, seat: str, by: str, *,
                  at: datetime | None = None, source: str = "console") -> dict[str, Any]:
    """`record_hand_in` in a session's transaction, committed; refusals as `Refusal`."""
    try:
        return await run_job(session, lambda conn: record_hand_in(
            conn, event_id=event_id, item_id=item_id, seat=seat, at=at, by=by, device=source, source=source),
            attempts=3)
    except TimeProblem as problem:
        raise Refusal(404 if problem.code == "empty_seat" else 409 if problem.code == "locked" else 422,
                      problem.code, problem.zh, problem.en, field="seat" if problem.code == "empty_seat" else None
                      ) from None


async def _all_seated(session: AsyncSession, item_id: int) -> list[_Seated]:
    connection = await session.connection()
    rows = (await connection.execute(_SEATS.where(_SA.c.item_id == item_id).order_by(_SA.c.seat_label))).all()
    return [_seated(r) for r in rows]


async def entry_times(session: AsyncSession, item_id: int) -> dict[int, int]:
    """Entry id → whole seconds used, for each present, seated entry that has a time."""
    return {found.entry_id: used for found in await _all_seated(session, item_id)
            if (used := found.used()) is not None}


async def seat_times(session: AsyncSession, item_id: int) -> dict[str, int]:
    """Seat → whole seconds used, for each present, seated entry that has a time (the tablet's and the console's
    snapshots: blind)."""
    return {found.seat: used for found in await _all_seated(session, item_id) if (used := found.used()) is not None}


def handed_in_message(item_code: str, done: dict[str, Any], seq: int) -> dict[str, Any]:
    """What the consoles hear after a hand-in committed (`done`: `record_hand_in`'s answer), in audit order."""
    return {"type": "handed_in", "seq": seq, "item": item_code, "seat": done["seat"], "seconds": done["seconds"]}


async def time_state(session: AsyncSession, item_id: int) -> dict[str, Any]:
    """Every present, seated entry's time (blind: seats only) and who has none yet."""
    seated = await _all_seated(session, item_id)
    return {"times": [_answer(s, already=True) | {"missing": s.used() is None} for s in seated],
            "missing": [s.seat for s in seated if s.used() is None]}


def _problem(row: int, code: str, zh: str, en: str, column: str | None = None) -> dict[str, Any]:
    return {"row": row, "code": code, "column": column, "message": zh, "message_en": en}


async def set_times(session: AsyncSession, event_id: int, item_id: int, rows: Sequence[TimeRow], by: str,
                    reason: str = "") -> dict[str, Any]:
    """Import or correct times used, all or nothing: 422 `time_refused` with every row's problems (unknown seat
    or ticket, a duplicate, a time that is not seconds or h:mm:ss, out of range, a hand-in before the start);
    after the lock a reason is required (422 `reason_required`). Each change is an audit link. Committed
    here."""
    if not rows:
        raise Refusal(422, "empty_file", "没有要导入的用时", "no times to import")
    if len(rows) > MAX_ROWS:
        raise Refusal(413, "too_many_rows", f"一次最多导入 {MAX_ROWS} 行用时", f"at most {MAX_ROWS} rows per import")
    seated = await _all_seated(session, item_id)
    by_seat = {s.seat: s for s in seated}
    by_ticket = {s.ticket: s for s in seated}
    problems: list[dict[str, Any]] = []
    planned: dict[int, tuple[_Seated, int | None, datetime | None, int]] = {}
    seen: dict[int, int] = {}
    for r in rows:
        found = by_seat.get(r.seat.strip()) if r.seat.strip() else by_ticket.get(r.ticket.strip().upper())
        if found is None:
            who = r.seat.strip() or r.ticket.strip()
            problems.append(_problem(r.row, "unknown_seat",
                                     f"第 {r.row} 行：“{who[:20]}”不是本赛项到场选手的赛位或凭证号",
                                     f"row {r.row}: {who[:20]!r} is no present contestant's seat or ticket",
                                     "seat" if r.seat.strip() else "ticket"))
            continue
        if found.entry_id in seen:
            problems.append(_problem(r.row, "duplicate_row",
                                     f"第 {r.row} 行：赛位 {found.seat} 与第 {seen[found.entry_id]} 行重复",
                                     f"row {r.row}: seat {found.seat} repeats row {seen[found.entry_id]}"))
            continue
        seen[found.entry_id] = r.row
        try:
            if r.finished_at.strip():
                moment = parse_moment(r.finished_at)
                planned[found.entry_id] = (found, None, moment, seconds_used(found.starts_at, moment, found.returned))
            else:
                seconds = parse_seconds(r.seconds)
                planned[found.entry_id] = (found, seconds, None, seconds)
        except TimeProblem as problem:
            problems.append(_problem(r.row, problem.code, f"第 {r.row} 行：{problem.zh}", f"row {r.row}: {problem.en}",
                                     "finished_at" if r.finished_at.strip() else "seconds"))
    if problems:
        raise Refusal(422, "time_refused", f"用时表有 {len({p['row'] for p in problems})} 行不能导入，未导入任何用时",
                      f"{len({p['row'] for p in problems})} row(s) refused: nothing was imported", errors=problems)
    connection = await session.connection()
    locked = (await connection.execute(select(_ST.c.scores_locked_at).where(_ST.c.item_id == item_id))).scalar()
    reason = reason.strip()
    if locked is not None and not reason:
        raise Refusal(422, "reason_required", "成绩已锁定：更正用时须填写原因",
                      "scores are locked: correcting a time used needs a reason", field="reason")
    changes: list[dict[str, Any]] = []

    def apply(conn: Connection) -> None:
        changes.clear()  # a retried transaction starts again
        for found, seconds, moment, used in planned.values():
            old = found.used()
            if old == used and found.seconds == seconds and found.handed_in_at == moment:
                continue
            source = "correction" if old is not None else "import"
            values = {"handed_in_at": moment, "seconds": seconds, "source": source, "reason": reason[:500],
                      "by": by[:80], "at": utcnow()}
            stored = insert_or_ignore(conn, TimeUsed).execute(conn, row_values(
                TimeUsed, item_id=item_id, entry_id=found.entry_id, **values))
            if stored.rowcount != 1:
                conn.execute(sa.update(_TU).where(_TU.c.entry_id == found.entry_id).values(**values))
            _link(conn, event_id, item_id, found.entry_id, by, f"time-used:{source}", reason or source, old, used)
            changes.append({"seat": found.seat, "old": old, "new": used})

    await run_in_session(session, apply)
    return {"rows": len(rows), "changed": len(changes), "changes": changes}
