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
import contextlib
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
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


def create_burst_event(base: str) -> int:
    """The event, through the API as an organiser's script would (the server must have CONTESTDAY_ADMIN_TOKEN
    set to TOKEN)."""
    created = httpx.post(f"{base}/api/events", json=event_document(), headers={"Authorization": f"Bearer {TOKEN}"})
    created.raise_for_status()
    return int(created.json()["id"])


def make_id(rng: random.Random) -> str:
    birth = f"{rng.randrange(1975, 2008)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    first17 = f"5001{rng.randrange(1, 57):02d}{birth}{rng.randrange(0, 1000):03d}"
    return first17 + check_char(first17)


async def run_load(bases: Sequence[str], event_id: int, clients: int, total: int, rate: float | None,
                   accepted_ids: list[int] | None = None,
                   during: AbstractContextManager[Any] = contextlib.nullcontext()) -> dict[str, Any]:
    """Clients spread over `bases` (instances of one deployment) round robin; the registration id of every
    accepted request is appended to `accepted_ids`; `during` is entered around the burst (e.g. to read the
    servers' CPU time)."""
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
            if accepted_ids is not None:
                accepted_ids.append(response.json()["registration_id"])

    async def worker(k: int) -> None:
        client = Connection(bases[k % len(bases)])
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

    with collector_paused(), during:
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


async def check_stored(url: str, event_id: int, accepted_ids: list[int]) -> dict[str, int]:
    """From the database afterwards: `lost`, accepted registrations not stored; `duplicated`, people stored in
    more than one entry (the burst's repeats must all be refused) or an entry accepted twice."""
    from sqlalchemy import text

    from contestday.db.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            stored = set((await conn.execute(text("SELECT id FROM entry WHERE event_id = :e"),
                                             {"e": event_id})).scalars())
            people = (await conn.execute(text("SELECT count(*) - count(DISTINCT person_hash) FROM entry_member "
                                              "WHERE event_id = :e AND person_key IS NOT NULL"),
                                         {"e": event_id})).scalar_one()
    finally:
        await engine.dispose()
    return {"stored": len(stored), "lost": len(set(accepted_ids) - stored),
            "duplicated": int(people) + len(accepted_ids) - len(set(accepted_ids))}


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
    url = args.database_url or f"sqlite+aiosqlite:///{data_dir / 'contestday.sqlite3'}"
    with served(data_dir, CONTESTDAY_ADMIN_TOKEN=TOKEN, CONTESTDAY_DATABASE_URL=url) as base:
        event_id = create_burst_event(base)
        accepted: list[int] = []
        figures = asyncio.run(run_load([base], event_id, args.clients, args.requests, args.rate, accepted))
    stored = asyncio.run(check_stored(url, event_id, accepted))
    figures["duplicates_in_database"] = stored["duplicated"]
    figures["lost"] = stored["lost"]
    figures["duplicates_accepted"] = figures["duplicates_accepted_responses"] + stored["duplicated"]
    print_figures(figures)


if __name__ == "__main__":
    main()
