"""Tablets burst: 500 judges' tablets on websockets against `contestday serve` on loopback (embedded SQLite).

Prepares a fresh database (one item, 100 seated contestants, 500 judges on its panel, a signed-in session per
judge — inserted directly: this measures scoring, not set-up), starts the server as a subprocess, then this
process opens 500 tablet sockets (the `websockets` client) and one chief judge's console socket. The tablets
together offer --rate marks per second (open loop: each mark is sent when it is due, acked or not, and its
latency counts from when it was due); --rate 0 sends each tablet's next mark when the last is acked. Prints
acked operations per second, p50/p99 ack latency and p99 from a tablet's ack to the console's copy of the
change; last line one JSON object.

--synchronous NORMAL,FULL,NORMAL,… runs the whole measure once per listed mode (a fresh database each
time), the server's SQLite connections at that PRAGMA synchronous (CONTESTDAY_SQLITE_SYNCHRONOUS; the
default and production mode is FULL): alternating modes in one run compares them on a loaded machine; a
summary line gives each mode's range of ops/s and ack p99.

    python bench/tablets.py [--tablets 500] [--ops 20] [--seats 100] [--rate 2000] [--synchronous FULL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import collector_paused, print_figures, served  # noqa: E402


async def prepare(url: str, tablets: int, seats: int) -> tuple[int, list[str], str]:
    """Returns (event id, one session token per judge, the chief judge's session token)."""
    from sqlmodel import select

    from contestday.accounts import service as accounts
    from contestday.accounts.models import User
    from contestday.db.engine import create_engine, create_sessionmaker
    from contestday.db.migrate import upgrade
    from contestday.db.types import utcnow
    from judging.panels import add_judge, assign
    from registration.checkin.models import Attendance, SeatAssignment
    from registration.checkin.seats import SessionPlan, replace_plan
    from registration.entries.models import Entry, EntryMember
    from registration.entries.tickets import new_ticket_code
    from registration.events.service import create_event
    from scoring.event_file import parse_event_document

    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    criteria = [{"code": "A", "name": "测量", "max": 60, "kind": "measurement"},
                {"code": "B", "name": "评价", "max": 40, "kind": "judgement", "aggregate": "mean"}]
    doc = {"event": {"name": "评分压力测试", "kind": "district", "starts_on": "2027-06-01",
                     "award_policy": {"rule": "total_within_30pct"}},
           "items": [{"code": "I", "name": "赛项", "exam_level": 4, "groups": [], "criteria": criteria}]}
    from registration.events.models import Item

    async with maker() as session:
        event_id = await create_event(session, parse_event_document(doc))
        await session.commit()
        item = (await session.exec(select(Item).where(Item.event_id == event_id))).one()
        await replace_plan(session, item.id or 0, [SessionPlan("第1场", utcnow() + timedelta(minutes=30), seats)])
        from registration.checkin.models import SeatSession

        seat_session = (await session.exec(select(SeatSession))).one()
        for n in range(seats):
            entry = Entry(event_id=event_id, item_id=item.id or 0, unit=f"单位{n}", unit_key=f"单位{n}",
                          ticket_code=new_ticket_code())
            session.add(entry)
            await session.flush()
            session.add(EntryMember(entry_id=entry.id or 0, event_id=event_id, person_hash=f"h{n}", person_key=f"h{n}",
                                    id_number_enc="-", id_masked="-", id_kind="resident", name=f"选手{n}",
                                    gender="male", birth_date=date(2000, 1, 1), phone="13800000000",
                                    identity="employee"))
            session.add(Attendance(entry_id=entry.id or 0, event_id=event_id, status="present", station="A"))
            session.add(SeatAssignment(entry_id=entry.id or 0, item_id=item.id or 0, session_id=seat_session.id or 0,
                                       seat_label=f"A{n + 1:03d}", draw_number=n + 1, station="A"))
        tokens = []
        for n in range(tablets):
            judge = await add_judge(session, event_id, f"裁判{n}", "评审中心")
            await assign(session, judge, item.id or 0, "judge")
            user = await session.get(User, judge.user_id)
            assert user is not None
            token, _csrf = await accounts.start_session(session, user)
            tokens.append(token)
        chief = await accounts.add_user(session, "chief", "pw-12345678", ["chief_judge"])
        chief_token, _ = await accounts.start_session(session, chief)
        await session.commit()
    await engine.dispose()
    return event_id, tokens, chief_token


async def load(bases: Sequence[str], event_id: int, tokens: list[str], chief: str, ops: int, seats: int,
               rate: float | None, console_on: int = 0,
               acked_marks: list[tuple[int, str, str, str]] | None = None,
               during: AbstractContextManager[Any] = contextlib.nullcontext()) -> dict[str, Any]:
    """Tablets spread over `bases` (instances of one deployment) round robin, the console on `bases[console_on]`;
    `console_cross_p99_ms` counts only marks acked by another instance than the console's. Every acked mark is
    appended to `acked_marks` as (judge id, op id, seat, value). `during` is entered around the marks alone
    (e.g. to read the servers' CPU time), once every tablet holds its snapshot."""
    ws_bases = [base.replace("http://", "ws://") for base in bases]
    acks: list[float] = []
    acked_at: dict[tuple[int, str, str], float] = {}
    console_lag: list[float] = []
    console_cross: list[float] = []
    console_ready = asyncio.Event()

    def lag(judge_id: int, ms: float) -> None:
        console_lag.append(ms)
        if (judge_id - 1) % len(bases) != console_on:  # judge n (id n + 1) is on bases[n % len(bases)]
            console_cross.append(ms)

    async def console() -> None:
        try:
            async with websockets.connect(f"{ws_bases[console_on]}/ws/console/{event_id}", open_timeout=10,
                                          additional_headers={"Cookie": f"contestday_session={chief}"},
                                          max_size=None) as sock:
                await sock.recv()  # snapshot
                console_ready.set()
                while True:
                    msg = json.loads(await sock.recv())
                    if msg.get("type") == "score":
                        key = (msg.get("judge_id"), msg["seat"], msg.get("value"))
                        seen = time.perf_counter()
                        if key in acked_at:
                            lag(key[0], (seen - acked_at.pop(key)) * 1000)
                        else:
                            acked_at[key] = -seen  # the console was first: lag ≤ 0
        except (OSError, websockets.exceptions.WebSocketException) as exc:
            console_lost.append(str(exc))
            console_ready.set()  # no console (yet): measure the tablets alone

    async def tablet(n: int, token: str) -> None:
        """A tablet the server drops once the marks have started (e.g. a keepalive ping unanswered under
        overload) is counted, not fatal: its acked marks are still checked, the others were never acked."""
        try:
            await marking(n, token)
        except websockets.exceptions.ConnectionClosed as exc:
            if not start.is_set():
                raise
            dropped.append(str(exc))

    async def marking(n: int, token: str) -> None:
        async with websockets.connect(f"{ws_bases[n % len(bases)]}/ws/judge", open_timeout=30,
                                      additional_headers={"Cookie": f"contestday_session={token}"}) as sock:
            snapshot = json.loads(await sock.recv())
            judge_marks = {s["seat"]: s["version"] for s in snapshot["scores"]}
            due_at: dict[str, float] = {}


            async def receive(expected: int) -> None:
                while expected:
                    reply = json.loads(await sock.recv())
                    if reply.get("type") not in ("ack", "nack"):
                        continue
                    expected -= 1
                    done = time.perf_counter()
                    due = due_at.pop(reply["op_id"])
                    if reply["type"] == "ack":
                        acks.append((done - due) * 1000)
                        key = (judge_ids[n], reply["seat"], reply["value"])
                        if acked_marks is not None:
                            acked_marks.append((key[0], reply["op_id"], key[1], key[2]))
                        earlier = acked_at.pop(key, None)
                        if earlier is not None and earlier < 0:
                            lag(key[0], 0.0)
                        else:
                            acked_at[key] = done
                    else:
                        errors.append(reply.get("code", "?"))

            receiver = asyncio.create_task(receive(ops))
            connected.append(n)
            if len(connected) == len(tokens):
                all_connected.set()
            await start.wait()
            for k in range(ops):
                seat = f"A{(n + k) % seats + 1:03d}"  # a different seat each time: no op waits for another's version
                message = {"type": "op", "op_id": uuid.uuid4().hex, "kind": "set_score", "item": "I", "seat": seat,
                           "criterion": "A", "value": f"{(n * 7 + k) % 60}.{k % 100:02d}",
                           "base_version": judge_marks.get(seat, 0)}
                if rate:  # open loop: op k of tablet n is due at (k·tablets + n) / rate, answered or not
                    due = started + (k * len(tokens) + n) / rate
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                else:  # closed loop: the next op once the last is acked
                    while due_at:
                        await asyncio.sleep(0.0005)
                    due = time.perf_counter()
                due_at[message["op_id"]] = due
                await sock.send(json.dumps(message))
            await receiver

    errors: list[str] = []
    dropped: list[str] = []
    console_lost: list[str] = []
    judge_ids = list(range(1, len(tokens) + 1))  # judges were created in order: ids 1…N on a fresh database
    start, all_connected = asyncio.Event(), asyncio.Event()
    connected: list[int] = []
    started = 0.0
    console_task = asyncio.create_task(console())
    await console_ready.wait()
    tablets = [asyncio.create_task(tablet(n, token)) for n, token in enumerate(tokens)]
    ready = asyncio.create_task(all_connected.wait())  # every tablet connected and holding its snapshot
    await asyncio.wait([ready, *tablets], return_when=asyncio.FIRST_COMPLETED)
    for task in tablets:  # a tablet refused or dropped before the start would leave the wait above forever
        if task.done() and task.exception() is not None:
            raise RuntimeError("a tablet failed before the marks started") from task.exception()
    await ready
    await asyncio.sleep(0.5)
    with collector_paused(), during:
        started = time.perf_counter()
        start.set()
        await asyncio.gather(*tablets)
        elapsed = time.perf_counter() - started
    await asyncio.sleep(1)
    console_task.cancel()
    acks.sort()
    console_lag.sort()
    console_cross.sort()

    def pct(values: list[float], q: float) -> float | None:
        return round(values[min(len(values) - 1, int(len(values) * q))], 1) if values else None

    return {"mode": f"open loop at {rate:g} ops/s" if rate else "closed loop", "tablets": len(tokens),
            "acked": len(acks), "errors": len(errors), "dropped": len(dropped),
            "why_dropped": sorted(set(dropped))[:3], "console_dropped": console_lost[:1],
            "elapsed_s": round(elapsed, 2),
            "ops_per_s": round(len(acks) / elapsed, 1), "ack_p50_ms": pct(acks, 0.5), "ack_p99_ms": pct(acks, 0.99),
            "console_seen": len(console_lag), "console_p99_ms": pct(console_lag, 0.99),
            **({"console_cross_seen": len(console_cross), "console_cross_p99_ms": pct(console_cross, 0.99)}
               if len(bases) > 1 else {})}


async def check_marks(url: str, acked: list[tuple[int, str, str, str]]) -> dict[str, int]:
    """From the database afterwards: `lost`, acked marks whose operation or value is not stored; `duplicated`,
    an operation applied twice (two audit links for one judge's mark of one seat: each tablet marks a seat once
    here, or an op id stored twice)."""
    from collections import Counter
    from decimal import Decimal

    from sqlalchemy import func, select

    from contestday.db.engine import create_engine
    from contestday.db.writer import table
    from judging.models import AppliedOp, Score, ScoreEvent
    from registration.checkin.models import SeatAssignment

    ops_t, score, links_t, seats = table(AppliedOp), table(Score), table(ScoreEvent), table(SeatAssignment)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            ops = Counter((await conn.execute(select(ops_t.c.judge_id, ops_t.c.op_id))).tuples())
            marks = dict(((j, seat), v) for j, seat, v in (await conn.execute(
                select(score.c.judge_id, seats.c.seat_label, score.c.value)
                .join(seats, seats.c.entry_id == score.c.entry_id))).tuples())
            links = (await conn.execute(select(func.count()).select_from(links_t).where(links_t.c.kind == "set")
                                        .group_by(links_t.c.judge_id, links_t.c.entry_id))).scalars()
            twice = sum(n - 1 for n in links)
    finally:
        await engine.dispose()
    lost = sum(1 for judge, op_id, seat, value in acked
               if (judge, op_id) not in ops or marks.get((judge, seat)) != Decimal(value))
    return {"stored": len(marks), "lost": lost, "duplicated": twice + sum(n - 1 for n in ops.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tablets", type=int, default=500)
    parser.add_argument("--ops", type=int, default=20, help="marks per tablet (at most --seats)")
    parser.add_argument("--rate", type=float, default=2000,
                        help="ops per second offered by all tablets together (open loop, as judges mark at their "
                             "own pace); 0: closed loop, each tablet sends its next mark when the last is acked")
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--synchronous", default="FULL",
                        help="the server's SQLite PRAGMA synchronous, or a comma list of modes measured in turn "
                             "(e.g. NORMAL,FULL,NORMAL,FULL,NORMAL,FULL)")
    args = parser.parse_args()
    modes = [m.strip().upper() for m in args.synchronous.split(",") if m.strip()]
    runs: list[dict[str, Any]] = []
    for mode in modes:
        data_dir = Path(tempfile.mkdtemp(prefix="contestday-bench-"))
        url = f"sqlite+aiosqlite:///{data_dir / 'contestday.sqlite3'}"
        event_id, tokens, chief = asyncio.run(prepare(url, args.tablets, args.seats))
        acked: list[tuple[int, str, str, str]] = []
        with served(data_dir, CONTESTDAY_SQLITE_SYNCHRONOUS=mode) as base:
            figures = asyncio.run(load([base], event_id, tokens, chief, args.ops, args.seats, args.rate, 0, acked))
        stored = asyncio.run(check_marks(url, acked))
        figures = {"synchronous": mode, **figures, "lost": stored["lost"], "duplicated": stored["duplicated"]}
        runs.append(figures)
        print_figures(figures)
    if len(modes) > 1:
        summary: dict[str, Any] = {}
        for mode in dict.fromkeys(modes):
            mine = [r for r in runs if r["synchronous"] == mode]
            rates, p99 = [r["ops_per_s"] for r in mine], [r["ack_p99_ms"] or 0 for r in mine]
            summary[mode] = {"runs": len(mine), "ops_per_s": [min(rates), max(rates)],
                             "ack_p99_ms": [min(p99), max(p99)], "errors": sum(r["errors"] for r in mine)}
        print(json.dumps({"summary": summary}, ensure_ascii=False))


if __name__ == "__main__":
    main()
