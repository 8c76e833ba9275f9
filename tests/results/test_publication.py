"""Publishing: the gate refuses while anything blocks and says what; a publication is a versioned snapshot
with its hash; withdrawing and publishing again need a reason and make new versions; the public routes show
nothing before publication and never an ID number after."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets
from sqlalchemy import text
from sqlmodel import select

from judging.handin import TimeRow, set_times, time_state
from judging.models import Judge
from judging.sealed import lock_scores, reveal
from judging.service import apply_op
from registration.entries.models import EntryMember
from registration.events.models import Item
from results.recheck import record, round_view, start_round
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest


async def marked(db: Any, n: int = 6, same: bool = False) -> Any:
    contest = await seated_contest(db, n=n)
    async with db() as session:
        judge = (await session.exec(select(Judge))).one()
        for k, seat in enumerate(contest.seats):
            for criterion, value in (("A", "30" if same else f"{20 + k}"), ("B", "35" if same else f"{30 + k % 7}")):
                reply = (await apply_op(session, judge, {"op_id": f"{seat}{criterion}", "kind": "set_score",
                                                         "item": "LED", "seat": seat, "criterion": criterion,
                                                         "value": value, "base_version": 0})).reply
                assert reply["type"] == "ack", reply
    return contest


async def hand_in_all(db: Any, contest: Any, seconds: int = 3600) -> None:
    """Everyone's time used (the same for all, so a tie stays a tie): the example item breaks ties by it."""
    async with db() as session:
        seats = [s["seat"] for s in (await time_state(session, contest.item_id))["times"]]
        if seats:
            await set_times(session, contest.event_id, contest.item_id,
                            [TimeRow(n, seat=s, seconds=seconds) for n, s in enumerate(seats, 1)], "计时员")


async def lock(db: Any, contest: Any) -> None:
    await hand_in_all(db, contest)
    async with db() as session:
        await lock_scores(session, contest.item_id, "裁判长")
        await session.commit()


async def recheck(db: Any, contest: Any) -> None:
    """Every sampled seat re-checked and found correct."""
    async with db() as session:
        await start_round(session, contest.event_id, "LED", "裁判长")
        for seat in (await round_view(session, contest.event_id, "LED"))["rounds"][-1]["seats"]:
            await record(session, contest.event_id, "LED", seat["seat"], "ok", "", "裁判长")


async def decrypt(db: Any, contest: Any) -> None:
    async with db() as session:
        await reveal(session, contest.item_id, 1, "加密裁判")
        await reveal(session, contest.item_id, 2, "加密裁判")


async def settle(db: Any, contest: Any) -> None:
    """Lock, re-check every sampled seat as correct, reveal both layers: what the chief judge does."""
    await lock(db, contest)
    await recheck(db, contest)
    await decrypt(db, contest)


async def public_texts(client: Any, live: str | None, event_id: int) -> str:
    """Everything the public routes say about the event, concatenated."""
    texts = [(await client.get(path)).text for path in  # every public page that needs no secret
             ("/", f"/r/{event_id}", f"/appeal/{event_id}", f"/results/{event_id}", f"/results/{event_id}/LED",
              f"/api/public/events/{event_id}/results", f"/board/{event_id}")]
    if live:
        async with websockets.connect(live.replace("http://", "ws://") + f"/ws/board/{event_id}") as sock:
            texts.append(await sock.recv())  # type: ignore[arg-type]
    return "\n".join(texts)


async def test_publish_is_refused_with_every_blocker_listed(client: Any, db: Any) -> None:
    contest = await seated_contest(db, n=4)  # nothing marked, nothing locked, nothing re-checked or revealed
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/events/{contest.event_id}/items/LED/publication"
    gate = (await client.get(url, headers=chief)).json()
    codes = {b["code"] for b in gate["blockers"]}
    assert not gate["ready"] and gate["current"] is None
    assert {"not_locked", "missing_marks", "recheck_not_done", "not_decrypted"} <= codes, codes
    refused = await client.post(url, json={}, headers=chief)
    assert refused.status_code == 409 and refused.json()["code"] == "publish_blocked"
    assert {b["code"] for b in refused.json()["blockers"]} == codes
    judge = await login_headers(client, db, "judge1", "judge")
    assert (await client.post(url, json={}, headers=judge)).status_code == 403


