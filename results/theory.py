"""Theory scores on the server (#14 A.1): an item's theory sheet is imported all or nothing, then confirmed by a
second person before it counts (four eyes, as on the paper path); every change goes into the audit chain with
its old and new value, and a change to a confirmed score needs a reason.

Invariants in the schema: one theory score per person (UNIQUE member_id) and at most one import of an item
waiting for confirmation (`pending_item_id` is the item's id while pending, NULL after: UNIQUE); confirming is
a guarded UPDATE of the import's state, so two people confirming at once confirm it once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import Cents, UTCDateTime, utcnow
from contestday.web.errors import Refusal
from judging import audit
from registration.entries.models import Entry, EntryMember
from registration.entries.personal import PersonalData
from registration.events.models import Item
from scoring.marking import team_theory
from scoring.theory import Candidate, TheoryMark, TheoryRow, check_theory_rows

__all__ = ["MAX_ROWS", "TheoryImport", "TheoryScore", "confirm_import", "discard_import", "entry_theories",
           "read_theory_sheet",
           "stage_import", "theory_state"]

MAX_ROWS = 5_000  # one item's contestants, with room; one import is one transaction


def _fk(target: str, nullable: bool = False) -> Any:
    return Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=nullable)


class TheoryImport(SQLModel, table=True):
    """One import of an item's theory sheet: pending until a second person confirms it (or it is discarded)."""

    __tablename__ = "theory_import"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    pending_item_id: int | None = Field(default=None, sa_column=Column(Integer, unique=True, nullable=True))
    state: str = Field(default="pending", max_length=16)  # pending | confirmed | discarded
    filename: str = Field(default="", max_length=200)
    marks: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    reason: str = Field(default="", max_length=500)  # required when it changes a confirmed score
    imported_by: str = Field(max_length=80)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TheoryScore(SQLModel, table=True):
    """A person's theory score for their entry's item, as last confirmed; 0 with `absent_reason` when missed."""

    __tablename__ = "theory_score"
    __table_args__ = (UniqueConstraint("member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    entry_id: int = Field(sa_column=_fk("entry.id"))
    member_id: int = Field(sa_column=_fk("entry_member.id"))
    value: Decimal = Field(sa_type=Cents)
    absent_reason: str | None = Field(default=None, max_length=200)
    import_id: int = Field(sa_column=_fk("theory_import.id"))
    confirmed_by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def _candidates(session: AsyncSession, item_id: int) -> list[Candidate]:
    """The people of the item's active entries (only the columns the checks and the ranking need)."""
    connection = await session.connection()  # a Core select: sqlmodel's is typed for at most four columns
    rows = (await connection.execute(
        sa.select(col(EntryMember.id), col(EntryMember.entry_id), col(EntryMember.name), col(EntryMember.person_hash),
                  col(Entry.ticket_code))
        .join(Entry, col(Entry.id) == col(EntryMember.entry_id))
        .where(col(Entry.item_id) == item_id, col(Entry.state) == "active"))).all()
    return [Candidate(member_id or 0, entry_id, name, key, ticket) for member_id, entry_id, name, key, ticket in rows]


async def _current(session: AsyncSession, item_id: int) -> dict[int, TheoryScore]:
    return {s.member_id: s for s in (await session.exec(
        select(TheoryScore).where(TheoryScore.item_id == item_id))).all()}


def _mark_dict(m: TheoryMark) -> dict[str, Any]:
    return {"row": m.row, "member_id": m.member_id, "entry_id": m.entry_id, "value": f"{m.value:.2f}",
            "absent_reason": m.absent_reason}


async def stage_import(session: AsyncSession, item: Item, rows: Sequence[TheoryRow], personal: PersonalData,
                       by: str, *, filename: str = "", reason: str = "", dry_run: bool = False) -> dict[str, Any]:
    """Check every row (422 `theory_refused` with each row's problems; nothing stored) and, unless `dry_run`,
    store the import as pending for a second person to confirm (409 `theory_import_pending` while another
    waits). A row changing a confirmed score needs `reason` (422 `reason_required`). The caller commits."""
    if len(rows) > MAX_ROWS:
        raise Refusal(413, "too_many_rows", f"一次最多导入 {MAX_ROWS} 行理论成绩（本次 {len(rows)} 行）",
                       f"at most {MAX_ROWS} theory rows per import ({len(rows)} given)")
    candidates = await _candidates(session, item.id or 0)
    names = {c.member_id: c.name for c in candidates}
    checked = check_theory_rows(rows, candidates, personal.person_hash)
    if checked.problems:
        raise Refusal(422, "theory_refused",
                       f"理论成绩表有 {len({p.row for p in checked.problems})} 行不能导入，未导入任何成绩",
                       f"{len({p.row for p in checked.problems})} row(s) refused: nothing was imported",
                       errors=[p.as_dict() for p in checked.problems])
    current = await _current(session, item.id or 0)
    changes = []
    for m in checked.marks:
        old = current.get(m.member_id)
        if old is None or old.value != m.value or old.absent_reason != m.absent_reason:
            changes.append({"row": m.row, "name": names.get(m.member_id, ""),
                            "old": None if old is None else f"{old.value:.2f}", "new": f"{m.value:.2f}",
                            "absent_reason": m.absent_reason})
    corrections = [c for c in changes if c["old"] is not None]
    reason = reason.strip()
    if corrections and not reason:
        raise Refusal(422, "reason_required",
                       f"有 {len(corrections)} 人的理论成绩已确认过，更正须填写原因",
                       f"{len(corrections)} confirmed theory score(s) would change: a reason is required",
                       field="reason")
    answer: dict[str, Any] = {"rows": len(checked.marks), "changes": changes, "dry_run": dry_run,
                              "absent": sum(1 for m in checked.marks if m.absent_reason)}
    if dry_run:
        return answer
    staged = TheoryImport(item_id=item.id or 0, pending_item_id=item.id, filename=filename[:200],
                          marks=[_mark_dict(m) for m in checked.marks], reason=reason[:500], imported_by=by[:80])
    session.add(staged)
    try:
        await session.flush()
    except IntegrityError:
        raise Refusal(409, "theory_import_pending",
                       "本赛项已有一份理论成绩待确认：请先确认或作废它",
                       "another theory import of this item waits for confirmation: confirm or discard it "
                       "first") from None
    return {**answer, "import_id": staged.id, "state": "pending", "imported_by": staged.imported_by}


async def _decide(session: AsyncSession, item: Item, import_id: int, state: str, by: str) -> TheoryImport:
    """Move a pending import of `item` to `state` (a guarded UPDATE: decided once, however many try)."""
    staged = await session.get(TheoryImport, import_id)
    if staged is None or staged.item_id != item.id:
        raise Refusal(404, "unknown_import", "没有这份理论成绩导入", "no such theory import")
    if staged.state != "pending":
        raise Refusal(409, "import_decided", f"这份导入已{ '确认' if staged.state == 'confirmed' else '作废'}",
                       f"this import is {staged.state} already")
    if state == "confirmed" and staged.imported_by == by:
        raise Refusal(409, "four_eyes", "理论成绩须由导入人以外的另一人确认",
                       "the import must be confirmed by someone other than the person who imported it")
    moved = await session.exec(update(TheoryImport).where(
        col(TheoryImport.id) == import_id, col(TheoryImport.state) == "pending")
        .values(state=state, pending_item_id=None, decided_by=by[:80], decided_at=utcnow()))
    if moved.rowcount != 1:
        raise Refusal(409, "import_decided", "这份导入已被他人处理", "someone else decided this import just now")
    await session.refresh(staged)
    return staged


async def confirm_import(session: AsyncSession, item: Item, import_id: int, by: str) -> dict[str, Any]:
    """The second person confirms: the scores count from now, each change a link of the audit chain (old and
    new value; the reason: the person's absence, else the import's). The caller commits."""
    staged = await _decide(session, item, import_id, "confirmed", by)
    current = await _current(session, item.id or 0)
    changed = 0
    for m in staged.marks:
        value, absent = Decimal(m["value"]), m["absent_reason"]
        old = current.get(m["member_id"])
        if old is not None and old.value == value and old.absent_reason == absent:
            continue
        before = None if old is None else old.value
        if old is None:
            session.add(TheoryScore(item_id=item.id or 0, entry_id=m["entry_id"], member_id=m["member_id"],
                                    value=value, absent_reason=absent, import_id=staged.id or 0,
                                    confirmed_by=by[:80]))
        else:
            old.value, old.absent_reason, old.import_id, old.confirmed_by, old.at = (
                value, absent, staged.id or 0, by[:80], utcnow())
            session.add(old)
        await audit.append(session, item.event_id, "theory", actor=by, device=f"theory-import:{staged.id}",
                           reason=(f"缺考：{absent}" if absent else staged.reason), item_id=item.id,
                           entry_id=m["entry_id"], old=(before, None), new=(value, None))
        changed += 1
    await session.flush()
    return {"import_id": staged.id, "state": "confirmed", "confirmed_by": by, "changed": changed,
            "rows": len(staged.marks)}


async def discard_import(session: AsyncSession, item: Item, import_id: int, by: str) -> dict[str, Any]:
    """A pending import set aside (a wrong file): nothing of it counts. The caller commits."""
    staged = await _decide(session, item, import_id, "discarded", by)
    return {"import_id": staged.id, "state": "discarded", "discarded_by": by}


async def entry_theories(session: AsyncSession, item_id: int) -> dict[int, Decimal | None]:
    """Each active entry's theory as the ranking uses it: a person's confirmed score, a team's the mean of its
    members' (scoring.marking.team_theory); None while a member has none."""
    scores = {s.member_id: s.value for s in (await _current(session, item_id)).values()}
    by_entry: dict[int, list[Decimal | None]] = {}
    for person in await _candidates(session, item_id):
        by_entry.setdefault(person.entry_id, []).append(scores.get(person.member_id))
    return {entry_id: None if any(v is None for v in values) else team_theory(values)
            for entry_id, values in by_entry.items()}


async def theory_state(session: AsyncSession, item: Item) -> dict[str, Any]:
    """What the item's theory stands at: the import waiting for confirmation (if any), the confirmed scores,
    and who of the active entries has none yet."""
    candidates = await _candidates(session, item.id or 0)
    names = {c.member_id: c.name for c in candidates}
    current = await _current(session, item.id or 0)
    pending = (await session.exec(select(TheoryImport).where(TheoryImport.pending_item_id == item.id))).first()
    return {
        "item": item.code, "theory_weight": str(item.theory_weight),
        "pending": None if pending is None else {
            "import_id": pending.id, "imported_by": pending.imported_by, "at": pending.imported_at.isoformat(),
            "filename": pending.filename, "rows": len(pending.marks), "reason": pending.reason},
        "scores": [{"member_id": s.member_id, "entry_id": s.entry_id, "name": names.get(s.member_id, ""),
                    "theory": f"{s.value:.2f}", "absent_reason": s.absent_reason, "confirmed_by": s.confirmed_by}
                   for s in sorted(current.values(), key=lambda s: s.member_id)],
        "missing": [{"member_id": c.member_id, "entry_id": c.entry_id, "name": c.name}
                    for c in candidates if c.member_id not in current],
    }


# --- the sheet ---------------------------------------------------------------------------------------------

_HEADERS = {"身份证号": "id_number", "身份证号码": "id_number", "证件号码": "id_number", "id_number": "id_number",
            "参赛凭证号": "ticket", "凭证号": "ticket", "参赛凭证": "ticket", "ticket_code": "ticket",
            "ticket": "ticket",
            "姓名": "name", "name": "name", "理论成绩": "score", "理论": "score", "成绩": "score", "分数": "score",
            "score": "score", "theory": "score", "缺考": "absent", "缺考原因": "absent", "absent": "absent"}


def _header(text: str) -> str | None:
    key = "".join(text.split()).lstrip("*")
    return _HEADERS.get(key) or _HEADERS.get(key.lower())


def read_theory_sheet(data: bytes, filename: str) -> list[TheoryRow]:
    """An .xlsx or .csv theory sheet as rows (RosterError when it cannot be read as one)."""
    from registration.entries import roster

    rows, _ignored, present = roster.keyed_rows(
        roster.read_cells(data, filename), _header, {"score"},
        roster.RosterError("no_header", "找不到表头行（应含“身份证号”或“参赛凭证号”、“姓名”、“理论成绩”等列）",
                           "no header row (身份证号 or 参赛凭证号, 姓名, 理论成绩 …)"))
    if not present & {"id_number", "ticket"}:
        raise roster.RosterError("missing_columns", "缺少必需的列：身份证号（或参赛凭证号）",
                                 "required column missing: 身份证号 (or 参赛凭证号)")
    return [TheoryRow(r.number, r.text("id_number"), r.text("ticket"), r.text("name"), r.text("score"),
                      r.text("absent"), bool(r.cells.get("id_number") and r.cells["id_number"].numeric))
            for r in rows]
