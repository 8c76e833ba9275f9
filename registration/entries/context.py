"""The registration context of an event: its row (always fresh: registration can be closed by hand) and
its parsed spec (cached until the event is edited: registration bursts need not re-read 33 items)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from registration.entries.personal import PersonalData
from registration.entries.service import RegistrationContext
from registration.events.models import Event, Item
from registration.events.service import load_event
from registration.web import ApiError
from scoring.event_file import EventSpec

__all__ = ["load_context"]

_specs: dict[tuple[str, int], tuple[datetime, EventSpec, dict[str, int]]] = {}
_personal: dict[str, PersonalData] = {}


async def load_context(session: AsyncSession, event_id: int, secret_key: str) -> RegistrationContext:
    event = await session.get(Event, event_id)
    if event is None:
        raise ApiError(404, "unknown_event", "找不到该赛事", "no such event")
    bind = session.bind
    key = (str(getattr(bind, "url", "")), event_id)
    cached = _specs.get(key)
    if cached is None or cached[0] != event.updated_at:
        loaded = await load_event(session, event_id)
        assert loaded is not None
        items = (await session.exec(select(Item.code, Item.id).where(Item.event_id == event_id))).all()
        cached = (event.updated_at, loaded[1], {code: item_id for code, item_id in items if item_id is not None})
        _specs[key] = cached
    if secret_key not in _personal:
        _personal[secret_key] = PersonalData(secret_key)
    return RegistrationContext(event_id, event.registration_closes, event.registration_closed_at, cached[1], cached[2],
                               _personal[secret_key])
