"""Mixed contest day: the tablets' load (bench/tablets.py: 500 tablets, 2,000 marks/s offered) first alone, then
in the same run with organisers and public viewers reading pages as fast as they are answered.

Does page reading slow the judges' tablets down? Each phase gets a fresh database from bench/tablets.py's
`prepare` (one item I, 100 seated contestants, a session per judge, a chief judge), plus what the page readers
need (inserted directly, before the server starts: this measures the day, not its set-up): a second item P with
100 contestants marked by three judges, locked, re-checked, decrypted and published (so the public results and
the PDF list have content), and an organiser's session. Phase 1 runs `tablets.load` alone against `contestday
serve`; phase 2 runs it again on its own fresh database while a second process (so its clients do not delay the
tablets' sockets in this one) keeps --organisers organisers cycling over the registrations list, the chief
judge's console page and its snapshot (what the page's JavaScript loads), the public results, the registrations
summary XLSX and item P's results list as PDF, and --viewers viewers (no login) on the public results page,
each client sending its next request when the last is answered (bench/_http.py keep-alive connections).

Prints each phase's figures, then the comparison; last line one JSON object with ack_p99_ms_alone,
ack_p99_ms_with_pages, ack_p99_ratio (target: at most 2), pages_per_s, pages_by_kind (count, errors, p50/p99
ms), errors (tablets' nacks and missing acks plus pages answered >= 400 or failed; target 0) and each phase's
acked ops/s.

    python bench/mixed_day.py [--tablets 500] [--rate 2000] [--ops 20] [--organisers 20] [--viewers 200]
    python bench/mixed_day.py --quick      # a small smoke run: 50 tablets, 200 marks/s, 2 organisers, 10 viewers
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._http import Connection  # noqa: E402
from bench._server import print_figures, served  # noqa: E402
from bench.tablets import load, prepare  # noqa: E402

__all__ = ["PageLoad", "main", "organiser_pages", "prepare_pages", "read_pages"]

PUBLISHED_ITEM = "P"
TARGET_RATIO = 2.0
READERS_MAX_S = 600.0  # the page readers stop by themselves after this, whatever happens to this process
PAGE_KINDS = ("registrations", "console", "console_snapshot", "public_results", "registrations_xlsx", "results_pdf")


# set-up ---------------------------------------------------------------------------------------------------------
async def _add_published_item(session: Any, event_id: int, contestants: int) -> None:
    """Item P beside the tablets' item I, marked by three judges and published: what the public results page
    and the results list show. The same steps as the chief judge's day (contestday/demo_results.py)."""
    from sqlmodel import select

    from contestday.db.types import utcnow
    from judging.panels import add_judge, assign
    from judging.sealed import blind_seats, lock_scores, reveal
    from judging.service import apply_op
    from registration.checkin.models import Attendance, SeatAssignment, SeatSession
    from registration.checkin.seats import SessionPlan, replace_plan, seat_labels
    from registration.entries.models import Entry, EntryMember
    from registration.entries.tickets import new_ticket_code
    from registration.events.models import Event, Item
    from registration.events.service import event_document, replace_event
    from results.publication import publish
    from results.recheck import record, round_view, start_round
    from scoring.event_file import parse_event_document

    doc = await event_document(session, event_id)
    assert doc is not None
    first = doc["items"][0]
    doc["items"].append({**first, "code": PUBLISHED_ITEM, "name": "已发布赛项"})
    event = await session.get(Event, event_id)
    await replace_event(session, event, parse_event_document(doc))
    await session.commit()
    item = (await session.exec(select(Item).where(Item.event_id == event_id, Item.code == PUBLISHED_ITEM))).one()
    item_id = item.id or 0
    await replace_plan(session, item_id, [SessionPlan("第1场", utcnow() + timedelta(minutes=30), contestants)])
    seat_session = (await session.exec(select(SeatSession).where(SeatSession.item_id == item_id))).one()
    for n, label in enumerate(seat_labels(seat_session)[:contestants]):
        entry = Entry(event_id=event_id, item_id=item_id, unit=f"发布单位{n}", unit_key=f"发布单位{n}",
                      ticket_code=new_ticket_code())
        session.add(entry)
        await session.flush()
        session.add(EntryMember(entry_id=entry.id or 0, event_id=event_id, person_hash=f"p{n}", person_key=f"p{n}",
                                id_number_enc="-", id_masked="-", id_kind="resident", name=f"获奖者{n}",
                                gender="female", birth_date=date(1995, 5, 5), phone="13900000000", identity="employee"))
        session.add(Attendance(entry_id=entry.id or 0, event_id=event_id, status="present", station="B"))
        session.add(SeatAssignment(entry_id=entry.id or 0, item_id=item_id, session_id=seat_session.id or 0,
                                   seat_label=label, draw_number=n + 1, station="B"))
    judges = [await add_judge(session, event_id, f"发布裁判{k}", "评审中心") for k in range(3)]
    for judge in judges:
        await assign(session, judge, item_id, "judge")
    await session.commit()
    seats = [s["seat"] for s in await blind_seats(session, item_id) if s["occupied"]]
    for n, seat in enumerate(seats):
        for k, judge in enumerate(judges):  # measurement agreed by all; judgement close; totals distinct: no ties
            for criterion, value in (("A", f"{30 + n * 0.25:.2f}"), ("B", f"{20 + k * 0.5 + n % 7 * 0.01:.2f}")):
                applied = await apply_op(session, judge, {
                    "op_id": f"prep-{seat}-{criterion}-{judge.id}", "kind": "set_score", "item": PUBLISHED_ITEM,
                    "seat": seat, "criterion": criterion, "value": value, "base_version": 0})
                assert applied.reply["type"] == "ack", applied.reply
    await lock_scores(session, item_id, "裁判长")
    await session.commit()
    await start_round(session, event_id, PUBLISHED_ITEM, "裁判长")
    for seat_row in (await round_view(session, event_id, PUBLISHED_ITEM))["rounds"][-1]["seats"]:
        await record(session, event_id, PUBLISHED_ITEM, seat_row["seat"], "ok", "", "裁判长")
    await reveal(session, item_id, 1, "加密裁判")
    await reveal(session, item_id, 2, "加密裁判")
    await publish(session, event_id, PUBLISHED_ITEM, "裁判长")


