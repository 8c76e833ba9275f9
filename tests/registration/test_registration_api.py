"""POST /api/events/{id}/registrations: every refusal code of contracts §5, the flags, teams, and the
race-free invariants (one entry per person per event; the unit quota) under concurrency."""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from registration.entries.tickets import ALPHABET, CODE_LENGTH
from tests.support.helpers import EXAMPLE_EVENT
from tests.support.idgen import make_id

Client = AsyncTestClient[Litestar]


def reg_event(**event_changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLE_EVENT)
    doc["event"].update({"starts_on": "2026-12-20", "registration_closes": "2099-01-01T00:00:00+08:00"})
    doc["event"].update(event_changes)
    led = doc["items"][0]
    doc["items"].append({**copy.deepcopy(led), "code": "WPS", "name": "WPS办公软件应用"})
    doc["items"].append({**copy.deepcopy(led), "code": "DUO", "name": "双人赛项", "team_size": 2, "groups": []})
    return doc


async def make_event(admin: Client, **changes: Any) -> int:
    response = await admin.post("/api/events", json=reg_event(**changes))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


_seq = itertools.count(1)


def person(**overrides: Any) -> dict[str, Any]:
    """A distinct valid person each call (distinct name and phone: twins would be flagged as duplicates)."""
    n = next(_seq)
    body = {"item": "LED", "group": "学生组", "identity": "student", "name": "张" + chr(0x4E00 + n),
            "id_number": make_id(), "phone": f"138{n:08d}", "unit": "重庆市工业高级技工学校", "instructors": []}
    body.update(overrides)
    return body


async def post(client: Client, event_id: int, body: dict[str, Any]) -> Any:
    return await client.post(f"/api/events/{event_id}/registrations", json=body)


async def test_accepted_registration_returns_a_strong_ticket(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    response = await post(client, event_id, person())
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["registration_id"], int) and body["review"] == "none"
    code = body["ticket_code"]
    assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) and not set(code) & set("0O1IL")
    assert body["ticket_url"].endswith(f"/t/{code}")


@pytest.mark.parametrize(("overrides", "status", "code"), [
    ({"id_number": "500103199506151234"}, 422, "invalid_id_number"),
    ({"id_number": "500103950615123"}, 422, "invalid_id_number"),
    ({"id_number": make_id(date(2011, 1, 1))}, 422, "age_out_of_range"),
    ({"identity": "employee", "group": "职工组", "id_number": make_id(date(1960, 1, 1))}, 422, "age_out_of_range"),
    ({"item": "NOPE"}, 422, "unknown_item"),
    ({"group": "教师组"}, 422, "unknown_group"),
    ({"group": "职工组"}, 422, "group_identity_mismatch"),
    ({"identity": "employee"}, 422, "group_identity_mismatch"),
    ({"phone": "12345"}, 422, "invalid_phone"),
    ({"name": ""}, 422, "missing_field"),
    ({"item": "DUO", "group": ""}, 422, "team_size_mismatch"),
])
async def test_refusals(db: Any, admin: Client, client: Client, overrides: dict[str, Any], status: int,
                        code: str) -> None:
    event_id = await make_event(admin)
    response = await post(client, event_id, person(**overrides))
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"] and body["message_en"]
    assert await count_entries(db) == 0


async def count_entries(db: Any) -> int:
    async with db() as session:
        return int((await session.exec(text("SELECT count(*) FROM entry"))).one()[0])  # type: ignore[call-overload]


