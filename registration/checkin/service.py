"""Check-in use cases over a session: redeem a ticket (idempotent per nonce), mark no-shows absent.

Refusal codes: unknown_ticket (404); wrong_event, entry_withdrawn, entry_rejected, already_checked_in,
marked_absent (409); outside_checkin_window (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registration.base import insert_ignoring_conflicts, utcnow
from registration.checkin.models import Attendance, CheckinScan, SeatAssignment, SeatSession
from registration.entries.models import Entry, EntryMember
from registration.entries.tickets import normalise_code
from registration.events.models import Event, Item
from scoring.event_file import CHINA_TZ

__all__ = ["Answer", "attendance_counts", "checkin_window", "entry_card", "mark_absent", "redeem"]


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]


def _no(status: int, code: str, zh: str, en: str, **extra: Any) -> Answer:
    return Answer(status, {"status": "refused", "code": code, "message": zh, "message_en": en, **extra})


async def checkin_window(session: AsyncSession, item: Item, event: Event) -> tuple[datetime, datetime]:
    """From the first session's opening to the last session's closing; without a seat plan, the contest's
    first day (Beijing time)."""
    sessions = (await session.exec(select(SeatSession).where(SeatSession.item_id == item.id))).all()
    if sessions:
        return min(s.checkin_opens_at for s in sessions), max(s.checkin_closes_at for s in sessions)
    day = datetime.combine(event.starts_on, time(0), CHINA_TZ)
    return day, day + timedelta(days=1)


async def entry_card(session: AsyncSession, entry: Entry, item: Item) -> dict[str, Any]:
    """What the check-in desk needs to recognise the person: never the full ID number."""
    members = (await session.exec(select(EntryMember).where(EntryMember.entry_id == entry.id)
                                  .order_by(col(EntryMember.position)))).all()
    seat = (await session.exec(select(SeatAssignment).where(SeatAssignment.entry_id == entry.id))).first()
    return {
        "registration_id": entry.id,
        "item": item.code, "item_name": item.name, "group": entry.group_name, "unit": entry.unit,
        "members": [{"name": m.name, "gender": m.gender, "id_masked": m.id_masked,
                     "photo": f"/kiosk/photos/{entry.id}/{m.position}" if m.photo else None} for m in members],
        "seat": seat.seat_label if seat else None,
    }


async def _answer(session: AsyncSession, event_id: int, code: str, station: str, by: str | None,
                  now: datetime) -> tuple[Answer, int | None]:
    entry = (await session.exec(select(Entry).where(Entry.ticket_code == code))).first() if code else None
    if entry is None:
        return _no(404, "unknown_ticket", "无效的参赛凭证：查无此码", "unknown ticket"), None
    if entry.event_id != event_id:
        other = await session.get(Event, entry.event_id)
        return _no(409, "wrong_event", f"这是另一赛事的参赛凭证（{other.name if other else '?'}）",
                   "this ticket belongs to another event"), entry.id
    if entry.state == "withdrawn":
        return _no(409, "entry_withdrawn", "该报名已撤回，不能检录", "this entry was withdrawn"), entry.id
    if entry.state == "rejected":
        return _no(409, "entry_rejected", "该报名未通过审核，不能检录", "this entry was rejected in review"), entry.id
    item = await session.get(Item, entry.item_id)
    event = await session.get(Event, event_id)
    assert item is not None and event is not None
    opens, closes = await checkin_window(session, item, event)
    if not opens <= now < closes:
        fmt = "%m-%d %H:%M"
        return _no(422, "outside_checkin_window",
                   f"不在检录时间内（{opens.astimezone(CHINA_TZ):{fmt}}–{closes.astimezone(CHINA_TZ):{fmt}}）",
                   "outside the check-in window", opens_at=opens.isoformat(), closes_at=closes.isoformat()), entry.id
    try:
        async with session.begin_nested():
            session.add(Attendance(entry_id=entry.id or 0, event_id=event_id, status="present", at=now,
                                   station=station, by=by))
    except IntegrityError:
        first = (await session.exec(select(Attendance).where(Attendance.entry_id == entry.id))).one()
        card = await entry_card(session, entry, item)
        if first.status == "absent":
            return _no(409, "marked_absent", "该选手已被记为缺考，请联系裁判长", "marked absent: ask the chief judge",
                       entry=card), entry.id
        return _no(409, "already_checked_in",
                   f"已于 {first.at.astimezone(CHINA_TZ):%H:%M:%S} 在 {first.station} 检录",
                   f"already checked in at {first.at.astimezone(CHINA_TZ):%H:%M:%S} ({first.station})",
                   first_at=first.at.isoformat(), station=first.station, entry=card), entry.id
    card = await entry_card(session, entry, item)
    return Answer(200, {"status": "ok", "checked_in_at": now.isoformat(), "station": station, "entry": card}), entry.id


async def _prior(session: AsyncSession, event_id: int, nonce: str) -> Answer | None:
    scan = (await session.exec(select(CheckinScan).where(CheckinScan.event_id == event_id,
                                                         CheckinScan.nonce == nonce))).first()
    return Answer(scan.status_code, scan.response) if scan else None


async def redeem(session: AsyncSession, event_id: int, raw_code: str, station: str, nonce: str,
                 by: str | None = None, now: datetime | None = None) -> Answer:
    """Check a ticket in. The same nonce always gets the same answer; every scan is logged; commits."""
    prior = await _prior(session, event_id, nonce)
    if prior is not None:
        return prior
    code = normalise_code(raw_code)
    answer, entry_id = await _answer(session, event_id, code, station, by, now or utcnow())
    session.add(CheckinScan(event_id=event_id, nonce=nonce, station=station, code_hint=code[:4], entry_id=entry_id,
                            outcome=answer.body.get("code", "ok"), status_code=answer.status_code,
                            response=answer.body, at=now or utcnow()))
    try:
        await session.commit()
    except IntegrityError:  # the same nonce raced in from a retry: the first one's answer stands
        await session.rollback()
        prior = await _prior(session, event_id, nonce)
        assert prior is not None
        return prior
    return answer


async def mark_absent(session: AsyncSession, event_id: int, item_id: int, by: str, now: datetime | None = None) -> int:
    """At the start: every active entry of the item not checked in becomes absent. A check-in racing with
    this wins or loses on the unique attendance row, never both. Returns how many were marked."""
    entries = (await session.exec(
        select(Entry.id).where(Entry.event_id == event_id, Entry.item_id == item_id, Entry.state == "active",
                               col(Entry.id).not_in(select(Attendance.entry_id))))).all()
    if not entries:
        return 0
    at = now or utcnow()
    rows = [{"entry_id": e, "event_id": event_id, "status": "absent", "at": at, "station": "—", "by": by}
            for e in entries]
    result = await session.exec(insert_ignoring_conflicts(session, Attendance, rows))
    await session.commit()
    return int(result.rowcount)


async def attendance_counts(session: AsyncSession, event_id: int) -> dict[int, dict[str, int]]:
    """Active entries per item: {item_id: {"present": n, "absent": n, "not_yet": n}}."""
    counts = (await session.exec(
        select(Entry.item_id, Attendance.status, func.count()).select_from(Entry)
        .outerjoin(Attendance, col(Attendance.entry_id) == Entry.id)
        .where(Entry.event_id == event_id, Entry.state == "active")
        .group_by(col(Entry.item_id), col(Attendance.status)))).all()
    table: dict[int, dict[str, int]] = {}
    for item_id, state, n in counts:
        table.setdefault(item_id, {"present": 0, "absent": 0, "not_yet": 0})[state or "not_yet"] += n
    return table