async def prepare_pages(url: str, data_dir: Path, event_id: int, contestants: int) -> str:
    """After `tablets.prepare`: the published item P and an organiser's session; returns the session token.
    The data dir's secret and audit keys are made here, as the server will read them."""
    from contestday.accounts import service as accounts
    from contestday.db.engine import create_engine, create_sessionmaker
    from contestday.settings import load_settings
    from judging import audit

    settings = load_settings({"CONTESTDAY_DATA_DIR": str(data_dir), "CONTESTDAY_DATABASE_URL": url}, dotenv=False)
    assert settings.audit_key is not None
    audit.use_key(settings.audit_key)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            await _add_published_item(session, event_id, contestants)
            organiser = await accounts.add_user(session, "organiser", "pw-12345678", ["organiser"])
            token, _csrf = await accounts.start_session(session, organiser)
            await session.commit()
    finally:
        await engine.dispose()
    return token


@dataclass(frozen=True)
class Prepared:
    data_dir: Path
    event_id: int
    tokens: list[str]
    chief: str
    organiser: str


def prepare_phase(tablets: int, seats: int) -> Prepared:
    """A fresh data dir with everything both phases need (the caller removes it; removed here on a failure)."""
    data_dir = Path(tempfile.mkdtemp(prefix="contestday-bench-"))
    url = f"sqlite+aiosqlite:///{data_dir / 'contestday.sqlite3'}"
    try:
        event_id, tokens, chief = asyncio.run(prepare(url, tablets, seats))
        organiser = asyncio.run(prepare_pages(url, data_dir, event_id, seats))
    except BaseException:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return Prepared(data_dir, event_id, tokens, chief, organiser)


# page readers (a process of their own) ---------------------------------------------------------------------------
def organiser_pages(event_id: int, kinds: tuple[str, ...] = PAGE_KINDS) -> list[tuple[str, str]]:
    """(kind, path) of what an organiser keeps open on contest day, in the order one cycles through them."""
    paths = {"registrations": f"/admin/events/{event_id}/registrations/list",
             "console": f"/console/events/{event_id}?item=I",
             "console_snapshot": f"/api/console/events/{event_id}/items/I",
             "public_results": f"/results/{event_id}",
             "registrations_xlsx": f"/admin/events/{event_id}/registrations/summary.xlsx",
             "results_pdf": f"/api/events/{event_id}/items/{PUBLISHED_ITEM}/lists/results.pdf"}
    return [(kind, paths[kind]) for kind in kinds]


