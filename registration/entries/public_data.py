"""What the public pages read: a ticket by its code, a contestant's own entry by ID number + phone, and
the small safety devices of "my registration" (masked values, a signed cookie, a lookup rate limit).

Public pages never show a full ID number or phone: only `id_masked` and `mask_phone` leave this module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.security import same, sign, unsign
from registration.entries.identities import unit_label
from registration.entries.models import Entry, EntryMember
from registration.entries.personal import PersonalData, normalise_phone
from registration.entries.request import IDENTITIES
from registration.entries.tickets import format_code, normalise_code
from registration.events.models import Event, Item
from scoring.identity import InvalidIdNumber, normalise_id_number, parse_id_number

__all__ = [
    "MemberView",
    "TicketView",
    "find_own_entry",
    "load_members",
    "load_ticket",
    "mask_name",
    "mask_phone",
    "member_values",
    "mine_cookie",
    "read_mine_cookie",
    "state_label",
]

REVIEW_LABELS = {"none": "报名成功", "pending": "待审核", "approved": "审核通过", "rejected": "未通过审核"}
MINE_COOKIE_SECONDS = 15 * 60


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 李华 → 李*, a name of one character stays (certificates' verification, the theory page)."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """138****8000: the owner recognises it, nobody else can call it."""
    digits = normalise_phone(phone)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:] if len(digits) >= 8 else "*" * len(digits)


def state_label(entry: Entry) -> str:
    if entry.state == "withdrawn":
        return "已撤回"
    if entry.state == "rejected":
        return "未通过审核"
    return REVIEW_LABELS.get(entry.review, entry.review)


@dataclass(frozen=True)
class MemberView:
    name: str
    id_masked: str
    phone_masked: str
    identity: str
    has_photo: bool


@dataclass(frozen=True)
class TicketView:
    code: str
    code_display: str
    url: str
    event_id: int
    event_name: str
    starts_on: str
    item_code: str
    item_name: str
    group: str
    unit: str
    state: str
    state_label: str
    members: tuple[MemberView, ...]

    def rows(self) -> list[tuple[str, str]]:
        """The ticket's details in print order (PDF): masked only."""
        rows = [("赛项", f"{self.item_name}（{self.item_code}）"), ("组别", self.group or "不分组"),
                ("比赛日期", self.starts_on)]
        for i, m in enumerate(self.members):
            suffix = f"（队员{i + 1}）" if len(self.members) > 1 else ""
            rows += [(f"姓名{suffix}", m.name), (f"身份证号{suffix}", m.id_masked)]
        return [*rows, ("单位", self.unit)]


async def load_members(session: AsyncSession, entry_id: int) -> list[EntryMember]:
    rows = await session.exec(select(EntryMember).where(EntryMember.entry_id == entry_id)
                              .order_by(col(EntryMember.position)))
    return list(rows.all())


async def load_ticket(session: AsyncSession, raw_code: str, public_url: str) -> TicketView | None:
    code = normalise_code(raw_code)
    if not code:
        return None
    row = (await session.exec(
        select(Entry, Item, Event).join(Item, col(Item.id) == Entry.item_id)
        .join(Event, col(Event.id) == Entry.event_id).where(Entry.ticket_code == code))).first()
    if row is None:
        return None
    entry, item, event = row
    assert entry.id is not None and event.id is not None
    members = tuple(MemberView(m.name, m.id_masked, mask_phone(m.phone), IDENTITIES.get(m.identity, m.identity),
                               bool(m.photo)) for m in await load_members(session, entry.id))
    return TicketView(code, format_code(code), f"{public_url}/t/{code}", event.id, event.name,
                      f"{event.starts_on:%Y年%m月%d日}", item.code, item.name, entry.group_name,
                      unit_label(entry.unit), entry.state, state_label(entry), members)


async def find_own_entry(session: AsyncSession, personal: PersonalData, event_id: int, id_number: str,
                         phone: str) -> Entry | None:
    """The active entry in which this ID number is a member with this phone; None whichever part is wrong
    (the caller answers the same neutral message for both). The ID is compared by its keyed hash, so the
    look-up uses the index and never decrypts anyone's number."""
    try:
        number = parse_id_number(id_number).number
    except InvalidIdNumber:
        number = normalise_id_number(id_number)
    wanted_phone = normalise_phone(phone)
    rows = await session.exec(
        select(EntryMember, Entry).join(Entry, col(Entry.id) == EntryMember.entry_id)
        .where(EntryMember.event_id == event_id, EntryMember.person_hash == personal.person_hash(number),
               Entry.state == "active").order_by(col(Entry.created_at).desc()))
    for member, entry in rows.all():
        if wanted_phone and same(normalise_phone(member.phone), wanted_phone):
            return entry
    return None


def mine_cookie(secret_key: str, event_id: int, entry_id: int, now: float | None = None) -> str:
    """A short-lived signed name of the entry its holder proved to own (ID number + phone)."""
    expires = int((now or time.time()) + MINE_COOKIE_SECONDS)
    return sign(secret_key, "mine", f"mine:{event_id}:{entry_id}:{expires}")


def read_mine_cookie(secret_key: str, token: str | None, event_id: int, now: float | None = None) -> int | None:
    payload = unsign(secret_key, "mine", token or "")
    if payload is None:
        return None
    try:
        kind, event, entry, expires = payload.split(":")
        if kind != "mine" or int(event) != event_id or int(expires) < (now or time.time()):
            return None
        return int(entry)
    except ValueError:
        return None


def member_values(entry: Entry, members: list[EntryMember], item_code: str) -> dict[str, Any]:
    """Form values to pre-fill the edit form: everything but ID numbers and phones (left blank = keep)."""
    values: dict[str, Any] = {"item": item_code, "group": entry.group_name, "unit": entry.unit,
                              "identity": members[0].identity if members else ""}
    for m in members:
        p = f"m{m.position}_"
        values.update({p + "name": m.name, p + "education": m.education or "",
                       p + "skill_level": "" if m.skill_level is None else str(m.skill_level),
                       p + "certificate_number": m.certificate_number or "",
                       p + "years_in_occupation": "" if m.years_in_occupation is None else str(m.years_in_occupation),
                       p + "female_base": "" if m.female_base is None else str(m.female_base)})
    for i, ins in enumerate(members[0].instructors if members else []):
        values[f"ins{i}_name"] = ins.get("name", "")
    return values
