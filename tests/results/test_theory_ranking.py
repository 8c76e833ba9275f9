"""An item that weighs theory ranks on the server (#14 A.3): the live ranking uses the confirmed theory scores
exactly as `contestday results compute` does, an entry without one is pending, and the publish gate lists who
lacks a theory score (the `theory_not_recorded` blocker is gone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import col, select

from registration.checkin.models import SeatAssignment
from registration.entries.models import Entry
from registration.events.service import event_document
from tests.results.test_console import mark
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest
from tests.support.results_cases import offline_results

JUDGES = (("王裁判", "评审中心"), ("张裁判", "评审中心二"))


async def _tickets(db: Any, event_id: int) -> dict[str, str]:
    async with db() as session:
        rows = (await session.exec(select(SeatAssignment.seat_label, Entry.ticket_code)
                                   .join(Entry, col(Entry.id) == SeatAssignment.entry_id)
                                   .where(Entry.event_id == event_id))).all()
    return dict(rows)


async def test_theory_counts_in_the_live_ranking_as_in_the_offline_command(admin: Any, client: Any, db: Any,
                                                                           tmp_path: Path) -> None:
    contest = await seated_contest(db, n=3, judges=JUDGES, theory_weight="0.2")
    seats = sorted(contest.seats)
    sheet = {seats[0]: ("30", "40", None), seats[1]: ("36", "50", "2"), seats[2]: ("32", "46", None)}
    theory = {seats[0]: "95.50", seats[1]: "40.00", seats[2]: "0.00"}  # seats[2] missed the exam
    scores = []
    for k, (seat, (a, b, s)) in enumerate(sheet.items()):
        for judge, short in (("王裁判", "王"), ("张裁判", "张")):
            await mark(db, judge, seat, "A", a, f"{short}-a-{k}")
            await mark(db, judge, seat, "B", b, f"{short}-b-{k}")
            scores += [[seat, "A", short, a], [seat, "B", short, b]]
            if s is not None:
                await mark(db, judge, seat, "S", s, f"{short}-s-{k}")
                scores.append([seat, "S", short, s])
    snapshot = f"/api/console/events/{contest.event_id}/items/LED"
    gate = f"/api/events/{contest.event_id}/items/LED/publication"

    before = (await admin.get(snapshot)).json()["ranking"]
    assert not before["complete"] and all(not g["rows"] for g in before["groups"])
    assert {p["seat"]: p["reasons"] for p in before["pending"]} == {s: ["theory:theory_missing"] for s in seats}
    assert "缺理论成绩" in before["pending"][0]["text"]
    blockers = {b["code"]: b for b in (await admin.get(gate)).json()["blockers"]}
    assert "theory_not_recorded" not in blockers
    assert sorted(blockers["theory_missing"]["seats"]) == seats and "3 名参赛选手缺理论成绩" in blockers[
        "theory_missing"]["message"]

    first = await login_headers(client, db, "chief-a", "chief_judge")
    second = await login_headers(client, db, "org-b", "organiser")
    tickets = await _tickets(db, contest.event_id)
    rows = [{"ticket_code": tickets[s], "score": theory[s]} for s in seats[:2]]
    rows.append({"ticket_code": tickets[seats[2]], "absent": "缺考"})
    staged = await client.post(f"/api/events/{contest.event_id}/items/LED/theory", headers=first, json={"rows": rows})
    assert staged.status_code == 200, staged.text
    half = (await admin.get(snapshot)).json()["ranking"]
    assert {p["seat"] for p in half["pending"]} == set(seats)  # staged, not confirmed: nothing counts yet
    confirmed = await client.post(f"/api/events/{contest.event_id}/items/LED/theory/"
                                  f"{staged.json()['import_id']}/confirm", headers=second)
    assert confirmed.status_code == 200, confirmed.text

    live = (await admin.get(snapshot)).json()["ranking"]
    assert live["complete"] and live["basis"] == "total"
    blockers = {b["code"] for b in (await admin.get(gate)).json()["blockers"]}
    assert "theory_missing" not in blockers

    async with db() as session:
        event = await event_document(session, contest.event_id)
    offline = offline_results(tmp_path, event, [[seat, seat, "", "LED", "学生组", theory[seat], "", "present"]
                                                for seat in seats], scores)
    rows_live = [r for g in live["groups"] for r in g["rows"]]
    assert [(r["seat"], str(r["position"]), r["practical_pct"], r["total"], r["award"]) for r in rows_live] == [
        (o["entry"], o["position"], o["practical_pct"], o["total"], o["award"]) for o in offline]
    by_seat = {r["seat"]: r for r in rows_live}
    # the total weighs theory: 0.2 × theory + 0.8 × practical (a percentage), as the offline engine says
    assert by_seat[seats[0]]["total"] != by_seat[seats[0]]["practical_pct"]
    assert {o["entry"]: o["theory"] for o in offline} == theory
