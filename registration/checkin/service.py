"""Check-in use cases over a session: redeem a ticket (idempotent per nonce), mark no-shows absent.

Refusal codes: unknown_ticket, unknown_registration (404); wrong_event, entry_withdrawn, entry_rejected,
already_checked_in, marked_absent (409); outside_checkin_window (422).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import insert_ignoring_conflicts, utcnow
from contestday.db.writer import Prepared, Retry, Writer, insert_or_ignore, run_job, table
from registration.checkin.models import Attendance, CheckinScan, SeatAssignment, SeatSession
from registration.entries.models import Entry, EntryMember
from registration.entries.tickets import normalise_code
from registration.events.models import Event, Item
from scoring.event_file import CHINA_TZ

__all__ = ["Answer", "attendance_counts", "checkin_window", "mark_absent", "redeem"]


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]


def _no(status: int, code: str, zh: str, en: str, **extra: Any) -> Answer:
    return Answer(status, {"status": "refused", "code": code, "message": zh, "message_en": en, **extra})


_EN, _EM, _SA, _SS, _AT, _CS = (table(Entry), table(EntryMember), table(SeatAssignment), table(SeatSession),
                                table(Attendance), table(CheckinScan))
_IT, _EV = table(Item), table(Event)
_PRIOR = Prepared(select(_CS.c.status_code, _CS.c.response).where(_CS.c.event_id == bindparam("event_id"),
                                                                  _CS.c.nonce == bindparam("nonce")))
_ENTRY = Prepared(select(_EN.c.id, _EN.c.event_id, _EN.c.item_id, _EN.c.state, _EN.c.group_name, _EN.c.unit)
                  .where(_EN.c.ticket_code == bindparam("code")))
_ENTRY_BY_ID = Prepared(select(_EN.c.id, _EN.c.event_id, _EN.c.item_id, _EN.c.state, _EN.c.group_name, _EN.c.unit)
                        .where(_EN.c.id == bindparam("entry_id")))
_EVENT_NAME = Prepared(select(_EV.c.name).where(_EV.c.id == bindparam("event_id")))
_ITEM = Prepared(select(_IT.c.code, _IT.c.name, _EV.c.starts_on)
                 .join_from(_IT, _EV, _EV.c.id == _IT.c.event_id).where(_IT.c.id == bindparam("item_id")))
_WINDOWS = Prepared(select(_SS.c.checkin_opens_at, _SS.c.checkin_closes_at)
                    .where(_SS.c.item_id == bindparam("item_id")).order_by(_SS.c.checkin_opens_at))
_FIRST = Prepared(select(_AT.c.status, _AT.c.at, _AT.c.station).where(_AT.c.entry_id == bindparam("entry_id")))
_MEMBERS = Prepared(select(_EM.c.name, _EM.c.gender, _EM.c.id_masked, _EM.c.position, _EM.c.photo)
                    .where(_EM.c.entry_id == bindparam("entry_id")).order_by(_EM.c.position))
_SEAT = Prepared(select(_SA.c.seat_label, _SS.c.name, _SS.c.starts_at)
                 .join_from(_SA, _SS, _SS.c.id == _SA.c.session_id).where(_SA.c.entry_id == bindparam("entry_id")))




def checkin_window(starts_on: date, windows: Sequence[tuple[datetime, datetime]],
                   now: datetime) -> tuple[datetime, datetime, bool]:
    """(opens, closes, open now). Each session has its own window: between two sessions' windows nobody is
    checked in, for the draw seats a person in the session whose window holds the check-in time. Refused,
    the window told is the next one to open (or the last one, when all are over). Without a seat plan, the
    contest's first day (Beijing time)."""
    if not windows:
        day = datetime.combine(starts_on, time(0), CHINA_TZ)
        return day, day + timedelta(days=1), day <= now < day + timedelta(days=1)
    for opens, closes in windows:
        if opens <= now < closes:
            return opens, closes, True
    later = [w for w in windows if w[0] > now]
    opens, closes = later[0] if later else max(windows, key=lambda w: w[1])
    return opens, closes, False


def _card(conn: Connection, entry: Any, item_code: str, item_name: str) -> dict[str, Any]:
    """What the check-in desk needs to recognise the person: never the full ID number."""
    entry_id = entry[0]
    members = _MEMBERS.execute(conn, {"entry_id": entry_id}).rows
    seat = _SEAT.execute(conn, {"entry_id": entry_id}).first()
    return {
        "registration_id": entry_id,
        "item": item_code, "item_name": item_name, "group": entry[4], "unit": entry[5],
        "members": [{"name": name, "gender": gender, "id_masked": masked,
                     "photo": f"/kiosk/photos/{entry_id}/{position}" if photo else None}
                    for name, gender, masked, position, photo in members],
        "seat": seat[0] if seat else None,
        # the session of a seat drawn before: the kiosk shows its day and start in Beijing time
        "seat_session": seat[1] if seat else None, "seat_starts_at": seat[2].isoformat() if seat else None,
    }


