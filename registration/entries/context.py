"""The registration context of an event: its row (always fresh: registration can be closed by hand) and
its parsed spec (cached until the event is edited: registration bursts need not re-read 33 items)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.errors import Refusal
from registration.entries.personal import PersonalData
from registration.entries.request import RegistrationRequest
from registration.entries.service import Outcome, RegistrationContext, StaleContext, register
from registration.events.models import Event, Item
from registration.events.service import load_event
from scoring.event_file import EventSpec

__all__ = ["load_context", "register_on_writer"]

_specs: dict[tuple[str, int], tuple[datetime, EventSpec, dict[str, int]]] = {}
_personal: dict[str, PersonalData] = {}


async def load_context(session: AsyncSession, event_id: int, secret_key: str) -> RegistrationContext:
    event = await session.get(Event, event_id)
    if event is None:
        raise Refusal(404, "unknown_event", "找不到该赛事", "no such event")
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
                               _personal[secret_key], event.updated_at)


async def register_on_writer(state: Any, event_id: int, req: RegistrationRequest, source: str) -> Outcome:
    """Register through the app's writer (the burst path): the context comes from a per-app cache, loaded in
    a short session of its own (no transaction may stay open while the writer waits for the write lock);
    the writer re-reads the event row and says when the cache is stale."""
    stale: RegistrationContext | None = None
    contexts: dict[int, RegistrationContext] = state.setdefault("registration_contexts", {})
    loading: dict[int, asyncio.Lock] = state.setdefault("registration_context_locks", {})
    for attempt in (1, 2):
        ctx = contexts.get(event_id)
        if ctx is None or attempt == 2:
            async with loading.setdefault(event_id, asyncio.Lock()):  # one load at a time, the rest reuse it
                ctx = contexts.get(event_id)
                if ctx is None or (attempt == 2 and ctx is stale):
                    opener: Callable[[], AbstractAsyncContextManager[AsyncSession]] = state.read_session
                    async with opener() as session:
                        ctx = await load_context(session, event_id, state.settings.secret_key)
                    contexts[event_id] = ctx
        stale = ctx
        try:
            return await register(state.writer, ctx, req, source=source)
        except StaleContext:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