@dataclass(frozen=True)
class PageLoad:
    base: str
    event_id: int
    organiser_token: str
    organisers: int
    viewers: int
    kinds: tuple[str, ...] = PAGE_KINDS


class Tally:
    """Answers per kind: latencies of the answered ones and the size of the last (a page that came back
empty would be measured too cheap), errors (status >= 400 or no answer) with a sample."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.sizes: dict[str, int] = {}
        self.samples: list[str] = []

    def answered(self, kind: str, ms: float, size: int) -> None:
        self.latencies.setdefault(kind, []).append(ms)
        self.sizes[kind] = size

    def failed(self, kind: str, what: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.samples) < 5:
            self.samples.append(f"{kind}: {what}")

    def figures(self, elapsed: float) -> dict[str, Any]:
        by_kind = {}
        for kind in sorted(set(self.latencies) | set(self.errors)):
            values = sorted(self.latencies.get(kind, []))
            by_kind[kind] = {"count": len(values), "errors": self.errors.get(kind, 0),
                             "p50_ms": _pct(values, 0.5), "p99_ms": _pct(values, 0.99),
                             "kib": round(self.sizes.get(kind, 0) / 1024, 1)}
        pages = sum(len(v) for v in self.latencies.values())
        return {"pages": pages, "pages_elapsed_s": round(elapsed, 2), "pages_per_s": round(pages / elapsed, 1),
                "page_errors": sum(self.errors.values()), "pages_by_kind": by_kind, "page_error_samples": self.samples}


def _pct(values: list[float], q: float) -> float | None:
    return round(values[min(len(values) - 1, int(len(values) * q))], 1) if values else None


async def _client(base: str, headers: dict[str, str], cycle: list[tuple[str, str]], offset: int, tally: Tally,
                  running: Callable[[], bool], first: asyncio.Event, first_left: list[int]) -> None:
    """One reader: its next request once the last is answered, until told to stop."""
    conn = Connection(base, headers)
    k = offset
    try:
        while running():
            kind, path = cycle[k % len(cycle)]
            k += 1
            began = time.perf_counter()
            try:
                response = await conn.request("GET", path)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.failed(kind, repr(exc))
                await conn.close()
            else:
                if response.status >= 400:
                    tally.failed(kind, f"{response.status} {response.body[:120]!r}")
                else:
                    tally.answered(kind, (time.perf_counter() - began) * 1000, len(response.body))
            if k == offset + 1:
                first_left[0] -= 1
                if not first_left[0]:
                    first.set()
    finally:
        await conn.close()


async def read_pages(spec: PageLoad, pipe: Pipe) -> dict[str, Any]:
    """Run the readers: say "running" once each has had its first answer, stop on "stop" (or after
    READERS_MAX_S), return the tally's figures."""
    tally, stop, first = Tally(), asyncio.Event(), asyncio.Event()
    deadline = time.monotonic() + READERS_MAX_S

    def running() -> bool:
        return not stop.is_set() and time.monotonic() < deadline

    organiser = {"Cookie": f"contestday_session={spec.organiser_token}"}
    pages = organiser_pages(spec.event_id, spec.kinds)
    public = [("public_results", f"/results/{spec.event_id}")]
    first_left = [spec.organisers + spec.viewers]
    clients = [*(_client(spec.base, organiser, pages, n, tally, running, first, first_left)
                 for n in range(spec.organisers)),
               *(_client(spec.base, {}, public, 0, tally, running, first, first_left) for _ in range(spec.viewers))]
    started = time.perf_counter()
    tasks = [asyncio.create_task(c) for c in clients]
    await first.wait()
    pipe.send("running")
    await asyncio.to_thread(pipe.poll, READERS_MAX_S)
    stop.set()
    await asyncio.gather(*tasks)
    return tally.figures(time.perf_counter() - started)


def _readers_process(spec: PageLoad, pipe: Pipe) -> None:
    pipe.send(asyncio.run(read_pages(spec, pipe)))


# phases -----------------------------------------------------------------------------------------------------------
async def _tablets(ready: Prepared, base: str, args: argparse.Namespace) -> dict[str, Any]:
    return await load(base, ready.event_id, ready.tokens, ready.chief, args.ops, args.seats, args.rate)


def phase_alone(args: argparse.Namespace) -> dict[str, Any]:
    ready = prepare_phase(args.tablets, args.seats)
    try:
        with served(ready.data_dir) as base:
            return asyncio.run(_tablets(ready, base, args))
    finally:
        shutil.rmtree(ready.data_dir, ignore_errors=True)