def _answer(conn: Connection, event_id: int, code: str, station: str, by: str | None,
            now: datetime, by_id: int | None = None) -> tuple[Answer, int | None]:
    if by_id is not None:  # the desk's search: an entry of another event is simply not found
        entry = _ENTRY_BY_ID.execute(conn, {"entry_id": by_id}).first()
        if entry is None or entry[1] != event_id:
            return _no(404, "unknown_registration", "找不到该报名", "no such registration"), None
    else:
        entry = _ENTRY.execute(conn, {"code": code}).first() if code else None
    if entry is None:
        return _no(404, "unknown_ticket", "无效的参赛凭证：查无此码", "unknown ticket"), None
    entry_id, entry_event, item_id, state = entry[:4]
    if entry_event != event_id:
        other = _EVENT_NAME.execute(conn, {"event_id": entry_event}).first()
        return _no(409, "wrong_event", f"这是另一赛事的参赛凭证（{other[0] if other else '?'}）",
                   "this ticket belongs to another event"), entry_id
    if state == "withdrawn":
        return _no(409, "entry_withdrawn", "该报名已撤回，不能检录", "this entry was withdrawn"), entry_id
    if state == "rejected":
        return _no(409, "entry_rejected", "该报名未通过审核，不能检录", "this entry was rejected in review"), entry_id
    item_row = _ITEM.execute(conn, {"item_id": item_id}).first()
    assert item_row is not None
    item_code, item_name, starts_on = item_row
    windows = [(o, c) for o, c in _WINDOWS.execute(conn, {"item_id": item_id}).rows]
    opens, closes, open_now = checkin_window(starts_on, windows, now)
    if not open_now:
        fmt = "%m-%d %H:%M"
        return _no(422, "outside_checkin_window",
                   f"不在检录时间内（{opens.astimezone(CHINA_TZ):{fmt}}–{closes.astimezone(CHINA_TZ):{fmt}}）",
                   "outside the check-in window", opens_at=opens.isoformat(), closes_at=closes.isoformat()), entry_id
    taken = insert_or_ignore(conn, Attendance).execute(conn, {
        "entry_id": entry_id, "event_id": event_id, "status": "present", "at": now, "station": station, "by": by})
    if taken.rowcount != 1:
        first = _FIRST.execute(conn, {"entry_id": entry_id}).first()
        assert first is not None
        status, first_at, first_station = first
        card = _card(conn, entry, item_code, item_name)
        if status == "absent":
            return _no(409, "marked_absent", "该选手已被记为缺考，请联系裁判长", "marked absent: ask the chief judge",
                       entry=card), entry_id
        return _no(409, "already_checked_in",
                   f"已于 {first_at.astimezone(CHINA_TZ):%H:%M:%S} 在 {first_station} 检录",
                   f"already checked in at {first_at.astimezone(CHINA_TZ):%H:%M:%S} ({first_station})",
                   first_at=first_at.isoformat(), station=first_station, entry=card), entry_id
    card = _card(conn, entry, item_code, item_name)
    return Answer(200, {"status": "ok", "checked_in_at": now.isoformat(), "station": station, "entry": card}), entry_id


def _redeem(conn: Connection, event_id: int, raw_code: str, station: str, nonce: str, by: str | None,
            now: datetime, by_id: int | None = None) -> Answer:
    prior = _PRIOR.execute(conn, {"event_id": event_id, "nonce": nonce}).first()
    if prior is not None:
        return Answer(prior[0], prior[1])
    code = normalise_code(raw_code) if by_id is None else ""
    answer, entry_id = _answer(conn, event_id, code, station, by, now, by_id)
    logged = insert_or_ignore(conn, CheckinScan).execute(conn, {
        "event_id": event_id, "nonce": nonce, "station": station,
        "code_hint": code[:4] if by_id is None else "search", "entry_id": entry_id,
        "outcome": answer.body.get("code", "ok"), "status_code": answer.status_code, "response": answer.body,
        "at": now})
    if logged.rowcount != 1:
        raise Retry()  # the same nonce stored meanwhile (PostgreSQL): its answer stands
    return answer


async def redeem(target: AsyncSession | Writer, event_id: int, raw_code: str, station: str, nonce: str,
                 by: str | None = None, now: datetime | None = None, entry_id: int | None = None) -> Answer:
    """Check a ticket in (or, with `entry_id`, the entry the desk found by search: logged with the code hint
    "search"). The same nonce always gets the same answer; every scan is logged; committed when this
    returns (on the app's writer, or in the given session)."""

    def job(conn: Connection) -> Answer:
        return _redeem(conn, event_id, raw_code, station, nonce, by, now or utcnow(), entry_id)

    return await run_job(target, job, attempts=2)  # the retry finds the first one's answer


async def mark_absent(session: AsyncSession, event_id: int, item_id: int, by: str, now: datetime | None = None) -> int:
    """At the start: every active entry of the item not checked in becomes absent. A check-in racing with
    this wins or loses on the unique attendance row, never both. Returns how many were marked."""
    entries = (await session.exec(
        orm_select(Entry.id).where(Entry.event_id == event_id, Entry.item_id == item_id, Entry.state == "active",
                               col(Entry.id).not_in(orm_select(Attendance.entry_id))))).all()
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
        orm_select(Entry.item_id, Attendance.status, func.count()).select_from(Entry)
        .outerjoin(Attendance, col(Attendance.entry_id) == Entry.id)
        .where(Entry.event_id == event_id, Entry.state == "active")
        .group_by(col(Entry.item_id), col(Attendance.status)))).all()
    table: dict[int, dict[str, int]] = {}
    for item_id, state, n in counts:
        table.setdefault(item_id, {"present": 0, "absent": 0, "not_yet": 0})[state or "not_yet"] += n
    return table
