"""Scale-out: the registration burst, the tablets and the board fan-out, in one run, against one SQLite
`contestday serve` (the reference) and against 1 and 2 instances on PostgreSQL + Redis.

Each phase of each deployment gets a fresh database (SQLite file, or a new PostgreSQL database) and its own
`contestday serve` processes, started as users start them; clients are spread over the instances round robin.
- registration: bench/registration_burst.py's burst (closed loop, --clients at once);
- tablets: bench/tablets.py's tablets offering --marks-rate marks/s for --duration s (open loop), the chief
  judge's console on the LAST instance: with two, a mark acked by the first reaches it through Redis
  (`console_cross_p99_ms`, from the tablet's ack to the console's copy);
- boards: --boards results boards (bench/board_fanout.py) receive a publication sent to the first instance,
  held by --client-processes load processes (one process would measure its own websocket parsing).
On a 2-core machine a second instance cannot be faster, so each phase is also given per CPU-second of the
deployment's server processes (the instances with their page processes, PostgreSQL's and Redis's apart,
read from /proc and from Redis's INFO), read around the measured window only (the burst; the marks, once
every tablet holds its snapshot; the publication, once every board holds its snapshot): `per_cpu_s` is
operations per CPU-second of all of them, `pg_vs_sqlite_per_cpu` the two-instance figure over SQLite's,
the lower of the burst's and the marks'. After each phase the database is checked: every accepted
registration and every acked mark stored exactly once (`lost`, `duplicated`).

Without --postgres / --redis a throw-away PostgreSQL cluster (initdb + pg_ctl, /usr/lib/postgresql/15/bin)
and redis-server are started on free ports and stopped at the end. Human lines per phase; the last line is
one JSON object.

    python bench/scale_out.py [--quick] [--boards 10000] [--marks-rate 2000] [--duration 5]
                              [--postgres postgresql://user:pw@host/postgres] [--redis redis://host:port/0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import board_fanout, registration_burst, tablets  # noqa: E402
from bench._http import Connection  # noqa: E402
from bench._server import Instance, open_files, serving  # noqa: E402
from bench._services import postgres_cluster, postmaster_pid, redis_cpu, redis_server, tree_cpu  # noqa: E402

DEPLOYMENTS = (("sqlite", 1), ("postgres", 1), ("postgres", 2))
TARGETS = {"console_cross_p99_ms": 100, "board_p99_ms": 1000, "pg_vs_sqlite_per_cpu": 0.5}


class Meter:
    """CPU seconds spent so far by a deployment's sides: its instances (with their children), PostgreSQL's
    processes (when it runs on this machine) and Redis."""

    def __init__(self, instances: list[Instance], postmaster: int | None, redis_url: str | None) -> None:
        self.pids, self.postmaster, self.redis_url = [i.pid for i in instances], postmaster, redis_url

    def read(self) -> dict[str, float | None]:
        return {"servers": tree_cpu(self.pids),
                "postgres": tree_cpu([self.postmaster]) if self.postmaster else None,
                "redis": redis_cpu(self.redis_url) if self.redis_url else None}

    @contextlib.contextmanager
    def spent(self, into: dict[str, Any]) -> Iterator[None]:
        before = self.read()
        yield
        after = self.read()
        for side, value in after.items():
            start = before[side]
            into[f"cpu_{side}_s"] = None if value is None or start is None else round(value - start, 2)
        into["cpu_total_s"] = round(sum(into[f"cpu_{side}_s"] or 0 for side in after), 2)


class Run:
    """One deployment for one phase: a fresh database and data dir, set up by the phase, then served."""

    def __init__(self, kind: str, count: int, pg_server: str, redis_url: str, postmaster: int | None) -> None:
        self.kind, self.count, self.pg_server, self.redis_url = kind, count, pg_server, redis_url
        self.postmaster = postmaster
        self.data_dir = Path(tempfile.mkdtemp(prefix="contestday-scale-"))
        self.url = f"sqlite+aiosqlite:///{self.data_dir / 'contestday.sqlite3'}"

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        from contestday.db.migrate import upgrade
        from tests.conftest import fresh_pg_database

        with contextlib.ExitStack() as stack:
            stack.callback(shutil.rmtree, self.data_dir, True)  # the data dir (and the SQLite file) afterwards
            if self.kind == "postgres":
                self.url = stack.enter_context(fresh_pg_database(self.pg_server, "cdscale"))
            upgrade(self.url)
            yield self.url

    @contextlib.contextmanager
    def served(self) -> Iterator[tuple[list[str], Meter]]:
        env = {"CONTESTDAY_DATABASE_URL": self.url, "CONTESTDAY_ADMIN_TOKEN": registration_burst.TOKEN}
        if self.kind == "postgres":
            env["CONTESTDAY_REDIS_URL"] = self.redis_url
        with contextlib.ExitStack() as stack:  # one after the other: the first generates the data dir's keys
            instances = [stack.enter_context(serving(self.data_dir, ROOT, **env)) for _ in range(self.count)]
            meter = Meter(instances, self.postmaster if self.kind == "postgres" else None,
                          self.redis_url if self.kind == "postgres" else None)
            yield [i.base for i in instances], meter


def registration(run: Run, args: argparse.Namespace) -> dict[str, Any]:
    with run.database() as url, run.served() as (bases, meter):
        event_id = registration_burst.create_burst_event(bases[0])
        accepted: list[int] = []
        figures: dict[str, Any] = {}
        figures.update(asyncio.run(registration_burst.run_load(bases, event_id, args.clients, args.registrations,
                                                               None, accepted, meter.spent(figures))))
        figures.update(asyncio.run(registration_burst.check_stored(url, event_id, accepted)))
    figures["ops"] = figures["statuses"].get(201, 0)
    return figures


def marks(run: Run, args: argparse.Namespace) -> dict[str, Any]:
    ops = max(1, round(args.marks_rate * args.duration / args.tablets))
    seats = max(100, ops)  # each tablet marks a seat once
    with run.database() as url:
        event_id, tokens, chief = asyncio.run(tablets.prepare(url, args.tablets, seats))
        with run.served() as (bases, meter):
            acked: list[tuple[int, str, str, str]] = []
            figures: dict[str, Any] = {}
            figures.update(asyncio.run(tablets.load(bases, event_id, tokens, chief, ops, seats, args.marks_rate,
                                                    len(bases) - 1, acked, meter.spent(figures))))
        figures.update(asyncio.run(tablets.check_marks(url, acked)))
    figures["ops"] = figures["acked"]
    return figures


def boards(run: Run, args: argparse.Namespace) -> dict[str, Any]:
    with run.database() as url:
        event_id, token, csrf = asyncio.run(board_fanout.prepare(url, run.data_dir))
        with run.served() as (bases, meter):
            figures: dict[str, Any] = {}

            async def publish() -> dict[str, Any]:
                chief = Connection(bases[0], {"Cookie": f"contestday_session={token}", "X-CSRF-Token": csrf})
                try:
                    return await board_fanout.one_round(bases, event_id, args.boards, chief, 1,
                                                        args.client_processes, meter.spent(figures))
                finally:
                    await chief.close()

            figures.update(asyncio.run(publish()))
    figures["ops"] = figures["received"]
    return figures


PHASES: dict[str, Callable[[Run, argparse.Namespace], dict[str, Any]]] = {
    "registration": registration, "marks": marks, "boards": boards}


def describe(label: str, phase: str, f: dict[str, Any]) -> str:
    if "error" in f:
        return f"[{label}] {phase}: FAILED {f['error']}"
    cpu = (f"CPU s: servers {f['cpu_servers_s']}, PostgreSQL {f['cpu_postgres_s']}, Redis {f['cpu_redis_s']}"
           f" → {f['per_cpu_s']} per CPU-s")
    if phase == "registration":
        what = (f"{f['requests']} requests from {f['clients']} clients in {f['elapsed_s']} s: {f['accepted_per_s']}"
                f" accepted/s, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, statuses {f['statuses']}")
    elif phase == "marks":
        what = (f"{f['tablets']} tablets, {f['mode']}: {f['ops_per_s']} acked/s, ack p99 {f['ack_p99_ms']} ms, "
                f"console p99 {f['console_p99_ms']} ms"
                + (f", cross-instance {f['console_cross_p99_ms']} ms ({f['console_cross_seen']} marks)"
                   if "console_cross_p99_ms" in f else "") + f", {f['errors']} refused"
                + (f", {f['dropped']} tablets dropped by the server ({'; '.join(f['why_dropped'])})" if f["dropped"]
                   else "") + (f", the console dropped ({f['console_dropped'][0]})" if f["console_dropped"] else ""))
    else:
        what = (f"{f['received']}/{f['clients']} boards got the publication: p50 {f['p50_ms']} ms, p99 {f['p99_ms']}"
                f" ms, max {f['max_ms']} ms (the boards held by {f['client_processes']} client processes, which spent"
                f" {f['client_cpu_s']} CPU s receiving it)")
    checked = f"; lost {f['lost']}, duplicated {f['duplicated']}" if "lost" in f else ""
    return f"[{label}] {phase}: {what}; {cpu}{checked}"


def summary(results: dict[str, dict[str, dict[str, Any]]], args: argparse.Namespace) -> dict[str, Any]:
    """The targets read from the two-instance deployment, against the SQLite reference."""
    top: dict[str, dict[str, Any]] = {phase: {} for phase in PHASES} | results.get("postgres×2", {})
    reference = results.get("sqlite×1", {})
    ratios = {}
    for phase in ("registration", "marks"):
        pg, lite = top[phase].get("per_cpu_s"), reference.get(phase, {}).get("per_cpu_s")
        ratios[phase] = round(pg / lite, 2) if pg and lite else None
    runs = [f for by_phase in results.values() for f in by_phase.values()]
    found = {
        "instances": [count for kind, count in args.deployments if kind == "postgres"],
        "lost": sum(f.get("lost", 0) for f in runs), "duplicated": sum(f.get("duplicated", 0) for f in runs),
        "failed_phases": sum(1 for f in runs if "error" in f),
        "console_cross_p99_ms": top["marks"].get("console_cross_p99_ms"),
        "marks_rate_offered": args.marks_rate, "marks_per_s": top["marks"].get("ops_per_s"),
        "tablets_dropped": top["marks"].get("dropped"),
        "boards": top["boards"].get("received"), "boards_offered": args.boards,
        "board_p99_ms": top["boards"].get("p99_ms"), "board_client_processes": args.client_processes,
        "pg_vs_sqlite_per_cpu": min((r for r in ratios.values() if r is not None), default=None),
        "pg_vs_sqlite_per_cpu_by_phase": ratios,
    }
    found["targets_met"] = {
        "no_lost_or_duplicated": found["lost"] == 0 and found["duplicated"] == 0 and not found["failed_phases"],
        **{key: found[key] is not None and (found[key] >= bound if key.startswith("pg_") else found[key] <= bound)
           for key, bound in TARGETS.items()}}
    return {**found, "runs": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--boards", type=int, default=None, help="results boards (default 10,000; quick 300)")
    parser.add_argument("--marks-rate", type=float, default=None, help="marks/s offered (default 2,000; quick 200)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of marks (default 5; quick 2)")
    parser.add_argument("--tablets", type=int, default=None, help="default 500; quick 40")
    parser.add_argument("--registrations", type=int, default=None, help="default 6,000; quick 400")
    parser.add_argument("--clients", type=int, default=None, help="registration clients (default 200; quick 40)")
    parser.add_argument("--client-processes", type=int, default=None, help="processes holding the boards "
                        "(default 4; quick 2)")
    parser.add_argument("--postgres", default=None, help="a PostgreSQL server's URL with a maintenance database "
                        "(fresh databases are made there); default: a throw-away cluster")
    parser.add_argument("--redis", default=None, help="default: a throw-away redis-server")
    parser.add_argument("--phases", default=",".join(PHASES), help="a part of them, e.g. boards")
    parser.add_argument("--deployments", default="sqlite1,postgres1,postgres2", help="a part of them")
    args = parser.parse_args()
    args.phases = [name.strip() for name in args.phases.split(",") if name.strip() in PHASES]
    wanted = {name.strip() for name in args.deployments.split(",")}
    args.deployments = [(kind, count) for kind, count in DEPLOYMENTS if f"{kind}{count}" in wanted]
    defaults = {"boards": (10_000, 300), "marks_rate": (2000.0, 200.0), "duration": (5.0, 2.0), "tablets": (500, 40),
                "registrations": (6000, 400), "clients": (200, 40), "client_processes": (4, 2)}
    for name, (full, quick) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    limit = open_files(args.boards + 1000)  # the servers inherit it; each client process holds its share
    print(f"open files: limit {limit} for {args.boards} boards (a single instance holds them all)")
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with contextlib.ExitStack() as stack:
        pg_server = (args.postgres.replace("postgresql://", "postgresql+asyncpg://", 1) if args.postgres
                     else stack.enter_context(postgres_cluster()))
        redis_url = args.redis or stack.enter_context(redis_server())
        postmaster = postmaster_pid(pg_server)
        print(f"PostgreSQL {'given' if args.postgres else 'throw-away'} (CPU {'read' if postmaster else 'not read'}"
              f"), Redis {'given' if args.redis else 'throw-away'}; a shared server's CPU includes its other load")
        for kind, count in args.deployments:
            label = f"{kind}×{count}"
            results[label] = {}
            for phase in args.phases:
                try:
                    figures = PHASES[phase](Run(kind, count, pg_server, redis_url, postmaster), args)
                    figures["per_cpu_s"] = round(figures["ops"] / figures["cpu_total_s"], 1) \
                        if figures["cpu_total_s"] else None
                except Exception as exc:  # the other phases still run; the summary counts it
                    traceback.print_exc()
                    figures = {"error": f"{type(exc).__name__}: {exc}"}
                results[label][phase] = figures
                print(describe(label, phase, figures), flush=True)
    found = summary(results, args)
    for key, met in found["targets_met"].items():
        print(f"target {key}: {'met' if met else 'MISSED'}"
              + (f" ({found[key]} against {TARGETS[key]})" if key in TARGETS else ""))
    print(json.dumps(found, ensure_ascii=False))


if __name__ == "__main__":
    main()
