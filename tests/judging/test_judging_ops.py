"""Tablet operations through the service. Operations racing on separate connections (real concurrency on
PostgreSQL; queued on SQLite): one op id replayed at once is applied exactly once, and two first marks of one
score give one ack and one stale refusal, the audit chain staying whole. The 0–3 scale, enforced on the
server."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from judging.audit import replay_matches, verify_event
from judging.models import AppliedOp, Judge, Score
from judging.service import apply_op
from judging.snapshot import tablet_snapshot
from tests.support.judging_setup import seated_contest


async def _judge(db: Any) -> tuple[Any, Judge]:
    contest = await seated_contest(db)
    async with db() as session:
        judge = (await session.exec(select(Judge))).first()
    assert judge is not None
    return contest, judge


async def _apply(db: Any, judge: Judge, op: dict[str, Any]) -> dict[str, Any]:
    async with db() as session:
        return (await apply_op(session, judge, op, "race")).reply


async def test_one_op_replayed_on_ten_connections_at_once_is_applied_once(db: Any) -> None:
    contest, judge = await _judge(db)
    op = {"op_id": "same", "kind": "set_score", "item": "LED", "seat": contest.seats[0], "criterion": "A",
          "value": "31.5", "base_version": 0}
    replies = await asyncio.gather(*(_apply(db, judge, op) for _ in range(10)))
    assert all(r == replies[0] for r in replies), replies
    assert replies[0]["type"] == "ack" and replies[0]["version"] == 1, replies[0]
    async with db() as session:
        assert len((await session.exec(select(Score))).all()) == 1
        assert len((await session.exec(select(AppliedOp))).all()) == 1
        assert await verify_event(session, contest.event_id) == (1, None)


async def test_two_first_marks_of_one_score_one_acked_one_stale(db: Any) -> None:
    contest, judge = await _judge(db)
    ops = [{"op_id": f"first-{k}", "kind": "set_score", "item": "LED", "seat": contest.seats[1], "criterion": "A",
            "value": f"{30 + k}", "base_version": 0} for k in range(2)]
    replies = await asyncio.gather(*(_apply(db, judge, op) for op in ops))
    assert sorted(r["type"] for r in replies) == ["ack", "nack"]
    stale = next(r for r in replies if r["type"] == "nack")
    assert stale["code"] == "stale_version" and stale["current"]["version"] == 1
    async with db() as session:
        [score] = (await session.exec(select(Score))).all()
        assert score.version == 1
        assert await replay_matches(session, contest.event_id) == []


async def test_a_criterion_on_the_0_3_scale_takes_whole_marks_only(db: Any) -> None:
    contest, judge = await _judge(db)
    async with db() as session:  # criterion B becomes a 0–3 judgement (as an event file with "scale" makes it)
        await session.exec(text("UPDATE criterion SET kind = 'judgement', max = 300, scale = '0-3' "
                                "WHERE code = 'B'"))
        await session.commit()
    mark = {"kind": "set_score", "item": "LED", "seat": contest.seats[2], "criterion": "B", "base_version": 0}
    half = await _apply(db, judge, {**mark, "op_id": "half", "value": "1.5"})
    assert half["type"] == "nack" and half["code"] == "not_on_scale"
    whole = await _apply(db, judge, {**mark, "op_id": "whole", "value": "2"})
    assert whole["type"] == "ack" and whole["value"] == "2.00"
    async with db() as session:
        snapshot = await tablet_snapshot(session, judge)
    [b] = [c for c in snapshot["items"][0]["criteria"] if c["code"] == "B"]
    assert b["scale"] == "0-3" and b["max"] == "3.00"  # the tablet shows the 0–3 buttons
