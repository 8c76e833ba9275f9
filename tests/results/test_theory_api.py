"""Theory scores on the server (#14 A.1, results/theory.py): an import refused row by row, then accepted,
confirmed by a second person (four eyes) and recorded in the audit chain; a dry run stores nothing; a
correction needs a reason; one import waits at a time; the sheet as .xlsx/.csv."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from judging.audit import verify_event
from tests.registration.test_registration_admin import xlsx
from tests.registration.test_registration_api import make_event, person
from tests.support.helpers import login_headers


async def _entered(admin: Any, event_id: int, n: int = 3) -> list[dict[str, Any]]:
    people = []
    for k in range(n):
        body = person(unit=f"单位{k}")
        response = await admin.post(f"/api/events/{event_id}/registrations", json=body)
        assert response.status_code == 201, response.text
        people.append({**body, "ticket_code": response.json()["ticket_code"]})
    return people


async def _two_people(client: Any, db: Any) -> tuple[dict[str, str], dict[str, str]]:
    return (await login_headers(client, db, "chief-a", "chief_judge"),
            await login_headers(client, db, "org-b", "organiser"))


async def _count(db: Any, sql: str) -> int:
    async with db() as session:
        return int((await session.exec(text(sql))).one()[0])  # type: ignore[call-overload]


async def test_refused_row_by_row_then_accepted_and_confirmed_by_a_second_person(admin: Any, client: Any,
                                                                                  db: Any) -> None:
    event_id = await make_event(admin)
    a, b, c = await _entered(admin, event_id)
    first, second = await _two_people(client, db)
    url = f"/api/events/{event_id}/items/LED/theory"
    refused = await client.post(url, headers=first, json={"rows": [
        {"id_number": a["id_number"], "name": a["name"], "score": "88.5"},
        {"id_number": b["id_number"], "name": "别人", "score": "70"},        # name mismatch
        {"id_number": a["id_number"], "score": "60"},                          # the same person again
        {"id_number": 500103199506151234, "score": "60"},                      # an ID sent as a number
        {"ticket_code": c["ticket_code"], "score": "100.5"},                   # out of range
    ]})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "theory_refused" and "未导入任何成绩" in body["message"]
    assert [(e["row"], e["code"]) for e in body["errors"]] == [
        (2, "name_mismatch"), (3, "duplicate_row"), (4, "numeric_cell"), (5, "out_of_range")]
    assert await _count(db, "SELECT count(*) FROM theory_import") == 0
    rows = [{"id_number": a["id_number"], "name": a["name"], "score": "88.5"},
            {"id_number": b["id_number"], "score": 70},
            {"ticket_code": c["ticket_code"], "name": c["name"], "absent": "病假"}]
    dry = await client.post(url, headers=first, json={"rows": rows, "dry_run": True})
    assert dry.status_code == 200 and dry.json()["dry_run"] and dry.json()["rows"] == 3
    assert await _count(db, "SELECT count(*) FROM theory_import") == 0  # a dry run stores nothing
    staged = await client.post(url, headers=first, json={"rows": rows})
    assert staged.status_code == 200, staged.text
    import_id = staged.json()["import_id"]
    assert staged.json()["state"] == "pending" and staged.json()["absent"] == 1
    state = (await client.get(url, headers=second)).json()
    assert state["pending"]["import_id"] == import_id and state["scores"] == [] and len(state["missing"]) == 3
    assert await _count(db, "SELECT count(*) FROM theory_score") == 0  # nothing counts before confirmation
    another = await client.post(url, headers=second, json={"rows": rows})
    assert another.status_code == 409 and another.json()["code"] == "theory_import_pending"
    same = await client.post(f"{url}/{import_id}/confirm", headers=first)
    assert same.status_code == 409 and same.json()["code"] == "four_eyes"
    confirmed = await client.post(f"{url}/{import_id}/confirm", headers=second)
    assert confirmed.status_code == 200 and confirmed.json()["changed"] == 3, confirmed.text
    again = await client.post(f"{url}/{import_id}/confirm", headers=second)
    assert again.status_code == 409 and again.json()["code"] == "import_decided"
    state = (await client.get(url, headers=first)).json()
    assert state["pending"] is None and state["missing"] == []
    assert sorted((s["name"], s["theory"], s["absent_reason"]) for s in state["scores"]) == sorted(
        [(a["name"], "88.50", None), (b["name"], "70.00", None), (c["name"], "0.00", "病假")])
    async with db() as session:
        links = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT kind, old_value, new_value, reason, actor FROM score_event ORDER BY seq"))).all()
        assert await verify_event(session, event_id) == (3, None)
    assert sorted((k, o, n, r) for k, o, n, r, _ in links) == [
        ("theory", None, "0.00", "缺考：病假"), ("theory", None, "70.00", ""), ("theory", None, "88.50", "")]
    assert all(actor.startswith("org-b") for *_, actor in links)


async def test_a_correction_needs_a_reason_and_is_logged_with_the_old_value(admin: Any, client: Any,
                                                                             db: Any) -> None:
    event_id = await make_event(admin)
    (a,) = await _entered(admin, event_id, 1)
    first, second = await _two_people(client, db)
    url = f"/api/events/{event_id}/items/LED/theory"
    staged = await client.post(url, headers=first, json={"rows": [{"id_number": a["id_number"], "score": "80"}]})
    await client.post(f"{url}/{staged.json()['import_id']}/confirm", headers=second)
    fix = [{"id_number": a["id_number"], "score": "82.5"}]
    no_reason = await client.post(url, headers=second, json={"rows": fix})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    assert no_reason.json()["field"] == "reason"
    staged = await client.post(url, headers=second, json={"rows": fix, "reason": "阅卷复核，第 3 题漏计 2.5 分"})
    assert staged.status_code == 200 and staged.json()["changes"][0]["old"] == "80.00"
    discarded_first = await client.post(f"{url}/{staged.json()['import_id']}/discard", headers=first)
    assert discarded_first.status_code == 200 and discarded_first.json()["state"] == "discarded"
    assert (await client.get(url, headers=first)).json()["scores"][0]["theory"] == "80.00"  # discarded: unchanged
    staged = await client.post(url, headers=second, json={"rows": fix, "reason": "阅卷复核，第 3 题漏计 2.5 分"})
    assert (await client.post(f"{url}/{staged.json()['import_id']}/confirm", headers=first)).status_code == 200
    assert (await client.get(url, headers=first)).json()["scores"][0]["theory"] == "82.50"
    async with db() as session:
        last = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT old_value, new_value, reason FROM score_event ORDER BY seq DESC LIMIT 1"))).one()
    assert tuple(last) == ("80.00", "82.50", "阅卷复核，第 3 题漏计 2.5 分")


async def test_the_sheet_comes_as_xlsx_or_csv_and_an_unreadable_one_is_refused(admin: Any, client: Any,
                                                                               db: Any) -> None:
    event_id = await make_event(admin)
    a, b = await _entered(admin, event_id, 2)
    first, _second = await _two_people(client, db)
    url = f"/api/events/{event_id}/items/LED/theory/file"
    data = xlsx([[1, a["name"], a["id_number"], 91.25, ""],
                 [2, b["name"], int(b["id_number"][:17] + "0"), 60, ""]],  # the ID typed as a number in Excel
                header=["序号", "姓名", "身份证号", "理论成绩", "缺考原因"])
    refused = await client.post(url, headers=first, files={"file": ("理论成绩.xlsx", data)}, data={"dry_run": "1"})
    assert refused.status_code == 422 and [(e["row"], e["code"]) for e in refused.json()["errors"]] == [
        (3, "numeric_cell")]
    csv = f"姓名,身份证号,理论成绩\n{a['name']},{a['id_number']},91.25\n{b['name']},{b['id_number']},60\n"
    checked = await client.post(url, headers=first, files={"file": ("theory.csv", csv.encode())},
                                data={"dry_run": "1"})
    assert checked.status_code == 200 and checked.json()["rows"] == 2 and checked.json()["dry_run"]
    staged = await client.post(url, headers=first, files={"file": ("theory.csv", csv.encode())})
    assert staged.status_code == 200 and staged.json()["state"] == "pending"
    no_header = await client.post(url, headers=first, files={"file": ("x.csv", b"a,b\n1,2\n")})
    assert no_header.status_code == 422 and no_header.json()["code"] == "no_header"
    no_file = await client.post(url, headers=first, files={"other": ("x.csv", b"")})
    assert no_file.status_code == 422 and no_file.json()["code"] == "missing_file"


async def test_a_teams_theory_is_its_members_mean_once_both_have_one(admin: Any, client: Any, db: Any) -> None:
    from registration.events.models import Item
    from results.theory import entry_theories

    event_id = await make_event(admin)
    a, b = person(name="队员甲"), person(name="队员乙")
    team = await admin.post(f"/api/events/{event_id}/registrations",
                            json={"item": "DUO", "group": "", "unit": "重庆电子科技职业大学", "members": [a, b]})
    assert team.status_code == 201, team.text
    ticket = team.json()["ticket_code"]
    first, second = await _two_people(client, db)
    url = f"/api/events/{event_id}/items/DUO/theory"
    which = await client.post(url, headers=first, json={"rows": [{"ticket_code": ticket, "score": "80"}]})
    assert which.status_code == 422 and which.json()["errors"][0]["code"] == "name_required"
    staged = await client.post(url, headers=first, json={"rows": [
        {"ticket_code": ticket, "name": "队员甲", "score": "80.25"}]})
    await client.post(f"{url}/{staged.json()['import_id']}/confirm", headers=second)
    async with db() as session:
        item = (await session.exec(select(Item).where(Item.event_id == event_id, Item.code == "DUO"))).one()
        assert list((await entry_theories(session, item.id or 0)).values()) == [None]  # 队员乙 has none yet
    staged = await client.post(url, headers=first, json={"rows": [{"id_number": b["id_number"], "score": "90"}]})
    await client.post(f"{url}/{staged.json()['import_id']}/confirm", headers=second)
    async with db() as session:
        assert list((await entry_theories(session, item.id or 0)).values()) == [Decimal("85.13")]  # half up
    state = (await client.get(url, headers=first)).json()
    assert state["missing"] == [] and len(state["scores"]) == 2
