"""Registration burst: 200 concurrent clients against `contestday serve` on loopback (embedded SQLite).

Starts the server as a subprocess on a fresh data dir, creates an event (20 items, no unit quota), then this
process (the load) sends registrations from 200 concurrent clients: ~90 % new people, ~10 % people who already
hold an entry trying another item (each must be refused). Prints accepted registrations per second, p50/p99
latency of all requests, and how many duplicates were accepted (must be 0: counted from the responses and
again from the database). Last line: one JSON object.

    python bench/registration_burst.py [--clients 200] [--requests 6000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._http import Connection  # noqa: E402
from bench._server import collector_paused, print_figures, served  # noqa: E402
from tests.support.idgen import check_char  # noqa: E402

TOKEN = "bench-token"


def event_document() -> dict[str, Any]:
    criteria = [{"code": "A", "name": "操作", "max": 100, "kind": "measurement"}]
    items = [{"code": f"I{n:02d}", "name": f"赛项{n}", "exam_level": 4, "groups": [], "criteria": criteria}
             for n in range(20)]
    return {"event": {"name": "报名压力测试", "kind": "district", "starts_on": "2027-06-01",
                      "award_policy": {"rule": "total_within_30pct"}, "unit_quota_per_group": None},
            "items": items}


def make_id(rng: random.Random) -> str:
    birth = f"{rng.randrange(1975, 2008)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    first17 = f"5001{rng.randrange(1, 57):02d}{birth}{rng.randrange(0, 1000):03d}"
    return first17 + check_char(first17)


async def run_load(base: str, event_id: int, clients: int, total: int, rate: float | None) -> dict[str, Any]:
    rng = random.Random(7)
    people: list[str] = []
    seen: set[str] = set()
    while len(people) < total:
        number = make_id(rng)
        if number not in seen:
            seen.add(number)
            people.append(number)
    jobs: list[tuple[str, str]] = []
    for n in range(total):
        if n > 100 and rng.random() < 0.10:
            jobs.append((people[rng.randrange(0, n - 50)], f"I{rng.randrange(20):02d}"))  # already entered
        else:
            jobs.append((people[n], f"I{n % 20:02d}"))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    accepted: Counter[str] = Counter()

    async def send(client: Connection, n: int, scheduled: float) -> None:
        number, item = jobs[n]
        body = {"item": item, "group": "", "identity": "employee", "name": "压测" + chr(0x4E00 + n % 20000),
                "id_number": number, "phone": f"139{n:08d}", "unit": f"单位{n % 300}", "skill_level": 4}
        try:
            response = await client.request("POST", f"/api/events/{event_id}/registrations", body)
        except (OSError, asyncio.IncompleteReadError):
            statuses[0] += 1  # counted, not fatal: the figures say how many
            return
        # from when the request was due (open loop) or sent (closed loop): a late start counts as waiting
        latencies.append((time.perf_counter() - scheduled) * 1000)
        statuses[response.status] += 1
        if response.status == 201:
            accepted[number] += 1

    async def worker(k: int) -> None:
        client = Connection(base)
        try:
            for n in range(k, total, clients):
                if rate:  # open loop: request n is due at n / rate, whether or not the last one came back
                    due = started + n / rate
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    await send(client, n, due)
                else:  # closed loop: the next request as soon as the last one is answered
                    await send(client, n, time.perf_counter())
        finally:
            await client.close()

    with collector_paused():
        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "mode": f"open loop at {rate:g}/s" if rate else "closed loop",
        "clients": clients,
        "elapsed_s": round(elapsed, 2),
        "requests": total,
        "statuses": dict(statuses),
        "accepted_per_s": round(statuses[201] / elapsed, 1),
        "requests_per_s": round(total / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)], 1),
        "duplicates_accepted_responses": sum(c - 1 for c in accepted.values() if c > 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: offer this many requests per second in all (default: closed loop, each "
                             "client sends its next request when the last is answered)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file (the embedded default)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="contestday-bench-"))
    extra = {"CONTESTDAY_ADMIN_TOKEN": TOKEN}
    if args.database_url:
        extra["CONTESTDAY_DATABASE_URL"] = args.database_url
    with served(data_dir, **extra) as base:
        created = httpx.post(f"{base}/api/events", json=event_document(), headers={"Authorization": f"Bearer {TOKEN}"})
        created.raise_for_status()
        figures = asyncio.run(run_load(base, created.json()["id"], args.clients, args.requests, args.rate))
    if not args.database_url:
        with sqlite3.connect(data_dir / "contestday.sqlite3") as db:
            stored = db.execute("SELECT count(*) - count(DISTINCT person_hash) FROM entry_member "
                                "WHERE person_key IS NOT NULL").fetchone()[0]
        figures["duplicates_in_database"] = stored
    figures["duplicates_accepted"] = figures["duplicates_accepted_responses"] + figures.get("duplicates_in_database", 0)
    print_figures(figures)


if __name__ == "__main__":
    main()
