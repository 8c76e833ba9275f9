"""The organiser's view of registration: counts, lists, the review queue, closing by hand, roster imports.
Queries only, plus `import_roster`, which sends every row through the same `read_request` + `register` as
the public form (no second set of rules for spreadsheets)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from contestday.web.errors import Refusal
from registration.entries.models import Entry, EntryFlag, EntryMember
from registration.entries.request import RequestError, read_request
from registration.entries.roster import COLUMNS, Roster, RosterRow, row_payload
from registration.entries.service import RegistrationContext, is_open, register
from registration.events.models import Event, Item, ItemGroup
from scoring.identity import normalise_id_number

__all__ = [
    "MIN_INITIAL",
    "PAGE_SIZE",
    "EntryView",
    "Filters",
    "GroupCount",
    "ReviewCase",
    "RowResult",
    "entry_views",
    "find_entries",
    "group_counts",
    "import_roster",
    "pending_count",
    "review_queue",
    "rolled_back_session",
    "set_closed",
]

log = logging.getLogger("contestday.registration")
MIN_INITIAL = 50  # "每个组别初始参赛选手原则上不少于50人（队）": warn, never refuse
PAGE_SIZE = 100
_MEMBER_KEYS = ("identity", "name", "id_number", "phone", "education", "skill_level", "certificate_number",
                "years_in_occupation", "female_base")
_FIELD_NAMES = {key: zh for zh, key in COLUMNS} | {"female_base": "女职工退休基准"}


@dataclass(frozen=True)
class GroupCount:
    item_code: str
    item_name: str
    group: str
    active: int = 0
    pending: int = 0
    withdrawn: int = 0
    rejected: int = 0
    units: int = 0

    @property
    def below_minimum(self) -> bool:
        return self.active < MIN_INITIAL


async def group_counts(session: AsyncSession, event_id: int) -> list[GroupCount]:
    """Every item × group of the event (also those nobody has entered yet), in the event's order."""
    items = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
    groups = (await session.exec(select(ItemGroup).join(Item, col(Item.id) == ItemGroup.item_id)
                                 .where(Item.event_id == event_id).order_by(col(ItemGroup.position)))).all()
    tallies: dict[tuple[int, str], dict[str, int]] = {}
    item_id_, group_ = col(Entry.item_id), col(Entry.group_name)
    rows = await session.exec(select(item_id_, group_, col(Entry.state), func.count())
                              .where(Entry.event_id == event_id).group_by(item_id_, group_, col(Entry.state)))
    for item_id, group, state, n in rows.all():
        tallies.setdefault((item_id, group), {})[state] = n
    pending = await session.exec(select(item_id_, group_, func.count()).where(
        Entry.event_id == event_id, Entry.state == "active", Entry.review == "pending").group_by(item_id_, group_))
    for item_id, group, n in pending.all():
        tallies.setdefault((item_id, group), {})["pending"] = n
    units = await session.exec(select(item_id_, group_, func.count(func.distinct(Entry.unit_key)))
                               .where(Entry.event_id == event_id, Entry.state == "active").group_by(item_id_, group_))
    for item_id, group, n in units.all():
        tallies.setdefault((item_id, group), {})["units"] = n
    out = []
    for item in items:
        names = [g.name for g in groups if g.item_id == item.id] or [""]
        names += sorted(g for (i, g) in tallies if i == item.id and g not in names)  # left over from an edit
        for name in names:
            t = tallies.get((item.id or 0, name), {})
            out.append(GroupCount(item.code, item.name, name, t.get("active", 0), t.get("pending", 0),
                                  t.get("withdrawn", 0), t.get("rejected", 0), t.get("units", 0)))
    return out


