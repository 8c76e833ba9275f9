"""The keyed audit chain (issue #12 finding 6): whoever can write the database but lacks the audit key cannot
rewrite the chain unnoticed. Each attack below is what an attacker with the database (and no key) can do;
`contestday audit verify`, the real command in a subprocess, must report it with the link where it breaks.

- truncating the last links and moving the head back: consistent inside the database, caught by an anchor
  outside it (a publication's recorded head, or one typed from a printed list with --anchor);
- changing a mark and recomputing every later hash, with the old unkeyed formula or under a wrong key;
- a wrong or missing key is named as such; links written before the key (migration 0013) still verify.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from contestday.db.migrate import alembic_config, upgrade
from contestday.settings import Settings, load_settings
from judging.audit import check_event, key_id, link_hash, link_mac, replay, use_key
from judging.models import AuditHead, Judge, ScoreEvent
from judging.service import apply_op
from results import lists
from results.publication import publish
from tests.results.test_publication import marked, settle
from tests.support.judging_setup import seated_contest

ROOT = Path(__file__).resolve().parents[2]


def _key(settings: Settings) -> bytes:
    assert settings.audit_key is not None
    return settings.audit_key


def _verify(settings: Settings, event_id: int, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real `contestday audit verify` in its own process, on the test's database and data dir."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONTESTDAY_")}
    environ.update({"CONTESTDAY_DATABASE_URL": settings.database_url, "CONTESTDAY_DATA_DIR": str(settings.data_dir),
                    "PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-m", "contestday.cli", "audit", "verify", str(event_id), *args],
                          cwd=settings.data_dir, env=environ, capture_output=True, text=True, timeout=120)


def _run(*a: Any, **kw: Any) -> Any:
    return asyncio.to_thread(_verify, *a, **kw)


async def _marks(db: Any, n: int = 6, start: int = 0) -> int:
    contest = await seated_contest(db)
    await _more_marks(db, n, start)
    return contest.event_id


async def _more_marks(db: Any, n: int, start: int) -> None:
    async with db() as session:
        seats = sorted({s for (s,) in (await session.exec(text(  # type: ignore[call-overload]
            "SELECT seat_label FROM seat_assignment"))).all()})
        judge = (await session.exec(select(Judge))).one()
        for k in range(start, start + n):
            reply = (await apply_op(session, judge, {"op_id": f"o{k}", "kind": "set_score", "item": "LED",
                                                     "seat": seats[k % 2], "criterion": "A",
                                                     "value": f"{30 + k}", "base_version": k // 2},
                                    "tablet-1")).reply
            assert reply["type"] == "ack", reply


async def _rows(db: Any, event_id: int) -> list[ScoreEvent]:
    async with db() as session:
        return list((await session.exec(select(ScoreEvent).where(ScoreEvent.event_id == event_id)
                                        .order_by(col(ScoreEvent.seq)))).all())


async def _sql(db: Any, statement: str, **params: Any) -> None:
    async with db() as session:
        await session.exec(text(statement), params=params)  # type: ignore[call-overload]
        await session.commit()


async def _truncate(db: Any, event_id: int, keep: int) -> None:
    """Drop every link after `keep`, move the head back onto it and the scores back to what the shorter log
    gives: the chain and the scores are consistent again."""
    rows = [r for r in await _rows(db, event_id) if r.seq <= keep]
    await _sql(db, "DELETE FROM score_event WHERE event_id = :e AND seq > :k", e=event_id, k=keep)
    await _sql(db, "UPDATE audit_head SET seq = :k, hash = :h WHERE event_id = :e", k=keep, h=rows[-1].hash,
               e=event_id)
    for (entry, criterion, judge), (value, version) in replay(rows).items():
        await _sql(db, "UPDATE score SET value = :v, version = :n WHERE entry_id = :en AND criterion_id = :c "
                   "AND judge_id = :j", v=None if value is None else int(Decimal(value) * 100), n=version,
                   en=entry, c=criterion, j=judge)


async def _rewrite(db: Any, event_id: int, seq: int, value: str,
                   formula: Callable[[str, ScoreEvent], str]) -> None:
    """Change the mark of link `seq` and recompute that link and every later one with `formula`."""
    rows = await _rows(db, event_id)
    prev = rows[seq - 2].hash if seq > 1 else "0" * 64
    for row in rows[seq - 1:]:
        if row.seq == seq:
            row.new_value = value
        row.prev_hash, row.hash = prev, formula(prev, row)
        await _sql(db, "UPDATE score_event SET new_value = :v, prev_hash = :p, hash = :h WHERE id = :i",
                   v=row.new_value, p=row.prev_hash, h=row.hash, i=row.id)
        prev = row.hash
    await _sql(db, "UPDATE audit_head SET hash = :h WHERE event_id = :e", h=prev, e=event_id)


async def test_new_links_carry_an_hmac_under_the_key_outside_the_database(db: Any, settings: Settings) -> None:
    event_id = await _marks(db)
    rows = await _rows(db, event_id)
    prev = "0" * 64
    for row in rows:
        assert row.hash == link_mac(_key(settings), event_id, prev, row, row.at) != link_hash(prev, row, row.at)
        prev = row.hash
    key_file = settings.data_dir / "audit_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    async with db() as session:
        stored = " ".join(str(v) for v in (await session.exec(text(  # type: ignore[call-overload]
            "SELECT * FROM audit_head"))).all())
    assert _key(settings).decode() not in stored  # the key itself is nowhere in the database
    ok = await _run(settings, event_id)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "全部 6 条带密钥" in ok.stdout and "完好 / intact: 6" in ok.stdout


async def test_a_mark_from_a_tablet_socket_is_keyed(db: Any, settings: Settings, live_server: str) -> None:
    from tests.judging.test_judging_ws import connect, op, recv
    from tests.support.judging_setup import judge_cookie

    contest = await seated_contest(db)
    sock = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(sock)
    await sock.send(json.dumps(op("k-1", contest.seats[0], "31.50")))
    assert (await recv(sock))["type"] == "ack"
    await sock.close()
    (row,) = await _rows(db, contest.event_id)
    assert row.hash == link_mac(_key(settings), contest.event_id, "0" * 64, row, row.at)
    async with db() as session:
        head = (await session.exec(select(AuditHead).where(AuditHead.event_id == contest.event_id))).one()
    assert (head.seq, head.hash, head.keyed_from, head.key_id) == (1, row.hash, 1, key_id(_key(settings)))


async def test_truncating_and_moving_the_head_back_is_caught_by_the_anchor_on_paper(db: Any,
                                                                                    settings: Settings) -> None:
    event_id = await _marks(db)
    printed = (await _rows(db, event_id))[-1]  # the head as a printed list would show it
    await _truncate(db, event_id, 4)
    alone = await _run(settings, event_id)  # no anchor: the database alone cannot tell
    assert alone.returncode == 0 and "intact: 4" in alone.stdout
    caught = await _run(settings, event_id, "--anchor", f"{printed.seq}:{printed.hash[:16]}…")
    assert caught.returncode == 1, caught.stdout + caught.stderr
    line = next(x for x in caught.stdout.splitlines() if x.startswith("断链"))
    assert "broken at link 5" in line and line.index("链中已没有") < line.index("is gone")  # Chinese first
    wrong = await _run(settings, event_id, "--anchor", "4:deadbeefdeadbeef")
    assert wrong.returncode == 1 and "broken at link 4" in wrong.stdout and "不符" in wrong.stdout
    bad = await _run(settings, event_id, "--anchor", "4:xyz")
    assert bad.returncode == 2 and "SEQ:MAC" in bad.stderr


async def test_a_publication_records_the_head_and_catches_a_rollback(db: Any, settings: Settings) -> None:
    contest = await marked(db)
    await settle(db, contest)
    async with db() as session:
        published = await publish(session, contest.event_id, "LED", "裁判长")
        head = (await session.exec(select(AuditHead).where(AuditHead.event_id == contest.event_id))).one()
    assert published.body is not None and published.body["audit"] == {"seq": head.seq, "mac": head.hash}
    ok = await _run(settings, contest.event_id)
    assert ok.returncode == 0 and "anchors outside the chain checked: 1" in ok.stdout, ok.stdout + ok.stderr
    await _truncate(db, contest.event_id, head.seq - 2)
    caught = await _run(settings, contest.event_id)
    assert caught.returncode == 1 and f"broken at link {head.seq - 1}" in caught.stdout
    assert "发布" in caught.stdout


async def test_a_changed_mark_rehashed_with_the_old_unkeyed_formula_is_caught(db: Any, settings: Settings) -> None:
    event_id = await _marks(db)
    printed = (await _rows(db, event_id))[-1]
    unkeyed = lambda prev, row: link_hash(prev, row, row.at)  # noqa: E731
    await _rewrite(db, event_id, 3, "59.00", unkeyed)
    caught = await _run(settings, event_id)
    assert caught.returncode == 1 and "broken at link 3" in caught.stdout, caught.stdout + caught.stderr
    assert caught.stdout.index("断链") < caught.stdout.index("broken")
    # the whole chain rehashed and declared "from before the key" (the cut-over moved past the head)
    await _rewrite(db, event_id, 1, "30.00", unkeyed)
    await _sql(db, "UPDATE audit_head SET keyed_from = 7 WHERE event_id = :e", e=event_id)
    declared = await _run(settings, event_id)  # the head still carries the key's fingerprint
    assert declared.returncode == 1 and "broken at link 6" in declared.stdout, declared.stdout
    await _sql(db, "UPDATE audit_head SET key_id = '' WHERE event_id = :e", e=event_id)
    on_paper = await _run(settings, event_id, "--anchor", f"{printed.seq}:{printed.hash[:16]}")
    assert on_paper.returncode == 1 and "broken at link 6" in on_paper.stdout  # then the printed head finds it


async def test_a_changed_mark_rehashed_under_a_wrong_key_is_caught(db: Any, settings: Settings) -> None:
    event_id = await _marks(db)
    await _rewrite(db, event_id, 2, "58.00", lambda prev, row: link_mac(b"k" * 48, event_id, prev, row, row.at))
    caught = await _run(settings, event_id)
    assert caught.returncode == 1 and "broken at link 2" in caught.stdout, caught.stdout + caught.stderr


async def test_a_wrong_key_is_named_and_a_missing_key_is_not_replaced(db: Any, settings: Settings) -> None:
    event_id = await _marks(db)
    wrong = await _run(settings, event_id, CONTESTDAY_AUDIT_KEY="w" * 40)
    assert wrong.returncode == 1 and "broken at link 1" in wrong.stdout
    assert "密钥不符" in wrong.stderr and wrong.stderr.index("密钥不符") < wrong.stderr.index("wrong audit key")
    key_file = settings.data_dir / "audit_key"
    key_file.unlink()
    missing = await _run(settings, event_id)
    assert missing.returncode == 2 and "找不到审计密钥" in missing.stderr and "CONTESTDAY_AUDIT_KEY" in missing.stderr
    assert not key_file.exists()  # verify never makes a key of its own
    given = await _run(settings, event_id, CONTESTDAY_AUDIT_KEY=_key(settings).decode())
    assert given.returncode == 0, given.stdout + given.stderr


async def test_links_from_before_the_key_still_verify_and_the_keyed_part_follows(db: Any,
                                                                                 settings: Settings) -> None:
    event_id = await _marks(db, 4)
    # the database as it was before migration 0013: unkeyed SHA-256 links, no cut-over
    await _rewrite(db, event_id, 1, "30.00", lambda prev, row: link_hash(prev, row, row.at))
    from alembic import command

    await asyncio.to_thread(command.downgrade, alembic_config(settings.database_url), "0012")
    await asyncio.to_thread(upgrade, settings.database_url)
    async with db() as session:
        head = (await session.exec(select(AuditHead).where(AuditHead.event_id == event_id))).one()
    assert head.keyed_from == 5
    legacy = await _run(settings, event_id)
    assert legacy.returncode == 0 and "全部 4 条为启用密钥前的记录" in legacy.stdout, legacy.stdout + legacy.stderr
    await _more_marks(db, 3, 4)
    rows = await _rows(db, event_id)
    assert rows[4].hash == link_mac(_key(settings), event_id, rows[3].hash, rows[4], rows[4].at)
    mixed = await _run(settings, event_id)
    assert mixed.returncode == 0, mixed.stdout + mixed.stderr
    assert "第 1–4 条为启用密钥前的记录（SHA-256），第 5 条起带密钥" in mixed.stdout and "intact: 7" in mixed.stdout
    await _sql(db, "UPDATE score_event SET new_value = '11.00' WHERE event_id = :e AND seq = 2", e=event_id)
    edited = await _run(settings, event_id)  # an old link edited is still found, as before
    assert edited.returncode == 1 and "broken at link 2" in edited.stdout
    # declaring keyed links old (moving the cut-over) does not pass either
    await _sql(db, "UPDATE score_event SET new_value = '31.00' WHERE event_id = :e AND seq = 2", e=event_id)
    assert (await _run(settings, event_id)).returncode == 0
    await _sql(db, "UPDATE audit_head SET keyed_from = 7 WHERE event_id = :e", e=event_id)
    moved = await _run(settings, event_id)
    assert moved.returncode == 1 and "broken at link 5" in moved.stdout


async def test_the_printed_list_shows_the_chain_head(db: Any, settings: Settings) -> None:
    contest = await marked(db)
    await settle(db, contest)
    async with db() as session:
        await publish(session, contest.event_id, "LED", "裁判长")
        head = (await session.exec(select(AuditHead).where(AuditHead.event_id == contest.event_id))).one()
        sheet = await lists.build(session, contest.event_id, "LED", "awards", None)  # type: ignore[arg-type]
    pdf = settings.data_dir / "awards.pdf"
    pdf.write_bytes(await asyncio.to_thread(lists.sheet_pdf, sheet))
    shown = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert f"审计链 第 {head.seq} 条 · 校验 {head.hash[:16]}" in shown.replace("\u00a0", " ")
    typed = await _run(settings, contest.event_id, "--anchor", f"{head.seq}:{head.hash[:16]}")
    assert typed.returncode == 0 and "anchors outside the chain checked: 2" in typed.stdout


async def test_an_instance_with_another_key_is_logged_and_the_chain_breaks_there(db: Any, settings: Settings,
                                                                                caplog: Any) -> None:
    event_id = await _marks(db, 2)
    log = logging.getLogger("contestday.audit")  # the app's logging config may stop it reaching the root
    log.addHandler(caplog.handler)
    use_key(b"o" * 40)  # a second instance started without the shared key
    try:
        await _more_marks(db, 1, 2)
    finally:
        use_key(_key(settings))
        log.removeHandler(caplog.handler)
    assert any("另一把密钥" in r.getMessage() for r in caplog.records)
    async with db() as session:
        report = await check_event(session, event_id, _key(settings))
    assert report.broken is not None and report.broken.seq == 3 and report.key_id == key_id(b"o" * 40)


def test_the_key_comes_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    env = {"CONTESTDAY_DATA_DIR": str(tmp_path / "d"), "CONTESTDAY_SECRET_KEY": "s" * 40}
    made = load_settings(env, dotenv=False)
    assert made.audit_key and stat.S_IMODE((tmp_path / "d" / "audit_key").stat().st_mode) == 0o600
    assert load_settings(env, dotenv=False).audit_key == made.audit_key  # kept across restarts
    assert made.audit_key != made.secret_key.encode()
    given = load_settings({**env, "CONTESTDAY_AUDIT_KEY": "e" * 40}, dotenv=False)
    assert given.audit_key == b"e" * 40 and "e" * 40 not in repr(given)
    with pytest.raises(ValueError, match="太短"):
        load_settings({**env, "CONTESTDAY_AUDIT_KEY": "short"}, dotenv=False)
    assert load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path / "x")}, dotenv=False,
                         create_audit_key=False).audit_key is None
    assert not (tmp_path / "x" / "audit_key").exists()
    load_settings(env, dotenv=False)  # this process's key back to the one of a data dir