async def test_a_tie_on_an_award_boundary_blocks_until_the_chief_judge_decides(client: Any, db: Any) -> None:
    contest = await marked(db, n=4, same=True)
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/events/{contest.event_id}/items/LED"
    gate = (await client.get(f"{url}/publication", headers=chief)).json()
    assert [b["code"] for b in gate["blockers"]] == ["tie_unresolved"]
    ranking = (await client.get(f"/api/console/events/{contest.event_id}/items/LED", headers=chief)).json()["ranking"]
    [group] = [g for g in ranking["groups"] if g["rows"]]
    block = [r["seat"] for r in group["rows"]]  # four equal marks: one block across every award boundary
    assert all(r["rank"] == 1 and r["tie_unresolved"] for r in group["rows"])
    decision = {"group": group["group"], "seats": block[::-1], "reason": "按操作规范得分高者在前"}
    assert (await client.post(f"{url}/ties", json={**decision, "reason": ""},
                              headers=chief)).json()["code"] == "missing_field"
    partial = await client.post(f"{url}/ties", json={**decision, "seats": block[:2]}, headers=chief)
    assert partial.status_code == 422 and partial.json()["code"] == "not_a_tied_block"
    organiser = await login_headers(client, db, "org", "organiser")
    assert (await client.post(f"{url}/ties", json=decision, headers=organiser)).status_code == 403
    assert (await client.post(f"{url}/ties", json=decision, headers=chief)).status_code == 201
    after = (await client.get(f"/api/console/events/{contest.event_id}/items/LED", headers=chief)).json()["ranking"]
    rows = next(g["rows"] for g in after["groups"] if g["group"] == group["group"])
    assert [r["seat"] for r in rows] == block[::-1] and [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert [r["award"] for r in rows] == ["一等奖", "二等奖", "二等奖", "三等奖"]
    assert not any(r["tie_unresolved"] for r in rows)
    assert (await client.get(f"{url}/publication", headers=chief)).json()["blockers"] == []
    async with db() as session:
        logged = (await session.exec(text("SELECT reason FROM score_event WHERE kind = 'tie'"))).all()
    assert len(logged) == 1 and "按操作规范" in logged[0][0]


async def test_publish_withdraw_and_publish_again_make_versions(client: Any, db: Any) -> None:
    contest = await marked(db)
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/events/{contest.event_id}/items/LED/publication"
    assert (await client.get(url, headers=chief)).json()["blockers"] == []
    first = await client.post(url, json={}, headers=chief)
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert v1["version"] == 1 and v1["state"] == "published" and len(v1["hash"]) == 64 and v1["notice_ends_at"]
    again = await client.post(url, json={}, headers=chief)
    assert again.status_code == 422 and again.json()["code"] == "reason_required"
    assert (await client.post(f"{url}/withdraw", json={}, headers=chief)).json()["code"] == "missing_field"
    withdrawn = (await client.post(f"{url}/withdraw", json={"reason": "发现登分错误"}, headers=chief)).json()
    assert withdrawn["version"] == 2 and withdrawn["state"] == "withdrawn"
    public = (await client.get(f"/api/public/events/{contest.event_id}/results")).json()
    assert public["items"][0]["view"] == {"state": "withdrawn", "version": 2, "reason": "发现登分错误",
                                          "at": withdrawn["at"]}
    v3 = (await client.post(url, json={"reason": "更正后重新公示"}, headers=chief)).json()
    assert v3["version"] == 3 and v3["hash"] != v1["hash"]  # the version and time are part of the snapshot
    view = (await client.get(f"/api/public/events/{contest.event_id}/results")).json()["items"][0]["view"]
    assert view["version"] == 3 and view["notice"]["working_days"] == 5
    first_group = view["groups"][0]["rows"]
    assert [r["position"] for r in first_group] == list(range(1, len(first_group) + 1))
    assert first_group[0]["award"] == "一等奖" and first_group[0]["names"]


async def test_public_routes_show_nothing_before_publication_and_no_id_numbers_after(
        client: Any, db: Any, live_server: str, settings: Any) -> None:
    contest = await marked(db)
    async with db() as session:
        members = (await session.exec(select(EntryMember))).all()
        item = (await session.exec(select(Item).where(Item.id == contest.item_id))).one()
    names = [m.name for m in members]
    before = await public_texts(client, None, contest.event_id)
    assert item.name in before  # the item is listed, as not yet published
    assert not any(name in before for name in names)
    assert "一等奖" not in before and "30.00" not in before
    await settle(db, contest)
    before_publish = await public_texts(client, None, contest.event_id)
    assert not any(name in before_publish for name in names)  # decrypted is not published
    chief = await login_headers(client, db, "chief", "chief_judge")
    assert (await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={},
                              headers=chief)).status_code == 201
    after = await public_texts(client, None, contest.event_id)
    assert all(name in after for name in names) and "一等奖" in after
    for m in members:
        assert m.id_masked not in after and m.id_masked[-4:] + "<" not in after
        assert m.phone not in after


