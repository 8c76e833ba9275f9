"""The check-in desk's look-up for a contestant who lost the ticket (按姓名查找).

Why so narrow: the ticket code is the contestant's proof (appeals, 我的报名), so the desk's search never
returns it, nor a full ID number or phone — the desk checks a found person in by registration id instead.
And a search must find a person, not list the event: what is typed is matched literally (`%`, `_` and `\\`
are plain characters, on SQLite and PostgreSQL alike), it needs at least:

- a name or part of one of 2 characters or more (张三, 小明), or
- the last 4–11 digits of the phone number, or
- a full ID number (compared by its keyed hash, never decrypted),

and at most `LIMIT` rows come back (the caller learns when there were more).

Refusal: 422 query_too_short.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.errors import Refusal
from registration.entries.models import Entry, EntryMember
from registration.entries.personal import PersonalData
from registration.entries.public_data import mask_phone
from registration.events.models import Item
from scoring.identity import normalise_id_number

__all__ = ["LIMIT", "MIN_NAME", "MIN_PHONE_DIGITS", "Found", "search"]

LIMIT = 20
MIN_NAME = 2
MIN_PHONE_DIGITS = 4
MAX_QUERY = 64
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)


@dataclass(frozen=True)
class Found:
    rows: list[dict[str, Any]]
    more: bool  # more people matched than LIMIT: the desk should type more


def _id_number(text: str) -> str | None:
    """The normalised ID number when `text` has its shape (17 digits and a digit or X), else None; registration
    hashed the same normalised form."""
    candidate = normalise_id_number(text)
    return candidate if _ID_SHAPE.fullmatch(candidate) else None


async def search(session: AsyncSession, personal: PersonalData, event_id: int, raw: str) -> Found:
    text = unicodedata.normalize("NFKC", raw).strip()[:MAX_QUERY]
    number = _id_number(text)
    digits = text.replace(" ", "").replace("-", "")
    if number is not None:
        match = col(EntryMember.person_hash) == personal.person_hash(number)
    elif digits.isascii() and digits.isdigit():
        if len(digits) < MIN_PHONE_DIGITS:
            raise Refusal(422, "query_too_short", f"请输入手机号后至少 {MIN_PHONE_DIGITS} 位",
                           f"type at least the last {MIN_PHONE_DIGITS} digits of the phone number",
                           min_digits=MIN_PHONE_DIGITS)
        match = col(EntryMember.phone).endswith(digits[-11:], autoescape=True)
    elif len(text) < MIN_NAME:
        raise Refusal(422, "query_too_short", f"请至少输入 {MIN_NAME} 个字", f"type at least {MIN_NAME} characters",
                       min_length=MIN_NAME)
    else:
        # autoescape: LIKE … ESCAPE '/', every % _ / typed is matched as itself (and \ is no escape on either)
        match = col(EntryMember.name).icontains(text, autoescape=True)
    rows = (await session.exec(
        select(Entry, EntryMember, Item).join(EntryMember, col(EntryMember.entry_id) == Entry.id)
        .join(Item, col(Item.id) == Entry.item_id)
        .where(Entry.event_id == event_id, EntryMember.event_id == event_id, Entry.state == "active", match)
        .order_by(col(EntryMember.name), col(Entry.id), col(EntryMember.position)).limit(LIMIT + 1))).all()
    return Found([{"registration_id": e.id, "name": m.name, "id_masked": m.id_masked,
                   "phone_masked": mask_phone(m.phone), "unit": e.unit, "item": i.code, "item_name": i.name,
                   "group": e.group_name}
                  for e, m, i in rows[:LIMIT]], len(rows) > LIMIT)
