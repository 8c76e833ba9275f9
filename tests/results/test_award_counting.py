"""Issue #18 point 6: on a team item, N of the 30 % rules counts people or teams, as the event says.

Seed 001: "分别设一等奖1名、二等奖2名、三等奖3名；对参赛人数超过30人的竞赛项目（组别），
按照不超过参赛选手人数 30%的比例设优胜奖" — people ("参赛选手人数"), the default `award_policy.count = "people"`.
Seed 002: "另按获奖总人数不得超过决赛参赛选手数量的30%设置优胜奖" and "决赛选手原则上不少于30人（队）" — an event may
count teams instead (`count = "teams"`). N is team_size × ranked entries; 优胜奖 places go to whole teams,
rounding down; the fixed 1/2/3 prizes are per team.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from results.awards import award_counts
from results.offline import compute_command
from results.warnings import result_warnings
from scoring.event_file import AwardPolicy
from tests.support.helpers import login_headers

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_001 = AwardPolicy("merit_if_over_30", threshold=30)  # count people: the default


def test_16_two_person_teams_are_32_people_over_30_and_get_merit_awards_by_people() -> None:
    """"对参赛人数超过30人的竞赛项目（组别）…按照不超过参赛选手人数 30%": 16 teams of 2 are 32 people > 30, so
    floor(0.3 × 32) = 9 places, 4 whole teams (9 // 2); counted as 16 teams they are not over 30: none."""
    assert award_counts(SEED_001, 16, 2).as_tuple() == (1, 2, 3, 4)
    assert award_counts(AwardPolicy("merit_if_over_30", count="teams"), 16, 2).as_tuple() == (1, 2, 3, 0)
    assert award_counts(SEED_001, 16, 1).as_tuple() == (1, 2, 3, 0)  # a solo item: 16 people, unchanged
    assert award_counts(SEED_001, 15, 2).merit == 0  # 30 people is not "超过30人"


def test_total_within_30pct_keeps_all_winners_people_within_30_percent() -> None:
    """"另按获奖总人数不得超过决赛参赛选手数量的30%设置优胜奖": 40 teams of 2 (80 people) → 24 places, the fixed six
    teams hold 12, so 6 more teams; by teams the same 12 of 40. 23 teams (46 people → 13 places, 12 fixed): the one
    place left cannot hold a team, so none (a team is never split)."""
    seed_002 = AwardPolicy("total_within_30pct")
    by_teams = AwardPolicy("total_within_30pct", count="teams")
    assert award_counts(seed_002, 40, 2).as_tuple() == award_counts(by_teams, 40, 2).as_tuple() == (1, 2, 3, 6)
    assert award_counts(seed_002, 23, 2).merit == 0
    assert award_counts(seed_002, 40, 3).merit == 6  # 120 people → 36 places − 18 fixed = 18 → 6 teams


def test_the_warnings_count_the_same_n_and_say_people_or_teams() -> None:
    """"决赛选手原则上不少于30人（队）": 16 teams of 2 are 32 人 (no warning) by people, 16 队 (warned) by teams; the
    fixed prizes are 6 teams = 12 of 32 people (37.5 %) or 6 of 16 teams."""
    by_people = {w["code"]: w for w in result_warnings("双人赛", 2, {"": 16}, SEED_001)}
    assert set(by_people) == {"fixed_prizes_over_30pct"}
    fixed = by_people["fixed_prizes_over_30pct"]
    assert (fixed["n"], fixed["fixed"], fixed["unit"]) == (32, 12, "人")
    assert "参赛 32 人" in fixed["message"] and "6 队（12 人）" in fixed["message"] and "37.5%" in fixed["message"]
    by_teams = {w["code"]: w for w in result_warnings("双人赛", 2, {"": 16}, AwardPolicy("merit_if_over_30",
                                                                                      count="teams"))}
    assert "共 16 队" in by_teams["few_finalists"]["message"] and by_teams["few_finalists"]["count"] == 16
    assert "参赛 16 队" in by_teams["fixed_prizes_over_30pct"]["message"]


def _offline(tmp_path: Path, count: str | None) -> tuple[list[dict[str, str]], str]:
    event = json.loads((EXAMPLES / "event.json").read_text(encoding="utf-8"))
    event["event"]["award_policy"] = {"rule": "merit_if_over_30", "ratio": 0.3, "threshold": 30,
                                      **({"count": count} if count else {})}
    team = next(i for i in event["items"] if i["team_size"] == 2)
    event["items"] = [team]
    codes = [c["code"] for c in team["criteria"] if c["kind"] != "deduction"]
    (tmp_path / "event.json").write_text(json.dumps(event, ensure_ascii=False), encoding="utf-8")
    with (tmp_path / "entries.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["entry", "name", "unit", "item", "group", "theory", "time_used_s", "status"])
        for t in range(16):
            for m in range(2):
                writer.writerow([f"T{t:02d}", f"队员{t}-{m}", f"单位{t}", team["code"], team["groups"][0]
                                 if team["groups"] else "", "80", "", "present"])
    with (tmp_path / "scores.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["entry", "criterion", "judge", "score"])
        for t in range(16):
            for code in codes:
                writer.writerow([f"T{t:02d}", code, "J1", str(10 + t)])  # distinct totals: no ties
    out = tmp_path / "results.csv"
    assert compute_command(tmp_path / "event.json", tmp_path / "entries.csv", tmp_path / "scores.csv", out,
                           None) == 0
    with out.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh)), team["code"]


def _merit_teams(rows: list[dict[str, str]]) -> list[str]:
    return sorted({r["entry"] for r in rows if r["award"] == "优胜奖"})


@pytest.mark.parametrize(("count", "merit"), [(None, 4), ("people", 4), ("teams", 0)])
def test_the_offline_command_counts_people_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      count: str | None, merit: int) -> None:
    """`contestday results compute`, 16 two-person teams under seed 001's rule: 4 优胜奖 teams (both members
    listed) when N counts people — the default — none when it counts teams, and then few_finalists says 16 队."""
    rows, _code = _offline(tmp_path, count)
    err = capsys.readouterr().err
    teams = _merit_teams(rows)
    assert len(teams) == merit
    assert sum(1 for r in rows if r["award"] == "优胜奖") == 2 * merit  # one row per member, never half a team
    assert teams == sorted({r["entry"] for r in rows if r["position"] in {"7", "8", "9", "10"}})[:merit]
    assert ("共 16 队" in err) == (count == "teams")