def phase_with_pages(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    ready = prepare_phase(args.tablets, args.seats)
    try:
        with served(ready.data_dir) as base:
            spec = PageLoad(base, ready.event_id, ready.organiser, args.organisers, args.viewers, tuple(args.pages))
            mine, theirs = multiprocessing.get_context("spawn").Pipe()
            readers = multiprocessing.get_context("spawn").Process(target=_readers_process, args=(spec, theirs),
                                                                   daemon=True)
            readers.start()
            try:
                if not mine.poll(120):
                    raise RuntimeError("the page readers did not start")
                assert mine.recv() == "running"
                tablets = asyncio.run(_tablets(ready, base, args))
                mine.send("stop")
                if not mine.poll(120):
                    raise RuntimeError("the page readers did not stop")
                pages: dict[str, Any] = mine.recv()
            finally:
                readers.join(timeout=30)
                if readers.is_alive():
                    readers.terminate()
            return tablets, pages
    finally:
        shutil.rmtree(ready.data_dir, ignore_errors=True)


def _tablet_errors(figures: dict[str, Any], expected: int) -> int:
    """Nacks plus marks never answered."""
    return int(figures["errors"]) + max(0, expected - int(figures["acked"]) - int(figures["errors"]))


def summary(args: argparse.Namespace, alone: dict[str, Any], mixed: dict[str, Any],
            pages: dict[str, Any]) -> dict[str, Any]:
    expected = args.tablets * args.ops
    errors_alone, errors_mixed = _tablet_errors(alone, expected), _tablet_errors(mixed, expected)
    p99_alone, p99_mixed = alone["ack_p99_ms"], mixed["ack_p99_ms"]
    ratio = round(p99_mixed / p99_alone, 2) if p99_alone and p99_mixed is not None else None
    errors = errors_alone + errors_mixed + pages["page_errors"]
    return {"tablets": args.tablets, "rate": args.rate, "ops": args.ops, "organisers": args.organisers,
            "viewers": args.viewers, "ack_p50_ms_alone": alone["ack_p50_ms"], "ack_p50_ms_with_pages":
            mixed["ack_p50_ms"], "ack_p99_ms_alone": p99_alone, "ack_p99_ms_with_pages": p99_mixed,
            "ack_p99_ratio": ratio, "ops_per_s_alone": alone["ops_per_s"], "ops_per_s_with_pages": mixed["ops_per_s"],
            "console_p99_ms_alone": alone["console_p99_ms"], "console_p99_ms_with_pages": mixed["console_p99_ms"],
            "pages": pages["pages"], "pages_per_s": pages["pages_per_s"], "pages_by_kind": pages["pages_by_kind"],
            "tablet_errors_alone": errors_alone, "tablet_errors_with_pages": errors_mixed,
            "page_errors": pages["page_errors"], "errors": errors,
            "target_met": ratio is not None and ratio <= TARGET_RATIO and errors == 0}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--tablets", type=int, default=500)
    parser.add_argument("--rate", type=float, default=2000, help="marks per second offered by all tablets (open loop)")
    parser.add_argument("--ops", type=int, default=20, help="marks per tablet in each phase (at most --seats)")
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--organisers", type=int, default=20)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--pages", default=",".join(PAGE_KINDS),
                        help=f"the organisers' pages, a comma list of {', '.join(PAGE_KINDS)}")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 50 tablets, 200 marks/s, 2 organisers, 10 viewers")
    args = parser.parse_args()
    if args.quick:
        args.tablets, args.rate, args.organisers, args.viewers = 50, 200.0, 2, 10
    args.pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = sorted(set(args.pages) - set(PAGE_KINDS))
    if unknown or not args.pages:
        parser.error(f"--pages: unknown {unknown}; choose from {', '.join(PAGE_KINDS)}")
    if args.ops > args.seats:
        parser.error("--ops: at most --seats (each mark of a tablet goes to another seat)")
    return args


def main() -> None:
    args = _arguments()
    alone = phase_alone(args)
    print_figures({"phase": "tablets alone", **alone})
    mixed, pages = phase_with_pages(args)
    print_figures({"phase": "tablets with page readers", **mixed, **{k: v for k, v in pages.items()
                                                                      if k != "pages_by_kind"}})
    print_figures(summary(args, alone, mixed, pages))


if __name__ == "__main__":
    main()