async def set_closed(session: AsyncSession, event: Event, closed: bool, reason: str, by: int | str | None) -> None:
    """Close registration by hand now, or reopen it; the reason goes to the log (no personal data)."""
    if not reason.strip():
        raise Refusal(422, "reason_required", "请填写原因", "a reason is required", field="reason")
    event.registration_closed_at = utcnow() if closed else None
    session.add(event)
    await session.commit()
    log.info("registration closed by hand" if closed else "registration reopened",
             extra={"event_id": event.id, "by_user": by, "reason": reason.strip()[:500],
                    "open_now": is_open(event.registration_closes, event.registration_closed_at, utcnow())})


@dataclass
class EntryView:
    """An entry with what the organiser pages show of it: item, members (masked IDs) and flags."""

    entry: Entry
    item: Item
    members: list[EntryMember]
    flags: list[EntryFlag]

    @property
    def names(self) -> str:
        return "、".join(m.name for m in self.members)


async def entry_views(session: AsyncSession, entries: Sequence[Entry]) -> list[EntryView]:
    """Members, flags and items of many entries in three queries (no lazy loads under async)."""
    ids = [e.id for e in entries]
    members: dict[int, list[EntryMember]] = {}
    for m in (await session.exec(select(EntryMember).where(col(EntryMember.entry_id).in_(ids))
                                 .order_by(col(EntryMember.position)))).all():
        members.setdefault(m.entry_id, []).append(m)
    flags: dict[int, list[EntryFlag]] = {}
    for f in (await session.exec(select(EntryFlag).where(col(EntryFlag.entry_id).in_(ids))
                                 .order_by(col(EntryFlag.id)))).all():
        flags.setdefault(f.entry_id, []).append(f)
    item_ids = {e.item_id for e in entries}
    items = {i.id: i for i in (await session.exec(select(Item).where(col(Item.id).in_(item_ids)))).all()}
    return [EntryView(e, items[e.item_id], members.get(e.id or 0, []), flags.get(e.id or 0, [])) for e in entries]


@dataclass(frozen=True)
class Filters:
    item: str = ""
    group: str = ""
    unit: str = ""
    state: str = ""
    review: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def of(cls, params: Mapping[str, str]) -> Filters:
        page = params.get("page", "1")
        text = {k: params.get(k, "").strip() for k in ("item", "group", "unit", "state", "review", "q")}
        return cls(**text, page=max(1, int(page)) if page.isdigit() else 1)


async def find_entries(session: AsyncSession, event_id: int, f: Filters) -> tuple[list[EntryView], int]:
    """One page of the filtered list, and how many entries match in all."""
    query = select(Entry).join(Item, col(Item.id) == Entry.item_id).where(Entry.event_id == event_id)
    if f.item:
        query = query.where(Item.code == f.item)
    if f.group:
        query = query.where(Entry.group_name == ("" if f.group == "-" else f.group))
    if f.unit:
        query = query.where(col(Entry.unit).contains(f.unit))
    if f.state:
        query = query.where(Entry.state == f.state)
    if f.review:
        query = query.where(Entry.review == f.review)
    if f.q:
        query = query.where(exists().where(col(EntryMember.entry_id) == col(Entry.id),
                                           col(EntryMember.name).contains(f.q)))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    page = (await session.exec(query.order_by(col(Item.position), col(Entry.group_name), col(Entry.unit_key),
                                              col(Entry.id)).offset((f.page - 1) * PAGE_SIZE).limit(PAGE_SIZE))).all()
    return await entry_views(session, page), int(total)


@dataclass
class ReviewCase:
    view: EntryView
    others: list[EntryView]  # the entries a possible_duplicate flag points at, shown side by side


async def review_queue(session: AsyncSession, event_id: int) -> list[ReviewCase]:
    entries = (await session.exec(select(Entry).where(Entry.event_id == event_id, Entry.state == "active",
                                                      Entry.review == "pending").order_by(col(Entry.created_at)))).all()
    views = await entry_views(session, entries)
    wanted = {i for v in views for f in v.flags if f.code == "possible_duplicate"
              for i in f.detail.get("other_entries", []) if isinstance(i, int)}
    others = await entry_views(session, (await session.exec(select(Entry).where(col(Entry.id).in_(wanted)))).all())
    by_id = {o.entry.id: o for o in others}
    return [ReviewCase(v, [by_id[i] for f in v.flags if f.code == "possible_duplicate"
                           for i in f.detail.get("other_entries", []) if i in by_id]) for v in views]


