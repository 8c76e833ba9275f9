"""Use cases of the organiser's judge registry over a session: judges with their ID number (encrypted) and
examiner cards, an item's panel with its warnings, assigning and removing panel seats.

The caller commits. Uniqueness (one judge per person per event, one seat per judge × role × item) lives in
the schema; a clash comes back as Refusal 409 with a stable code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.models import User
from contestday.accounts.service import revoke_role
from contestday.web.errors import Refusal
from judging.cards import CardFacts, CardWarning, card_warnings, item_occupations
from judging.models import ExaminerCard, Judge, JudgeIdentity, PanelMember
from judging.panels import PANEL_ROLES, add_judge, assign
from registration.entries.models import Entry
from registration.entries.personal import PersonalData, normalise_phone, normalise_unit
from registration.events.models import Criterion, Event, Item
from scoring.identity import mask_id_number

__all__ = [
    "ROLE_NAMES", "JudgeView", "PanelView", "Seat", "add_card", "assign_seat", "create_judge", "id_number_of",
    "judge_of_event", "judge_views", "panel_view", "remove_card", "remove_seat", "update_judge",
]

ROLE_NAMES = {"chief_judge": "裁判长", "judge": "裁判", "encryption_judge": "加密裁判"}


@dataclass
class Seat:
    member: PanelMember
    judge: Judge
    item: Item
    warnings: list[CardWarning] = field(default_factory=list)


@dataclass
class JudgeView:
    judge: Judge
    cards: list[ExaminerCard]
    seats: list[Seat]

    def card_valid(self, card: ExaminerCard, contest_day: date) -> bool:
        return card.valid_until >= contest_day


@dataclass
class PanelView:
    item: Item
    criteria: list[Criterion]
    seats: list[Seat]
    judges: list[Judge]  # every judge of the event, for the assign form
    warnings: list[CardWarning]  # of the panel as a whole (no chief judge, a criterion nobody marks, …)


async def judge_of_event(session: AsyncSession, event_id: int, judge_id: int) -> Judge:
    judge = await session.get(Judge, judge_id)
    if judge is None or judge.event_id != event_id:
        raise Refusal(404, "unknown_judge", "找不到该裁判", "no such judge")
    return judge


async def _set_identity(session: AsyncSession, personal: PersonalData, judge: Judge, id_number: str | None) -> None:
    """Store (or clear) the judge's number; the same person twice in one event is refused by the schema."""
    await session.exec(delete(JudgeIdentity).where(col(JudgeIdentity.judge_id) == judge.id))
    judge.id_masked = mask_id_number(id_number) if id_number else None
    session.add(judge)
    if id_number:
        session.add(JudgeIdentity(judge_id=judge.id or 0, event_id=judge.event_id,
                                  person_hash=personal.person_hash(id_number),
                                  id_number_enc=personal.encrypt(id_number)))
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Refusal(409, "judge_exists", "该身份证号码的裁判已在本赛事登记",
                       "a judge with this ID number is already registered for this event") from exc


async def id_number_of(session: AsyncSession, personal: PersonalData, judge: Judge) -> str:
    identity = await session.get(JudgeIdentity, judge.id)
    return (personal.decrypt(identity.id_number_enc) or "") if identity else ""


async def create_judge(session: AsyncSession, personal: PersonalData, event_id: int, name: str, unit: str,
                       phone: str, id_number: str | None) -> Judge:
    judge = await add_judge(session, event_id, name, unit, phone)
    await _set_identity(session, personal, judge, id_number)
    return judge


async def update_judge(session: AsyncSession, personal: PersonalData, judge: Judge, name: str, unit: str,
                       phone: str, id_number: str | None) -> None:
    judge.name, judge.unit, judge.unit_key = name, unit, normalise_unit(unit) if unit else ""
    judge.phone = normalise_phone(phone) if phone else ""
    user = await session.get(User, judge.user_id) if judge.user_id else None
    if user is not None:  # the name the tablet and the audit log show
        user.display_name = name
        session.add(user)
    await _set_identity(session, personal, judge, id_number)


