"""The paper path: two typings by two different people, differences shown, a third person resolves; the
server refuses the same person twice (four eyes), and resolved marks enter scores and the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from judging.audit import verify_event
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest


def sheet(seats: list[str], b_value: str = "20.00") -> list[dict[str, Any]]:
    return [{"seat": seats[0], "criterion": "A", "value": "35.00"},
            {"seat": seats[0], "criterion": "B", "value": b_value},
            {"seat": seats[1], "criterion": "A", "value": "30.50"}]


async def test_two_typings_a_third_resolves_and_four_eyes_holds(client: Any, db: Any) -> None:
    contest = await seated_contest(db)
    first = await login_headers(client, db, "chief-a", "chief_judge")
    second = await login_headers(client, db, "chief-b", "chief_judge")
    third = await login_headers(client, db, "org-c", "organiser")
    url = f"/api/events/{contest.event_id}/items/LED/paper/1"
    assert (await client.post(url, json={"round": 1, "marks": sheet(contest.seats)}, headers=first)).status_code == 201
    same = await client.post(url, json={"round": 2, "marks": sheet(contest.seats)}, headers=first)
    assert same.status_code == 409 and same.json()["code"] == "four_eyes"
    typed = await client.post(url, json={"round": 2, "marks": sheet(contest.seats, "21.00")}, headers=second)
    assert typed.status_code == 201
    assert typed.json()["differences"] == [{"seat": contest.seats[0], "criterion": "B", "first": "20.00",
                                            "second": "21.00"}]
    by_typist = await client.post(f"{url}/resolve", json={}, headers=second)
    assert by_typist.status_code == 409 and by_typist.json()["code"] == "four_eyes"
    unsettled = await client.post(f"{url}/resolve", json={}, headers=third)
    assert unsettled.status_code == 422 and unsettled.json()["code"] == "unresolved_difference"
    async with db() as session:
        assert (await session.exec(text("SELECT count(*) FROM score"))).one()[0] == 0  # type: ignore[call-overload]
    choice = [{"seat": contest.seats[0], "criterion": "B", "value": "21.00"}]
    done = await client.post(f"{url}/resolve", json={"choices": choice}, headers=third)
    assert done.status_code == 200 and done.json() == {"applied": 3}
    async with db() as session:
        scores = (await session.exec(text("SELECT value, source FROM score ORDER BY id"))).all()  # type: ignore[call-overload]
        kinds = (await session.exec(text("SELECT kind, actor FROM score_event ORDER BY seq"))).all()  # type: ignore[call-overload]
        assert await verify_event(session, contest.event_id) == (3, None)
    assert sorted(v for v, _ in scores) == [2100, 3050, 3500] and {s for _, s in scores} == {"paper"}
    assert {k for k, _ in kinds} == {"paper"} and all(a.startswith("org-c") for _, a in kinds)
    again = await client.post(f"{url}/resolve", json={"choices": choice}, headers=third)
    assert again.status_code == 409 and again.json()["code"] == "already_resolved"


async def test_paper_marks_are_validated_like_tablet_input(client: Any, db: Any) -> None:
    contest = await seated_contest(db)
    first = await login_headers(client, db, "chief-a", "chief_judge")
    url = f"/api/events/{contest.event_id}/items/LED/paper/1"
    high = await client.post(url, json={"round": 1, "marks": [{"seat": contest.seats[0], "criterion": "A",
                                                              "value": "40.5"}]}, headers=first)
    assert high.status_code == 422 and high.json()["code"] == "score_out_of_range"
    unknown = await client.post(url, json={"round": 1, "marks": [{"seat": "A01", "criterion": "Z", "value": "1"}]},
                                headers=first)
    assert unknown.json()["code"] == "unknown_criterion"
    judge = await login_headers(client, db, "plain-judge", "judge")
    assert (await client.get(url, headers=judge)).status_code == 403