@asynccontextmanager
async def rolled_back_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints of one outer transaction that is rolled back at the end: a dry
    run goes through every rule, the unique constraints included, and stores nothing."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


@dataclass
class RowResult:
    number: int
    name: str
    ok: bool
    ticket_code: str = ""
    code: str = ""
    message: str = ""
    message_en: str = ""
    flags: list[str] = field(default_factory=list)


def _work(rows: Sequence[RosterRow], item_codes: Mapping[str, str],
          team_sizes: Mapping[str, int]) -> list[tuple[list[RosterRow], dict[str, Any] | RequestError]]:
    """Rows to requests: one per row, except the rows of a team item sharing 单位 + 队伍 make one team."""
    work: list[tuple[list[RosterRow], dict[str, Any] | RequestError]] = []
    teams: dict[tuple[str, str, str], int] = {}
    for row in rows:
        try:
            payload = row_payload(row, item_codes)
        except RequestError as exc:
            work.append(([row], exc))
            continue
        team = row.text("team")
        if team_sizes.get(payload["item"], 1) > 1 and team:
            key = (payload["item"], payload["unit"], team)
            member = {k: payload.pop(k) for k in _MEMBER_KEYS}
            if key in teams:
                rows_of, first = work[teams[key]]
                rows_of.append(row)
                if isinstance(first, dict):
                    first["members"].append(member)
                continue
            teams[key] = len(work)
            payload["members"] = [member]
        work.append(([row], payload))
    return work


def _failed(rows: list[RosterRow], code: str, zh: str, en: str) -> list[RowResult]:
    return [RowResult(r.number, r.text("name"), False, code=code, message=zh, message_en=en) for r in rows]


async def import_roster(session: AsyncSession, ctx: RegistrationContext, roster: Roster, *,
                        now: datetime | None = None) -> list[RowResult]:
    """Register every row (or team of rows) in file order; a refused row never stops the others."""
    item_codes = {code: code for code in ctx.item_ids} | {i.name: i.code for i in ctx.spec.items}
    team_sizes = {i.code: i.team_size for i in ctx.spec.items}
    seen: dict[str, int] = {}  # normalised ID number → the accepted row that holds it
    results: list[RowResult] = []
    for rows, payload in _work(roster.rows, item_codes, team_sizes):
        try:
            if isinstance(payload, RequestError):
                raise payload
            req = read_request(payload)
        except RequestError as exc:
            where = _FIELD_NAMES.get(exc.field.rsplit(".", 1)[-1], exc.field)
            results += _failed(rows, exc.code, f"{where}：{exc.zh}", f"{exc.field}: {exc.en}")
            continue
        numbers = [normalise_id_number(m.id_number) for m in req.members]
        earlier = next((seen[n] for n in numbers if n in seen), None)
        if earlier is not None:
            results += _failed(rows, "duplicate_in_file", f"与本文件第 {earlier} 行是同一人（身份证号码相同）",
                               f"the same person (ID number) as row {earlier} of this file")
            continue
        try:
            outcome = await register(session, ctx, req, source="roster", now=now)
        except Refusal as exc:
            results += _failed(rows, exc.code, exc.message, exc.message_en)
            continue
        seen.update((n, rows[0].number) for n in numbers)
        results += [RowResult(r.number, r.text("name"), True, outcome.ticket_code, flags=outcome.flags)
                    for r in rows]
    return sorted(results, key=lambda r: r.number)


def pending_count(event_id: int) -> Any:
    """The statement counting the review queue (shown on every page's tab)."""
    return select(func.count()).select_from(Entry).where(Entry.event_id == event_id, Entry.state == "active",
                                                         Entry.review == "pending")
