"""Time used on the server (#14 A.2, A.3): 交卷 on the tablet (websocket op `hand_in`) and on the console, imports
and corrections, minutes given back after a seat move taken off; the live ranking breaks a tie by it exactly as
`contestday results compute` does, and the publish gate lists who has no time while the tie-break needs one.

The example item's tie-break is practical, criterion:B, time_used, theory (contracts §2)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from contestday.db.types import utcnow
from judging.handin import TimeUsed
from judging.sealed import lock_scores
from registration.checkin.models import SeatAssignment, SeatSession
from registration.checkin.seats import move, seat_labels
from registration.events.service import event_document
from tests.judging.test_judging_ws import connect, recv
from tests.results.test_console import mark
from tests.support.judging_setup import Contest, judge_cookie, seated_contest
from tests.support.results_cases import offline_results

JUDGES = (("王裁判", "评审中心"), ("张裁判", "评审中心二"))


async def _start_an_hour_ago(db: Any, contest: Contest) -> Any:
    start = utcnow().replace(microsecond=0) - timedelta(hours=1)
    async with db() as session:
        await session.exec(sa.update(SeatSession).where(col(SeatSession.item_id) == contest.item_id)
                           .values(starts_at=start))
        await session.commit()
    return start


async def _move(db: Any, seat: str, minutes_returned: int) -> str:
    """Move the contestant at `seat` to a free seat of the same session (an equipment fault); the new seat."""
    async with db() as session:
        assignment = (await session.exec(select(SeatAssignment).where(SeatAssignment.seat_label == seat))).one()
        sitting = await session.get(SeatSession, assignment.session_id)
        assert sitting is not None
        taken = set((await session.exec(select(SeatAssignment.seat_label)
                                        .where(SeatAssignment.session_id == sitting.id))).all())
        free = next(label for label in seat_labels(sitting) if label not in taken)
        await move(session, assignment.entry_id, sitting.id or 0, free, "显示屏故障", minutes_returned, "检录员")
    return free


async def lock(db: Any, contest: Contest) -> None:
    async with db() as session:
        await lock_scores(session, contest.item_id, "裁判长")
        await session.commit()


async def _marks(db: Any, sheet: dict[str, tuple[str, str]]) -> list[list[str]]:
    scores = []
    for k, (seat, (a, b)) in enumerate(sheet.items()):
        for judge, short in (("王裁判", "王"), ("张裁判", "张")):
            await mark(db, judge, seat, "A", a, f"{short}-a-{k}")
            await mark(db, judge, seat, "B", b, f"{short}-b-{k}")
            scores += [[seat, "A", short, a], [seat, "B", short, b]]
    return scores


async def test_a_tie_is_broken_by_time_used_with_the_minutes_given_back(
        admin: Any, db: Any, live_server: str, tmp_path: Path) -> None:
    contest = await seated_contest(db, n=3, judges=JUDGES)
    start = await _start_an_hour_ago(db, contest)
    first, second, third = sorted(contest.seats)
    moved = await _move(db, first, minutes_returned=10)  # 10 minutes given back after the fault
    scores = await _marks(db, {moved: ("30", "40"), second: ("30", "40"), third: ("20", "30")})
    snapshot = f"/api/console/events/{contest.event_id}/items/LED"
    gate = f"/api/events/{contest.event_id}/items/LED/publication"

    before = (await admin.get(snapshot)).json()["ranking"]
    assert sorted(before["time_missing"]) == sorted([moved, second, third])
    # ranked, as the offline command ranks blank times: nothing tells the two apart yet, and the gate holds it
    assert [r["tie_unresolved"] for g in before["groups"] for r in g["rows"] if r["seat"] in (moved, second)] == [
        True, True]
    blockers = {b["code"]: b for b in (await admin.get(gate)).json()["blockers"]}
    assert sorted(blockers["time_used_missing"]["seats"]) == sorted([moved, second, third])
    assert "3 名参赛选手尚无用时" in blockers["time_used_missing"]["message"]

    # the tablet: 交卷 at the moment of the tap, 55 minutes after the start
    sock = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    snap = await recv(sock)
    assert snap["items"][0]["handed_in"] == {}
    hand_in = {"type": "op", "op_id": "h-1", "kind": "hand_in", "item": "LED", "seat": second,
               "at": (start + timedelta(minutes=55)).isoformat()}
    await sock.send(json.dumps(hand_in))
    ack = await recv(sock)
    assert ack == {"type": "ack", "op_id": "h-1", "item": "LED", "seat": second, "already": False,
                   "handed_in_at": (start + timedelta(minutes=55)).isoformat(), "seconds": 3300}
    await sock.send(json.dumps(hand_in))  # the same op again (a reconnect): the same reply, stored once
    assert await recv(sock) == ack
    await sock.send(json.dumps(hand_in | {"op_id": "h-2", "at": (start + timedelta(minutes=58)).isoformat()}))
    again = await recv(sock)  # another tap on the same seat: the first hand-in stands
    assert again["type"] == "ack" and again["already"] and again["seconds"] == 3300
    await sock.send(json.dumps(hand_in | {"op_id": "h-3", "seat": "Z99"}))
    assert (await recv(sock))["code"] == "empty_seat"
    await sock.send(json.dumps(hand_in | {"op_id": "h-4", "seat": third,
                                          "at": (start - timedelta(minutes=1)).isoformat()}))
    assert (await recv(sock))["code"] == "before_start"
    await sock.close()

    # the console: 交卷 now, an hour after the start, less the 10 minutes given back
    done = await admin.post(f"{snapshot}/seats/{moved}/hand-in")
    assert done.status_code == 200, done.text
    assert 3000 <= done.json()["seconds"] < 3000 + 120 and not done.json()["already"]
    assert (await admin.post(f"{snapshot}/seats/{moved}/hand-in")).json()["already"]
    # an import for the last one (h:mm:ss)
    imported = await admin.post(f"/api/events/{contest.event_id}/items/LED/time-used",
                                json={"rows": [{"seat": third, "seconds": "1:10:00"}]})
    assert imported.status_code == 200 and imported.json()["changed"] == 1, imported.text

    live = (await admin.get(snapshot)).json()["ranking"]
    assert live["time_missing"] == [] and live["complete"]
    rows = [r for g in live["groups"] for r in g["rows"]]
    # equal practical and criterion B: the shorter time wins, the moved contestant's by the minutes given back
    # (without them, 60 min against 55 min, the other would be first)
    assert [(r["seat"], r["rank"], r["tie_unresolved"]) for r in rows] == [(moved, 1, False), (second, 2, False),
                                                                           (third, 3, False)]
    assert "time_used_missing" not in {b["code"] for b in (await admin.get(gate)).json()["blockers"]}

    times = {t["seat"]: t["seconds"] for t in (await admin.get(
        f"/api/events/{contest.event_id}/items/LED/time-used")).json()["times"]}
    assert times[second] == 3300 and times[third] == 4200
    async with db() as session:
        event = await event_document(session, contest.event_id)
    offline = offline_results(tmp_path, event, [[s, s, "", "LED", "学生组", "", str(times[s]), "present"]
                                                for s in (moved, second, third)], scores)
    assert [(r["seat"], str(r["position"]), str(r["rank"]), r["total"]) for r in rows] == [
        (o["entry"], o["position"], o["rank"], o["total"]) for o in offline]


async def test_times_are_imported_all_or_nothing_and_corrected_after_the_lock_with_a_reason(
        admin: Any, db: Any) -> None:
    contest = await seated_contest(db, n=3, judges=JUDGES)
    await _start_an_hour_ago(db, contest)
    seats = sorted(contest.seats)
    url = f"/api/events/{contest.event_id}/items/LED/time-used"
    refused = await admin.post(url, json={"rows": [
        {"seat": seats[0], "seconds": 3000}, {"seat": "Z99", "seconds": 10}, {"seat": seats[0], "seconds": 5},
        {"seat": seats[1], "seconds": "半小时"}, {"seat": seats[2], "seconds": 90000},
        {"seat": seats[2], "finished_at": "2026-10-20 10:00"}]})
    assert refused.status_code == 422 and refused.json()["code"] == "time_refused"
    assert [(e["row"], e["code"]) for e in refused.json()["errors"]] == [
        (2, "unknown_seat"), (3, "duplicate_row"), (4, "invalid_time"), (5, "out_of_range"), (6, "duplicate_row")]
    async with db() as session:
        assert (await session.exec(select(TimeUsed))).all() == []  # nothing stored
    ok = await admin.post(url, json={"rows": [{"seat": s, "seconds": 3000 + k} for k, s in enumerate(seats)]})
    assert ok.status_code == 200 and ok.json()["changed"] == 3, ok.text

    await lock(db, contest)
    done = await admin.post(f"/api/console/events/{contest.event_id}/items/LED/seats/{seats[0]}/hand-in")
    assert done.json()["already"]  # a hand-in tapped late changes nothing once a time stands
    unreasoned = await admin.post(url, json={"rows": [{"seat": seats[1], "seconds": 2000}]})
    assert unreasoned.status_code == 422 and unreasoned.json()["code"] == "reason_required"
    fixed = await admin.post(url, json={"rows": [{"seat": seats[1], "seconds": "0:33:20"}],
                                        "reason": "计时员记录有误，按监考记录更正"})
    assert fixed.json()["changes"] == [{"seat": seats[1], "old": 3001, "new": 2000}], fixed.text
    async with db() as session:
        links = (await session.exec(sa.text(  # type: ignore[call-overload]
            "SELECT kind, old_value, new_value, reason FROM score_event WHERE kind = 'time_used' ORDER BY seq"))).all()
    assert [tuple(r) for r in links][-1] == ("time_used", "3001.00", "2000.00", "计时员记录有误，按监考记录更正")
    assert len(links) == 4  # three imports and one correction, each a link of the audit chain


async def test_a_hand_in_on_a_locked_item_is_refused(admin: Any, db: Any, live_server: str) -> None:
    contest = await seated_contest(db, n=2, judges=JUDGES)
    await _start_an_hour_ago(db, contest)
    await lock(db, contest)
    seat = sorted(contest.seats)[0]
    refused = await admin.post(f"/api/console/events/{contest.event_id}/items/LED/seats/{seat}/hand-in")
    assert refused.status_code == 409 and refused.json()["code"] == "locked"
    sock = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(sock)
    await sock.send(json.dumps({"type": "op", "op_id": "h-9", "kind": "hand_in", "item": "LED", "seat": seat}))
    nack = await recv(sock)
    await sock.close()
    assert nack["type"] == "nack" and nack["code"] == "locked" and "锁定" in nack["message"]
    missing = await admin.post(f"/api/console/events/{contest.event_id}/items/LED/seats/Z99/hand-in")
    assert missing.status_code == 404 and missing.json()["code"] == "empty_seat"
