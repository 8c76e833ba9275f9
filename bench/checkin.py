"""Check-in burst: 50 concurrent stations against `contestday serve` on loopback (embedded SQLite).

Prepares a fresh database with one event, one item with an open check-in window and N entries (inserted
directly: this measures the door, not registration), starts the server as a subprocess, then this process
plays 50 stations scanning a mix of first scans (60 %), repeats of tickets already scanned (25 %: each must
get already_checked_in) and unknown codes (15 %). Prints scans per second and p50/p99 latency; last line
one JSON object.

Stations sign in as a kiosk does (a check-in staff session cookie and its CSRF token).

    python bench/checkin.py [--stations 50] [--scans 5000] [--entries 3000] [--rate N]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._http import Connection  # noqa: E402
from bench._server import collector_paused, print_figures, served  # noqa: E402


async def prepare(url: str, entries: int) -> tuple[int, list[str], str, str]:
    """Returns (event id, the ticket codes, a check-in staff session token and its CSRF token)."""
    from contestday.accounts import service as accounts
    from contestday.db.engine import create_engine, create_sessionmaker
    from contestday.db.migrate import upgrade
    from contestday.db.types import utcnow
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
        staff = await accounts.add_user(session, "kiosk", "pw-12345678", ["checkin"])
        session_token, csrf = await accounts.start_session(session, staff)
        await session.commit()
    await engine.dispose()
    return event_id, codes, session_token, csrf


async def load(base: str, event_id: int, codes: list[str], stations: int, total: int, rate: float | None,
               session_token: str, csrf: str) -> dict[str, Any]:
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
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    oks: Counter[str] = Counter()
    # as a kiosk is signed in: the check-in staff's session cookie, and its CSRF token on every write
    headers = {"Cookie": f"contestday_session={session_token}", "X-CSRF-Token": csrf}

    async def scan(conn: Connection, n: int, due: float) -> None:
        kind, code = jobs[n]
        body = {"ticket_code": code, "station": f"S{n % stations}", "nonce": os.urandom(12).hex()}
        try:
            response = await conn.request("POST", f"/api/events/{event_id}/checkins", body)
        except (OSError, asyncio.IncompleteReadError):
            outcomes[f"{kind}:transport_error"] += 1
            return
        latencies.append((time.perf_counter() - due) * 1000)
        answer = response.json()
        got = answer.get("status") if response.status == 200 else answer.get("code", response.status)
        outcomes[f"{kind}:{got}"] += 1
        if got == "ok":
            oks[code] += 1

    async def station(k: int) -> None:
        conn = Connection(base, headers)
        try:
            for n in range(k, total, stations):
                if rate:  # open loop: scan n is due at n / rate
                    due = started + n / rate
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                else:
                    due = time.perf_counter()
                await scan(conn, n, due)
        finally:
            await conn.close()

    with collector_paused():
        started = time.perf_counter()
        await asyncio.gather(*(station(k) for k in range(stations)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    # which of a ticket's concurrent scans wins is a race; that exactly one wins is the invariant
    wrong = sum(1 for code in set(scanned) if oks[code] != 1) + sum(
        n for k, n in outcomes.items() if k.startswith("unknown:") and k != "unknown:unknown_ticket")
    return {"mode": f"open loop at {rate:g}/s" if rate else "closed loop", "stations": stations,
            "elapsed_s": round(elapsed, 2), "scans": total, "outcomes": dict(outcomes), "wrong_answers": wrong,
            "scans_per_s": round(total / elapsed, 1), "p50_ms": round(latencies[len(latencies) // 2], 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99)], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--scans", type=int, default=5000)
    parser.add_argument("--entries", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: scans per second offered by all stations (default: closed loop, each "
                             "station scans again as soon as it is answered)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="contestday-bench-"))
    url = f"sqlite+aiosqlite:///{data_dir / 'contestday.sqlite3'}"
    event_id, codes, session_token, csrf = asyncio.run(prepare(url, max(args.entries, args.scans)))
    with served(data_dir) as base:
        figures = asyncio.run(load(base, event_id, codes, args.stations, args.scans, args.rate, session_token, csrf))
    print_figures(figures)


if __name__ == "__main__":
    main()
