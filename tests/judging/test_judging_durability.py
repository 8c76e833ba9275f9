"""Acked means stored: the server is killed with SIGKILL right after acknowledging marks; after a restart every
acked mark is there (on the embedded SQLite file, and on PostgreSQL when the suite runs there)."""

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

from tests.conftest import _free_port
from tests.judging.test_judging_ws import connect, op, recv
from tests.support.judging_setup import judge_cookie, seated_contest


def _start(settings: Any, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CONTESTDAY_DATABASE_URL": settings.database_url,
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


async def test_every_acked_mark_survives_sigkill(settings: Any, db: Any) -> None:
    contest = await seated_contest(db)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(settings, port)
    try:
        sock = await connect(base, judge_cookie(base, contest.links["王裁判"]))
        await recv(sock)
        acked: dict[str, str] = {}
        for n in range(30):
            seat = contest.seats[n % 4]
            await sock.send(json.dumps(op(f"k{n}", seat, f"{n}.5", base_version=n // 4)))
            reply = await recv(sock)
            assert reply["type"] == "ack", reply
            acked[seat] = reply["value"]
        server.send_signal(signal.SIGKILL)  # no shutdown, no flush: only what was committed remains
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    server = _start(settings, port)
    try:
        sock = await connect(base, judge_cookie(base, contest.links["王裁判"]))
        snapshot = await recv(sock)
        await sock.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert {s["seat"]: s["value"] for s in snapshot["scores"]} == acked
    await asyncio.sleep(0)
