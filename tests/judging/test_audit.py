"""The audit log: hash-chained, verified link by link, and the scores rebuilt by replaying it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import select

from contestday.cli import main
from judging.audit import replay_matches, verify_event
from judging.models import Judge
from judging.service import apply_op
from tests.support.judging_setup import seated_contest


async def _marks(db: Any) -> int:
    contest = await seated_contest(db)
    async with db() as session:
        judge = (await session.exec(select(Judge).where(Judge.event_id == contest.event_id))).one()
        for n in range(6):
            seat = contest.seats[n % 2]
            reply = (await apply_op(session, judge, {"op_id": f"o{n}", "kind": "set_score", "item": "LED",
                                                     "seat": seat, "criterion": "A", "value": f"{30 + n}",
                                                     "base_version": n // 2}, "tablet-1")).reply
            assert reply["type"] == "ack", reply
    return contest.event_id


async def test_intact_chain_verifies_and_replay_rebuilds_the_scores(db: Any) -> None:
    event_id = await _marks(db)
    async with db() as session:
        assert await verify_event(session, event_id) == (6, None)
        assert await replay_matches(session, event_id) == []


async def test_an_edited_link_is_reported_with_its_sequence_number(db: Any) -> None:
    event_id = await _marks(db)
    async with db() as session:
        await session.exec(text("UPDATE score_event SET new_value = '40.00' WHERE seq = 3"))  # type: ignore[call-overload]
        await session.commit()
        count, broken = await verify_event(session, event_id)
    assert count == 2 and broken is not None and broken.seq == 3 and "哈希" in broken.reason


async def test_a_removed_last_link_is_reported(db: Any) -> None:
    event_id = await _marks(db)
    async with db() as session:
        await session.exec(text("DELETE FROM score_event WHERE seq = 6"))  # type: ignore[call-overload]
        await session.commit()
        count, broken = await verify_event(session, event_id)
    assert count == 5 and broken is not None and broken.seq == 6


def _verify(event_id: int) -> Any:
    return CliRunner().invoke(main, ["audit", "verify", str(event_id)])


async def _sql(db: Any, statement: str) -> None:
    """A change made in the database itself, past the app (on SQLite: the file, through its own connection)."""
    async with db() as session:
        await session.exec(text(statement))  # type: ignore[call-overload]
        await session.commit()


@pytest.mark.reliability
async def test_audit_verify_finds_1_edited_score_and_each_of_2_removed_audit_rows(db: Any, settings: Any,
                                                                                   monkeypatch: Any) -> None:
    """R6 (issue 17): `contestday audit verify` says intact for 6 good links, then finds each tampering done in
    the database: an edited stored score (exit 1, the replay differs), an edited link, a link removed from the
    middle and the last link removed (exit 1, broken at that link), each with its Chinese message."""
    event_id = await _marks(db)
    monkeypatch.setenv("CONTESTDAY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CONTESTDAY_DATA_DIR", str(settings.data_dir))
    ok = await asyncio.to_thread(_verify, event_id)
    assert ok.exit_code == 0 and "intact: 6" in ok.output and "rebuilds the stored scores" in ok.output
    await _sql(db, "UPDATE score SET value = 1000 WHERE id = 1")
    drift = await asyncio.to_thread(_verify, event_id)
    assert drift.exit_code == 1 and "does not give the stored scores" in drift.output
    assert "重放日志与当前分数不符" in drift.output
    await _sql(db, f"UPDATE score_event SET actor = 'x' WHERE seq = 1 AND event_id = {event_id}")
    broken = await asyncio.to_thread(_verify, event_id)
    assert broken.exit_code == 1 and "broken at link 1" in broken.output and "断链" in broken.output

    middle = await _marks(db)  # two more events with 6 good links each: one loses link 3, one its last link
    last = await _marks(db)
    assert (await asyncio.to_thread(_verify, middle)).exit_code == 0
    await _sql(db, f"DELETE FROM score_event WHERE seq = 3 AND event_id = {middle}")
    removed = await asyncio.to_thread(_verify, middle)
    assert removed.exit_code == 1 and "broken at link 3: 第 3 条缺失" in removed.output, removed.output
    await _sql(db, f"DELETE FROM score_event WHERE seq = 6 AND event_id = {last}")
    tail = await asyncio.to_thread(_verify, last)
    assert tail.exit_code == 1 and "broken at link 6" in tail.output and "断链" in tail.output, tail.output