async def test_the_board_socket_sends_a_snapshot_then_each_publication(
        db: Any, live_server: str, settings: Any) -> None:
    import httpx

    contest = await marked(db)
    await settle(db, contest)
    ws = live_server.replace("http://", "ws://") + f"/ws/board/{contest.event_id}"
    async with websockets.connect(ws) as sock:
        snapshot = json.loads(await sock.recv())
        assert snapshot["type"] == "snapshot" and snapshot["items"][0]["view"] is None
        async with httpx.AsyncClient(base_url=live_server) as http:
            chief = await login_headers(http, db, "chief", "chief_judge")
            assert (await http.post(f"/api/events/{contest.event_id}/items/LED/publication", json={},
                                    headers=chief)).status_code == 201
        pushed = json.loads(await sock.recv())
        assert pushed["type"] == "publication" and pushed["version"] == 1
        assert pushed["view"]["groups"][0]["rows"][0]["award"] == "一等奖"
        await sock.send(json.dumps({"type": "hello"}))  # after a reconnect: the whole picture again
        again = json.loads(await sock.recv())
        assert again["type"] == "snapshot" and again["items"][0]["view"]["version"] == 1


async def test_the_publish_page_lists_blockers_then_publishes_and_withdraws(client: Any, db: Any) -> None:
    contest = await marked(db)
    chief = await login_headers(client, db, "chief", "chief_judge")
    page = f"/console/events/{contest.event_id}/publish"
    blocked = await client.get(page, headers=chief)
    assert blocked.status_code == 200 and 'data-code="not_locked"' in blocked.text and "成绩尚未锁定" in blocked.text
    assert f'action="{page}/LED"' not in blocked.text  # no publish button while anything blocks
    refused = await client.post(f"{page}/LED", data={"working_days": "5"}, headers=chief)
    assert refused.status_code == 409 and "尚不能发布" in refused.text
    await settle(db, contest)
    ready = await client.get(page, headers=chief)
    assert f'action="{page}/LED"' in ready.text
    bad_days = await client.post(f"{page}/LED", data={"working_days": "0"}, headers=chief)
    assert bad_days.status_code == 422 and "1–30" in bad_days.text
    done = await client.post(f"{page}/LED", data={"working_days": "3"}, headers=chief, follow_redirects=False)
    assert done.status_code == 303
    shown = await client.get(done.headers["location"], headers=chief)
    assert "已发布第 1 版。" in shown.text and "公示至" in shown.text
    view = (await client.get(f"/api/public/events/{contest.event_id}/results")).json()["items"][0]["view"]
    assert view["notice"]["working_days"] == 3
    no_reason = await client.post(f"{page}/LED/withdraw", data={"reason": " "}, headers=chief)
    assert no_reason.status_code == 422
    withdrawn = await client.post(f"{page}/LED/withdraw", data={"reason": "登分有误"}, headers=chief,
                                  follow_redirects=False)
    assert withdrawn.status_code == 303 and "v=2" in withdrawn.headers["location"]
    english = await client.get(page, headers={**chief, "Cookie": chief["Cookie"] + "; lang=en"})
    assert "Publish results" in english.text and "Withdrawn" in english.text
    assert "the scores are not locked" in english.text


TWO = (("王裁判", "评审中心"), ("李裁判", "评审中心二"))


