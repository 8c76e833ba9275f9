"""Check-in burst against pretix's check-in RPC (for comparison with bench/checkin.py on the same machine).

50 concurrent stations POST /api/v1/organizers/{org}/checkinrpc/redeem/ with the mix of bench/checkin.py:
first scans (60 %), repeats of tickets already scanned (25 %: each must get already_redeemed) and unknown codes
(15 %: each must get invalid). Prints scans per second and p50/p99 latency; last line one JSON object.

The pretix server is not started here: it must already run (pretix's SQLite database, no Redis, no Celery).
bench/pretix_setup.sh does it all from scratch, idempotently (venv /work/pretix-venv, data /work/pretix-data,
migrate, 6000 paid orders with one position each, an API token, gunicorn in the background):

    bash bench/pretix_setup.sh

To (re)start the server by hand (2 sync workers, pretix's documented production setup minus --max-requests,
whose worker recycling every ~1200 requests would be measured too; bench_settings is pretix's settings with
SQLite in contestday's mode: WAL, synchronous=NORMAL, BEGIN IMMEDIATE, 30 s busy timeout. With
DJANGO_SETTINGS_MODULE=pretix.settings instead, the stock deferred transactions make concurrent check-ins fail
with "database is locked", HTTP 500):

    cd /work/pretix-data && PRETIX_CONFIG_FILE=/work/pretix-data/pretix.cfg PYTHONPATH=/work/pretix-data \\
        DJANGO_SETTINGS_MODULE=bench_settings setsid nohup /work/pretix-venv/bin/gunicorn pretix.wsgi \\
        --name pretix --workers 2 --bind 127.0.0.1:8345 --log-level warning \\
        --pid /work/pretix-data/gunicorn.pid >>/work/pretix-data/gunicorn.log 2>&1 </dev/null &
    kill "$(cat /work/pretix-data/gunicorn.pid)"        # to stop it (gone a few seconds later)

Then, with the system python:

    python3 bench/pretix_checkin.py [--stations 50] [--scans 5000] [--reset]

Fresh tickets: each run marks the secrets it scans first in /work/pretix-data/scanned.txt and takes only
unscanned ones (a run of 5000 scans takes about 3000; with 6000 orders a second run without --reset may run
short, and then says so). --reset deletes pretix's check-in rows
(through `/work/pretix-venv/bin/python /work/pretix-data/bench_data.py reset`, which the setup script writes)
and empties scanned.txt first, so every ticket is fresh again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._http import Connection  # noqa: E402
from bench._server import collector_paused, print_figures  # noqa: E402

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # pretix's random secret generator's alphabet, 32 characters


def reset(data_dir: Path, venv: Path) -> None:
    env = {**os.environ, "PRETIX_CONFIG_FILE": str(data_dir / "pretix.cfg")}
    if (data_dir / "bench_settings.py").exists():  # the SQLite mode the server runs in (WAL, BEGIN IMMEDIATE)
        env.update(PYTHONPATH=str(data_dir), DJANGO_SETTINGS_MODULE="bench_settings")
    subprocess.run([str(venv / "bin" / "python"), str(data_dir / "bench_data.py"), "reset"], env=env,
                   cwd=data_dir, check=True)
    (data_dir / "scanned.txt").write_text("")


def plan(secrets: list[str], used: set[str], total: int) -> tuple[list[tuple[str, str]], list[str]]:
    """The same mix and the same draws as bench/checkin.py (seed 3): 15 % unknown, 25 % repeats, the rest first
    scans; so the same sequence of kinds and the same choice of repeats."""
    rng, pad = random.Random(3), random.Random(5)
    fresh = iter([s for s in secrets if s not in used])
    scanned: list[str] = []
    jobs: list[tuple[str, str]] = []
    for _ in range(total):
        roll = rng.random()
        if roll < 0.15:
            # checkin.py's 26 draws (its alphabet is this one upper-cased), lengthened to a pretix secret's 32
            unknown = "".join(rng.choice("23456789ABCDEFGHJKMNPQRSTUVWXYZ") for _ in range(26)).lower()
            jobs.append(("unknown", unknown + "".join(pad.choice(ALPHABET) for _ in range(6))))
        elif roll < 0.40 and scanned:
            jobs.append(("repeat", rng.choice(scanned)))
        else:
            code = next(fresh, None)
            if code is None:
                sys.exit(f"not enough unscanned secrets left for {total} scans: run again with --reset")
            scanned.append(code)
            jobs.append(("first", code))
    return jobs, scanned


async def load(base: str, org: str, list_id: int, token: str, jobs: list[tuple[str, str]], stations: int,
               ) -> tuple[dict[str, Any], Counter[str], Counter[str]]:
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    path = f"/api/v1/organizers/{org}/checkinrpc/redeem/"
    headers = {"Authorization": f"Token {token}"}
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    oks: Counter[str] = Counter()

    async def station(n: int) -> None:
        client = Connection(base, headers=headers)
        try:
            while not queue.empty():
                kind, code = queue.get_nowait()
                body = {"secret": code, "lists": [list_id], "type": "entry", "source_type": "barcode",
                        "nonce": os.urandom(12).hex()}
                started = time.perf_counter()
                try:
                    response = await client.request("POST", path, body)
                except (OSError, asyncio.IncompleteReadError):
                    outcomes[f"{kind}:transport_error"] += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                try:
                    answer = response.json()
                except ValueError:
                    answer = {}
                if isinstance(answer, dict) and answer.get("status") == "ok":
                    got = "ok"
                elif isinstance(answer, dict) and answer.get("reason"):
                    got = str(answer["reason"])
                else:
                    got = f"http_{response.status}"
                outcomes[f"{kind}:{got}"] += 1
                if got == "ok":
                    oks[code] += 1
        finally:
            await client.close()

    with collector_paused():
        started = time.perf_counter()
        await asyncio.gather(*(station(n) for n in range(stations)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    figures = {"elapsed_s": round(elapsed, 2), "scans": len(jobs), "answered": len(latencies),
               "scans_per_s": round(len(jobs) / elapsed, 1),
               "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
               "p99_ms": round(latencies[int(len(latencies) * 0.99)], 1) if latencies else None}
    return figures, outcomes, oks


def duplicate_checkins_in_db(db: Path, list_id: int) -> int | None:
    """Positions with more than one successful entry on the list, counted again from pretix's database."""
    if not db.exists():
        return None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        row = conn.execute("SELECT count(*) FROM (SELECT position_id FROM pretixbase_checkin WHERE successful "
                           "AND list_id = ? AND type = 'entry' GROUP BY position_id HAVING count(*) > 1)",
                           (list_id,)).fetchone()
    return int(row[0])