async def add_card(session: AsyncSession, judge: Judge, occupation: str, level: int | None, number: str,
                   valid_until: date) -> ExaminerCard:
    """A card, or the same card (occupation and number) renewed: imports run again without duplicates."""
    card = (await session.exec(select(ExaminerCard).where(ExaminerCard.judge_id == judge.id,
                                                          ExaminerCard.occupation == occupation,
                                                          ExaminerCard.number == number))).first()
    if card is None:
        card = ExaminerCard(judge_id=judge.id or 0, occupation=occupation, number=number, valid_until=valid_until)
    card.level, card.valid_until = level if level is not None else card.level, valid_until
    session.add(card)
    await session.flush()
    return card


async def remove_card(session: AsyncSession, judge: Judge, card_id: int) -> None:
    await session.exec(delete(ExaminerCard).where(col(ExaminerCard.id) == card_id,
                                                  col(ExaminerCard.judge_id) == judge.id))


async def _cards_by_judge(session: AsyncSession, judge_ids: list[int]) -> dict[int, list[ExaminerCard]]:
    cards: dict[int, list[ExaminerCard]] = defaultdict(list)
    if judge_ids:
        for card in (await session.exec(select(ExaminerCard).where(col(ExaminerCard.judge_id).in_(judge_ids))
                                        .order_by(col(ExaminerCard.valid_until).desc()))).all():
            cards[card.judge_id].append(card)
    return cards


def _seat_warnings(seat: Seat, cards: list[ExaminerCard], contest_day: date) -> list[CardWarning]:
    facts = [CardFacts(c.occupation, c.number, c.valid_until) for c in cards]
    return card_warnings(facts, contest_day, item_occupations(seat.item.name, seat.item.catalog_code))


async def judge_views(session: AsyncSession, event: Event) -> list[JudgeView]:
    judges = list((await session.exec(select(Judge).where(Judge.event_id == event.id)
                                      .order_by(col(Judge.id)))).all())
    cards = await _cards_by_judge(session, [j.id or 0 for j in judges])
    seats: dict[int, list[Seat]] = defaultdict(list)
    rows = (await session.exec(select(PanelMember, Item).join(Item, col(Item.id) == PanelMember.item_id)
                               .where(Item.event_id == event.id).order_by(col(Item.position)))).all()
    by_id = {j.id: j for j in judges}
    units: dict[int, dict[str, int]] = {}
    for member, item in rows:
        if item.id not in units:
            units[item.id or 0] = await _same_unit_counts(session, item.id or 0)
        seat = Seat(member, by_id[member.judge_id], item)
        _warn(seat, cards[member.judge_id], event.starts_on, units[item.id or 0])
        seats[member.judge_id].append(seat)
    return [JudgeView(j, cards[j.id or 0], seats[j.id or 0]) for j in judges]


async def _same_unit_counts(session: AsyncSession, item_id: int) -> dict[str, int]:
    """Active entries of the item by unit key: a judge of one of these units must not mark (回避)."""
    rows = (await session.exec(select(Entry.unit_key, func.count()).where(Entry.item_id == item_id,
                                                                          Entry.state == "active")
                               .group_by(col(Entry.unit_key)))).all()
    return {key: n for key, n in rows if key}


def _warn(seat: Seat, cards: list[ExaminerCard], contest_day: date, units: dict[str, int]) -> None:
    """Card and conflict-of-interest warnings of a seat. The encryption judge holds the mapping and marks
    nothing: neither applies."""
    if seat.member.role == "encryption_judge":
        return
    seat.warnings = _seat_warnings(seat, cards, contest_day)
    if seat.judge.unit_key and seat.judge.unit_key in units:
        n = units[seat.judge.unit_key]
        seat.warnings.append(CardWarning(
            "same_unit", f"回避：与本赛项 {n} 名选手同单位（{seat.judge.unit}），评分时将被拒绝",
            f"conflict of interest: same unit as {n} contestant(s) of this item; their marks will be refused"))