async def test_legacy_15_digit_number_gets_the_clear_message(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    body = (await post(client, event_id, person(id_number="500103950615123"))).json()
    assert "15 位" in body["message"] and body["reason"] == "legacy_15_digit"


async def test_registration_closed(admin: Client, client: Client) -> None:
    event_id = await make_event(admin, registration_closes="2020-01-01T00:00:00+08:00")
    response = await post(client, event_id, person())
    assert response.status_code == 422 and response.json()["code"] == "registration_closed"


async def test_unknown_event_is_404(client: Client) -> None:
    response = await post(client, 4242, person())
    assert response.status_code == 404 and response.json()["code"] == "unknown_event"


async def test_same_item_twice_is_already_registered(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    body = person()
    assert (await post(client, event_id, body)).status_code == 201
    again = await post(client, event_id, body)
    assert again.status_code == 409 and again.json()["code"] == "already_registered"


async def test_other_item_is_duplicate_entry_and_only_the_phone_owner_learns_which(
        admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    first = person()
    assert (await post(client, event_id, first)).status_code == 201
    stranger = await post(client, event_id, {**first, "item": "WPS", "phone": "13900139000", "name": "李四"})
    assert stranger.status_code == 409 and stranger.json()["code"] == "duplicate_entry"
    assert "LED" not in stranger.text and first["name"] not in stranger.text
    owner = await post(client, event_id, {**first, "item": "WPS"})
    assert owner.status_code == 409 and owner.json()["code"] == "duplicate_entry"
    assert owner.json()["item"] == "LED" and "LED显示屏应用" in owner.json()["message"]


async def test_full_width_and_lower_case_x_are_the_same_person(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    number = next(n for n in (make_id() for _ in range(100)) if n.endswith("X"))
    assert (await post(client, event_id, person(id_number=number))).status_code == 201
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c.lower() for c in number)
    again = await post(client, event_id, person(id_number=full_width, item="WPS"))
    assert again.json()["code"] == "duplicate_entry"


async def test_unit_quota_enforced_per_item_and_group(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    for _ in range(2):
        assert (await post(client, event_id, person())).status_code == 201
    third = await post(client, event_id, person(unit=" 重庆市工业高级技工学校 "))
    assert third.status_code == 409 and third.json()["code"] == "unit_quota_exceeded"
    other_group = person(group="职工组", identity="employee", skill_level=4)
    assert (await post(client, event_id, other_group)).status_code == 201
    assert (await post(client, event_id, person(item="WPS"))).status_code == 201


async def test_unit_quota_in_warn_mode_accepts_and_flags(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_mode="warn")
    for _ in range(2):
        assert (await post(client, event_id, person())).json()["review"] == "none"
    third = await post(client, event_id, person())
    assert third.status_code == 201 and third.json()["review"] == "pending"
    assert await flags(db) == {"unit_quota_warning"}


async def flags(db: Any) -> set[str]:
    async with db() as session:
        rows = await session.exec(text("SELECT code FROM entry_flag"))  # type: ignore[call-overload]
        return {r[0] for r in rows}


async def test_likely_duplicate_under_another_id_goes_to_review(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_mode="warn")
    assert (await post(client, event_id, person(name="王五", phone="13700137000"))).status_code == 201
    twin = await post(client, event_id, person(name="王五", phone="13700137000", item="WPS"))
    assert twin.status_code == 201 and twin.json()["review"] == "pending"
    assert await flags(db) == {"possible_duplicate"}


async def test_same_name_unit_and_birth_date_is_a_likely_duplicate(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_mode="warn")
    born = date(1999, 3, 3)
    await post(client, event_id, person(name="赵六", id_number=make_id(born), phone="13700137001"))
    twin = await post(client, event_id, person(name="赵六", id_number=make_id(born, region="500157"),
                                               phone="13700137002", item="WPS"))
    assert twin.json()["review"] == "pending" and await flags(db) == {"possible_duplicate"}


async def test_employee_instructing_a_student_in_the_same_item_is_flagged(
        db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    teacher = {"name": "陈老师", "phone": "13600136000"}
    student = await post(client, event_id, person(instructors=[teacher]))
    assert student.json()["review"] == "none"
    employee = await post(client, event_id, person(group="职工组", identity="employee", skill_level=3,
                                                   name="陈老师", phone="13600136000", unit="某公司"))
    assert employee.status_code == 201 and employee.json()["review"] == "pending"
    assert await flags(db) == {"instructor_conflict"}


async def test_employee_without_declared_qualification_is_flagged(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    response = await post(client, event_id, person(group="职工组", identity="employee"))
    assert response.json()["review"] == "pending" and await flags(db) == {"employee_qualification"}


async def test_team_registers_both_members_and_checks_each(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    a, b = person(name="队员甲"), person(name="队员乙")
    team = {"item": "DUO", "group": "", "unit": "重庆电子科技职业大学", "members": [a, b]}
    response = await post(client, event_id, team)
    assert response.status_code == 201, response.text
    bad = {**team, "members": [person(), person(id_number="500103199506151234")]}
    refused = await post(client, event_id, bad)
    assert refused.json()["code"] == "invalid_id_number" and refused.json()["field"] == "members[1].id_number"
    twice = {**team, "members": [a, a]}
    assert (await post(client, event_id, twice)).json()["code"] == "duplicate_member"
    member_elsewhere = await post(client, event_id, {**person(), "id_number": b["id_number"], "item": "LED"})
    assert member_elsewhere.json()["code"] == "duplicate_entry"


@pytest.mark.reliability
async def test_1000_concurrent_registrations_of_one_id_across_items_accept_exactly_one(db: Any,
        admin: Client, client: Client) -> None:
    """R1 (issue 17): 1,000 registrations of one ID number at once, spread over two items: exactly one is
    accepted, the 999 others get a clear refusal (409, a stable code, a Chinese message), one entry stored."""
    event_id = await make_event(admin, unit_quota_per_group=None)
    number = make_id()
    bodies = [person(id_number=number, item=("LED", "WPS")[i % 2]) for i in range(1000)]
    responses = await asyncio.gather(*(post(client, event_id, b) for b in bodies))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(409) == 999, codes
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert {r["code"] for r in refusals} <= {"duplicate_entry", "already_registered"}
    assert all(re.search("[\u4e00-\u9fff]", r["message"]) for r in refusals)
    assert await count_entries(db) == 1


async def test_quota_holds_under_concurrency(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    responses = await asyncio.gather(*(post(client, event_id, person()) for _ in range(30)))
    assert sorted(r.status_code for r in responses).count(201) == 2
    assert {r.json()["code"] for r in responses if r.status_code != 201} == {"unit_quota_exceeded"}
    assert await count_entries(db) == 2


async def test_id_number_is_never_stored_in_plain_text(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    number = make_id()
    assert (await post(client, event_id, person(id_number=number))).status_code == 201
    async with db() as session:
        rows = (await session.exec(text("SELECT * FROM entry_member"))).all()  # type: ignore[call-overload]
    dump = repr(rows)
    assert number not in dump and number[:-4] not in dump and number[-8:] not in dump
    assert "5001**********" in dump


async def test_the_cached_event_follows_edits_and_closing_by_hand(db: Any, admin: Client, client: Client) -> None:
    """The burst path caches an event's rules; the write transaction re-reads the event row, so an edit (a new
    item) is seen at once, and so is registration closed by hand."""
    event_id = await make_event(admin)
    assert (await post(client, event_id, person())).status_code == 201  # the rules are cached now
    doc = reg_event()
    doc["items"].append({**copy.deepcopy(doc["items"][0]), "code": "NEW", "name": "新增赛项"})
    assert (await admin.put(f"/api/events/{event_id}", json=doc)).status_code == 200
    added = await post(client, event_id, person(item="NEW"))
    assert added.status_code == 201, added.text
    async with db() as session:
        await session.exec(text("UPDATE event SET registration_closed_at = CURRENT_TIMESTAMP WHERE id = :id")
                           .bindparams(id=event_id))
        await session.commit()
    closed = await post(client, event_id, person())
    assert closed.status_code == 422 and closed.json()["code"] == "registration_closed"


async def test_an_event_edited_on_one_instance_is_seen_by_the_next_registration_on_another(
        settings: Any, admin: Client, client: Client) -> None:
    """Each instance caches the event's parsed rules; the write re-reads the event row, so an edit made through
    one instance binds the very next registration on the other (here: the unit quota cut from 2 to 1)."""
    from contestday.app import create_app

    event_id = await make_event(admin)
    async with AsyncTestClient(app=create_app(settings)) as other:
        assert (await post(other, event_id, person())).status_code == 201  # the other instance has the rules now
        edited = await admin.put(f"/api/events/{event_id}", json=reg_event(unit_quota_per_group=1))
        assert edited.status_code == 200, edited.text
        refused = await post(other, event_id, person())
        assert refused.status_code == 409 and refused.json()["code"] == "unit_quota_exceeded"
