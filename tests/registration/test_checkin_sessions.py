"""The draw seats a contestant in the session they checked in for — the one whose check-in window holds the
check-in time, the nearest start first when windows overlap (the demo opens every window a day early) — and
check-in itself follows each session's window: between two windows nobody is checked in. Times are fixed
(a contest day of 2026-12-03, Beijing time) through the services' `now`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from registration.checkin.models import Attendance
from registration.checkin.service import redeem
from registration.entries.models import Entry
from scoring.event_file import CHINA_TZ
from tests.registration.test_checkin import contest

Client = AsyncTestClient[Litestar]
DAY = datetime(2026, 12, 3, tzinfo=CHINA_TZ)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


async def _contest(admin: Any, client: Client, entries: int, before_min: int = 60) -> tuple[int, list[str]]:
    sessions = [{"name": f"第{n + 1}场", "starts_at": at(h).isoformat(), "seat_count": 10, "prefix": "ABC"[n],
                 "checkin_before_min": before_min} for n, h in enumerate((9, 13, 18))]
    return await contest(admin, client, entries, seat_plan={"sessions": sessions})


async def _check_in(db: Any, event_id: int, code: str, when: datetime, nonce: str) -> Any:
    async with db() as session:
        return await redeem(session, event_id, code, "A门", nonce, now=when)


async def _draw(admin: Any, event_id: int, code: str) -> Any:
    return await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": code, "station": "A门"})


async def test_checking_in_at_16_55_draws_a_seat_of_the_18_00_session(admin: Any, client: Client, db: Any) -> None:
    event_id, codes = await _contest(admin, client, entries=1, before_min=120)  # 第3场 opens at 16:00
    assert (await _check_in(db, event_id, codes[0], at(16, 55), "n1")).status_code == 200
    drawn = await _draw(admin, event_id, codes[0])
    assert drawn.status_code == 200, drawn.text
    body = drawn.json()
    assert body["session"] == "第3场" and body["seat"].startswith("C")
    assert datetime.fromisoformat(body["starts_at"]).astimezone(CHINA_TZ) == at(18)
    again = await _check_in(db, event_id, codes[0], at(17, 5), "n2")  # the card of a later scan names it too
    assert again.body["entry"]["seat_session"] == "第3场"
    assert datetime.fromisoformat(again.body["entry"]["seat_starts_at"]) == at(18)


async def test_overlapping_windows_seat_everyone_in_the_nearest_session(admin: Any, client: Client, db: Any) -> None:
    event_id, codes = await _contest(admin, client, entries=6, before_min=24 * 60)  # every window open at 16:55
    for n, code in enumerate(codes):
        assert (await _check_in(db, event_id, code, at(16, 55), f"o{n}")).status_code == 200
    sessions = [(await _draw(admin, event_id, code)).json()["session"] for code in codes]
    assert sessions == ["第3场"] * 6
    # 10 minutes late for 13:00 (第3场's window is open too): still 第2场
    event_id, codes = await _contest(admin, client, entries=1, before_min=24 * 60)
    await _check_in(db, event_id, codes[0], at(13, 10), "late")
    assert (await _draw(admin, event_id, codes[0])).json()["session"] == "第2场"


async def test_between_two_windows_check_in_is_refused_with_the_next_window(admin: Any, client: Client,
                                                                             db: Any) -> None:
    event_id, codes = await _contest(admin, client, entries=1)
    refused = await _check_in(db, event_id, codes[0], at(11), "gap")  # 9:00 closed at 9:15, 13:00 opens at 12:00
    assert refused.status_code == 422 and refused.body["code"] == "outside_checkin_window"
    assert datetime.fromisoformat(refused.body["opens_at"]) == at(12)
    assert datetime.fromisoformat(refused.body["closes_at"]) == at(13, 15)
    assert "12-03 12:00" in refused.body["message"]
    assert (await _check_in(db, event_id, codes[0], at(12, 30), "open")).status_code == 200


async def test_no_session_open_at_the_check_in_time_refuses_the_draw(admin: Any, client: Client, db: Any) -> None:
    event_id, codes = await _contest(admin, client, entries=1)
    async with db() as session:  # checked in at 11:00 (e.g. before the seat plan was changed)
        entry = (await session.exec(select(Entry).where(Entry.ticket_code == codes[0]))).one()
        session.add(Attendance(entry_id=entry.id or 0, event_id=event_id, status="present", at=at(11), station="A门"))
        await session.commit()
    refused = await _draw(admin, event_id, codes[0])
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "no_open_session" and "12月03日 11:00" in body["message"]
    assert [s["name"] for s in body["sessions"]] == ["第1场", "第2场", "第3场"]
