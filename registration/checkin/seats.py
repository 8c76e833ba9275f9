"""Seat plans and the draw (抽签): a seat from the free seats of the session the contestant checked in for, drawn
with the operating system's CSPRNG, fixed once drawn; a move only with a reason (equipment fault), logged with
the minutes given back."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from contestday.web.errors import Refusal
from registration.checkin.models import Attendance, SeatAssignment, SeatMove, SeatSession
from registration.entries.models import Entry
from registration.entries.tickets import normalise_code
from scoring.event_file import CHINA_TZ

__all__ = ["SessionPlan", "draw", "move", "read_plan", "replace_plan", "seat_labels", "sessions_for"]

MAX_SEATS = 999


@dataclass(frozen=True)
class SessionPlan:
    name: str
    starts_at: datetime
    seat_count: int
    prefix: str = "A"
    first_number: int = 1
    checkin_before_min: int = 60
    checkin_after_min: int = 15


def seat_labels(s: SeatSession) -> list[str]:
    digits = max(s.digits, len(str(s.first_number + s.seat_count - 1)))
    return [f"{s.prefix}{n:0{digits}d}" for n in range(s.first_number, s.first_number + s.seat_count)]


def read_plan(payload: Any) -> list[SessionPlan]:
    """`{"sessions": [{"name", "starts_at", "seat_count", "prefix"?, "first_number"?, ...}]}`; refuses bad input."""
    def bad(field: str, zh: str, en: str) -> Refusal:
        return Refusal(422, "invalid_seat_plan", f"{field}：{zh}", f"{field}: {en}", field=field)

    sessions = payload.get("sessions") if isinstance(payload, dict) else None
    if not isinstance(sessions, list) or not sessions:
        raise bad("sessions", "至少需要一个场次", "needs at least one session")
    plans, names = [], set()
    for i, raw in enumerate(sessions):
        path = f"sessions[{i}]"
        if not isinstance(raw, dict):
            raise bad(path, "格式不正确", "must be an object")
        name = str(raw.get("name") or f"第{i + 1}场").strip()
        if name in names:
            raise bad(f"{path}.name", "场次名称重复", "duplicate session name")
        names.add(name)
        try:
            starts = datetime.fromisoformat(str(raw.get("starts_at")))
        except ValueError:
            raise bad(f"{path}.starts_at", "应为日期时间，如 2026-10-20T09:00+08:00", "must be a date-time") from None
        if starts.tzinfo is None:
            raise bad(f"{path}.starts_at", "请注明时区，如 +08:00", "give the time zone, e.g. +08:00")
        values = {}
        for key, lo, hi, default in (("seat_count", 1, MAX_SEATS, None), ("first_number", 0, 9999, 1),
                                     ("checkin_before_min", 0, 24 * 60, 60), ("checkin_after_min", 0, 24 * 60, 15)):
            value = raw.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise bad(f"{path}.{key}", f"应为 {lo}–{hi} 的整数", f"must be a whole number {lo}–{hi}")
            values[key] = value
        prefix = str(raw.get("prefix", "A")).strip()
        if not (prefix.isascii() and prefix.isalnum() and len(prefix) <= 4):
            raise bad(f"{path}.prefix", "前缀应为 1–4 位字母或数字", "prefix: 1–4 letters or digits")
        plans.append(SessionPlan(name, starts, values["seat_count"], prefix, values["first_number"],
                                 values["checkin_before_min"], values["checkin_after_min"]))
    labels = [f"{p.prefix}{n}" for p in plans for n in range(p.first_number, p.first_number + p.seat_count)]
    if len(labels) != len(set(labels)):
        raise bad("sessions", "不同场次的座位号重复，请使用不同前缀", "sessions share seat numbers: use other prefixes")
    return plans


async def replace_plan(session: AsyncSession, item_id: int, plans: list[SessionPlan]) -> None:
    """Set an item's sessions; refused once any seat of the item is drawn (seats are fixed once drawn)."""
    if (await session.exec(select(SeatAssignment.id).where(SeatAssignment.item_id == item_id))).first():
        raise Refusal(409, "seats_drawn", "已有选手抽签，不能再修改座位安排", "seats are already drawn")
    for old in (await session.exec(select(SeatSession).where(SeatSession.item_id == item_id))).all():
        await session.delete(old)
    await session.flush()
    for position, p in enumerate(plans):
        session.add(SeatSession(item_id=item_id, position=position, name=p.name, starts_at=p.starts_at,
                                checkin_opens_at=p.starts_at - timedelta(minutes=p.checkin_before_min),
                                checkin_closes_at=p.starts_at + timedelta(minutes=p.checkin_after_min),
                                prefix=p.prefix, first_number=p.first_number, seat_count=p.seat_count))
    await session.commit()


def sessions_for(sessions: Sequence[SeatSession], checked_in_at: datetime) -> list[SeatSession]:
    """The sessions a person checked in at `checked_in_at` may sit in: those whose check-in window holds that
    time, the nearest start first (windows may overlap: the one starting soonest, or just started, is the
    one the person came for)."""
    open_now = [s for s in sessions if s.checkin_opens_at <= checked_in_at < s.checkin_closes_at]
    return sorted(open_now, key=lambda s: (abs(s.starts_at - checked_in_at), s.position))


