"""Board fan-out: N results boards on websockets against one `contestday serve` (embedded SQLite) receive a
publication. For each N (default 1,000 then 5,000): N clients connect to `/ws/board/{event}` and take their
snapshot; the chief judge then publishes (a new version each round) and every client's copy of the
publication is timed from the moment the publish request was sent (so the server's snapshot, commit and
fan-out all count). Prints p50/p99/max delivery per N; last line one JSON object for the largest N with
`clients`, `p50_ms`, `p99_ms`, plus every round.

    python bench/board_fanout.py [--clients 1000 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._http import Connection  # noqa: E402
from bench._server import collector_paused, print_figures, served  # noqa: E402


async def prepare(url: str) -> tuple[int, str, str]:
    """A contest ready to publish (marked, locked, re-checked, decrypted); returns (event id, a chief judge's
    session token and CSRF token)."""
    from contestday.accounts import service as accounts
    from contestday.db.engine import create_engine, create_sessionmaker
    from contestday.db.migrate import upgrade
    from tests.results.test_publication import marked, settle

    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    db = create_sessionmaker(engine)
    contest = await marked(db, n=20)
    await settle(db, contest)
    async with db() as session:
        chief = await accounts.add_user(session, "chief", "pw-12345678", ["chief_judge"])
        token, csrf = await accounts.start_session(session, chief)
        await session.commit()
    await engine.dispose()
    return contest.event_id, token, csrf


async def one_round(base: str, event_id: int, clients: int, chief: Connection, version: int) -> dict[str, Any]:
    ws_url = base.replace("http://", "ws://") + f"/ws/board/{event_id}"
    received: list[float] = []
    ready, go = asyncio.Event(), asyncio.Event()
    connected = [0]
    sent_at = [0.0]

    async def board() -> None:
        async with websockets.connect(ws_url, open_timeout=60, max_size=None, ping_interval=None) as sock:
            await sock.recv()  # the snapshot
            connected[0] += 1
            if connected[0] == clients:
                ready.set()
            await go.wait()
            while True:
                raw = await sock.recv()
                done = time.perf_counter()
                if json.loads(raw).get("version") == version:
                    received.append((done - sent_at[0]) * 1000)
                    return

    tasks = []
    for k in range(clients):  # connect in waves: a real hall's boards do not all open in the same millisecond
        tasks.append(asyncio.create_task(board()))
        if k % 200 == 199:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(ready.wait(), timeout=300)
    await asyncio.sleep(1)
    with collector_paused():
        go.set()
        sent_at[0] = time.perf_counter()
        body = {} if version == 1 else {"reason": f"第 {version} 轮压测"}
        answer = await chief.request("POST", f"/api/events/{event_id}/items/LED/publication", body)
        assert answer.status == 201, answer.body
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    received.sort()
    return {"clients": clients, "received": len(received), "p50_ms": round(received[len(received) // 2], 1),
            "p99_ms": round(received[int(len(received) * 0.99)], 1), "max_ms": round(received[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(args.clients) * 2 + 200  # this process's sockets, and the server's (it inherits the limit)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    data_dir = Path(tempfile.mkdtemp(prefix="contestday-bench-"))
    url = f"sqlite+aiosqlite:///{data_dir / 'contestday.sqlite3'}"
    event_id, token, csrf = asyncio.run(prepare(url))
    rounds = []
    with served(data_dir) as base:
        async def run() -> None:
            chief = Connection(base, {"Cookie": f"contestday_session={token}", "X-CSRF-Token": csrf})
            for version, clients in enumerate(args.clients, start=1):
                rounds.append(await one_round(base, event_id, clients, chief, version))
            await chief.close()

        asyncio.run(run())
    figures: dict[str, Any] = dict(rounds[-1])
    figures["rounds"] = rounds
    print_figures(figures)


if __name__ == "__main__":
    main()
