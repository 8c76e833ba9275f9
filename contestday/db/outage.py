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

__all__ = ["CONNECT_TIMEOUT_S", "DatabaseUnreachable", "database_unavailable", "watch_connects"]

CONNECT_TIMEOUT_S = 5.0  # asyncpg's own default is 60 s: a vanished host would hold every request that long
_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


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
