"""R8 (issue 17): a full disk or a read-only database. Registrations and tablet marks acknowledged before the fault
are all there after it; while it lasts a registration gets a clear refusal (a stable code, a Chinese message, no
500) and a tablet's operation no ack (the socket closes with 1013 and the tablet keeps it queued); once the fault is
gone the same server writes again.

The faults are made where the database makes them. SQLite: `PRAGMA max_page_count` set to the file's current size on
every write connection (SQLITE_FULL, what a full disk gives) and `PRAGMA query_only` on them (SQLITE_READONLY, "attempt
to write a readonly database", what a file or mount that turned read-only gives); both at the writer's BEGIN, the
readers untouched. PostgreSQL: the server's own refusals, raised by a trigger on the written tables — SQLSTATE 53100
`disk_full` and 25006 `read_only_sql_transaction` (a disk cannot be filled on a shared test server)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy
import websockets
from sqlalchemy import event, text

from contestday.db.engine import READ_ONLY
from tests.judging.test_judging_ws import connect, op, recv
from tests.registration.test_registration_api import person
from tests.support.judging_setup import judge_cookie, seated_contest

FAULTS = {"full": ("database_full", 507, "存储空间已满"), "read_only": ("database_read_only", 503, "只读")}
_PG_STATE = {"full": "53100", "read_only": "25006"}
_PG_TABLES = ("entry", "score_event")


@contextlib.contextmanager
def sqlite_fault_switch() -> Iterator[dict[str, str | None]]:
    """A switch (`switch["fault"] = "full" | "read_only" | None`) over every SQLite write transaction begun
    while it is installed."""
    switch: dict[str, str | None] = {"fault": None}

    def on_begin(connection: Any) -> None:  # before the recipe's BEGIN IMMEDIATE (class listeners come first)
        if connection.dialect.name != "sqlite" or connection.get_execution_options().get(READ_ONLY):
            return
        fault = switch["fault"]
        # max_page_count 1 stands for "the current size": SQLite never sets it below that
        connection.exec_driver_sql(f"PRAGMA max_page_count = {1 if fault == 'full' else 1073741823}")
        connection.exec_driver_sql(f"PRAGMA query_only = {int(fault == 'read_only')}")
        connection.connection.info["query_only"] = False  # the recipe's cache: a writer, as far as it knows

    event.listen(sqlalchemy.engine.Engine, "begin", on_begin)
    try:
        yield switch
    finally:
        event.remove(sqlalchemy.engine.Engine, "begin", on_begin)


async def pg_fault(db: Any, fault: str | None) -> None:
    async with db() as session:
        for table in _PG_TABLES:
            await session.exec(text(f"DROP TRIGGER IF EXISTS storage_fault ON {table}"))  # type: ignore[call-overload]
        if fault is not None:
            await session.exec(text(  # type: ignore[call-overload]
                "CREATE OR REPLACE FUNCTION storage_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"RAISE EXCEPTION 'storage fault' USING ERRCODE = '{_PG_STATE[fault]}'; END $$"))
            for table in _PG_TABLES:
                await session.exec(text(  # type: ignore[call-overload]
                    f"CREATE TRIGGER storage_fault BEFORE INSERT OR UPDATE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION storage_fault()"))
        await session.commit()


async def _register(http: httpx.AsyncClient, event_id: int) -> httpx.Response:
    return await http.post(f"/api/events/{event_id}/registrations", json=person(item="WPS", unit="某学校"))


async def _stored(db: Any) -> tuple[set[str], dict[tuple[str, str], tuple[int, int]]]:
    async with db() as session:
        tickets = {r[0] for r in (await session.exec(text("SELECT ticket_code FROM entry"))).all()}  # type: ignore[call-overload]
        scores = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT n.seat_label, c.code, s.value, s.version FROM score s JOIN criterion c ON c.id = s.criterion_id "
            "JOIN seat_assignment n ON n.entry_id = s.entry_id"))).all()
    return tickets, {(str(r[0]), str(r[1])): (int(r[2]), int(r[3])) for r in scores}


@pytest.mark.reliability
@pytest.mark.parametrize("fault", ["full", "read_only"])
async def test_a_full_or_read_only_database_refuses_clearly_and_loses_none_of_20_registrations_and_8_marks(
        settings: Any, db: Any, live_server: str, fault: str) -> None:
    code, status, words = FAULTS[fault]
    on_sqlite = settings.database_url.startswith("sqlite")
    contest = await seated_contest(db)
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    with sqlite_fault_switch() as switch:
        async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
            acked_tickets = set()
            for _ in range(20):
                answer = await _register(http, contest.event_id)
                assert answer.status_code == 201, answer.text
                acked_tickets.add(answer.json()["ticket_code"])
            sock = await connect(live_server, cookie)
            await recv(sock)
            acked_marks = {}
            for n in range(8):
                seat, criterion = contest.seats[n % 4], "AB"[n // 4]
                await sock.send(json.dumps(op(f"m{n}", seat, f"{20 + n}", criterion=criterion)))
                reply = await recv(sock)
                assert reply["type"] == "ack", reply
                acked_marks[(seat, criterion)] = (100 * (20 + n), 1)

            if on_sqlite:
                switch["fault"] = fault
            else:
                await pg_fault(db, fault)
            refused = None
            for _ in range(300):  # a full file still takes rows into its free pages: write until it is full
                answer = await _register(http, contest.event_id)
                if answer.status_code == 201:
                    acked_tickets.add(answer.json()["ticket_code"])
                    continue
                refused = answer
                break
            assert refused is not None, "the fault never showed"
            body = refused.json()
            assert refused.status_code == status and body["code"] == code, refused.text
            assert words in body["message"] and re.search("[\u4e00-\u9fff]", body["message"]), body
            page = await http.get(f"/r/{contest.event_id}")  # reading goes on
            assert page.status_code == 200
            versions: dict[str, int] = {}
            queued, closed = None, None
            for k in range(40):  # marks while the fault lasts: those acked (room left in a full file) must stay
                seat = contest.seats[k % 4]
                queued = op(f"d{k}", seat, f"{k % 10}", base_version=versions.get(seat, 0), criterion="S")
                await sock.send(json.dumps(queued))
                try:
                    reply = await recv(sock)
                except websockets.exceptions.ConnectionClosed as exc:
                    closed = exc  # no ack: the tablet keeps the operation queued
                    break
                assert reply["type"] == "ack", reply
                versions[seat] = reply["version"]
                acked_marks[(seat, "S")] = (100 * (k % 10), reply["version"])
            assert closed is not None and closed.rcvd is not None and closed.rcvd.code == 1013, closed
            assert queued is not None

            if on_sqlite:
                switch["fault"] = None
            else:
                await pg_fault(db, None)
            tickets, scores = await _stored(db)
            assert acked_tickets <= tickets and len(tickets) == len(acked_tickets) + len(contest.seats)
            assert {k: v for k, v in scores.items() if k in acked_marks} == acked_marks
            assert scores.get((queued["seat"], "S"), (0, 0))[1] == queued["base_version"]  # not stored
            again = await connect(live_server, cookie)  # the tablet reconnects and replays its queue
            await recv(again)
            await again.send(json.dumps(queued))
            replayed = await recv(again)
            assert replayed["type"] == "ack" and replayed["version"] == queued["base_version"] + 1, replayed
            await again.close()
            assert (await _register(http, contest.event_id)).status_code == 201
    await asyncio.sleep(0)
