"""Acked means stored: the server is killed with SIGKILL while 100 tablets mark; after a restart every acked mark is
there, once (on the embedded SQLite file, and on PostgreSQL when the suite runs there)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text

from tests.conftest import _free_port
from tests.judging.test_judging_ws import connect, op, recv
from tests.support.judging_setup import judge_cookie, seated_contest


def _start(settings: Any, port: int) -> subprocess.Popen[bytes]:
    # no page process: it answers pages only, and would add its start-up to each of the two starts
    env = {**os.environ, "CONTESTDAY_DATABASE_URL": settings.database_url, "CONTESTDAY_PAGE_PROCESS": "0",
           "CONTESTDAY_DATA_DIR": str(settings.data_dir), "CONTESTDAY_SECRET_KEY": settings.secret_key}
    proc = subprocess.Popen([sys.executable, "-m", "contestday.cli", "serve", "--port", str(port)], env=env,
                            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


TABLETS = 100
REPLAYED = 3  # operations each tablet replays after the restart: 2 acked, the one in flight


async def _tablet(sock: Any, prefix: str, seats: list[str], sent: list[dict[str, Any]],
                  acked: list[dict[str, Any]]) -> None:
    """One tablet marking its 4 seats over and over, each operation after the previous one's ack (as the tablet
    page does), until the server dies under it. Every value is distinct within the tablet: `n / 100`."""
    try:
        for n in range(4000):
            message = op(f"{prefix}-{n}", seats[n % 4], f"{n // 100}.{n % 100:02d}", base_version=n // 4)
            sent.append(message)
            await sock.send(json.dumps(message))
            reply = await recv(sock)
            assert reply["type"] == "ack", reply
            acked.append(reply)
    except (websockets.exceptions.ConnectionClosed, OSError):
        return


async def _set_links(db: Any, event_id: int) -> list[tuple[str, str, int]]:
    """(judge, value, version) of every `set` link in the audit log of the event."""
    async with db() as session:
        rows = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT j.name, e.new_value, e.new_version FROM score_event e JOIN judge j ON j.id = e.judge_id "
            f"WHERE e.kind = 'set' AND e.event_id = {event_id}"))).all()
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


@pytest.mark.reliability
async def test_every_acked_mark_of_100_tablets_survives_sigkill_and_none_is_applied_twice(
        settings: Any, db: Any) -> None:
    """R2 (issue 17): 100 tablets (one judge each) mark over websockets on a real `contestday serve`; the
    server gets SIGKILL mid-stream (no shutdown, no flush). After a restart every acknowledged mark is in the
    audit log exactly once; the tablets then replay every operation they sent (acked or not) and each is applied
    once: as many `set` links as operations, none twice. On PostgreSQL the kill is as meaningful: the server
    process, its pool and its writer queue die with it; only what the database committed remains."""
    judges = tuple((f"裁判{j:03d}", f"评审中心{j}") for j in range(TABLETS))
    contest = await seated_contest(db, judges=judges)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(settings, port)
    sent: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in judges}
    acked: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in judges}
    try:
        cookies = await asyncio.gather(*(asyncio.to_thread(judge_cookie, base, contest.links[name])
                                         for name, _ in judges))
        sockets = await asyncio.gather(*(connect(base, cookie) for cookie in cookies))
        assert all(s["type"] == "snapshot" for s in await asyncio.gather(*map(recv, sockets)))
        tablets = [asyncio.create_task(_tablet(sock, name, contest.seats, sent[name], acked[name]))
                   for (name, _), sock in zip(judges, sockets, strict=True)]
        while min(map(len, acked.values())) < 5:  # every tablet has marked a few times
            assert not any(t.done() for t in tablets), [t.exception() for t in tablets if t.done()]
            await asyncio.sleep(0.02)
        server.send_signal(signal.SIGKILL)  # no shutdown, no flush: only what was committed remains
        server.wait(timeout=10)
        await asyncio.gather(*tablets)
    finally:
        if server.poll() is None:
            server.kill()
    total_acked = sum(map(len, acked.values()))
    unacked = sum(map(len, sent.values())) - total_acked
    server = _start(settings, port)
    try:
        links = await _set_links(db, contest.event_id)
        assert len(links) == len(set(links)), "a mark applied twice"
        stored = set(links)
        lost = [(name, a["value"], a["version"]) for name, replies in acked.items() for a in replies
                if (name, a["value"], a["version"]) not in stored]
        assert not lost, f"{len(lost)} of {total_acked} acked marks lost: {lost[:3]}"

        async def replay(name: str, cookie: str) -> list[dict[str, Any]]:
            sock = await connect(base, cookie)
            await recv(sock)
            replies = []
            for message in sent[name][-REPLAYED:]:  # its last acked ones (the acks could have been lost) and the
                # one in flight: a tablet replays what it holds no ack for
                await sock.send(json.dumps(message))
                replies.append(await recv(sock))
            await sock.close()
            return replies

        replayed = await asyncio.gather(*(replay(name, cookie) for (name, _), cookie in zip(judges, cookies,
                                                                                             strict=True)))
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert all(r["type"] == "ack" for replies in replayed for r in replies)
    for (name, _), replies in zip(judges, replayed, strict=True):  # an acked op replays to its very ack
        assert replies[:-1] == acked[name][-(REPLAYED - 1):] and replies[-1]["op_id"] == sent[name][-1]["op_id"]
    links = await _set_links(db, contest.event_id)
    assert len(links) == len(set(links)) == sum(map(len, sent.values()))
    print(f"R2: {TABLETS} tablets, {total_acked} marks acked before SIGKILL, {unacked} in flight; "
          f"after restart all {total_acked} present, {len(links)} applied once each")
