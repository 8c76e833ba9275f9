"""Check-in (contracts §5), the seat draw and the sealed blind numbering, through the API on a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from judging.sealed import lock_scores
from registration.entries.models import Entry
from registration.entries.service import withdraw
from tests.registration.test_registration_api import make_event, person, post
from tests.support.helpers import login_headers

Client = AsyncTestClient[Litestar]


def plan(starts_in_min: int = 30, seats: int = 30, sessions: int = 1) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(minutes=starts_in_min)
    return {"sessions": [{"name": f"第{n + 1}场", "starts_at": (start + timedelta(hours=2 * n)).isoformat(),
                          "seat_count": seats, "prefix": "AB"[n]} for n in range(sessions)]}


async def contest(admin: Any, client: Client, entries: int = 3, seat_plan: dict[str, Any] | None = None,
                  **plan_args: Any) -> tuple[int, list[str]]:
    """An event whose LED item has a seat plan (`seat_plan`, else `plan(**plan_args)`) and `entries` registered."""
    event_id = await make_event(admin, unit_quota_per_group=None)
    response = await admin.put(f"/api/events/{event_id}/items/LED/seat-plan", json=seat_plan or plan(**plan_args))
    assert response.status_code == 200, response.text
    codes = []
    for _ in range(entries):
        registered = await post(client, event_id, person())
        assert registered.status_code == 201, registered.text
        codes.append(registered.json()["ticket_code"])
    return event_id, codes


async def scan(admin: Any, event_id: int, code: str, nonce: str, station: str = "A门") -> Any:
    return await admin.post(f"/api/events/{event_id}/checkins",
                            json={"ticket_code": code, "station": station, "nonce": nonce})


async def test_first_scan_is_ok_and_shows_who_without_the_id_number(admin: Any, client: Client) -> None:
    event_id, codes = await contest(admin, client)
    response = await scan(admin, event_id, codes[0], "n1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["station"] == "A门"
    member = body["entry"]["members"][0]
    assert member["name"].startswith("张") and "**********" in member["id_masked"]
    assert body["entry"]["item"] == "LED" and body["entry"]["group"] == "学生组"


async def test_retry_with_the_same_nonce_gets_the_same_answer(admin: Any, client: Client, db: Any) -> None:
    event_id, codes = await contest(admin, client)
    first = await scan(admin, event_id, codes[0], "same")
    again = await scan(admin, event_id, codes[0], "same")
    assert again.status_code == first.status_code == 200 and again.json() == first.json()
    other = await scan(admin, event_id, codes[0], "other", station="B门")
    assert other.status_code == 409
    body = other.json()
    assert body["code"] == "already_checked_in" and body["station"] == "A门" and body["first_at"]
    async with db() as session:
        logged = (await session.exec(text("SELECT nonce, outcome FROM checkin_scan ORDER BY id"))).all()  # type: ignore[call-overload]
    assert [tuple(r) for r in logged] == [("same", "ok"), ("other", "already_checked_in")]


async def test_two_stations_scanning_one_ticket_at_once_give_exactly_one_ok(admin: Any, client: Client) -> None:
    event_id, codes = await contest(admin, client)
    responses = await asyncio.gather(*(scan(admin, event_id, codes[0], f"n{k}", f"S{k}") for k in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1 and statuses.count(409) == 19
    winner = next(r for r in responses if r.status_code == 200).json()["station"]
    assert {r.json()["station"] for r in responses if r.status_code == 409} == {winner}


async def test_concurrent_retries_of_one_nonce_all_get_the_first_answer(admin: Any, client: Client) -> None:
    event_id, codes = await contest(admin, client)
    responses = await asyncio.gather(*(scan(admin, event_id, codes[0], "one") for _ in range(10)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1


async def test_refusals_and_every_scan_is_logged(admin: Any, client: Client, db: Any) -> None:
    event_id, codes = await contest(admin, client)
    unknown = await scan(admin, event_id, "ABCDEFGHJKMNPQRSTUVWXYZ234", "u")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_ticket"
    _other_event, other_codes = await contest(admin, client, entries=1)
    wrong = await scan(admin, event_id, other_codes[0], "w")
    assert wrong.status_code == 409 and wrong.json()["code"] == "wrong_event"
    async with db() as session:
        entry = (await session.exec(text("SELECT id FROM entry WHERE ticket_code = :c").bindparams(c=codes[1]))).one()  # type: ignore[call-overload]
        stored = await session.get(Entry, entry[0])
        assert stored is not None
        await withdraw(session, stored)
        await session.commit()
    gone = await scan(admin, event_id, codes[1], "g")
    assert gone.status_code == 409 and gone.json()["code"] == "entry_withdrawn"
    async with db() as session:
        rows = (await session.exec(text("SELECT outcome, station, code_hint FROM checkin_scan ORDER BY id"))).all()  # type: ignore[call-overload]
    assert [r[0] for r in rows] == ["unknown_ticket", "wrong_event", "entry_withdrawn"]
    assert all(len(r[2]) <= 4 for r in rows)  # a ticket code is a secret: only its start is logged


async def test_outside_the_check_in_window(admin: Any, client: Client) -> None:
    event_id, codes = await contest(admin, client, starts_in_min=300)
    early = await scan(admin, event_id, codes[0], "e")
    assert early.status_code == 422 and early.json()["code"] == "outside_checkin_window"
    assert early.json()["opens_at"]


async def test_typed_codes_are_forgiving(admin: Any, client: Client) -> None:
    event_id, codes = await contest(admin, client)
    typed = "-".join(codes[0][i:i + 4] for i in range(0, 26, 4)).lower()
    assert (await scan(admin, event_id, typed, "t")).status_code == 200


async def test_no_shows_marked_absent_cannot_check_in_later(admin: Any, client: Client) -> None:
    event_id, codes = await contest(admin, client)
    await scan(admin, event_id, codes[0], "p")
    marked = await admin.post(f"/api/events/{event_id}/items/LED/absent")
    assert marked.json() == {"marked_absent": 2}
    late = await scan(admin, event_id, codes[1], "late")
    assert late.status_code == 409 and late.json()["code"] == "marked_absent"
    status = (await admin.get(f"/api/events/{event_id}/checkin/status")).json()
    assert status == [{"item": "LED", "item_name": "LED显示屏应用", "present": 1, "absent": 2, "not_yet": 0}]


async def test_draw_after_check_in_is_fixed_and_unique(admin: Any, client: Client) -> None:
    event_id, codes = await contest(admin, client, entries=6, seats=5)
    early = await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": codes[0], "station": "A"})
    assert early.status_code == 409 and early.json()["code"] == "not_checked_in"
    for n, code in enumerate(codes):
        assert (await scan(admin, event_id, code, f"c{n}")).status_code == 200
    draws = await asyncio.gather(*(admin.post(f"/api/events/{event_id}/draws",
                                              json={"ticket_code": c, "station": "A"}) for c in codes))
    seats = [d.json()["seat"] for d in draws if d.status_code == 200]
    assert len(seats) == 5 and len(set(seats)) == 5 and set(seats) <= {f"A{n:02d}" for n in range(1, 6)}
    assert [d.json()["code"] for d in draws if d.status_code != 200] == ["no_free_seat"]
    first = next(c for c, d in zip(codes, draws, strict=True) if d.status_code == 200)
    again = await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": first, "station": "B"})
    assert again.json()["drawn_now"] is False and again.json()["seat"] in seats


async def test_seat_move_needs_a_reason_and_a_free_seat(admin: Any, client: Client, db: Any) -> None:
    event_id, codes = await contest(admin, client, entries=2, seats=4)
    for n, code in enumerate(codes):
        await scan(admin, event_id, code, f"m{n}")
        await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": code, "station": "A"})
    async with db() as session:
        rows = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT entry_id, seat_label FROM seat_assignment ORDER BY entry_id"))).all()
    (entry_a, seat_a), (_entry_b, seat_b) = rows
    free = next(s for s in ("A01", "A02", "A03", "A04") if s not in (seat_a, seat_b))
    url = f"/api/events/{event_id}/seats/move"
    no_reason = await admin.post(url, json={"registration_id": entry_a, "session": "第1场", "seat": free})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    taken = await admin.post(url, json={"registration_id": entry_a, "session": "第1场", "seat": seat_b,
                                        "reason": "设备故障"})
    assert taken.status_code == 409 and taken.json()["code"] == "seat_taken"
    moved = await admin.post(url, json={"registration_id": entry_a, "session": "第1场", "seat": free,
                                        "reason": "设备故障", "minutes_returned": 8})
    assert moved.status_code == 200 and moved.json()["seat"] == free
    async with db() as session:
        log = (await session.exec(text("SELECT from_label, to_label, reason, minutes_returned FROM seat_move"))).all()  # type: ignore[call-overload]
    assert [tuple(r) for r in log] == [(seat_a, free, "设备故障", 8)]


async def test_seat_plan_is_validated_and_fixed_once_drawn(admin: Any, client: Client) -> None:
    event_id, codes = await contest(admin, client, entries=1)
    url = f"/api/events/{event_id}/items/LED/seat-plan"
    bad = await admin.put(url, json={"sessions": [{"name": "x", "starts_at": "2026-10-20T09:00", "seat_count": 5}]})
    assert bad.status_code == 422 and bad.json()["field"] == "sessions[0].starts_at"
    two = (await admin.put(url, json=plan(sessions=2, seats=3))).json()
    assert two["sessions"][1]["seats"] == ["B01", "B02", "B03"]
    await scan(admin, event_id, codes[0], "x")
    await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": codes[0], "station": "A"})
    refused = await admin.put(url, json=plan())
    assert refused.status_code == 409 and refused.json()["code"] == "seats_drawn"


@pytest.fixture
async def seated(admin: Any, client: Client) -> tuple[int, list[str]]:
    event_id, codes = await contest(admin, client, entries=3, seats=10)
    for n, code in enumerate(codes):
        await scan(admin, event_id, code, f"s{n}")
        await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": code, "station": "A"})
    return event_id, codes


async def test_reveal_only_after_lock_and_layer_by_layer(seated: tuple[int, list[str]], admin: Any,
                                                         client: Client, db: Any) -> None:
    event_id, _codes = seated
    crypt = await login_headers(client, db, "enc", "encryption_judge")
    base = f"/api/events/{event_id}/items/LED"
    sealed = (await client.get(f"{base}/mapping", headers=crypt)).json()
    assert len(sealed) == 3 and all(row["names"] and row["draw_number"] for row in sealed)
    early = await client.post(f"{base}/reveal", json={"layer": 1}, headers=crypt)
    assert early.status_code == 409 and early.json()["code"] == "scores_not_locked"
    async with db() as session:
        item_id = (await session.exec(text("SELECT id FROM item WHERE code = 'LED'"))).first()[0]  # type: ignore[call-overload]
        await lock_scores(session, item_id, "chief")
        await session.commit()
    skip = await client.post(f"{base}/reveal", json={"layer": 2}, headers=crypt)
    assert skip.status_code == 409 and skip.json()["code"] == "wrong_layer"
    one = (await client.post(f"{base}/reveal", json={"layer": 1}, headers=crypt)).json()
    assert {tuple(sorted(r)) for r in one["mapping"]} == {("draw_number", "seat", "session")}
    two = (await client.post(f"{base}/reveal", json={"layer": 2}, headers=crypt)).json()
    assert sorted(n for r in two["mapping"] for n in r["names"]) == sorted(n for r in sealed for n in r["names"])
    async with db() as session:
        log = (await session.exec(text("SELECT layer, by FROM reveal_log ORDER BY id"))).all()  # type: ignore[call-overload]
    assert [tuple(r) for r in log] == [(1, "enc"), (2, "enc")]


async def test_only_the_encryption_judge_holds_the_mapping(seated: tuple[int, list[str]], client: Client,
                                                           db: Any) -> None:
    event_id, _ = seated
    judge = await login_headers(client, db, "judge", "judge")
    chief = await login_headers(client, db, "chief", "chief_judge")
    base = f"/api/events/{event_id}/items/LED"
    for headers in (judge, chief):
        assert (await client.get(f"{base}/mapping", headers=headers)).status_code == 403
        assert (await client.post(f"{base}/reveal", json={"layer": 1}, headers=headers)).status_code == 403
    blind = (await client.get(f"{base}/seats", headers=judge)).json()
    assert len(blind) == 10 and sum(s["occupied"] for s in blind) == 3
    assert all(set(s) == {"session", "seat", "occupied"} for s in blind)
