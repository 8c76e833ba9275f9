"""Database engine factory: async SQLModel on SQLite (WAL, BEGIN IMMEDIATE, synchronous=FULL on every
connection that writes) or PostgreSQL.

synchronous=FULL because an answer means "stored": under WAL, NORMAL fsyncs only at checkpoints, so the last
commits acknowledged before a power cut can be lost; FULL fsyncs the WAL once per commit (the writer's group
commit makes that one fsync per batch). `CONTESTDAY_SQLITE_SYNCHRONOUS=NORMAL` exists for the benchmark that
measures the difference (bench/tablets.py); anything but NORMAL/EXTRA means FULL."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.outage import watch_connects
from contestday.db.writer import BatchingWriter, PooledWriter, Writer

__all__ = ["READ_ONLY", "create_engine", "create_sessionmaker", "create_writer", "reading"]

READ_ONLY = "contestday_read_only"  # an execution option: this engine's sessions only read


def _synchronous() -> str:
    wanted = os.environ.get("CONTESTDAY_SQLITE_SYNCHRONOUS", "FULL").strip().upper()
    return wanted if wanted in ("NORMAL", "EXTRA") else "FULL"


def _sqlite_recipe(engine: sqlalchemy.Engine, synchronous: str | None = None) -> None:
    """Python's sqlite3 opens deferred transactions: one that reads then writes gets SQLITE_BUSY despite the
    busy timeout. Take the write lock up front instead (engineering.md). `synchronous`: None is FULL (or the
    benchmark's switch); a connection that never commits a write may stay NORMAL."""
    sync = synchronous or _synchronous()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", f"synchronous={sync}", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # a session opened for reading only (READ_ONLY) begins deferred: under WAL it never waits for a writer;
        # and its connection is query_only, so a write by mistake fails ("attempt to write a readonly
        # database") instead of taking the write lock unseen. Toggled only when the connection changes role.
        read_only = bool(connection.get_execution_options().get(READ_ONLY))
        info = connection.connection.info
        if info.get("query_only", False) != read_only:
            connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            info["query_only"] = read_only
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(database_url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_recipe(engine.sync_engine)
        return engine
    # every connection the pool opens it keeps: connections beyond pool_size ("overflow") are closed when given
    # back, and under a burst each job then paid a new connection (a backend forked, a TLS attempt) — about
    # 5 ms of PostgreSQL's CPU per registration, 5x the work of the registration itself (bench/scale_out.py)
    if "poolclass" not in kwargs:  # (tests pass NullPool)
        kwargs = {"pool_size": 20, "max_overflow": 0, **kwargs}
    engine = create_async_engine(database_url, **kwargs)
    _ping_when_idle(engine.sync_engine)
    watch_connects(engine)  # a server gone away: a clear DatabaseUnreachable within seconds (contestday/db/outage.py)
    return engine


PING_AFTER_IDLE_S = 2.0


def _ping_when_idle(engine: sqlalchemy.Engine, idle_s: float = PING_AFTER_IDLE_S) -> None:
    """`pool_pre_ping`, but only for a connection that sat in the pool for `idle_s` or more: the asyncpg
    adapter's ping is three round trips (BEGIN, an empty statement, ROLLBACK), which on a busy pool (a hall of
    tablets, every connection back within milliseconds) was a fifth of a mark's statements. A connection that
    fails the ping is replaced (the pool retries with a new one); one that died while in use raises a
    disconnect, which invalidates the pool's older connections as well (contestday/db/outage.py answers it)."""

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info["contestday_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _back(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["contestday_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("contestday_idle_since")
        if since is not None and time.monotonic() - since < idle_s:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:  # the pool discards this one and checks out another (up to three times)
            raise exc.DisconnectionError(f"stale connection: {type(error).__name__}") from error


def reading(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for sessions that only read: on SQLite a deferred, query_only transaction (no write
    lock); on PostgreSQL a READ ONLY transaction. A write through it fails loudly."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def create_writer(database_url: str, engine: AsyncEngine, *, read_only: bool = False) -> Writer:
    """The hot path (contestday/db/writer.py): on SQLite a thread of its own with a synchronous connection
    and group commit (`read_only`: a second such thread whose transactions begin deferred, for the reads
    of every request, e.g. whose session cookie this is); elsewhere the async pool."""
    if database_url.startswith("sqlite"):
        sync_url = sqlalchemy.make_url(database_url).set(drivername="sqlite")
        sync_engine = sqlalchemy.create_engine(sync_url, connect_args={"timeout": 30, "check_same_thread": False},
                                               poolclass=sqlalchemy.pool.StaticPool)
        _sqlite_recipe(sync_engine, "NORMAL" if read_only else None)  # the reader commits no writes
        if read_only:
            return BatchingWriter(sync_engine.execution_options(**{READ_ONLY: True}), name="reader")
        return BatchingWriter(sync_engine)
    return PooledWriter(engine)
