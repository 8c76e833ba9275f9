"""Use cases over a session: store, replace, load and list events. Nothing here knows HTTP."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from contestday.web.errors import Refusal
from registration.events.models import AwardPolicyRow, Criterion, Event, Item, ItemGroup
from scoring.event_file import (
    CHINA_TZ,
    AwardPolicy,
    CriterionSpec,
    EventSpec,
    ItemSpec,
    to_document,
)

__all__ = ["create_event", "event_document", "event_or_404", "item_by_code", "list_events", "load_event",
           "replace_event"]


def _event_fields(spec: EventSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "starts_on": spec.starts_on,
        "one_item_per_person": spec.one_item_per_person,
        "unit_quota_per_group": spec.unit_quota_per_group,
        "unit_quota_mode": spec.unit_quota_mode,
        "registration_closes": spec.registration_closes,
        "organiser": spec.organiser,
        "identities": list(spec.identities),
        "group_identities": {group: list(takes) for group, takes in spec.group_identities},
        "photo_required": spec.photo_required,
        "residence_declaration": spec.residence_declaration,
        "student_major_required": spec.student_major_required,
    }


def _item_fields(item: ItemSpec, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "code": item.code,
        "name": item.name,
        "team_size": item.team_size,
        "exam_level": item.exam_level,
        "pass_mark": item.pass_mark,
        "theory_weight": item.theory_weight,
        "tie_break": list(item.tie_break),
        "promotion_top": item.promotion_top,
        "host_unit": item.host_unit,
        "catalog_code": item.catalog_code,
        "certificate": item.certificate,
    }


def _criterion_fields(cr: CriterionSpec, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "code": cr.code,
        "name": cr.name,
        "max": cr.max,
        "kind": cr.kind,
        "aggregate": cr.aggregate,
        "trim_min_judges": cr.trim_min_judges,
        "max_spread": cr.max_spread,
        "scale": cr.scale,
    }


async def _write_items(session: AsyncSession, event_id: int, spec: EventSpec) -> None:
    """Bring the event's items in line with `spec`, matching by code so item ids (which entries and scores
    will point at) survive an edit."""
    existing = {i.code: i for i in (await session.exec(select(Item).where(Item.event_id == event_id))).all()}
    for gone in set(existing) - {i.code for i in spec.items}:
        await session.delete(existing[gone])
    for position, item_spec in enumerate(spec.items):
        item = existing.get(item_spec.code)
        if item is None:
            item = Item(event_id=event_id, **_item_fields(item_spec, position))
        else:
            for key, value in _item_fields(item_spec, position).items():
                setattr(item, key, value)
        session.add(item)
        await session.flush()
        assert item.id is not None
        await _sync_children(session, item.id, item_spec)


async def _sync_children(session: AsyncSession, item_id: int, spec: ItemSpec) -> None:
    groups = {g.name: g for g in (await session.exec(select(ItemGroup).where(ItemGroup.item_id == item_id)))}
    for name in set(groups) - set(spec.groups):
        await session.delete(groups[name])
    for position, name in enumerate(spec.groups):
        group = groups.get(name) or ItemGroup(item_id=item_id, position=position, name=name)
        group.position = position
        session.add(group)
    criteria = {c.code: c for c in (await session.exec(select(Criterion).where(Criterion.item_id == item_id)))}
    for code in set(criteria) - {c.code for c in spec.criteria}:
        await session.delete(criteria[code])
    for position, cr_spec in enumerate(spec.criteria):
        fields = _criterion_fields(cr_spec, position)
        criterion = criteria.get(cr_spec.code)
        if criterion is None:
            criterion = Criterion(item_id=item_id, **fields)
        else:
            for key, value in fields.items():
                setattr(criterion, key, value)
        session.add(criterion)


async def create_event(session: AsyncSession, spec: EventSpec) -> int:
    """Insert the event and everything under it; the caller commits (one transaction: all or nothing)."""
    event = Event(**_event_fields(spec))
    session.add(event)
    await session.flush()
    assert event.id is not None
    policy = spec.award_policy
    session.add(AwardPolicyRow(event_id=event.id, rule=policy.rule, ratio=policy.ratio,
                               threshold=policy.threshold, count=policy.count))
    await _write_items(session, event.id, spec)
    return event.id


async def replace_event(session: AsyncSession, event: Event, spec: EventSpec) -> None:
    for key, value in _event_fields(spec).items():
        setattr(event, key, value)
    event.updated_at = utcnow()
    session.add(event)
    assert event.id is not None
    await session.exec(delete(AwardPolicyRow).where(col(AwardPolicyRow.event_id) == event.id))
    policy = spec.award_policy
    session.add(AwardPolicyRow(event_id=event.id, rule=policy.rule, ratio=policy.ratio,
                               threshold=policy.threshold, count=policy.count))
    await _write_items(session, event.id, spec)


async def event_or_404(session: AsyncSession, event_id: int) -> Event:
    """The event row, or the API's 404 `unknown_event`."""
    event = await session.get(Event, event_id)
    if event is None:
        raise Refusal(404, "unknown_event", "找不到该赛事", "no such event")
    return event


