"""Contest day for the demo: every item gets a seat plan whose check-in window is open now (refreshed at each
start while nobody has drawn a seat in it), and the demo's ticket codes are listed in a CSV beside the
database, so the kiosk can be tried with a USB scanner, a phone camera or by typing."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from registration.checkin.models import Attendance, SeatAssignment
from registration.checkin.seats import SessionPlan, replace_plan
from registration.entries.models import Entry, EntryMember
from registration.entries.tickets import format_code
from registration.events.models import Item

__all__ = ["refresh_demo_seat_plans", "write_demo_tickets"]


async def refresh_demo_seat_plans(session: AsyncSession, event_id: int) -> int:
    """One session per 40 entries, starting two hours from now (on the hour), check-in open from a day
    before; items where seats are already drawn keep theirs. Returns how many items were (re)planned."""
    start = (utcnow() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    sizes = dict((await session.exec(select(Entry.item_id, func.count()).where(
        Entry.event_id == event_id, Entry.state == "active").group_by(col(Entry.item_id)))).all())
    drawn = set((await session.exec(select(SeatAssignment.item_id).distinct())).all())
    planned = 0
    for item in (await session.exec(select(Item).where(Item.event_id == event_id))).all():
        if item.id in drawn:
            continue
        count = max(10, sizes.get(item.id or 0, 0) + 5)
        sessions = -(-count // 40)
        plans = [SessionPlan(f"第{n + 1}场", start + timedelta(hours=3 * n), -(-count // sessions), "ABCDEF"[n],
                             checkin_before_min=24 * 60, checkin_after_min=15 + 180 * (sessions - 1 - n))
                 for n in range(sessions)]
        await replace_plan(session, item.id or 0, plans)
        planned += 1
    return planned


async def write_demo_tickets(session: AsyncSession, event_id: int, path: Path) -> list[tuple[str, str, str]]:
    """Write `path` (CSV: 姓名, 赛项, 组别, 单位, 参赛凭证码) and return the first few rows for the console."""
    rows = (await session.exec(
        select(Entry, EntryMember.name, Item.name)
        .join(EntryMember, col(EntryMember.entry_id) == Entry.id).join(Item, col(Item.id) == Entry.item_id)
        .where(Entry.event_id == event_id, Entry.state == "active", EntryMember.position == 0)
        .order_by(col(Item.position), col(Entry.id)))).all()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:  # BOM: Excel opens it in Chinese
        writer = csv.writer(handle)
        writer.writerow(["姓名", "赛项", "组别", "单位", "参赛凭证码"])
        writer.writerows([name, item, e.group_name, e.unit, format_code(e.ticket_code)] for e, name, item in rows)
    checked_in = set((await session.exec(select(Attendance.entry_id).where(Attendance.event_id == event_id))).all())
    return [(name, item, e.ticket_code) for e, name, item in rows if e.id not in checked_in][:3]
