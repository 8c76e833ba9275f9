"""The sealed mapping. Judges see seats only; the encryption judge holds entry → draw number → seat and
reveals it layer by layer once the item's scores are locked: layer 1 seat → draw number, layer 2
draw number → entry. Every reveal is logged. The item's stage (`ItemStage`: the lock and the layer revealed)
is set here only: the chief judge's console locks through `lock_scores`, the encryption judge reveals through
`reveal`; its routes are judging/sealed_routes.py."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from contestday.web.errors import Refusal
from judging.models import ItemStage, RevealLog
from registration.checkin.models import Attendance, SeatAssignment, SeatSession
from registration.checkin.seats import seat_labels
from registration.entries.models import Entry, EntryMember

__all__ = ["blind_seats", "full_mapping", "lock_scores", "reveal", "revealed_mapping", "stage_of"]


async def stage_of(session: AsyncSession, item_id: int) -> ItemStage:
    stage = (await session.exec(select(ItemStage).where(ItemStage.item_id == item_id))).first()
    return stage or ItemStage(item_id=item_id)


async def lock_scores(session: AsyncSession, item_id: int, by: str, locked: bool = True) -> ItemStage:
    """The gate decryption checks (judging locks and, with a reason, unlocks). Caller commits."""
    stage = await stage_of(session, item_id)
    if not locked and stage.revealed_layer:
        raise Refusal(409, "already_revealed", "已解密，不能再解锁成绩",
                       "already decrypted: scores cannot be unlocked")
    stage.scores_locked_at, stage.scores_locked_by = (utcnow(), by) if locked else (None, None)
    session.add(stage)
    return stage


async def blind_seats(session: AsyncSession, item_id: int) -> list[dict[str, Any]]:
    """Every seat of the item with whether someone sits there: nothing else (no entry, no draw number)."""
    sessions = (await session.exec(select(SeatSession).where(SeatSession.item_id == item_id)
                                   .order_by(col(SeatSession.position)))).all()
    taken = set((await session.exec(
        select(SeatAssignment.session_id, SeatAssignment.seat_label).join(
            Attendance, col(Attendance.entry_id) == SeatAssignment.entry_id)
        .where(SeatAssignment.item_id == item_id, Attendance.status == "present"))).all())
    return [{"session": s.name, "seat": label, "occupied": (s.id, label) in taken}
            for s in sessions for label in seat_labels(s)]


async def full_mapping(session: AsyncSession, item_id: int) -> list[dict[str, Any]]:
    """The encryption judge's sealed list: seat, draw number, entry, names and unit."""
    rows = (await session.exec(
        select(SeatAssignment, SeatSession, Entry).join(SeatSession, col(SeatSession.id) == SeatAssignment.session_id)
        .join(Entry, col(Entry.id) == SeatAssignment.entry_id).where(SeatAssignment.item_id == item_id)
        .order_by(col(SeatSession.position), col(SeatAssignment.seat_label)))).all()
    names: dict[int, list[str]] = {}
    entry_ids = [e.id for _, _, e in rows]
    for m in (await session.exec(select(EntryMember).where(col(EntryMember.entry_id).in_(entry_ids))
                                 .order_by(col(EntryMember.position)))).all():
        names.setdefault(m.entry_id, []).append(m.name)
    return [{"session": s.name, "seat": a.seat_label, "draw_number": a.draw_number, "registration_id": e.id,
             "names": names.get(e.id or 0, []), "unit": e.unit, "group": e.group_name} for a, s, e in rows]


async def revealed_mapping(session: AsyncSession, item_id: int) -> list[dict[str, Any]]:
    """As much of the mapping as has been revealed (what the chief judge and results may use)."""
    layer = (await stage_of(session, item_id)).revealed_layer
    if layer == 0:
        return []
    keep = {"session", "seat", "draw_number"} if layer == 1 else None
    return [{k: v for k, v in row.items() if keep is None or k in keep}
            for row in await full_mapping(session, item_id)]


async def reveal(session: AsyncSession, item_id: int, layer: int, by: str) -> list[dict[str, Any]]:
    """Reveal the next layer; only after the scores are locked, one layer at a time; logged. Commits."""
    stage = await stage_of(session, item_id)
    if stage.scores_locked_at is None:
        raise Refusal(409, "scores_not_locked", "成绩尚未锁定，不能解密", "scores are not locked: no decryption yet")
    if layer != stage.revealed_layer + 1 or layer > 2:
        raise Refusal(409, "wrong_layer", f"应逐层解密：下一层是第 {stage.revealed_layer + 1} 层",
                       f"decrypt layer by layer: next is layer {stage.revealed_layer + 1}",
                       next_layer=stage.revealed_layer + 1)
    stage.revealed_layer = layer
    session.add(stage)
    session.add(RevealLog(item_id=item_id, layer=layer, by=by))
    await session.commit()
    return await revealed_mapping(session, item_id)
