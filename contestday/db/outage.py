"""Telling "the database is not there" apart from every other error, so the web layer can answer 503
`database_unavailable` (and a tablet keep its operation queued) while a real bug still surfaces as a 500.

What counts (PostgreSQL; learnt by cutting a proxy in front of it, tests/contestday/test_outages.py):
- a new connection that cannot be made: the driver raises a bare `OSError` (refused, unreachable host, DNS) or
  `TimeoutError` (`CONNECT_TIMEOUT_S`), which `watch_connects` turns into `DatabaseUnreachable`, because a bare
  OSError from anywhere else is no outage;
- a connection lost mid-statement or mid-commit: SQLAlchemy's `DBAPIError` with `connection_invalidated`
  (asyncpg's "connection was closed in the middle of operation", a backend terminated by an administrator);
- the server saying it cannot take us now: SQLSTATE class 08 (connection exception), 57P01–57P03 (shutting
  down, crashed, starting up), 53300 (too many connections).
A statement that failed for its own reasons (a constraint, a syntax error, a serialisation failure) is none of
these. The pool then recovers by itself when the server is back: broken connections are invalidated, and a
connection idle for a while is pinged at checkout and replaced if stale (contestday/db/engine.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["CONNECT_TIMEOUT_S", "DatabaseUnreachable", "database_unavailable", "storage_failure", "watch_connects"]

CONNECT_TIMEOUT_S = 5.0  # asyncpg's own default is 60 s: a vanished host would hold every request that long
_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}
# the database can be reached but cannot store: SQLite's primary result codes, PostgreSQL's SQLSTATEs
_SQLITE_STORAGE = {13: "full", 8: "read_only"}  # SQLITE_FULL, SQLITE_READONLY (and its extended codes)
_PG_STORAGE = {"53100": "full", "25006": "read_only"}  # disk_full, read_only_sql_transaction


class DatabaseUnreachable(Exception):
    """A new database connection could not be made (the driver's error is the `__cause__`)."""


def watch_connects(engine: AsyncEngine) -> None:
    """Each new connection of `engine` with a connect timeout, its network failure raised as
    `DatabaseUnreachable`."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        cparams.setdefault("timeout", CONNECT_TIMEOUT_S)
        try:
            return dialect.connect(*cargs, **cparams)
        except (OSError, TimeoutError) as exc:
            raise DatabaseUnreachable(f"{type(exc).__name__}: {exc}") from exc


def _sqlstate(exc: BaseException | None) -> str:
    for candidate in (exc, getattr(exc, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return ""


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database is out of reach (see the module's docstring), not that a statement
    failed."""
    if isinstance(exc, DatabaseUnreachable):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = _sqlstate(exc.orig)
        return state.startswith("08") or state in _SQLSTATES
    return False


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc`, the driver's error it wraps and what it was raised from or during, a few levels deep."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 12:
        candidate = todo.pop(0)
        if candidate is None or any(candidate is s for s in seen):
            continue
        seen.append(candidate)
        todo += [getattr(candidate, "orig", None), candidate.__cause__, candidate.__context__]
    return seen


def storage_failure(exc: BaseException) -> str | None:
    """"full" when the database could not store for want of space (a full disk, SQLite's max_page_count),
    "read_only" when it refuses every write (a read-only file or mount, a read-only PostgreSQL), else None. A write
    refused this way was rolled back: nothing was acknowledged, nothing stored before is touched."""
    for candidate in _causes(exc):
        code = getattr(candidate, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in _SQLITE_STORAGE:
            return _SQLITE_STORAGE[code & 0xFF]
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str) and state in _PG_STORAGE:
            return _PG_STORAGE[state]
    return None
