"""Check-in burst: 50 concurrent stations against `contestday serve` on loopback (embedded SQLite).

Prepares a fresh database with one event, one item with an open check-in window and N entries (inserted
directly: this measures the door, not registration), starts the server as a subprocess, then this process
plays 50 stations scanning a mix of first scans (60 %), repeats of tickets already scanned (25 %: each must
get already_checked_in) and unknown codes (15 %). Prints scans per second and p50/p99 latency; last line
one JSON object.

    python bench/checkin.py [--stations 50] [--scans 5000] [--entries 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import print_figures, served  # noqa: E402

TOKEN = "bench-token"


async def prepare(url: str, entries: int) -> tuple[int, list[str]]:
    from contestday.db import create_engine, create_sessionmaker
    from contestday.migrate import upgrade
    from registration.base import utcnow
    from registration.checkin.seats import SessionPlan, replace_plan
    from registration.entries.models import Entry, EntryMember
    from registration.entries.tickets import new_ticket_code
    from registration.events.models import Item
    from registration.events.service import create_event
    from scoring.event_file import parse_event_document

    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    doc = {"event": {"name": "检录压力测试", "kind": "district", "starts_on": "2027-06-01",
                     "award_policy": {"rule": "total_within_30pct"}},
           "items": [{"code": "I", "name": "赛项", "exam_level": 4, "groups": [],
                      "criteria": [{"code": "A", "name": "操作", "max": 100, "kind": "measurement"}]}]}
    async with maker() as session:
        event_id = await create_event(session, parse_event_document(doc))
        await session.commit()
        item = (await session.exec(Item.__table__.select())).first()  # type: ignore[attr-defined, call-overload]
        await replace_plan(session, item.id, [SessionPlan("第1场", utcnow() + timedelta(minutes=30), 999)])
        codes = []
        for n in range(entries):
            code = new_ticket_code()
            codes.append(code)
            entry = Entry(event_id=event_id, item_id=item.id, unit=f"单位{n % 100}", unit_key=f"单位{n % 100}",
                          ticket_code=code)
            session.add(entry)
            await session.flush()
            session.add(EntryMember(entry_id=entry.id or 0, event_id=event_id, person_hash=f"h{n}", person_key=f"h{n}",
                                    id_number_enc="-", id_masked="5001**********0000", id_kind="resident",
                                    name=f"选手{n}", gender="male", birth_date=date(2000, 1, 1),
                                    phone="13800000000", identity="employee"))
        await session.commit()
    await engine.dispose()
    return event_id, codes


async def load(base: str, event_id: int, codes: list[str], stations: int, total: int) -> dict[str, Any]:
    rng = random.Random(3)
    fresh = iter(codes)
    scanned: list[str] = []
    jobs: list[tuple[str, str]] = []
    for _ in range(total):
        roll = rng.random()
        if roll < 0.15:
            jobs.append(("unknown", "".join(rng.choice("23456789ABCDEFGHJKMNPQRSTUVWXYZ") for _ in range(26))))
        elif roll < 0.40 and scanned:
            jobs.append(("repeat", rng.choice(scanned)))
        else:
            code = next(fresh)
            scanned.append(code)
            jobs.append(("first", code))
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    oks: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=stations, max_keepalive_connections=stations)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30, headers=headers) as client:
        async def station(n: int) -> None:
            while not queue.empty():
                kind, code = queue.get_nowait()
                body = {"ticket_code": code, "station": f"S{n}", "nonce": os.urandom(12).hex()}
                started = time.perf_counter()
                try:
                    response = await client.post(f"/api/events/{event_id}/checkins", json=body)
                except httpx.TransportError:
                    outcomes[f"{kind}:transport_error"] += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                got = response.json().get("status") if response.status_code == 200 else response.json()["code"]
                outcomes[f"{kind}:{got}"] += 1
                if got == "ok":
                    oks[code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(station(n) for n in range(stations)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    # which of a ticket's concurrent scans wins is a race; that exactly one wins is the invariant
    wrong = sum(1 for code in set(scanned) if oks[code] != 1) + sum(
        n for k, n in outcomes.items() if k.startswith("unknown:") and k != "unknown:unknown_ticket")
    return {"elapsed_s": round(elapsed, 2), "scans": total, "outcomes": dict(outcomes), "wrong_answers": wrong,
            "scans_per_s": round(total / elapsed, 1), "p50_ms": round(latencies[len(latencies) // 2], 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99)], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--scans", type=int, default=5000)
    parser.add_argument("--entries", type=int, default=3000)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="contestday-bench-"))
    url = f"sqlite+aiosqlite:///{data_dir / 'contestday.sqlite3'}"
    event_id, codes = asyncio.run(prepare(url, max(args.entries, args.scans)))
    with served(data_dir, CONTESTDAY_ADMIN_TOKEN=TOKEN) as base:
        figures = asyncio.run(load(base, event_id, codes, args.stations, args.scans))
    print_figures(figures)


if __name__ == "__main__":
    main()
