"""Withdrawal once checked in. The contestant (我的报名) is refused with `checked_in` and the Chinese message,
page and service alike; the organiser's withdrawal frees a seat drawn (the seat plan never keeps a seat for a
withdrawn entry) until that session starts, and is refused (`session_started`) after."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from contestday.db.types import utcnow
from contestday.web.errors import Refusal
from registration.checkin.models import SeatAssignment
from registration.entries.models import Entry
from registration.entries.service import withdraw
from tests.registration.test_checkin import contest, scan
from tests.registration.test_registration_api import person, post
from tests.registration.test_registration_pages import lookup, mine_token

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}


async def _entry(db: Any, code: str) -> Entry:
    async with db() as session:
        return (await session.exec(select(Entry).where(Entry.ticket_code == code))).one()


async def _seat(db: Any, entry_id: int) -> SeatAssignment | None:
    async with db() as session:
        return (await session.exec(select(SeatAssignment).where(SeatAssignment.entry_id == entry_id))).first()


async def test_the_contestant_cannot_withdraw_once_checked_in(admin: Any, client: Client, db: Any) -> None:
    event_id, codes = await contest(admin, client, entries=1)
    entry = await _entry(db, codes[0])
    assert (await scan(admin, event_id, codes[0], "w1")).status_code == 200
    async with db() as session:  # the service refuses, whoever calls it for the contestant
        stored = await session.get(Entry, entry.id)
        assert stored is not None
        with pytest.raises(Refusal) as refused:
            await withdraw(session, stored, by_contestant=True)
        assert (refused.value.status_code, refused.value.code) == (409, "checked_in")
        assert refused.value.message == "已检录，如需退赛请联系现场工作人员"
    assert (await _entry(db, codes[0])).state == "active"


async def test_the_mine_page_refuses_withdrawal_and_edits_after_check_in(admin: Any, client: Client, db: Any) -> None:
    event_id, _ = await contest(admin, client, entries=0)
    body = person()
    code = (await post(client, event_id, body)).json()["ticket_code"]
    assert (await lookup(client, event_id, body["id_number"], body["phone"])).status_code == 303
    token = mine_token((await client.get(f"/r/{event_id}/mine")).text)
    assert (await scan(admin, event_id, code, "w2")).status_code == 200
    drawn = await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": code, "station": "A"})
    assert drawn.status_code == 200
    refused = await client.post(f"/r/{event_id}/mine/withdraw", data={"sure": "1", "mine": token})
    assert refused.status_code == 409 and 'data-code="checked_in"' in refused.text
    assert "已检录，如需退赛请联系现场工作人员" in refused.text and 'id="withdraw"' not in refused.text
    page = await client.get(f"/r/{event_id}/mine")
    assert 'id="checked-in"' in page.text and 'id="withdraw"' not in page.text and "/mine/edit" not in page.text
    assert (await client.get(f"/r/{event_id}/mine/edit", follow_redirects=False)).status_code == 303
    edited = await client.post(f"/r/{event_id}/mine/edit", data={"mine": token, "item": "WPS"},
                               files={"m0_photo": ("", b"", "application/octet-stream")})
    assert edited.status_code == 409 and 'data-code="checked_in"' in edited.text
    entry = await _entry(db, code)
    assert entry.state == "active" and await _seat(db, entry.id or 0) is not None


async def test_the_organiser_withdrawal_frees_the_seat_before_the_start(admin: Any, client: Client, db: Any) -> None:
    event_id, codes = await contest(admin, client, entries=2, seats=1)
    for n, code in enumerate(codes):
        assert (await scan(admin, event_id, code, f"o{n}")).status_code == 200
    first = await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": codes[0], "station": "A"})
    assert first.json()["seat"] == "A01"
    full = await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": codes[1], "station": "A"})
    assert full.json()["code"] == "no_free_seat"
    entry = await _entry(db, codes[0])
    url = f"/admin/events/{event_id}/registrations/{entry.id}/withdraw"
    form = await admin.get(url, headers=HTML)
    assert "该选手已检录并抽签（第1场 A01）" in form.text
    done = await admin.post(url, headers=HTML, follow_redirects=False)
    assert done.status_code == 303
    assert (await _entry(db, codes[0])).state == "withdrawn" and await _seat(db, entry.id or 0) is None
    blind = (await admin.get(f"/api/events/{event_id}/items/LED/seats")).json()
    assert [s["occupied"] for s in blind] == [False]  # the plan holds no seat for the withdrawn entry
    again = await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": codes[0], "station": "A"})
    assert again.status_code == 409 and again.json()["code"] == "entry_withdrawn"
    freed = await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": codes[1], "station": "A"})
    assert freed.status_code == 200 and freed.json()["seat"] == "A01"


async def test_the_organiser_withdrawal_is_refused_once_the_session_started(admin: Any, client: Client,
                                                                            db: Any) -> None:
    event_id, codes = await contest(admin, client, entries=1, starts_in_min=5)
    assert (await scan(admin, event_id, codes[0], "s1")).status_code == 200
    await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": codes[0], "station": "A"})
    entry = await _entry(db, codes[0])
    async with db() as session:
        stored = await session.get(Entry, entry.id)
        assert stored is not None
        with pytest.raises(Refusal) as refused:
            await withdraw(session, stored, now=utcnow() + timedelta(minutes=10))
        assert refused.value.code == "session_started" and "第1场已开赛" in refused.value.message
    assert (await _entry(db, codes[0])).state == "active" and await _seat(db, entry.id or 0) is not None
