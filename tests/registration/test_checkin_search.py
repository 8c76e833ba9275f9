"""The check-in desk's search for a lost ticket (GET /api/events/{id}/checkin/search): what is typed matches
literally (`%`, `_`, `\\` are characters, not wildcards), it needs 2 characters of a name, 4 phone digits or a
full ID number, at most 20 rows come back, and never a ticket code, a full ID number or a full phone — the
desk checks the person in (and draws the seat) by registration id instead. SQLite, and PostgreSQL when
CONTESTDAY_TEST_DATABASE_URL is set."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.registration.test_checkin import contest
from tests.registration.test_registration_api import person, post

SEARCH = "/api/events/{}/checkin/search"


async def _register(admin: Any, event_id: int, **overrides: Any) -> dict[str, Any]:
    body = person(**overrides)
    response = await post(admin, event_id, body)
    assert response.status_code == 201, response.text
    return {**body, **response.json()}


async def _search(admin: Any, event_id: int, q: str) -> Any:
    return await admin.get(SEARCH.format(event_id), params={"q": q})


@pytest.mark.parametrize("q", ["%%", "__", "%_", "\\%", "\\\\", "%\\", "_%_"])
async def test_wildcards_are_characters_not_patterns(admin: Any, client: Any, q: str) -> None:
    event_id, _codes = await contest(admin, client, entries=3)
    response = await _search(admin, event_id, q)
    assert response.status_code == 200, response.text
    assert response.json() == []  # before: `%` listed every contestant of the event


async def test_a_name_holding_a_wildcard_is_found_by_it_and_only_it(admin: Any, client: Any, db: Any) -> None:
    event_id, _codes = await contest(admin, client, entries=0)
    odd = await _register(admin, event_id, name="李明")
    await _register(admin, event_id, name="李华")
    async with db() as session:  # the form refuses such names; an import or an old row may hold one
        await session.exec(text("UPDATE entry_member SET name = :n WHERE entry_id = :e")  # type: ignore[call-overload]
                           .bindparams(n="李%_\\明", e=odd["registration_id"]))
        await session.commit()
    for q in ("李%", "%_", "_\\", "\\明"):
        rows = (await _search(admin, event_id, q)).json()
        assert [r["name"] for r in rows] == ["李%_\\明"], q
    assert [r["name"] for r in (await _search(admin, event_id, "李华")).json()] == ["李华"]


async def test_results_never_carry_the_ticket_code_nor_full_numbers(admin: Any, client: Any) -> None:
    event_id, _codes = await contest(admin, client, entries=0)
    who = await _register(admin, event_id, name="赵一鸣")
    response = await _search(admin, event_id, "一鸣")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    rows = response.json()
    assert len(rows) == 1
    row = rows[0]
    assert row["registration_id"] == who["registration_id"] and row["name"] == "赵一鸣"
    assert "ticket_code" not in row
    assert who["ticket_code"] not in response.text and who["ticket_code"][:8] not in response.text
    assert who["id_number"] not in response.text and who["phone"] not in response.text
    assert row["id_masked"] == who["id_number"][:4] + "*" * 10 + who["id_number"][-4:]
    assert row["phone_masked"] == who["phone"][:3] + "****" + who["phone"][-4:]
    assert row["item"] == "LED" and row["group"] == "学生组" and row["unit"] == who["unit"]


@pytest.mark.parametrize(("q", "field"), [("张", "min_length"), ("%", "min_length"), (" 王 ", "min_length"),
                                          ("", "min_length"), ("138", "min_digits"), ("8", "min_digits")])
async def test_too_short_a_query_is_refused(admin: Any, client: Any, q: str, field: str) -> None:
    event_id, _codes = await contest(admin, client, entries=1)
    response = await _search(admin, event_id, q)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "query_too_short" and body["message"].startswith("请") and field in body


async def test_phone_suffix_and_full_id_number_find_one_person(admin: Any, client: Any) -> None:
    event_id, _codes = await contest(admin, client, entries=2)
    who = await _register(admin, event_id, name="钱小川")
    by_phone = (await _search(admin, event_id, who["phone"][-4:])).json()
    assert [r["registration_id"] for r in by_phone] == [who["registration_id"]]
    by_whole_phone = (await _search(admin, event_id, who["phone"])).json()
    assert [r["registration_id"] for r in by_whole_phone] == [who["registration_id"]]
    number = who["id_number"]
    typed = f"{number[:6]} {number[6:14]} {number[14:]}".lower()  # as read aloud from the card
    by_id = (await _search(admin, event_id, typed)).json()
    assert [r["registration_id"] for r in by_id] == [who["registration_id"]]
    assert (await _search(admin, event_id, number[:-1] + ("1" if number[-1] != "1" else "2"))).json() == []


async def test_results_are_capped_and_the_cap_is_said(admin: Any, client: Any) -> None:
    event_id, _codes = await contest(admin, client, entries=0)
    for n in range(23):
        await _register(admin, event_id, name="孙小" + chr(0x5B50 + n))
    response = await _search(admin, event_id, "孙小")
    assert response.status_code == 200
    assert len(response.json()) == 20 and response.headers["x-more-results"] == "1"
    one = await _search(admin, event_id, "孙小" + chr(0x5B50))
    assert len(one.json()) == 1 and one.headers["x-more-results"] == "0"


async def test_only_this_events_active_entries(admin: Any, client: Any) -> None:
    event_id, _codes = await contest(admin, client, entries=0)
    other_event, _ = await contest(admin, client, entries=0)
    await _register(admin, other_event, name="周文远")
    assert (await _search(admin, event_id, "文远")).json() == []
    assert len((await _search(admin, other_event, "文远")).json()) == 1


async def test_a_person_found_is_checked_in_and_drawn_by_registration_id(admin: Any, client: Any, db: Any) -> None:
    event_id, _codes = await contest(admin, client, entries=1)
    who = await _register(admin, event_id, name="吴家宝")
    row = (await _search(admin, event_id, "家宝")).json()[0]
    url = f"/api/events/{event_id}/checkins"
    first = await admin.post(url, json={"registration_id": row["registration_id"], "station": "B门", "nonce": "s1"})
    assert first.status_code == 200, first.text
    assert first.json()["entry"]["members"][0]["name"] == "吴家宝"
    assert who["ticket_code"] not in first.text
    again = await admin.post(url, json={"registration_id": row["registration_id"], "station": "B门", "nonce": "s1"})
    assert again.json() == first.json()  # a retry with the nonce: the same answer
    twice = await admin.post(url, json={"registration_id": row["registration_id"], "station": "C门", "nonce": "s2"})
    assert twice.status_code == 409 and twice.json()["code"] == "already_checked_in"
    drawn = await admin.post(f"/api/events/{event_id}/draws",
                             json={"registration_id": row["registration_id"], "station": "B门"})
    assert drawn.status_code == 200, drawn.text
    by_ticket = await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": who["ticket_code"],
                                                                         "station": "B门"})
    assert by_ticket.json()["seat"] == drawn.json()["seat"]  # the same entry, the seat fixed once drawn
    async with db() as session:
        logged = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT code_hint, entry_id, outcome FROM checkin_scan ORDER BY id"))).all()
    assert [tuple(r) for r in logged] == [("search", row["registration_id"], "ok"),
                                          ("search", row["registration_id"], "already_checked_in")]


async def test_registration_ids_of_another_event_are_unknown(admin: Any, client: Any) -> None:
    event_id, _codes = await contest(admin, client, entries=1)
    other_event, _ = await contest(admin, client, entries=0)
    stranger = await _register(admin, other_event, name="郑远方")
    checkin = await admin.post(f"/api/events/{event_id}/checkins",
                               json={"registration_id": stranger["registration_id"], "station": "A", "nonce": "x"})
    assert checkin.status_code == 404 and checkin.json()["code"] == "unknown_registration"
    draw = await admin.post(f"/api/events/{event_id}/draws",
                            json={"registration_id": stranger["registration_id"], "station": "A"})
    assert draw.status_code == 404 and draw.json()["code"] == "unknown_registration"
    for body in ({"registration_id": "1", "station": "A", "nonce": "y"}, {"station": "A", "nonce": "z"},
                 {"registration_id": True, "station": "A", "nonce": "w"}):
        refused = await admin.post(f"/api/events/{event_id}/checkins", json=body)
        assert refused.status_code == 422 and refused.json()["field"] == "ticket_code", body


async def test_the_search_stays_staff_only(client: Any, admin: Any) -> None:
    event_id, _codes = await contest(admin, client, entries=1)
    anonymous = await client.get(SEARCH.format(event_id), params={"q": "张三"})
    assert anonymous.status_code == 401
