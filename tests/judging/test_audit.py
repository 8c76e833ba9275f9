"""The audit log: hash-chained, verified link by link, and the scores rebuilt by replaying it."""

from __future__ import annotations

import asyncio
from typing import Any

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
        judge = (await session.exec(select(Judge))).one()
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


async def test_audit_verify_command(db: Any, settings: Any, monkeypatch: Any) -> None:
    event_id = await _marks(db)
    monkeypatch.setenv("CONTESTDAY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CONTESTDAY_DATA_DIR", str(settings.data_dir))
    ok = await asyncio.to_thread(CliRunner().invoke, main, ["audit", "verify", str(event_id)])
    assert ok.exit_code == 0 and "intact: 6" in ok.output and "rebuilds the stored scores" in ok.output
    async with db() as session:
        await session.exec(text("UPDATE score SET value = 1000 WHERE id = 1"))  # type: ignore[call-overload]
        await session.commit()
    drift = await asyncio.to_thread(CliRunner().invoke, main, ["audit", "verify", str(event_id)])
    assert drift.exit_code == 1 and "does not give the stored scores" in drift.output
    async with db() as session:
        await session.exec(text("UPDATE score_event SET actor = 'x' WHERE seq = 1"))  # type: ignore[call-overload]
        await session.commit()
    broken = await asyncio.to_thread(CliRunner().invoke, main, ["audit", "verify", str(event_id)])
    assert broken.exit_code == 1 and "broken at link 1" in broken.output
