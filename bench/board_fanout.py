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
import contextlib
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._http import Connection  # noqa: E402
from bench._server import collector_paused, open_files, print_figures, served  # noqa: E402

Pipe = multiprocessing.connection.Connection


async def prepare(url: str, data_dir: Path) -> tuple[int, str, str]:
    """A contest ready to publish (marked, locked, re-checked, decrypted); returns (event id, a chief judge's
    session token and CSRF token). Its audit links are signed with the data dir's audit key (made here, as
    the server started on `data_dir` afterwards will find it)."""
    from contestday.accounts import service as accounts
    from contestday.db.engine import create_engine, create_sessionmaker
    from contestday.db.migrate import upgrade
    from contestday.settings import load_settings
    from judging import audit
    from tests.results.test_publication import marked, settle

    key = load_settings({"CONTESTDAY_DATA_DIR": str(data_dir), "CONTESTDAY_DATABASE_URL": url}, dotenv=False).audit_key
    assert key is not None
    audit.use_key(key)

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


async def watch(urls: Sequence[str], version: int, on_ready: Callable[[], object],
                on_received: Callable[[list[float]], Awaitable[object]], wave: int = 200) -> None:
    """One board on each of `urls`, connected in waves (a real hall's boards do not all open in the same
    millisecond), each taking its snapshot; `on_ready()` once all hold it. Once every board has received
    publication `version`, `await on_received(times)`, the `time.perf_counter()` at which each did (the
    machine's monotonic clock: times from several processes compare); the boards close only after it
    returns, so that their closing is not counted with the fan-out."""
    received: list[float] = []
    connected = [0]
    all_received = asyncio.Event()

    async def board(url: str) -> None:
        async with websockets.connect(url, open_timeout=60, max_size=None, ping_interval=None) as sock:
            await sock.recv()  # the snapshot
            connected[0] += 1
            if connected[0] == len(urls):
                on_ready()
            while True:
                raw = await sock.recv()
                done = time.perf_counter()
                if json.loads(raw).get("version") == version:
                    break
            received.append(done)
            if len(received) == len(urls):
                await on_received(received)
                all_received.set()
            await all_received.wait()

    tasks = []
    for k, url in enumerate(urls):
        tasks.append(asyncio.create_task(board(url)))
        if k % wave == wave - 1:
            await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)


def _watch_in_process(urls: list[str], version: int, wave: int, pipe: Pipe) -> None:
    """`watch` in a client process of its own: "ready", then the times and the CPU seconds this process spent
    from ready on, down the pipe; the boards close when the pipe says so."""
    ready_at = [0.0]

    def ready() -> None:
        ready_at[0] = time.process_time()
        pipe.send("ready")

    async def received(times: list[float]) -> None:
        pipe.send((times, time.process_time() - ready_at[0]))
        await asyncio.to_thread(pipe.recv)

    with collector_paused():
        asyncio.run(watch(urls, version, ready, received, wave))


async def one_round(bases: Sequence[str], event_id: int, clients: int, chief: Connection, version: int,
                    processes: int = 1, during: AbstractContextManager[Any] = contextlib.nullcontext()
                    ) -> dict[str, Any]:
    """`clients` boards spread over `bases` (instances of one deployment) round robin, held by `processes`
    client processes (one: this one), receive a publication sent to the first instance; `during` is entered
    around the publication alone (e.g. to read the servers' CPU time), once every board holds its snapshot."""
    urls = [bases[k % len(bases)].replace("http://", "ws://") + f"/ws/board/{event_id}" for k in range(clients)]
    ready_event, release = asyncio.Event(), asyncio.Event()
    pipes: list[Pipe] = []
    workers: list[multiprocessing.process.BaseProcess] = []
    here: asyncio.Future[list[tuple[list[float], float]]] = asyncio.get_running_loop().create_future()
    ready_cpu = 0.0

    async def received_here(times: list[float]) -> None:
        here.set_result([(times, time.process_time() - ready_cpu)])  # like the client processes' from ready on
        await release.wait()

    boards = asyncio.ensure_future(watch(urls, version, ready_event.set, received_here)) if processes <= 1 else None

    async def results() -> list[tuple[list[float], float]]:
        if boards is not None:
            either: list[asyncio.Future[Any]] = [boards, here]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if not here.done():
                boards.result()  # a board's failure raises here
                raise AssertionError("the boards ended before all received the publication")
            return here.result()
        await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in pipes))  # each one's "ready"
        ready_event.set()
        return list(await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in pipes)))

    if processes > 1:
        spawn = multiprocessing.get_context("spawn")  # a fork would inherit this process's running event loop
        for i in range(processes):
            mine, theirs = spawn.Pipe()
            workers.append(spawn.Process(target=_watch_in_process, daemon=True,
                                         args=(urls[i::processes], version, max(1, 200 // processes), theirs)))
            workers[-1].start()
            theirs.close()
            pipes.append(mine)
    watching = asyncio.ensure_future(results())
    ready = asyncio.ensure_future(ready_event.wait())
    await asyncio.wait([ready, watching], return_when=asyncio.FIRST_COMPLETED, timeout=300)
    if not ready.done():  # a board refused, or a client process died, before all held their snapshot
        raise RuntimeError("the boards did not all connect") from (watching.exception() if watching.done() else None)
    await asyncio.sleep(1)
    ready_cpu = time.process_time()
    with collector_paused(), during:
        sent_at = time.perf_counter()
        body = {} if version == 1 else {"reason": f"第 {version} 轮压测"}
        answer = await chief.request("POST", f"/api/events/{event_id}/items/LED/publication", body)
        assert answer.status == 201, answer.body
        answered = time.perf_counter()
        times = await asyncio.wait_for(watching, timeout=120)
    received = sorted((t - sent_at) * 1000 for group, _cpu in times for t in group)
    release.set()
    if boards is not None:
        await boards
    for pipe, worker in zip(pipes, workers, strict=True):
        pipe.send("close")
        worker.join(timeout=60)
        pipe.close()
    return {"clients": clients, "client_processes": max(1, processes), "received": len(received),
            "p50_ms": round(received[len(received) // 2], 1), "p99_ms": round(received[int(len(received) * 0.99)], 1),
            "max_ms": round(received[-1], 1), "first_ms": round(received[0], 1),
            "publish_answered_ms": round((answered - sent_at) * 1000, 1),
            "client_cpu_s": round(sum(cpu for _times, cpu in times), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--processes", type=int, default=1,
                        help="client processes holding the boards (default: this one)")
    args = parser.parse_args()
    open_files(max(args.clients) * 2 + 200)  # this process's sockets, and the server's (it inherits the limit)
    data_dir = Path(tempfile.mkdtemp(prefix="contestday-bench-"))
    url = f"sqlite+aiosqlite:///{data_dir / 'contestday.sqlite3'}"
    event_id, token, csrf = asyncio.run(prepare(url, data_dir))
    rounds = []
    with served(data_dir) as base:
        async def run() -> None:
            chief = Connection(base, {"Cookie": f"contestday_session={token}", "X-CSRF-Token": csrf})
            for version, clients in enumerate(args.clients, start=1):
                rounds.append(await one_round([base], event_id, clients, chief, version, args.processes))
            await chief.close()

        asyncio.run(run())
    figures: dict[str, Any] = dict(rounds[-1])
    figures["rounds"] = rounds
    print_figures(figures)


if __name__ == "__main__":
    main()