async def warm_up(base: str, org: str, list_id: int, token: str, count: int) -> None:
    """A few unknown-code scans before the clock starts, over two connections (one per gunicorn worker, as
    far as the kernel spreads them): each worker's first requests load code and fill caches for about a
    second. Also fails fast, with a hint, when no server answers."""
    path = f"/api/v1/organizers/{org}/checkinrpc/redeem/"
    rng = random.Random(11)

    async def one(client: Connection) -> None:
        body = {"secret": "".join(rng.choice(ALPHABET) for _ in range(32)), "lists": [list_id], "type": "entry",
                "nonce": os.urandom(12).hex()}
        response = await client.request("POST", path, body)
        if response.status != 404:
            sys.exit(f"warm-up: an unknown code got HTTP {response.status}, expected 404: {response.body[:300]!r}")

    clients = [Connection(base, headers={"Authorization": f"Token {token}"}) for _ in range(2)]
    try:
        for _ in range(max(count, 0) // 2):
            await asyncio.gather(*(one(c) for c in clients))
    except OSError as exc:
        sys.exit(f"no pretix server at {base} ({exc}): start it first (see the top of this file)")
    finally:
        for c in clients:
            await c.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--scans", type=int, default=5000)
    parser.add_argument("--bench-json", type=Path, default=Path("/work/pretix-data/bench.json"))
    parser.add_argument("--base", default=None, help="default: the base URL in bench.json (http://127.0.0.1:8345)")
    parser.add_argument("--venv", type=Path, default=Path("/work/pretix-venv"), help="for --reset")
    parser.add_argument("--warmup", type=int, default=20, help="unknown-code scans before the clock starts")
    parser.add_argument("--reset", action="store_true",
                        help="delete pretix's check-in rows first, so that every ticket is unscanned again")
    args = parser.parse_args()
    bench = json.loads(args.bench_json.read_text())
    data_dir = args.bench_json.resolve().parent
    base = args.base or bench.get("base", "http://127.0.0.1:8345")
    if args.reset:
        reset(data_dir, args.venv)
    asyncio.run(warm_up(base, bench["organizer"], int(bench["list_id"]), bench["token"], args.warmup))
    state = data_dir / "scanned.txt"
    used = set(state.read_text().split()) if state.exists() else set()
    jobs, scanned = plan(bench["secrets"], used, args.scans)
    with state.open("a") as f:  # marked before the load: an interrupted run spends its secrets too
        f.write("".join(s + "\n" for s in scanned))
    figures, outcomes, oks = asyncio.run(load(base, bench["organizer"], int(bench["list_id"]), bench["token"],
                                              jobs, args.stations))
    first = set(scanned)
    # which of a ticket's concurrent scans wins is a race (a repeat may overtake its first scan): that exactly one
    # wins is the invariant, as in bench/checkin.py; the raw per-kind counts are reported as well
    wrong = sum(1 for code in first if oks[code] != 1) + sum(
        n for k, n in outcomes.items() if k.startswith("unknown:") and k != "unknown:invalid")
    figures.update({
        "outcomes": dict(sorted(outcomes.items())),
        "wrong_answers": wrong,
        "first_not_ok": sum(n for k, n in outcomes.items() if k.startswith("first:") and k != "first:ok"),
        "repeat_ok": outcomes["repeat:ok"],
        "unknown_ok": outcomes["unknown:ok"],
        "errors": sum(n for k, n in outcomes.items() if k.endswith((":transport_error",)) or ":http_" in k),
        "duplicate_checkins_db": duplicate_checkins_in_db(data_dir / "db.sqlite3", int(bench["list_id"])),
        "stations": args.stations,
        "server": base,
        "pretix_version": bench.get("pretix_version"),
    })
    print_figures(figures)


if __name__ == "__main__":
    main()
