"""Read-side queries of the check-in pages: the status per item (what the status API counts, as a query the
pages call directly), the check-in staff of the event and the seat-move log. Nothing here names a seated
contestant next to a seat: only the encryption judge's pages may do that (kiosk/seat_lists.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.models import User, UserRole
from judging import sealed
from registration.checkin.models import SeatAssignment, SeatMove, SeatSession
from registration.checkin.seats import seat_labels
from registration.checkin.service import attendance_counts
from registration.events.models import Item
from registration.events.service import event_or_404 as service_event_or_404
from registration.events.service import item_by_code

__all__ = ["ItemStatus", "checkin_staff", "event_or_404", "item_or_404", "item_status", "moves", "session_of_seat"]


@dataclass
class ItemStatus:
    code: str
    name: str
    present: int = 0
    absent: int = 0
    not_yet: int = 0
    sessions: int = 0
    seats: int = 0
    drawn: int = 0
    first_start: datetime | None = None
    scores_locked: bool = False
    revealed_layer: int = 0

    @property
    def total(self) -> int:
        return self.present + self.absent + self.not_yet


event_or_404 = service_event_or_404  # the event, or 404 `unknown_event` (registration/events/service.py)
item_or_404 = item_by_code  # the event's item by code, or 404 `unknown_item` (registration/events/service.py)


async def item_status(session: AsyncSession, event_id: int) -> list[ItemStatus]:
    """Every item of the event in its order, with the same counts as GET …/checkin/status (active entries:
    present, absent, not yet) plus its seat plan, seats drawn and where decryption stands."""
    items = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
    table = {i.id: ItemStatus(i.code, i.name) for i in items}
    for item_id, counts in (await attendance_counts(session, event_id)).items():
        row = table[item_id]
        row.present, row.absent, row.not_yet = counts["present"], counts["absent"], counts["not_yet"]
    plans = (await session.exec(
        select(SeatSession.item_id, func.count(), func.sum(SeatSession.seat_count), func.min(SeatSession.starts_at))
        .where(col(SeatSession.item_id).in_(list(table))).group_by(col(SeatSession.item_id)))).all()
    for item_id, n, seats, first in plans:
        table[item_id].sessions, table[item_id].seats, table[item_id].first_start = int(n), int(seats or 0), first
    drawn = (await session.exec(select(SeatAssignment.item_id, func.count())
                                .where(col(SeatAssignment.item_id).in_(list(table)))
                                .group_by(col(SeatAssignment.item_id)))).all()
    for item_id, n in drawn:
        table[item_id].drawn = int(n or 0)
    for key, row in table.items():
        stage = await sealed.stage_of(session, key or 0)
        row.scores_locked, row.revealed_layer = stage.scores_locked_at is not None, stage.revealed_layer
    return list(table.values())


async def checkin_staff(session: AsyncSession, event_id: int) -> list[User]:
    """Active users holding the check-in role for every event or for this one."""
    return list((await session.exec(
        select(User).join(UserRole, col(UserRole.user_id) == User.id)
        .where(UserRole.role == "checkin", col(User.active).is_(True),
               or_(col(UserRole.event_id).is_(None), UserRole.event_id == event_id))
        .order_by(col(User.name)).distinct())).all())


async def session_of_seat(session: AsyncSession, item_id: int, label: str) -> SeatSession | None:
    """The session holding a seat label: labels are unique across an item's sessions (read_plan refuses
    overlapping prefixes), so a label alone names the seat."""
    for s in (await session.exec(select(SeatSession).where(SeatSession.item_id == item_id))).all():
        if label in seat_labels(s):
            return s
    return None


async def moves(session: AsyncSession, event_id: int) -> list[tuple[SeatMove, str]]:
    """The event's seat moves, newest first, with the item code: seats and reasons, never names."""
    return [(m, code) for m, code in (await session.exec(
        select(SeatMove, Item.code).join(SeatAssignment, col(SeatAssignment.id) == SeatMove.assignment_id)
        .join(Item, col(Item.id) == SeatAssignment.item_id).where(Item.event_id == event_id)
        .order_by(col(SeatMove.at).desc()))).all()]