async def item_by_code(session: AsyncSession, event_id: int, code: str) -> Item:
    """The event's item by code, or 404 `unknown_item`."""
    item = (await session.exec(select(Item).where(Item.event_id == event_id, Item.code == code))).first()
    if item is None or item.id is None:
        raise Refusal(404, "unknown_item", f"本赛事没有赛项“{code}”", f"no item {code!r} in this event")
    return item


async def load_event(session: AsyncSession, event_id: int) -> tuple[Event, EventSpec] | None:
    """The stored event as the same frozen spec the pure layers use."""
    event = await session.get(Event, event_id)
    if event is None:
        return None
    policy = (await session.exec(select(AwardPolicyRow).where(AwardPolicyRow.event_id == event_id))).one()
    items = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
    item_ids = [i.id for i in items]
    groups: dict[int, list[str]] = defaultdict(list)
    for g in await session.exec(select(ItemGroup).where(col(ItemGroup.item_id).in_(item_ids))
                                .order_by(col(ItemGroup.position))):
        groups[g.item_id].append(g.name)
    criteria: dict[int, list[CriterionSpec]] = defaultdict(list)
    for c in await session.exec(select(Criterion).where(col(Criterion.item_id).in_(item_ids))
                                .order_by(col(Criterion.position))):
        criteria[c.item_id].append(c.spec())
    item_specs = tuple(
        ItemSpec(i.code, i.name, i.team_size, i.exam_level, i.pass_mark, tuple(groups[i.id or 0]),
                 i.theory_weight, tuple(criteria[i.id or 0]), tuple(i.tie_break), i.promotion_top,
                 i.host_unit, i.catalog_code, i.certificate)
        for i in items
    )
    closes = event.registration_closes
    spec = EventSpec(
        name=event.name, kind=event.kind, starts_on=event.starts_on,
        award_policy=AwardPolicy(policy.rule, policy.ratio, policy.threshold, policy.count),
        items=item_specs, one_item_per_person=event.one_item_per_person,
        unit_quota_per_group=event.unit_quota_per_group, unit_quota_mode=event.unit_quota_mode,
        registration_closes=closes.astimezone(CHINA_TZ) if closes else None, organiser=event.organiser,
        identities=tuple(event.identities),
        group_identities=tuple((group, tuple(takes)) for group, takes in event.group_identities.items()),
        photo_required=event.photo_required, residence_declaration=event.residence_declaration,
        student_major_required=event.student_major_required,
    )
    return event, spec


async def event_document(session: AsyncSession, event_id: int) -> dict[str, Any] | None:
    loaded = await load_event(session, event_id)
    return None if loaded is None else to_document(loaded[1])


async def list_events(session: AsyncSession, only: frozenset[int] | None = None) -> list[dict[str, Any]]:
    """Every event, newest first; `only`: just these (the events a person's roles hold for)."""
    query = select(Event).order_by(col(Event.starts_on).desc(), col(Event.id))
    if only is not None:
        query = query.where(col(Event.id).in_(sorted(only)))
    events = (await session.exec(query)).all()
    counts = dict((await session.exec(select(Item.event_id, func.count()).group_by(col(Item.event_id)))).all())
    return [
        {"id": e.id, "name": e.name, "kind": e.kind, "starts_on": e.starts_on.isoformat(),
         "items": counts.get(e.id or 0, 0), "updated_at": e.updated_at.astimezone(UTC).isoformat()}
        for e in events
    ]

