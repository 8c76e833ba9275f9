"""Amend, withdraw and review through the service, on the real database: every change keeps the
constraints, and a refused change leaves the entry as it was."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from contestday.web.errors import Refusal
from registration.entries.context import load_context
from registration.entries.models import Entry, EntryMember, QuotaSlot
from registration.entries.request import read_request
from registration.entries.service import amend, decide_review, register, withdraw
from registration.events.service import create_event
from scoring.event_file import parse_event_document
from tests.registration.test_registration_api import person, reg_event

SECRET = "test-secret-key"


async def _setup(db: Any) -> int:
    async with db() as session:
        event_id = await create_event(session, parse_event_document(reg_event()))
        await session.commit()
    return event_id


async def _register(db: Any, event_id: int, body: dict[str, Any]) -> Entry:
    async with db() as session:
        ctx = await load_context(session, event_id, SECRET)
        outcome = await register(session, ctx, read_request(body))
        entry = await session.get(Entry, outcome.entry_id)
        assert entry is not None
        return entry


async def test_amend_moves_the_entry_and_keeps_the_ticket(db: Any) -> None:
    event_id = await _setup(db)
    body = person()
    entry = await _register(db, event_id, body)
    async with db() as session:
        ctx = await load_context(session, event_id, SECRET)
        outcome = await amend(session, ctx, entry.id or 0, read_request({**body, "item": "WPS", "name": "改名"}))
    assert outcome.ticket_code == entry.ticket_code
    async with db() as session:
        member = (await session.exec(select(EntryMember))).one()
        assert member.name == "改名"
        assert len((await session.exec(select(QuotaSlot))).all()) == 1


async def test_refused_amendment_changes_nothing(db: Any) -> None:
    event_id = await _setup(db)
    first, second = person(), person()
    await _register(db, event_id, first)
    entry = await _register(db, event_id, second)
    async with db() as session:
        ctx = await load_context(session, event_id, SECRET)
        with pytest.raises(Refusal) as refused:
            await amend(session, ctx, entry.id or 0, read_request({**second, "id_number": first["id_number"]}))
    assert refused.value.code == "already_registered"
    async with db() as session:
        names = sorted(m.name for m in (await session.exec(select(EntryMember))).all())
        assert names == sorted([first["name"], second["name"]])
        assert len((await session.exec(select(QuotaSlot))).all()) == 2


async def test_withdrawn_person_may_enter_again_and_the_quota_place_is_freed(db: Any) -> None:
    event_id = await _setup(db)
    a, b = person(), person()
    entry = await _register(db, event_id, a)
    await _register(db, event_id, b)
    async with db() as session:
        stored = await session.get(Entry, entry.id)
        assert stored is not None
        await withdraw(session, stored)
        await session.commit()
    again = await _register(db, event_id, {**a, "item": "LED"})
    assert again.id != entry.id and again.state == "active"


async def test_rejection_needs_a_reason_and_frees_the_place(db: Any) -> None:
    event_id = await _setup(db)
    body = person()
    entry = await _register(db, event_id, body)
    async with db() as session:
        stored = await session.get(Entry, entry.id)
        assert stored is not None
        with pytest.raises(Refusal) as no_reason:
            await decide_review(session, stored, False, "  ", "org")
        assert no_reason.value.code == "reason_required"
        await decide_review(session, stored, False, "身份存疑", "org")
        await session.commit()
    async with db() as session:
        stored = await session.get(Entry, entry.id)
        assert stored is not None and (stored.state, stored.review, stored.review_reason) == (
            "rejected", "rejected", "身份存疑")
    assert (await _register(db, event_id, body)).state == "active"