def _no_open_session(sessions: Sequence[SeatSession], at: datetime) -> Refusal:
    local = at.astimezone(CHINA_TZ)
    return Refusal(409, "no_open_session",
                    f"检录时间 {local:%m月%d日 %H:%M} 不在本赛项任何场次的检录时间内，不能抽签，请联系裁判长",
                    "no session of this item had its check-in window open at the check-in time",
                    checked_in_at=at.isoformat(), sessions=[
                        {"name": s.name, "starts_at": s.starts_at.isoformat(),
                         "checkin_opens_at": s.checkin_opens_at.isoformat(),
                         "checkin_closes_at": s.checkin_closes_at.isoformat()} for s in sessions])


async def draw(session: AsyncSession, event_id: int, raw_code: str, station: str,
               now: datetime | None = None, entry_id: int | None = None) -> tuple[SeatAssignment, SeatSession, bool]:
    """Draw a seat for a checked-in entry (by ticket code, or by `entry_id` after the desk's search) in the
    session they checked in for (its check-in window holds the check-in time); returns (assignment, session,
    drawn_now). Drawing again returns the seat already drawn: it is fixed."""
    if entry_id is not None:
        entry = await session.get(Entry, entry_id)
        if entry is None or entry.event_id != event_id:
            raise Refusal(404, "unknown_registration", "找不到该报名", "no such registration")
    else:
        entry = (await session.exec(select(Entry).where(Entry.ticket_code == normalise_code(raw_code)))).first()
    if entry is None or entry.event_id != event_id:
        raise Refusal(404, "unknown_ticket", "无效的参赛凭证：查无此码", "unknown ticket")
    if entry.state != "active":
        raise Refusal(409, "entry_withdrawn", "该报名已撤回，不能抽签", "this entry is no longer active")
    present = (await session.exec(select(Attendance).where(Attendance.entry_id == entry.id,
                                                           Attendance.status == "present"))).first()
    if present is None:
        raise Refusal(409, "not_checked_in", "请先检录再抽签", "check in before the draw")
    ordered = (await session.exec(select(SeatSession).where(SeatSession.item_id == entry.item_id)
                                  .order_by(col(SeatSession.position)))).all()
    sessions = {s.id: s for s in ordered}
    for _attempt in range(20):  # a concurrent draw may take the same seat: the unique constraint decides
        existing = (await session.exec(select(SeatAssignment).where(SeatAssignment.entry_id == entry.id))).first()
        if existing is not None:
            return existing, sessions[existing.session_id], False
        if not sessions:
            raise Refusal(409, "no_seat_plan", "该赛项尚未设置座位（场次）", "this item has no seat plan")
        candidates = sessions_for(ordered, present.at)
        if not candidates:
            raise _no_open_session(ordered, present.at)
        taken = (await session.exec(select(SeatAssignment.session_id, SeatAssignment.seat_label,
                                           SeatAssignment.draw_number)
                                    .where(SeatAssignment.item_id == entry.item_id))).all()
        taken_seats = {(sid, label) for sid, label, _ in taken}
        free: list[tuple[int | None, str]] = []
        for s in candidates:  # the first of the person's sessions with a free seat
            free = [(s.id, label) for label in seat_labels(s) if (s.id, label) not in taken_seats]
            if free:
                break
        if not free:
            raise Refusal(409, "no_free_seat", "该场次座位已满，请联系裁判长", "no free seat left in this session")
        session_id, label = secrets.choice(free)
        total = sum(s.seat_count for s in sessions.values())
        numbers = sorted(set(range(1, max(99, total * 3) + 1)) - {n for _, _, n in taken})
        assignment = SeatAssignment(entry_id=entry.id or 0, item_id=entry.item_id, session_id=session_id or 0,
                                    seat_label=label, draw_number=secrets.choice(numbers), station=station,
                                    drawn_at=now or utcnow())
        try:
            async with session.begin_nested():
                session.add(assignment)
        except IntegrityError:
            continue
        await session.commit()
        return assignment, sessions[session_id], True
    raise Refusal(503, "draw_busy", "抽签繁忙，请重试", "the draw is busy, try again")


async def move(session: AsyncSession, entry_id: int, to_session_id: int, to_label: str, reason: str,
               minutes_returned: int, by: str) -> SeatAssignment:
    """Move a contestant to a free seat of the same item (equipment fault); a reason is required."""
    if not reason.strip():
        raise Refusal(422, "reason_required", "调整座位须填写理由", "a seat move needs a reason")
    assignment = (await session.exec(select(SeatAssignment).where(SeatAssignment.entry_id == entry_id))).first()
    if assignment is None:
        raise Refusal(404, "not_drawn", "该选手尚未抽签", "this contestant has not drawn a seat")
    target = await session.get(SeatSession, to_session_id)
    if target is None or target.item_id != assignment.item_id or to_label not in seat_labels(target):
        raise Refusal(422, "unknown_seat", "目标座位不属于该赛项", "no such seat in this item")
    move_row = SeatMove(assignment_id=assignment.id or 0, from_session_id=assignment.session_id,
                        from_label=assignment.seat_label, to_session_id=to_session_id, to_label=to_label,
                        reason=reason.strip(), minutes_returned=max(0, minutes_returned), by=by)
    assignment.session_id, assignment.seat_label = to_session_id, to_label
    session.add(assignment)
    session.add(move_row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Refusal(409, "seat_taken", "目标座位已有选手", "that seat is taken") from None
    return assignment