async def panel_view(session: AsyncSession, event: Event, item: Item) -> PanelView:
    criteria = list((await session.exec(select(Criterion).where(Criterion.item_id == item.id)
                                        .order_by(col(Criterion.position)))).all())
    judges = list((await session.exec(select(Judge).where(Judge.event_id == event.id)
                                      .order_by(col(Judge.name)))).all())
    by_id = {j.id: j for j in judges}
    members = (await session.exec(select(PanelMember).where(PanelMember.item_id == item.id)
                                  .order_by(col(PanelMember.id)))).all()
    order = {role: i for i, role in enumerate(PANEL_ROLES)}
    seats = sorted((Seat(m, by_id[m.judge_id], item) for m in members), key=lambda s: order[s.member.role])
    cards = await _cards_by_judge(session, [s.judge.id or 0 for s in seats])
    units = await _same_unit_counts(session, item.id or 0)
    for seat in seats:
        _warn(seat, cards[seat.judge.id or 0], event.starts_on, units)
    return PanelView(item, criteria, seats, judges, _panel_warnings(seats, criteria))


def _panel_warnings(seats: list[Seat], criteria: list[Criterion]) -> list[CardWarning]:
    roles = defaultdict(list)
    for seat in seats:
        roles[seat.member.role].append(seat)
    warnings = []
    if len(roles["chief_judge"]) != 1:
        warnings.append(CardWarning("chief_judge_count", f"裁判长应为 1 名（现 {len(roles['chief_judge'])} 名）",
                                    f"one chief judge expected ({len(roles['chief_judge'])} now)"))
    if not roles["encryption_judge"]:
        warnings.append(CardWarning("no_encryption_judge", "尚未指定加密裁判", "no encryption judge yet"))
    marking = {s.judge.id for s in roles["judge"] + roles["chief_judge"]}
    for seat in roles["encryption_judge"]:
        if seat.judge.id in marking:  # the mapping's holder would know whose work is at each seat
            warnings.append(CardWarning("encryption_judge_marks", f"加密裁判 {seat.judge.name} 同时担任评分裁判",
                                        f"the encryption judge {seat.judge.name} also marks"))
    for criterion in criteria:
        if not any(not s.member.criteria or criterion.code in s.member.criteria for s in roles["judge"]):
            warnings.append(CardWarning("criterion_unjudged", f"评分项 {criterion.code}（{criterion.name}）还没有裁判",
                                        f"criterion {criterion.code} ({criterion.name}) has no judge yet"))
    return warnings


async def assign_seat(session: AsyncSession, event_id: int, item: Item, judge_id: int, role: str,
                      criteria: list[str], by: str = "?") -> PanelMember:
    judge = await judge_of_event(session, event_id, judge_id)
    known = set((await session.exec(select(Criterion.code).where(Criterion.item_id == item.id))).all())
    unknown = [c for c in criteria if c not in known]
    if unknown:
        raise Refusal(422, "unknown_criterion", f"本赛项没有评分项 {'、'.join(unknown)}",
                       f"no such criteria in this item: {', '.join(unknown)}")
    try:
        async with session.begin_nested():
            # criteria only narrow a judge's seat; a chief or encryption judge has the whole item
            return await assign(session, judge, item.id or 0, role, criteria if role == "judge" else [], by)
    except IntegrityError as exc:
        raise Refusal(409, "already_on_panel", f"{judge.name} 已担任本赛项的{ROLE_NAMES.get(role, role)}",
                       f"{judge.name} already holds this seat on the panel") from exc


async def remove_seat(session: AsyncSession, item: Item, member_id: int, by: str = "?") -> None:
    """Remove a seat; the account loses the role for this item (a chief judge's: for the event, once no chief
    judge seat of the event is left), recorded."""
    member = await session.get(PanelMember, member_id)
    if member is None or member.item_id != item.id:
        raise Refusal(404, "unknown_seat", "找不到该裁判组成员", "no such panel seat")
    judge = await session.get(Judge, member.judge_id)
    await session.delete(member)
    await session.flush()
    if judge is None or judge.user_id is None:
        return
    user = await session.get(User, judge.user_id)
    assert user is not None
    if member.role != "chief_judge":
        await revoke_role(session, user, member.role, by, judge.event_id, item.id)
        return
    left = (await session.exec(select(PanelMember.id).where(PanelMember.judge_id == member.judge_id,
                                                            PanelMember.role == member.role))).first()
    if left is None:
        await revoke_role(session, user, member.role, by, judge.event_id)
