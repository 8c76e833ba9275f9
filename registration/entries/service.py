"""Registration use cases over a session. Every rule of domain.md "Registration" is checked here; the
race-prone ones (one entry per person, the unit quota) are decided by unique constraints, never by a
look-up before the insert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, func, insert, or_, select, update
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from contestday.db.writer import Prepared, Writer, insert_or_ignore, row_values, run_in_session, run_job, table
from contestday.web.errors import Refusal
from registration.checkin.models import Attendance, SeatAssignment, SeatSession
from registration.entries.identities import NON_STUDENT, identity_refusal, no_quota
from registration.entries.models import Entry, EntryFlag, EntryInstructor, EntryMember, QuotaSlot
from registration.entries.personal import PersonalData, normalise_phone, normalise_unit
from registration.entries.request import MemberRequest, RegistrationRequest
from registration.entries.tickets import new_ticket_code
from registration.events.models import Event, Item
from scoring.event_file import EventSpec, ItemSpec
from scoring.identity import InvalidIdNumber, check_age, mask_id_number, parse_id_number

__all__ = [
    "Checked",
    "Outcome",
    "RegistrationContext",
    "StaleContext",
    "amend",
    "checked_in_refusal",
    "decide_review",
    "is_open",
    "on_site",
    "register",
    "release",
    "seat_of",
    "store_photo_names",
    "withdraw",
]

@dataclass(frozen=True)
class RegistrationContext:
    """Plain values only: the session may roll back mid-way, and expired ORM rows must not be touched."""

    event_id: int
    closes: datetime | None
    closed_at: datetime | None
    spec: EventSpec
    item_ids: dict[str, int]
    personal: PersonalData
    version: datetime | None = None  # the event's updated_at when this was loaded


@dataclass
class Checked:
    """A member who passed every per-person rule."""

    request: MemberRequest
    number: str
    kind: str
    birth_date: date
    gender: str
    person_hash: str
    warnings: list[dict[str, str]] = field(default_factory=list)
    flags: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    entry_id: int
    ticket_code: str
    review: str
    warnings: list[dict[str, str]]
    flags: list[str]


def is_open(closes: datetime | None, closed_at: datetime | None, now: datetime) -> bool:
    if closed_at is not None and closed_at <= now:
        return False
    return closes is None or now < closes


# how a flag names a contestant of each non-student standing
_STANDING = {"employee": "职工选手", "teacher": "院校教师选手", "flexible": "灵活就业人员选手"}


def _refuse(status: int, code: str, zh: str, en: str, **extra: Any) -> Refusal:
    return Refusal(status, code, zh, en, **extra)


def _item_and_group(ctx: RegistrationContext, req: RegistrationRequest) -> ItemSpec:
    item = ctx.spec.item(req.item)
    if item is None or req.item not in ctx.item_ids:
        raise _refuse(422, "unknown_item", f"本赛事没有赛项“{req.item}”", f"no item {req.item!r} in this event")
    if req.group not in item.group_names:
        listed = "、".join(item.groups) or "（无组别）"
        raise _refuse(422, "unknown_group", f"赛项“{item.name}”没有组别“{req.group}”，可选：{listed}",
                      f"item {item.code} has no group {req.group!r}")
    if len(req.members) != item.team_size:
        raise _refuse(422, "team_size_mismatch",
                      f"赛项“{item.name}”每队 {item.team_size} 人，提交了 {len(req.members)} 人",
                      f"item {item.code} takes teams of {item.team_size}; got {len(req.members)}")
    return item


def _check_member(ctx: RegistrationContext, req: RegistrationRequest, m: MemberRequest, prefix: str) -> Checked:
    try:
        parsed = parse_id_number(m.id_number)
    except InvalidIdNumber as exc:
        raise _refuse(422, "invalid_id_number", f"身份证号码有误：{exc.zh}", f"invalid ID number: {exc.en}",
                      field=f"{prefix}id_number", reason=exc.code) from exc
    refusal = identity_refusal(ctx.spec, req.group, m.identity)
    if refusal is not None:
        raise _refuse(422, *refusal, field=f"{prefix}identity")
    age = check_age(parsed.birth_date, parsed.gender, ctx.spec.starts_on, m.female_base)
    if not age.ok:
        raise _refuse(422, "age_out_of_range", age.zh, age.en, field=f"{prefix}id_number")
    checked = Checked(m, parsed.number, parsed.kind, parsed.birth_date, parsed.gender,
                      ctx.personal.person_hash(parsed.number))
    checked.warnings += [{"code": w.code, "message": w.zh, "message_en": w.en} for w in parsed.warnings]
    checked.flags += [(r.code, r.zh, {"member": prefix}) for r in age.reviews]
    # seed 002's "以职工身份参赛的…四级（中级工）及以上…或…5年以上": every non-student standing (identities.py)
    if m.identity in NON_STUDENT and not ((m.skill_level or 9) <= 4 or (m.years_in_occupation or 0) >= 5):
        checked.flags.append(("employee_qualification",
                              f"{_STANDING[m.identity]}需具备四级（中级工）及以上或从业满 5 年，需核实",
                              {"member": prefix, "skill_level": m.skill_level, "years": m.years_in_occupation}))
    return checked


def _eligibility(spec: EventSpec, m: MemberRequest, prefix: str) -> list[Refusal]:
    """What an event asks of every person who registers themselves (seed 002: "所有参赛人员照片", "应在渝
    工作、学习或居住", "全日制在校在籍相关专业学生"). A unit's roster and the organiser's own entries are not
    refused for them: the review pages show what is missing."""
    missing = []
    if spec.photo_required and not m.has_photo:
        missing.append(_refuse(422, "photo_required", "本赛事要求上传参赛人员照片",
                               "this event needs a photo of every contestant", field=f"{prefix}photo"))
    if spec.residence_declaration and not m.residence_declared:
        missing.append(_refuse(422, "residence_not_declared", f"请确认本人{spec.residence_declaration}",
                               f"confirm the event's residence rule: {spec.residence_declaration}",
                               field=f"{prefix}residence_declared"))
    if spec.student_major_required and m.identity == "student" and not m.major:
        missing.append(_refuse(422, "major_required", "学生选手须填写所学专业", "a student must give their major",
                               field=f"{prefix}major"))
    return missing


class StaleContext(Exception):
    """The event was edited since its context was cached: load it again and retry."""


_E, _M, _F, _I, _Q = table(Entry), table(EntryMember), table(EntryFlag), table(EntryInstructor), table(QuotaSlot)
_IT, _EV = table(Item), table(Event)

# Statements built once, run with parameters (the burst path: no statement construction per request).
_EVENT_ROW = Prepared(select(_EV.c.registration_closes, _EV.c.registration_closed_at, _EV.c.updated_at).where(
    _EV.c.id == bindparam("event_id")))
_HOLDER = Prepared(select(_M.c.person_hash, _M.c.phone, _IT.c.code, _IT.c.name)
           .join(_E, _E.c.id == _M.c.entry_id).join(_IT, _IT.c.id == _E.c.item_id)
           .where(_M.c.event_id == bindparam("event_id"), _M.c.person_key.in_(bindparam("keys", expanding=True))))
_LIKELY = Prepared(select(_M.c.entry_id).join(_E, _E.c.id == _M.c.entry_id)
           .where(_M.c.event_id == bindparam("event_id"), _M.c.name == bindparam("name"),
                  _M.c.person_key.is_not(None), _M.c.person_hash != bindparam("person_hash"),
                  or_(_M.c.phone == bindparam("phone"),
                      (_M.c.birth_date == bindparam("birth_date")) & (_E.c.unit_key == bindparam("unit_key")))))
_ACTIVE_OTHER = (_E.c.item_id == bindparam("item_id"), _E.c.state == "active", _E.c.id != bindparam("entry_id"))
_EMPLOYEES_NAMED = Prepared(select(_M.c.name, _M.c.phone, _M.c.identity).join(_E, _E.c.id == _M.c.entry_id)
                    .where(*_ACTIVE_OTHER, _M.c.identity.in_(sorted(NON_STUDENT)),
                           _M.c.name.in_(bindparam("names", expanding=True))))
_STUDENTS_OF = Prepared(select(_M.c.name).join(_I, _I.c.entry_id == _M.c.entry_id).join(_E, _E.c.id == _M.c.entry_id)
                .where(_I.c.item_id == bindparam("item_id"), _I.c.name == bindparam("name"),
                       _I.c.phone == bindparam("phone"), *_ACTIVE_OTHER, _M.c.identity == "student"))
_UNIT_COUNT = Prepared(select(func.count()).select_from(_E).where(
    _E.c.item_id == bindparam("item_id"), _E.c.group_name == bindparam("group_name"),
    _E.c.unit_key == bindparam("unit_key"), _E.c.state == "active",
    exists().where(_M.c.entry_id == _E.c.id, _M.c.identity != "flexible")))  # flexible workers take no place
_INSERT_ENTRY, _INSERT_FLAGS, _INSERT_INSTRUCTORS = Prepared(insert(_E)), Prepared(insert(_F)), Prepared(insert(_I))
_SET_REVIEW = Prepared(update(_E).where(_E.c.id == bindparam("entry_id")).values(review=bindparam("review")))


def _take_quota_slot(conn: Connection, entry: dict[str, Any], quota: int) -> bool:
    """Claim the first free slot 1…quota; the unique constraint arbitrates between concurrent claims."""
    for slot in range(1, quota + 1):
        taken = insert_or_ignore(conn, QuotaSlot).execute(conn, {
            "event_id": entry["event_id"], "item_id": entry["item_id"], "group_name": entry["group_name"],
            "unit_key": entry["unit_key"], "slot": slot, "entry_id": entry["id"]})
        if taken.rowcount == 1:
            return True
    return False


def _conflict(conn: Connection, ctx: RegistrationContext, checked: list[Checked], item_code: str) -> Refusal:
    """Which of our people already holds an entry, and where: answered after the unique constraint refused."""
    row = _HOLDER.execute(conn, {"event_id": ctx.event_id, "keys": [c.person_hash for c in checked]}).first()
    if row is None:
        return _refuse(409, "conflict", "提交冲突，请重试", "conflicting submission, try again")
    person_hash, phone, code, name = row
    who = next(c for c in checked if c.person_hash == person_hash)
    if code == item_code:  # name the number, not the person: an edit may carry someone else's number
        return _refuse(409, "already_registered", f"身份证号码 {mask_id_number(who.number)} 已报名本赛项，无需重复报名",
                       f"ID number {mask_id_number(who.number)} is already registered for this item")
    if normalise_phone(phone) == who.request.phone:  # only the person themselves learns where
        return _refuse(409, "duplicate_entry",
                       f"每人只能报名一个赛项：您已报名“{name}”。如需更换，请先撤回原报名",
                       f"one item per person: you are registered for {name}; withdraw it first",
                       item=code)
    return _refuse(409, "duplicate_entry", "该身份证号码已在本赛事的其他赛项报名，每人只能报名一个赛项",
                   "this ID number already holds an entry in another item of this event")


def _likely_duplicates(conn: Connection, ctx: RegistrationContext, c: Checked, unit_key: str) -> list[int]:
    """Entries of someone with the same name and phone, or the same name, unit and birth date, but another
    ID number: perhaps one person entered twice under two identities."""
    rows = _LIKELY.execute(conn, {"event_id": ctx.event_id, "name": c.request.name, "person_hash": c.person_hash,
                                  "phone": c.request.phone, "birth_date": c.birth_date, "unit_key": unit_key}).scalars()
    return sorted(set(rows))


def _instructor_conflicts(conn: Connection, entry: dict[str, Any], checked: list[Checked],
                          instructors: tuple[tuple[str, str], ...]) -> list[str]:
    """Seed 002: "以职工身份参赛选手不得担任同一赛事中同一项目的学生参赛选手指导教师". Every non-student
    standing competes "以职工身份" (identities.py): a teacher coaching a student of the item they compete in
    is the very case. Look both ways (our instructors among the item's non-student contestants; our
    non-student contestants among the item's instructors)."""
    found = []
    where = {"item_id": entry["item_id"], "entry_id": entry["id"]}
    if instructors and any(c.request.identity == "student" for c in checked):
        employees = _EMPLOYEES_NAMED.execute(conn, {**where, "names": [n for n, _ in instructors]}).rows
        found += [f"指导教师{name}同时是本赛项的{_STANDING[identity]}" for name, phone, identity in employees
                  if (name, phone) in set(instructors)]
    for c in checked:
        if c.request.identity not in NON_STUDENT:
            continue
        students = _STUDENTS_OF.execute(conn, {**where, "name": c.request.name, "phone": c.request.phone}).scalars()
        found += [f"{_STANDING[c.request.identity]}{c.request.name}是本赛项学生选手{name}的指导教师"
                  for name in students]
    return found


def _flag(entry_id: int, code: str, message: str, detail: dict[str, Any]) -> dict[str, Any]:
    return row_values(EntryFlag, entry_id=entry_id, code=code, message=message, detail=detail)


def _check_event_row(conn: Connection, ctx: RegistrationContext, now: datetime) -> None:
    """The event as stored now, inside the write transaction: still there, unchanged, still open."""
    row = _EVENT_ROW.execute(conn, {"event_id": ctx.event_id}).first()
    if row is None:
        raise _refuse(404, "unknown_event", "找不到该赛事", "no such event")
    closes, closed_at, updated_at = row
    if updated_at != ctx.version:
        raise StaleContext()
    if not is_open(closes, closed_at, now):
        raise _refuse(422, "registration_closed", "报名已截止", "registration is closed")


async def register(target: AsyncSession | Writer, ctx: RegistrationContext, req: RegistrationRequest, *,
                   source: str = "form", now: datetime | None = None) -> Outcome:
    """Check and store one registration (committed when this returns). Raises Refusal with a stable code on
    every refusal. On a `Writer` the event row is read again inside the write transaction (StaleContext if
    it was edited since `ctx` was loaded); a session's caller loaded `ctx` in that session."""
    fresh = not isinstance(target, AsyncSession)

    def job(conn: Connection) -> Outcome:
        moment = now or utcnow()
        if fresh:
            _check_event_row(conn, ctx, moment)
        item, checked = _check(ctx, req, moment, own=source in ("form", "api"))  # after the freshness check
        entry = row_values(Entry, event_id=ctx.event_id, item_id=ctx.item_ids[item.code], group_name=req.group,
                           unit=req.unit, unit_key=normalise_unit(req.unit), ticket_code=new_ticket_code(),
                           source=source, created_at=moment, updated_at=moment)
        entry["id"] = _INSERT_ENTRY.execute(conn, entry).inserted_id
        return _store(conn, ctx, req, item, checked, entry)

    return await run_job(target, job)


async def amend(session: AsyncSession, ctx: RegistrationContext, entry_id: int, req: RegistrationRequest, *,
                now: datetime | None = None, own: bool = False) -> Outcome:
    """Replace an active entry's details (the contestant's correction, or the organiser's edit) in one
    transaction: the old places are given up and the new ones taken under the same constraints, so a
    refused amendment leaves the entry exactly as it was. The ticket code stays; a member's photo stays with
    the same person in the same place. `own`: the contestant's correction (the event's requirements apply)."""
    item, checked = _check(ctx, req, now, own=own)

    def job(conn: Connection) -> Outcome:
        row = conn.execute(select(_E).where(_E.c.id == entry_id)).mappings().first()
        if row is None or row["event_id"] != ctx.event_id or row["state"] != "active":
            raise _refuse(404, "unknown_registration", "找不到该报名或已撤回", "no such active registration")
        photos = {(r.position, r.person_hash): r.photo for r in conn.execute(
            select(_M.c.position, _M.c.person_hash, _M.c.photo).where(_M.c.entry_id == entry_id))}
        for statement in _release_statements(entry_id):
            conn.execute(statement)
        for t in (_M, _F, _I):
            conn.execute(delete(t).where(t.c.entry_id == entry_id))
        entry = dict(row) | {"item_id": ctx.item_ids[item.code], "group_name": req.group, "unit": req.unit,
                             "unit_key": normalise_unit(req.unit), "review": "none", "updated_at": now or utcnow()}
        conn.execute(update(_E).where(_E.c.id == entry_id).values(
            {k: entry[k] for k in ("item_id", "group_name", "unit", "unit_key", "review", "updated_at")}))
        return _store(conn, ctx, req, item, checked, entry, photos)

    return await run_in_session(session, job)


def _check(ctx: RegistrationContext, req: RegistrationRequest,
           now: datetime | None, *, own: bool = False) -> tuple[ItemSpec, list[Checked]]:
    """Every rule that needs no database: open, item, group, team size, each member."""
    if not is_open(ctx.closes, ctx.closed_at, now or utcnow()):
        raise _refuse(422, "registration_closed", "报名已截止", "registration is closed")
    item = _item_and_group(ctx, req)
    checked = [_check_member(ctx, req, m, f"members[{i}]." if len(req.members) > 1 else "")
               for i, m in enumerate(req.members)]
    for i, (m, c) in enumerate(zip(req.members, checked, strict=True)):
        prefix = f"members[{i}]." if len(req.members) > 1 else ""
        missing = _eligibility(ctx.spec, m, prefix)
        if missing and own:
            raise missing[0]
        # a roster or the organiser's entry: accepted, and the reviewer sees what is missing
        c.flags += [(exc.code, f"{m.name}：{exc.message}", {"member": prefix}) for exc in missing]
    if len({c.person_hash for c in checked}) < len(checked):
        raise _refuse(422, "duplicate_member", "同一人不能在队伍中出现两次", "the same person twice in one team")
    return item, checked


def _store(conn: Connection, ctx: RegistrationContext, req: RegistrationRequest, item: ItemSpec,
           checked: list[Checked], entry: dict[str, Any],
           photos: dict[tuple[int, str], str | None] | None = None) -> Outcome:
    """Members, quota place and flags of an inserted entry; raises (the caller's savepoint rolls back) to
    refuse."""
    entry_id = entry["id"]
    # one entry per person per event, or per item when the event allows several
    suffix = "" if ctx.spec.one_item_per_person else f":{item.code}"
    instructors = [{"name": n, "phone": p} for n, p in req.instructors]
    for position, c in enumerate(checked):
        member = row_values(
            EntryMember, entry_id=entry_id, event_id=entry["event_id"], position=position,
            person_key=c.person_hash + suffix, person_hash=c.person_hash, id_number_enc=ctx.personal.encrypt(c.number),
            id_masked=mask_id_number(c.number), id_kind=c.kind, name=c.request.name, gender=c.gender,
            birth_date=c.birth_date, phone=c.request.phone, identity=c.request.identity,
            education=c.request.education, skill_level=c.request.skill_level,
            certificate_number=c.request.certificate_number, years_in_occupation=c.request.years_in_occupation,
            female_base=c.request.female_base, instructors=instructors, major=c.request.major,
            residence_declared=c.request.residence_declared, photo=(photos or {}).get((position, c.person_hash)))
        if insert_or_ignore(conn, EntryMember).execute(conn, member).rowcount != 1:
            raise _conflict(conn, ctx, checked, item.code)
    if instructors:
        _INSERT_INSTRUCTORS.execute(conn,
                                    [{"entry_id": entry_id, "item_id": entry["item_id"], **i} for i in instructors])

    flags = [_flag(entry_id, code, msg, detail) for c in checked for code, msg, detail in c.flags]
    quota = ctx.spec.unit_quota_per_group
    if quota is not None and not no_quota(c.request.identity for c in checked):
        if ctx.spec.unit_quota_mode == "enforce":
            if not _take_quota_slot(conn, entry, quota):
                raise _refuse(409, "unit_quota_exceeded",
                              f"“{req.unit}”在该赛项{req.group}的报名名额（{quota} 名）已满",
                              f"{req.unit} has used its {quota} places in this item and group")
        else:
            count = _UNIT_COUNT.execute(conn, {k: entry[k] for k in ("item_id", "group_name", "unit_key")}).scalar_one()
            if count > quota:
                flags.append(_flag(entry_id, "unit_quota_warning", f"单位报名人数（{count}）超过原则名额 {quota}",
                                   {"count": count, "quota": quota}))
    for c in checked:
        others = _likely_duplicates(conn, ctx, c, entry["unit_key"])
        if others:
            flags.append(_flag(entry_id, "possible_duplicate", f"{c.request.name}疑似以不同身份证号码重复报名",
                               {"other_entries": others}))
    for message in _instructor_conflicts(conn, entry, checked, req.instructors):
        flags.append(_flag(entry_id, "instructor_conflict", message, {}))
    review = entry["review"]
    if flags:
        review = "pending"
        _SET_REVIEW.execute(conn, {"entry_id": entry_id, "review": review})
        _INSERT_FLAGS.execute(conn, flags)
    warnings = [w for c in checked for w in c.warnings]
    return Outcome(entry_id, entry["ticket_code"], review, warnings, sorted({f["code"] for f in flags}))


def store_photo_names(conn: Connection, entry_id: int, names: dict[int, str]) -> None:
    """Name the stored photo files on an entry's members (position -> file name)."""
    for position, name in names.items():
        conn.execute(update(_M).where(_M.c.entry_id == entry_id, _M.c.position == position).values(photo=name))


def _release_statements(entry_id: int) -> tuple[Any, Any]:
    return (update(_M).where(_M.c.entry_id == entry_id).values(person_key=None),
            delete(_Q).where(_Q.c.entry_id == entry_id))


async def release(session: AsyncSession, entry: Entry) -> None:
    """Free the person and quota places an entry held (withdrawn or rejected)."""
    assert entry.id is not None
    for statement in _release_statements(entry.id):
        await session.exec(statement)


def checked_in_refusal() -> Refusal:
    return _refuse(409, "checked_in", "已检录，如需退赛请联系现场工作人员",
                   "already checked in: to withdraw, ask the staff on site")


async def on_site(session: AsyncSession, entry_id: int) -> bool:
    """Checked in, or a seat drawn: from here on the entry belongs to the contest day, not to its owner."""
    present = await session.exec(orm_select(Attendance.id).where(Attendance.entry_id == entry_id,
                                                                 Attendance.status == "present"))
    seat = await session.exec(orm_select(SeatAssignment.id).where(SeatAssignment.entry_id == entry_id))
    return present.first() is not None or seat.first() is not None


async def seat_of(session: AsyncSession, entry_id: int) -> str:
    """"第1场 A07" for an entry with a seat drawn, else ""."""
    row = (await session.exec(orm_select(SeatSession.name, SeatAssignment.seat_label)
                              .join(SeatAssignment, col(SeatAssignment.session_id) == SeatSession.id)
                              .where(SeatAssignment.entry_id == entry_id))).first()
    return f"{row[0]} {row[1]}" if row else ""


async def withdraw(session: AsyncSession, entry: Entry, now: datetime | None = None, *,
                   by_contestant: bool = False) -> None:
    """Withdraw an entry and free its places. A contestant cannot once checked in (`checked_in`): the staff
    decide on site. The organiser can, and a seat drawn is freed with it (the seat plan keeps no seat for a
    withdrawn entry) until that session starts; after the start judges may be marking that seat, so it is
    refused (`session_started`)."""
    assert entry.id is not None
    at = now or utcnow()
    if by_contestant and await on_site(session, entry.id):
        raise checked_in_refusal()
    seat = (await session.exec(orm_select(SeatAssignment).where(SeatAssignment.entry_id == entry.id))).first()
    if seat is not None:
        seated = await session.get(SeatSession, seat.session_id)
        if seated is not None and at >= seated.starts_at:
            raise _refuse(409, "session_started", f"{seated.name}已开赛，不能撤回该报名；如选手弃赛，请联系裁判长处理",
                          "the contestant's session has started: this entry can no longer be withdrawn")
        await session.delete(seat)
    entry.state, entry.withdrawn_at, entry.updated_at = "withdrawn", at, at
    session.add(entry)
    await release(session, entry)


async def decide_review(session: AsyncSession, entry: Entry, approve: bool, reason: str, by: str) -> None:
    """A reviewer's decision on a flagged entry. Rejecting needs a reason and frees the person's place."""
    if not approve and not reason.strip():
        raise _refuse(422, "reason_required", "驳回须填写理由", "a rejection needs a reason")
    entry.review, entry.review_reason = ("approved" if approve else "rejected"), reason.strip() or None
    entry.reviewed_by, entry.reviewed_at, entry.updated_at = by, utcnow(), utcnow()
    if not approve:
        entry.state = "rejected"
        await release(session, entry)
    session.add(entry)
