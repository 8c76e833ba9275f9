"""Tablet scoring over real websockets through the app (uvicorn on loopback): acks after commit, each
operation applied once, stale edits refused with the current value, conflicts of interest refused."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from sqlalchemy import text

from tests.support.judging_setup import Contest, judge_cookie, seated_contest


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/ws/judge"


async def connect(base: str, cookie: str | None) -> Any:
    headers = {"Cookie": cookie} if cookie else {}
    return await websockets.connect(ws_url(base), additional_headers=headers, open_timeout=10)


async def recv(sock: Any) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(sock.recv(), timeout=10))  # type: ignore[no-any-return]


def op(op_id: str, seat: str, value: str | None, base_version: int = 0, criterion: str = "A") -> dict[str, Any]:
    return {"type": "op", "op_id": op_id, "kind": "set_score", "item": "LED", "seat": seat, "criterion": criterion,
            "value": value, "base_version": base_version}


@pytest.fixture
async def contest(db: Any) -> Contest:
    return await seated_contest(db, judges=(("王裁判", "评审中心"), ("李裁判", "单位1")))


async def test_snapshot_then_ack_after_commit_and_replay_is_idempotent(
        settings: Any, live_server: str, contest: Contest, db: Any) -> None:
    sock = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    snapshot = await recv(sock)
    assert snapshot["type"] == "snapshot" and snapshot["scores"] == []
    item = snapshot["items"][0]
    assert item["code"] == "LED" and sorted(item["seats"]) == sorted(contest.seats)
    assert [c["code"] for c in item["criteria"]] == ["A", "B", "S"]
    seat = contest.seats[0]
    await sock.send(json.dumps(op("op-1", seat, "35.50")))
    ack = await recv(sock)
    assert ack == {"type": "ack", "op_id": "op-1", "item": "LED", "seat": seat, "criterion": "A",
                   "value": "35.50", "version": 1}
    async with db() as session:  # acked means committed
        stored = (await session.exec(text("SELECT value, version FROM score"))).all()  # type: ignore[call-overload]
    assert [tuple(r) for r in stored] == [(3550, 1)]
    await sock.send(json.dumps(op("op-1", seat, "35.50")))  # the same operation again: same reply, applied once
    assert await recv(sock) == ack
    await sock.send(json.dumps(op("op-2", seat, "36", base_version=1)))
    assert (await recv(sock))["version"] == 2
    await sock.close()
    async with db() as session:
        events = (await session.exec(text("SELECT kind, old_value, new_value FROM score_event ORDER BY seq"))).all()  # type: ignore[call-overload]
    assert [tuple(r) for r in events] == [("set", None, "35.50"), ("set", "35.50", "36.00")]


async def test_two_tablets_edit_one_score_one_wins_the_other_is_told(
        settings: Any, live_server: str, contest: Contest) -> None:
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    first, second = await connect(live_server, cookie), await connect(live_server, cookie)
    await recv(first), await recv(second)
    seat = contest.seats[0]
    await first.send(json.dumps(op("t1-1", seat, "30")))
    await recv(first)
    await first.send(json.dumps(op("t1-2", seat, "31", base_version=1)))
    await second.send(json.dumps(op("t2-1", seat, "29", base_version=1)))
    replies = [await recv(first), await recv(second)]
    kinds = sorted(r["type"] for r in replies)
    assert kinds == ["ack", "nack"]
    loser = next(r for r in replies if r["type"] == "nack")
    winner = next(r for r in replies if r["type"] == "ack")
    assert loser["code"] == "stale_version" and loser["current"] == {"value": winner["value"], "version": 2}
    await first.close(), await second.close()


async def test_conflict_of_interest_is_refused_at_scoring_time(settings: Any, live_server: str,
                                                               contest: Contest) -> None:
    sock = await connect(live_server, judge_cookie(live_server, contest.links["李裁判"]))
    await recv(sock)
    own_unit_seat = contest.seats[contest.units.index("单位1")]
    await sock.send(json.dumps(op("c-1", own_unit_seat, "30")))
    refused = await recv(sock)
    assert refused["type"] == "nack" and refused["code"] == "conflict_of_interest"
    other = next(s for s in contest.seats if s != own_unit_seat)
    await sock.send(json.dumps(op("c-2", other, "30")))
    assert (await recv(sock))["type"] == "ack"
    await sock.close()


@pytest.mark.parametrize(("value", "code"), [("40.01", "score_out_of_range"), ("1.234", "too_many_decimals"),
                                             ("-1", "score_out_of_range"), ("abc", "invalid_score")])
async def test_invalid_marks_are_refused(settings: Any, live_server: str, contest: Contest, value: str,
                                         code: str) -> None:
    sock = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(sock)
    await sock.send(json.dumps(op("bad", contest.seats[0], value)))
    assert (await recv(sock))["code"] == code
    empty = next(f"A{n:02d}" for n in range(20, 0, -1) if f"A{n:02d}" not in contest.seats)
    await sock.send(json.dumps(op("empty-seat", empty, "1")))
    assert (await recv(sock))["code"] == "empty_seat"
    await sock.close()


async def test_a_judge_never_sees_another_judges_marks(settings: Any, live_server: str, contest: Contest) -> None:
    wang = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(wang)
    await wang.send(json.dumps(op("w1", contest.seats[0], "33")))
    await recv(wang)
    li = await connect(live_server, judge_cookie(live_server, contest.links["李裁判"]))
    snapshot = await recv(li)
    assert snapshot["scores"] == [] and "33" not in json.dumps(snapshot)
    await wang.close(), await li.close()


@pytest.mark.reliability
async def test_a_tablet_offline_with_200_queued_operations_replays_them_each_applied_once(
        settings: Any, live_server: str, contest: Contest, db: Any) -> None:
    """R3 (issue 17): the tablet sends a burst of 100 operations and the connection drops after 7 acks (no close
    handshake, replies in flight lost); offline it queues 100 more; back online it replays all 200 it holds no ack
    for. Each of the 200 is applied exactly once: 200 `set` links in the audit log, each mark at version 50."""
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    ops = [op(f"burst-{n}", contest.seats[n % 4], f"{n % 40}.{n % 100:02d}", base_version=n // 4,
              criterion="A") for n in range(200)]
    sock = await connect(live_server, cookie)
    await recv(sock)
    for message in ops[:100]:
        await sock.send(json.dumps(message))
    acked = [await recv(sock) for _ in range(7)]
    sock.transport.abort()  # the connection drops: no close handshake, replies in flight are lost
    assert all(a["type"] == "ack" for a in acked)
    await asyncio.sleep(0.5)
    again = await connect(live_server, cookie)
    snapshot = await recv(again)
    assert len(snapshot["scores"]) == 4
    for message in ops:  # the tablet replays everything it has no ack for (here: all of it)
        await again.send(json.dumps(message))
    replies = [await recv(again) for _ in ops]
    assert all(r["type"] == "ack" for r in replies), [r for r in replies if r["type"] != "ack"][:2]
    assert {r["op_id"] for r in replies} == {o["op_id"] for o in ops}
    assert {r["op_id"]: r for r in replies}["burst-199"]["version"] == 50
    await again.close()
    async with db() as session:
        count = (await session.exec(text("SELECT count(*) FROM score_event WHERE kind = 'set'"))).one()[0]  # type: ignore[call-overload]
        versions = (await session.exec(text("SELECT max(version), min(version), count(*) FROM score"))).one()  # type: ignore[call-overload]
    assert count == 200 and tuple(versions) == (50, 50, 4)


async def test_sockets_without_a_judge_session_are_closed_with_4401_or_4403(
        settings: Any, live_server: str, client: Any, db: Any) -> None:
    anonymous = await connect(live_server, None)
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        await recv(anonymous)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    from tests.support.helpers import login_headers

    organiser = await login_headers(client, db, "org", "organiser")
    not_judge = await connect(live_server, organiser["Cookie"])
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        await recv(not_judge)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
