"""Registration use cases over a session. Every rule of domain.md "Registration" is checked here; the
race-prone ones (one entry per person, the unit quota) are decided by unique constraints, never by a
look-up before the insert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registration.base import utcnow
from registration.entries.models import Entry, EntryFlag, EntryInstructor, EntryMember, QuotaSlot
from registration.entries.personal import PersonalData, normalise_phone, normalise_unit
from registration.entries.request import MemberRequest, RegistrationRequest
from registration.entries.tickets import new_ticket_code
from registration.events.models import Item
from registration.identity import InvalidIdNumber, check_age, mask_id_number, parse_id_number
from registration.web import ApiError
from scoring.event_file import EventSpec, ItemSpec

__all__ = [
    "Checked",
    "Outcome",
    "RegistrationContext",
    "amend",
    "decide_review",
    "is_open",
    "register",
    "release",
    "withdraw",
]

_GROUP_IDENTITY = {"学生组": "student", "职工组": "employee"}


@dataclass(frozen=True)
class RegistrationContext:
    """Plain values only: the session may roll back mid-way, and expired ORM rows must not be touched."""

    event_id: int
    closes: datetime | None
    closed_at: datetime | None
    spec: EventSpec
    item_ids: dict[str, int]
    personal: PersonalData


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
    entry: Entry
    warnings: list[dict[str, str]]
    flags: list[str]


def is_open(closes: datetime | None, closed_at: datetime | None, now: datetime) -> bool:
    if closed_at is not None and closed_at <= now:
        return False
    return closes is None or now < closes


def _refuse(status: int, code: str, zh: str, en: str, **extra: Any) -> ApiError:
    return ApiError(status, code, zh, en, **extra)


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
    wanted = _GROUP_IDENTITY.get(req.group)
    if wanted is not None and m.identity != wanted:
        raise _refuse(422, "group_identity_mismatch",
                      f"{req.group}只接受{'学生' if wanted == 'student' else '职工'}报名",
                      f"{req.group} takes {wanted}s only", field=f"{prefix}identity")
    age = check_age(parsed.birth_date, parsed.gender, ctx.spec.starts_on, m.female_base)
    if not age.ok:
        raise _refuse(422, "age_out_of_range", age.zh, age.en, field=f"{prefix}id_number")
    checked = Checked(m, parsed.number, parsed.kind, parsed.birth_date, parsed.gender,
                      ctx.personal.person_hash(parsed.number))
    checked.warnings += [{"code": w.code, "message": w.zh, "message_en": w.en} for w in parsed.warnings]
    if age.needs_review:
        checked.flags.append(("retirement_base_unknown", "女职工退休年龄基准（50/55 岁）需核实", {"member": prefix}))
    if m.identity == "employee" and not ((m.skill_level or 9) <= 4 or (m.years_in_occupation or 0) >= 5):
        checked.flags.append(("employee_qualification", "职工选手需具备四级（中级工）及以上或从业满 5 年，需核实",
                              {"member": prefix, "skill_level": m.skill_level, "years": m.years_in_occupation}))
    return checked


async def _take_quota_slot(session: AsyncSession, ctx: RegistrationContext, entry: Entry, quota: int) -> bool:
    """Claim the first free slot 1…quota; the unique constraint arbitrates between concurrent claims."""
    assert entry.id is not None
    for slot in range(1, quota + 1):
        try:
            async with session.begin_nested():
                session.add(QuotaSlot(event_id=entry.event_id, item_id=entry.item_id, group_name=entry.group_name,
                                      unit_key=entry.unit_key, slot=slot, entry_id=entry.id))
            return True
        except IntegrityError:
            continue
    return False


async def _conflict(session: AsyncSession, ctx: RegistrationContext, checked: list[Checked],
                    item_code: str) -> ApiError:
    """Which of our people already holds an entry, and where: answered after the unique constraint refused."""
    hashes = [c.person_hash for c in checked]
    row = (await session.exec(
        select(EntryMember, Item).join(Entry, col(Entry.id) == EntryMember.entry_id)
        .join(Item, col(Item.id) == Entry.item_id)
        .where(EntryMember.event_id == ctx.event_id, col(EntryMember.person_key).in_(hashes))
    )).first()
    if row is None:
        return _refuse(409, "conflict", "提交冲突，请重试", "conflicting submission, try again")
    member, item = row
    who = next(c for c in checked if c.person_hash == member.person_hash)
    if item.code == item_code:  # name the number, not the person: an edit may carry someone else's number
        return _refuse(409, "already_registered", f"身份证号码 {mask_id_number(who.number)} 已报名本赛项，无需重复报名",
                       f"ID number {mask_id_number(who.number)} is already registered for this item")
    if normalise_phone(member.phone) == who.request.phone:  # only the person themselves learns where
        return _refuse(409, "duplicate_entry",
                       f"每人只能报名一个赛项：您已报名“{item.name}”。如需更换，请先撤回原报名",
                       f"one item per person: you are registered for {item.name}; withdraw it first",
                       item=item.code)
    return _refuse(409, "duplicate_entry", "该身份证号码已在本赛事的其他赛项报名，每人只能报名一个赛项",
                   "this ID number already holds an entry in another item of this event")


async def _likely_duplicates(session: AsyncSession, ctx: RegistrationContext, c: Checked,
                             unit_key: str) -> list[int]:
    """Entries of someone with the same name and phone, or the same name, unit and birth date, but another
    ID number: perhaps one person entered twice under two identities."""
    rows = await session.exec(
        select(EntryMember.entry_id).join(Entry, col(Entry.id) == EntryMember.entry_id)
        .where(EntryMember.event_id == ctx.event_id, EntryMember.name == c.request.name,
               col(EntryMember.person_key).is_not(None), EntryMember.person_hash != c.person_hash,
               or_(col(EntryMember.phone) == c.request.phone,
                   (col(EntryMember.birth_date) == c.birth_date) & (col(Entry.unit_key) == unit_key)))
    )
    return sorted(set(rows.all()))


async def _instructor_conflicts(session: AsyncSession, entry: Entry, checked: list[Checked],
                                instructors: tuple[tuple[str, str], ...]) -> list[str]:
    """An employee contestant may not be the instructor of a student contestant in the same item: look both
    ways (our instructors among the item's employees; our employees among the item's instructors)."""
    found = []
    if instructors and any(c.request.identity == "student" for c in checked):
        names = [n for n, _ in instructors]
        employees = await session.exec(
            select(EntryMember.name, EntryMember.phone).join(Entry, col(Entry.id) == EntryMember.entry_id)
            .where(Entry.item_id == entry.item_id, Entry.state == "active", Entry.id != entry.id,
                   EntryMember.identity == "employee", col(EntryMember.name).in_(names)))
        found += [f"指导教师{name}同时是本赛项的职工选手" for name, phone in employees.all()
                  if (name, phone) in set(instructors)]
    for c in checked:
        if c.request.identity != "employee":
            continue
        students = await session.exec(
            select(EntryMember.name).join(EntryInstructor, col(EntryInstructor.entry_id) == EntryMember.entry_id)
            .join(Entry, col(Entry.id) == EntryMember.entry_id)
            .where(EntryInstructor.item_id == entry.item_id, EntryInstructor.name == c.request.name,
                   EntryInstructor.phone == c.request.phone, Entry.state == "active", Entry.id != entry.id,
                   EntryMember.identity == "student"))
        found += [f"职工选手{c.request.name}是本赛项学生选手{name}的指导教师" for name in students.all()]
    return found


def _flag(entry_id: int, code: str, message: str, detail: dict[str, Any]) -> EntryFlag:
    return EntryFlag(entry_id=entry_id, code=code, message=message, detail=detail)


async def register(session: AsyncSession, ctx: RegistrationContext, req: RegistrationRequest, *,
                   source: str = "form", now: datetime | None = None) -> Outcome:
    """Check and store one registration; commit. Raises ApiError with a stable code on every refusal."""
    item, checked = _check(ctx, req, now)
    entry = Entry(event_id=ctx.event_id, item_id=ctx.item_ids[item.code], group_name=req.group, unit=req.unit,
                  unit_key=normalise_unit(req.unit), ticket_code=new_ticket_code(), source=source)
    session.add(entry)
    await session.flush()
    return await _store(session, ctx, req, item, checked, entry)


async def amend(session: AsyncSession, ctx: RegistrationContext, entry_id: int, req: RegistrationRequest, *,
                now: datetime | None = None) -> Outcome:
    """Replace an active entry's details (the contestant's correction, or the organiser's edit) in one
    transaction: the old places are given up and the new ones taken under the same constraints, so a
    refused amendment leaves the entry exactly as it was. The ticket code stays."""
    item, checked = _check(ctx, req, now)
    entry = await session.get(Entry, entry_id)
    if entry is None or entry.event_id != ctx.event_id or entry.state != "active":
        raise _refuse(404, "unknown_registration", "找不到该报名或已撤回", "no such active registration")
    await release(session, entry)
    for member in (await session.exec(select(EntryMember).where(EntryMember.entry_id == entry_id))).all():
        await session.delete(member)
    for table in (EntryFlag, EntryInstructor):
        for row in (await session.exec(select(table).where(table.entry_id == entry_id))).all():
            await session.delete(row)
    await session.flush()
    entry.item_id, entry.group_name = ctx.item_ids[item.code], req.group
    entry.unit, entry.unit_key = req.unit, normalise_unit(req.unit)
    entry.review, entry.updated_at = "none", utcnow()
    session.add(entry)
    return await _store(session, ctx, req, item, checked, entry)


def _check(ctx: RegistrationContext, req: RegistrationRequest,
           now: datetime | None) -> tuple[ItemSpec, list[Checked]]:
    """Every rule that needs no database: open, item, group, team size, each member."""
    if not is_open(ctx.closes, ctx.closed_at, now or utcnow()):
        raise _refuse(422, "registration_closed", "报名已截止", "registration is closed")
    item = _item_and_group(ctx, req)
    checked = [_check_member(ctx, req, m, f"members[{i}]." if len(req.members) > 1 else "")
               for i, m in enumerate(req.members)]
    if len({c.person_hash for c in checked}) < len(checked):
        raise _refuse(422, "duplicate_member", "同一人不能在队伍中出现两次", "the same person twice in one team")
    return item, checked


async def _store(session: AsyncSession, ctx: RegistrationContext, req: RegistrationRequest, item: ItemSpec,
                 checked: list[Checked], entry: Entry) -> Outcome:
    """Members, quota place and flags of a flushed entry; commit, or roll back and refuse."""
    assert entry.id is not None
    # one entry per person per event, or per item when the event allows several
    suffix = "" if ctx.spec.one_item_per_person else f":{item.code}"
    for position, c in enumerate(checked):
        session.add(EntryMember(
            entry_id=entry.id, event_id=entry.event_id, position=position, person_key=c.person_hash + suffix,
            person_hash=c.person_hash, id_number_enc=ctx.personal.encrypt(c.number),
            id_masked=mask_id_number(c.number), id_kind=c.kind, name=c.request.name, gender=c.gender,
            birth_date=c.birth_date, phone=c.request.phone, identity=c.request.identity,
            education=c.request.education, skill_level=c.request.skill_level,
            certificate_number=c.request.certificate_number, years_in_occupation=c.request.years_in_occupation,
            female_base=c.request.female_base,
            instructors=[{"name": n, "phone": p} for n, p in req.instructors]))
    session.add_all(EntryInstructor(entry_id=entry.id, item_id=entry.item_id, name=n, phone=p)
                    for n, p in req.instructors)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise await _conflict(session, ctx, checked, item.code) from None

    flags: list[EntryFlag] = [_flag(entry.id, code, msg, detail) for c in checked for code, msg, detail in c.flags]
    quota = ctx.spec.unit_quota_per_group
    if quota is not None:
        if ctx.spec.unit_quota_mode == "enforce":
            if not await _take_quota_slot(session, ctx, entry, quota):
                await session.rollback()
                raise _refuse(409, "unit_quota_exceeded",
                              f"“{req.unit}”在该赛项{req.group}的报名名额（{quota} 名）已满",
                              f"{req.unit} has used its {quota} places in this item and group")
        else:
            count = (await session.exec(select(func.count()).select_from(Entry).where(
                Entry.item_id == entry.item_id, Entry.group_name == entry.group_name,
                Entry.unit_key == entry.unit_key, Entry.state == "active"))).one()
            if count > quota:
                flags.append(_flag(entry.id, "unit_quota_warning", f"单位报名人数（{count}）超过原则名额 {quota}",
                                   {"count": count, "quota": quota}))
    for c in checked:
        others = await _likely_duplicates(session, ctx, c, entry.unit_key)
        if others:
            flags.append(_flag(entry.id, "possible_duplicate", f"{c.request.name}疑似以不同身份证号码重复报名",
                               {"other_entries": others}))
    for message in await _instructor_conflicts(session, entry, checked, req.instructors):
        flags.append(_flag(entry.id, "instructor_conflict", message, {}))
    if flags:
        entry.review = "pending"
        session.add_all(flags)
    await session.commit()
    warnings = [w for c in checked for w in c.warnings]
    return Outcome(entry, warnings, sorted({f.code for f in flags}))


async def release(session: AsyncSession, entry: Entry) -> None:
    """Free the person and quota places an entry held (withdrawn or rejected)."""
    await session.exec(update(EntryMember).where(col(EntryMember.entry_id) == entry.id)
                       .values(person_key=None))
    slots = await session.exec(select(QuotaSlot).where(QuotaSlot.entry_id == entry.id))
    for slot in slots.all():
        await session.delete(slot)


async def withdraw(session: AsyncSession, entry: Entry, now: datetime | None = None) -> None:
    entry.state, entry.withdrawn_at, entry.updated_at = "withdrawn", now or utcnow(), now or utcnow()
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
