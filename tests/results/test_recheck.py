"""Re-check (复核): every award-zone seat plus a random ≥ 15 % of the rest; corrections recorded; more than 5 %
corrected → a full re-check of every seat is demanded."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from judging.models import Judge
from judging.service import apply_op
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest


async def marked_contest(db: Any, n: int = 10) -> Any:
    contest = await seated_contest(db, n=n)
    async with db() as session:
        judge = (await session.exec(select(Judge))).one()
        for k, seat in enumerate(contest.seats):
            for criterion, value in (("A", f"{20 + k}"), ("B", f"{30 + k % 7}")):
                reply = await apply_op(session, judge, {"op_id": f"{seat}{criterion}", "kind": "set_score",
                                                        "item": "LED", "seat": seat, "criterion": criterion,
                                                        "value": value, "base_version": 0})
                assert reply.reply["type"] == "ack", reply.reply
    return contest


async def test_award_zone_and_a_random_share_then_full_recheck_after_too_many_errors(client: Any, db: Any) -> None:
    contest = await marked_contest(db)
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/console/events/{contest.event_id}/items/LED/recheck"
    low = await client.post(url, json={"ratio": 0.1}, headers=chief)
    assert low.status_code == 422 and low.json()["code"] == "invalid_ratio"
    started = await client.post(url, json={}, headers=chief)
    assert started.status_code == 201, started.text
    first = started.json()["rounds"][0]
    whys = [s["why"] for s in first["seats"]]
    assert whys.count("award_zone") == 6 and whys.count("random") == 1  # 1+2+3 prizes; ceil(15 % of 4)
    assert (await client.post(url, json={}, headers=chief)).json()["code"] == "recheck_open"
    sample = [s["seat"] for s in first["seats"]]
    outside = next(s for s in contest.seats if s not in sample)
    assert (await client.post(f"{url}/{outside}", json={"outcome": "ok"}, headers=chief)).status_code == 404
    no_note = await client.post(f"{url}/{sample[0]}", json={"outcome": "corrected"}, headers=chief)
    assert no_note.status_code == 422 and no_note.json()["code"] == "reason_required"
    await client.post(f"{url}/{sample[0]}", json={"outcome": "corrected", "note": "B 误录 33→32"}, headers=chief)
    for seat in sample[1:]:
        view = (await client.post(f"{url}/{seat}", json={"outcome": "ok"}, headers=chief)).json()
    assert view["rounds"][0]["status"] == "full_required" and view["done"] is False  # 1 of 7 > 5 %
    full = (await client.post(url, json={}, headers=chief)).json()["rounds"][1]
    assert full["full"] is True and sorted(s["seat"] for s in full["seats"]) == sorted(contest.seats)
    for seat in contest.seats:
        view = (await client.post(f"{url}/{seat}", json={"outcome": "ok"}, headers=chief)).json()
    assert view["rounds"][1]["status"] == "done" and view["done"] is True


async def test_few_errors_close_the_round(client: Any, db: Any) -> None:
    contest = await marked_contest(db, n=4)
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/console/events/{contest.event_id}/items/LED/recheck"
    seats = [s["seat"] for s in (await client.post(url, json={"ratio": 1}, headers=chief)).json()["rounds"][0]["seats"]]
    assert sorted(seats) == sorted(contest.seats)
    for seat in seats:
        view = (await client.post(f"{url}/{seat}", json={"outcome": "ok"}, headers=chief)).json()
    assert view["done"] is True
    judge = await login_headers(client, db, "j", "judge")
    assert (await client.get(url, headers=judge)).status_code == 403
