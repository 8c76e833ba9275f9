"""The chief judge's console, read side: the state of one item as the console draws it.

Blind like the tablets: seats only, never a name or a unit (the console is for the chief judge and the
organiser, but it is on screen in the judging room before decryption). `seq` is the audit log's head at the
time of the snapshot, so the page can tell which channel messages it already holds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.writer import table
from contestday.web.errors import Refusal
from judging.analysis import Marks, Panel, cell_findings, distribution, fmt, severity
from judging.models import (
    AuditHead,
    CriterionLock,
    DeductionRuling,
    Judge,
    PanelMember,
    RemarkRequest,
    Score,
    SheetSubmission,
)
from judging.sealed import stage_of
from registration.checkin.models import Attendance, SeatAssignment, SeatSession
from registration.entries.models import Entry
from registration.events.models import Criterion, Item
from scoring.event_file import CriterionSpec

__all__ = ["MARKING_ROLES", "ItemState", "ScoreRow", "Seat", "console_snapshot", "findings_of", "item_or_404",
           "load_item_state", "snapshot_and_state", "spec_of"]

MARKING_ROLES = ("judge", "chief_judge")  # the roles apply_op lets mark
RESOLVED_SHOWN = 20  # the latest resolved re-mark requests the console lists (the audit log keeps them all)


@dataclass(frozen=True)
class Seat:
    label: str
    entry_id: int
    unit_key: str
    group: str


class ScoreRow(NamedTuple):
    """A stored mark as the console reads it: the columns, not an ORM object (an item of 500 judges holds
    tens of thousands; building an object per row was most of a snapshot's time)."""

    judge_id: int
    entry_id: int
    criterion_id: int
    value: Decimal | None
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class ItemState:
    item: Item
    criteria: list[Criterion]
    specs: list[CriterionSpec]
    seats: list[Seat]  # occupied (present) seats in seat-plan order
    members: list[tuple[PanelMember, Judge]]
    scores: list[tuple[ScoreRow, str, str]]  # (score, seat, criterion code), marks of present seats only
    marks: Marks  # non-blank values: (seat, criterion) → [(judge id, value)]
    rulings: dict[tuple[str, str], DeductionRuling] = field(default_factory=dict)  # (seat, criterion) → 裁定扣分

    @property
    def markers(self) -> list[tuple[PanelMember, Judge]]:
        return [(m, j) for m, j in self.members if m.role in MARKING_ROLES]

    def result_marks(self) -> Marks:
        """The marks results are computed from: a ruled deduction counts the chief judge's value alone (judge
        id 0), whatever the judges entered."""
        if not self.rulings:
            return self.marks
        return {**self.marks, **{cell: [(0, r.value)] for cell, r in self.rulings.items()}}

    @cached_property
    def findings(self) -> list[dict[str, Any]]:
        """`findings_of` this state, computed once (the console's snapshot and its ranking both read them);
        read it, never change it."""
        return _findings(self)


def findings_of(state: ItemState) -> list[dict[str, Any]]:
    """Findings per seat and criterion. Judges (role `judge`) are expected to mark; a chief judge may mark
    but is not waited for."""
    return state.findings


def _findings(state: ItemState) -> list[dict[str, Any]]:
    panel = Panel({j.id or 0: tuple(m.criteria) for m, j in state.markers if m.role == "judge"},
                  {j.id or 0: j.unit_key for m, j in state.markers})
    return cell_findings(state.specs, {s.label: s.unit_key for s in state.seats}, state.marks, panel,
                         {j.id or 0: j.name for _m, j in state.members}, state.rulings.keys())


async def item_or_404(session: AsyncSession, event_id: int, code: str | None) -> Item:
    """The item by code, or the event's first item when no code is given."""
    query = select(Item).where(Item.event_id == event_id)
    query = query.where(Item.code == code) if code else query.order_by(col(Item.position))
    item = (await session.exec(query)).first()
    if item is None or item.id is None:
        raise Refusal(404, "unknown_item", f"本赛事没有赛项“{code or ''}”", f"no item {code!r} in this event")
    return item


def spec_of(c: Criterion) -> CriterionSpec:
    return c.spec()


_SCORE = table(Score).c
_SCORE_ROWS = (sa_select(_SCORE.judge_id, _SCORE.entry_id, _SCORE.criterion_id, _SCORE.value, _SCORE.version,
                         _SCORE.updated_at)
               .where(_SCORE.item_id == bindparam("item_id")).order_by(_SCORE.judge_id, _SCORE.id))


async def load_item_state(session: AsyncSession, item: Item) -> ItemState:
    criteria = list((await session.exec(select(Criterion).where(Criterion.item_id == item.id)
                                        .order_by(col(Criterion.position)))).all())
    seat_rows = (await session.exec(
        select(SeatAssignment.seat_label, Entry.id, Entry.unit_key, Entry.group_name)
        .join(SeatSession, col(SeatSession.id) == SeatAssignment.session_id)
        .join(Entry, col(Entry.id) == SeatAssignment.entry_id)
        .join(Attendance, col(Attendance.entry_id) == SeatAssignment.entry_id)
        .where(SeatAssignment.item_id == item.id, Attendance.status == "present")
        .order_by(col(SeatSession.position), col(SeatAssignment.seat_label)))).all()
    seats = [Seat(label, entry_id or 0, unit_key, group) for label, entry_id, unit_key, group in seat_rows]
    members = list((await session.exec(
        select(PanelMember, Judge).join(Judge, col(Judge.id) == PanelMember.judge_id)
        .where(PanelMember.item_id == item.id).order_by(col(PanelMember.id)))).all())
    seat_of = {s.entry_id: s.label for s in seats}
    code_of = {c.id: c.code for c in criteria}
    rows = await session.exec(_SCORE_ROWS, params={"item_id": item.id})  # type: ignore[call-overload]
    scores = [(s, seat_of[s.entry_id], code_of[s.criterion_id]) for s in map(ScoreRow._make, rows.all())
              if s.entry_id in seat_of and s.criterion_id in code_of]
    marks: dict[tuple[str, str], list[tuple[int, Decimal]]] = defaultdict(list)
    for score, seat, code in scores:
        if score.value is not None:  # a cleared mark is no mark
            marks[(seat, code)].append((score.judge_id, score.value))
    rulings = {(seat_of[r.entry_id], code_of[r.criterion_id]): r
               for r in (await session.exec(select(DeductionRuling).where(DeductionRuling.item_id == item.id))).all()
               if r.entry_id in seat_of and r.criterion_id in code_of}
    return ItemState(item, criteria, [spec_of(c) for c in criteria], seats, members, scores, dict(marks), rulings)


async def console_snapshot(session: AsyncSession, event_id: int, item_code: str | None) -> dict[str, Any]:
    """Seats × criteria × judges with values and versions, the panel, locks, signed sheets, open re-mark
    requests (and the latest resolved ones), findings per seat and criterion, the chief judge's deduction
    rulings, and the judges' severity and the marks' distribution."""
    return (await snapshot_and_state(session, event_id, item_code))[0]


async def snapshot_and_state(session: AsyncSession, event_id: int, item_code: str | None,
                             ) -> tuple[dict[str, Any], ItemState]:
    """`console_snapshot` and the item state it was drawn from (the console's ranking reads the same)."""
    # the seq first: on a database where each statement sees the latest commit, the state read next holds at
    # least every change up to it (a change after it may be in it too: applying it again changes nothing)
    head = (await session.exec(select(AuditHead).where(AuditHead.event_id == event_id))).first()
    item = await item_or_404(session, event_id, item_code)
    state = await load_item_state(session, item)
    stage = await stage_of(session, item.id or 0)
    locks = {lock.criterion_id: lock for lock in (await session.exec(
        select(CriterionLock).where(CriterionLock.item_id == item.id))).all()}
    sheets = {s.judge_id: s for s in (await session.exec(
        select(SheetSubmission).where(SheetSubmission.item_id == item.id))).all()}
    remarks = (await session.exec(select(RemarkRequest).where(
        RemarkRequest.item_id == item.id, col(RemarkRequest.resolved_at).is_(None))
        .order_by(col(RemarkRequest.id)))).all()
    resolved = (await session.exec(select(RemarkRequest).where(
        RemarkRequest.item_id == item.id, col(RemarkRequest.resolved_at).is_not(None))
        .order_by(col(RemarkRequest.resolved_at).desc()).limit(RESOLVED_SHOWN))).all()
    markers = state.markers
    changed_at = {(s.judge_id, seat, code): s.updated_at for s, seat, code in state.scores}
    items = (await session.exec(select(Item.code, Item.name).where(Item.event_id == event_id)
                                .order_by(col(Item.position)))).all()
    return {
        "type": "snapshot", "seq": head.seq if head else 0, "event_id": event_id,
        "items": [{"code": code, "name": name} for code, name in items],
        "item": {"code": item.code, "name": item.name,
                 "locked": stage.scores_locked_at is not None, "locked_by": stage.scores_locked_by,
                 "revealed_layer": stage.revealed_layer},
        "criteria": [{"code": c.code, "name": c.name, "max": fmt(c.max), "kind": c.kind, "aggregate": c.aggregate,
                      "max_spread": fmt(c.max_spread), "locked": c.id in locks,
                      "locked_by": locks[c.id].by if c.id in locks else None} for c in state.criteria],
        "judges": [{"id": j.id, "name": j.name, "role": m.role, "criteria": list(m.criteria),
                    "submitted": j.id in sheets,
                    "signature": sheets[j.id or 0].signature if j.id in sheets else None}
                   for m, j in markers],
        "seats": [s.label for s in state.seats],
        "scores": [{"seat": seat, "criterion": code, "judge_id": s.judge_id, "value": fmt(s.value),
                    "version": s.version} for s, seat, code in state.scores],
        "remarks": [{"id": r.id, "seat": r.seat, "criterion": r.criterion, "judge_id": r.judge_id,
                     "message": r.message, "by": r.by, "at": r.created_at.isoformat(),
                     # answered: the mark changed after the request yet it is open (a request older than
                     # automatic resolution): the chief judge closes it
                     "answered": changed_at.get((r.judge_id, r.seat, r.criterion), r.created_at) > r.created_at}
                    for r in remarks],
        "remarks_resolved": [{"id": r.id, "seat": r.seat, "criterion": r.criterion, "judge_id": r.judge_id,
                              "message": r.message, "resolution": r.resolution, "resolved_by": r.resolved_by,
                              "note": r.resolution_note,
                              "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None}
                             for r in resolved],
        "findings": findings_of(state),
        "rulings": [{"seat": seat, "criterion": code, "value": fmt(r.value), "reason": r.reason, "by": r.by,
                     "at": r.at.isoformat()} for (seat, code), r in sorted(state.rulings.items())],
        "severity": severity(state.specs, state.marks),
        "distribution": distribution(state.specs, state.marks),
    }, state