# ---- the server: the same teams registered, seated, marked and published through the API ----

async def _team_contest(db: Any, count: str, teams: int = 16) -> tuple[int, int, list[str]]:
    from judging.panels import add_judge, assign
    from judging.service import apply_op
    from registration.checkin.seats import draw, read_plan, replace_plan
    from registration.checkin.service import redeem
    from registration.entries.context import load_context
    from registration.entries.request import read_request
    from registration.entries.service import register
    from registration.events.models import Item
    from registration.events.service import create_event
    from scoring.event_file import parse_event_document
    from tests.registration.test_checkin import plan
    from tests.registration.test_registration_api import person, reg_event
    from tests.support.judging_setup import SECRET

    doc = reg_event(unit_quota_per_group=None)
    doc["event"]["award_policy"] = {"rule": "merit_if_over_30", "ratio": 0.3, "threshold": 30, "count": count}
    doc = copy.deepcopy(doc)
    async with db() as session:
        event_id = await create_event(session, parse_event_document(doc))
        await session.commit()
        item = (await session.exec(select(Item).where(Item.event_id == event_id, Item.code == "DUO"))).one()
        await replace_plan(session, item.id or 0, read_plan(plan(seats=teams + 4)))
        ctx = await load_context(session, event_id, SECRET)
        seats = []
        for k in range(teams):
            body = {"item": "DUO", "group": "", "unit": f"单位{k}", "members": [person(), person()]}
            outcome = await register(session, ctx, read_request(body))
            await redeem(session, event_id, outcome.ticket_code, "A", f"nonce-{k}")
            assignment, _s, _new = await draw(session, event_id, outcome.ticket_code, "A")
            seats.append(assignment.seat_label)
        judge = await add_judge(session, event_id, "王裁判", "某评审中心")
        await assign(session, judge, item.id or 0, "judge")
        await session.commit()
        for k, seat in enumerate(seats):
            for criterion, value in (("A", f"{10 + k}"), ("B", f"{20 + k}")):
                reply = (await apply_op(session, judge, {"op_id": f"{seat}{criterion}", "kind": "set_score",
                                                         "item": "DUO", "seat": seat, "criterion": criterion,
                                                         "value": value, "base_version": 0})).reply
                assert reply["type"] == "ack", reply
    return event_id, item.id or 0, seats