async def two_judges(db: Any, blocker: str) -> Any:
    """A contest marked by two judges, ready to publish but for `blocker`."""
    from results.console.actions import request_remark
    from results.console.state import item_or_404

    contest = await seated_contest(db, n=5, judges=TWO)
    async with db() as session:
        judges = (await session.exec(select(Judge).order_by(Judge.id))).all()  # type: ignore[arg-type]
        for k, seat in enumerate(contest.seats):
            for j, judge in enumerate(judges):
                a, b = f"{20 + k}", f"{30 + k}"
                if k == 0 and blocker == "measurement_disagreement" and j == 1:
                    a = f"{21 + k}"
                if k == 0 and blocker == "spread_exceeded" and j == 1:
                    b = f"{45 + k}"  # 15 apart: over max_spread 10
                for criterion, value in (("A", a), ("B", b)):
                    if blocker == "missing_marks" and k == 1 and j == 1 and criterion == "B":
                        continue
                    reply = (await apply_op(session, judge, {
                        "op_id": f"{seat}{criterion}{j}", "kind": "set_score", "item": "LED", "seat": seat,
                        "criterion": criterion, "value": value, "base_version": 0})).reply
                    assert reply["type"] == "ack", reply
        if blocker == "remark_open":
            item = await item_or_404(session, contest.event_id, "LED")
            await request_remark(session, item, judge_id=judges[0].id or 0, seat=contest.seats[0], criterion="B",
                                 message="请核对", by="裁判长")
    if blocker == "not_locked":
        await settle(db, contest)
        async with db() as session:
            await session.exec(text("UPDATE item_stage SET scores_locked_at = NULL"))
            await session.commit()
    elif blocker == "recheck_not_done":
        await lock(db, contest)
        await decrypt(db, contest)
    elif blocker == "not_decrypted":
        await lock(db, contest)
        await recheck(db, contest)
    else:
        await settle(db, contest)
    return contest


@pytest.mark.parametrize("blocker", ["not_locked", "missing_marks", "measurement_disagreement", "spread_exceeded",
                                     "remark_open", "recheck_not_done", "not_decrypted", "none"])
async def test_each_blocker_alone_stops_publication(client: Any, db: Any, blocker: str) -> None:
    contest = await two_judges(db, blocker)
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/events/{contest.event_id}/items/LED/publication"
    codes = [b["code"] for b in (await client.get(url, headers=chief)).json()["blockers"]]
    published = await client.post(url, json={}, headers=chief)
    if blocker == "none":
        assert codes == [] and published.status_code == 201
    else:
        assert codes == [blocker], codes
        assert published.status_code == 409 and [b["code"] for b in published.json()["blockers"]] == [blocker]


async def test_an_item_that_weighs_theory_is_not_published_from_practical_marks_alone(client: Any, db: Any) -> None:
    """Until every present entrant's theory score is imported and confirmed (#14; before, such an item could not
    be published from the server at all: `theory_not_recorded`)."""
    contest = await marked(db)
    await settle(db, contest)
    async with db() as session:
        await session.exec(text("UPDATE item SET theory_weight = '0.2' WHERE id = :i").bindparams(i=contest.item_id))
        await session.commit()
    chief = await login_headers(client, db, "chief", "chief_judge")
    gate = (await client.get(f"/api/events/{contest.event_id}/items/LED/publication", headers=chief)).json()
    assert [b["code"] for b in gate["blockers"]] == ["theory_missing"] and not gate["ready"]
    assert sorted(gate["blockers"][0]["seats"]) == sorted(contest.seats)
    assert f"{len(contest.seats)} 名参赛选手缺理论成绩" in gate["blockers"][0]["message"]
    # imported and confirmed by a second person: published, with theory in the snapshot and the results list
    from tests.results.test_lists import frame
    from tests.results.test_theory_ranking import _tickets

    organiser = await login_headers(client, db, "org", "organiser")
    tickets = await _tickets(db, contest.event_id)
    theory_url = f"/api/events/{contest.event_id}/items/LED/theory"
    staged = await client.post(theory_url, headers=chief, json={"rows": [
        {"ticket_code": tickets[seat], "score": f"{60 + k}.5"} for k, seat in enumerate(sorted(contest.seats))]})
    assert staged.status_code == 200, staged.text
    assert (await client.post(f"{theory_url}/{staged.json()['import_id']}/confirm",
                              headers=organiser)).status_code == 200
    gate = (await client.get(f"/api/events/{contest.event_id}/items/LED/publication", headers=chief)).json()
    assert gate["blockers"] == [] and gate["ready"]
    published = await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={}, headers=chief)
    assert published.status_code == 201, published.text
    public = (await client.get(f"/api/public/events/{contest.event_id}/results")).json()
    rows = [r for g in public["items"][0]["view"]["groups"] for r in g["rows"]]
    assert sorted(r["theory"] for r in rows) == sorted(f"{60 + k}.50" for k in range(len(contest.seats)))
    assert all(r["total"] != r["practical"] for r in rows)
    listing = frame((await client.get(f"/api/events/{contest.event_id}/items/LED/lists/results.xlsx",
                                      headers=chief)).content)
    at = listing.columns.index("理论成绩")
    assert listing.columns[at + 1:at + 3] == ["实操成绩", "总成绩"]
    assert sorted(listing["理论成绩"].to_list()) == sorted(f"{60 + k}.50" for k in range(len(contest.seats)))