async def _settle(db: Any, event_id: int, item_id: int) -> None:
    from judging.sealed import lock_scores, reveal
    from results.recheck import record, round_view, start_round
    from tests.results.test_publication import hand_in_all
    from tests.support.judging_setup import Contest

    await hand_in_all(db, Contest(event_id, item_id, [], [], {}))  # the item breaks ties by the time used
    async with db() as session:
        await lock_scores(session, item_id, "裁判长")
        await session.commit()
    async with db() as session:
        await start_round(session, event_id, "DUO", "裁判长")
        for seat in (await round_view(session, event_id, "DUO"))["rounds"][-1]["seats"]:
            await record(session, event_id, "DUO", seat["seat"], "ok", "", "裁判长")
    async with db() as session:
        await reveal(session, item_id, 1, "加密裁判")
        await reveal(session, item_id, 2, "加密裁判")


@pytest.mark.parametrize(("count", "merit"), [("people", 4), ("teams", 0)])
async def test_the_server_publishes_the_same_awards_as_the_offline_command(
        client: Any, db: Any, tmp_path: Path, count: str, merit: int) -> None:
    """16 two-person teams registered, seated and marked: the publication (POST …/publication) gives 4 优胜奖
    teams by people, none by teams — what `contestday results compute` gives for the same ranking — and the
    gate's warnings say 人 or 队 with the same N."""
    event_id, item_id, _seats = await _team_contest(db, count)
    await _settle(db, event_id, item_id)
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/events/{event_id}/items/DUO/publication"
    gate = (await client.get(url, headers=chief)).json()
    assert gate["blockers"] == [], gate
    few = [w for w in gate["warnings"] if w["code"] == "few_finalists"]
    assert [w["message"].rsplit("：", 1)[1] for w in few] == ([] if count == "people" else ["共 16 队"])
    fixed = next(w for w in gate["warnings"] if w["code"] == "fixed_prizes_over_30pct")
    assert (fixed["n"], fixed["unit"]) == ((32, "人") if count == "people" else (16, "队"))
    published = await client.post(url, json={}, headers=chief)
    assert published.status_code == 201, published.text
    view = (await client.get(f"/api/public/events/{event_id}/results")).json()
    rows = next(i for i in view["items"] if i["view"] and i["view"].get("groups"))["view"]["groups"][0]["rows"]
    awards = [r["award"] or "" for r in rows]
    fixed = ["一等奖", "二等奖", "二等奖", "三等奖", "三等奖", "三等奖"]
    assert awards == fixed + ["优胜奖"] * merit + [""] * (10 - merit)
    assert all(len(r["names"]) == 2 for r in rows if r["award"] == "优胜奖")  # whole teams
    offline, _code = _offline(tmp_path, count)
    by_position = {int(r["position"]): r["award"] for r in offline if r["position"]}
    assert [by_position[p] for p in range(1, 17)] == awards


@pytest.mark.browser
def test_the_event_editor_sets_what_n_counts(settings: Any, live_server: str, browser: Any) -> None:
    """The editor's 奖项设置 offers 按参赛人数 (seed 001's "参赛选手人数", preselected) and 按参赛队数; saving
    the second stores award_policy.count = "teams", and the page shows it chosen when opened again."""
    from tests.browser.test_pages_browser import organiser_page, post_event
    from tests.registration.test_registration_api import reg_event

    page, errors = organiser_page(settings, browser, live_server, 1440)
    event_id = post_event(page, live_server, reg_event())
    page.goto(f"{live_server}/admin/events/{event_id}")
    select = '[data-path="event.award_policy.count"]'
    assert page.input_value(select) == "people"
    assert page.locator(f"{select} option").all_inner_texts() == ["按参赛人数", "按参赛队数"]
    page.select_option(select, "teams")
    page.click("#save")
    page.wait_for_function("document.querySelector('#save-status').textContent === '已保存'")
    stored = page.request.get(f"{live_server}/api/events/{event_id}").json()
    assert stored["event"]["award_policy"]["count"] == "teams"
    page.reload()
    assert page.input_value(select) == "teams"
    shots = Path("/tmp/shots/E")
    shots.mkdir(parents=True, exist_ok=True)
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.locator('fieldset[data-path="event.award_policy"]').scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"editor-award-{width}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= max(width, 390)
    assert errors == [], errors
