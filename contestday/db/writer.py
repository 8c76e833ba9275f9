"""The write path of the busy moments (a registration burst, a hall of tablets, the check-in queue): short
jobs of SQLAlchemy Core statements, each a plain function of a synchronous `Connection`, run by a `Writer`.

- On SQLite (one writer at a time anyway) `BatchingWriter` runs every job on one thread with its own
  connection and commits them in groups: it takes whatever jobs are waiting (up to `max_batch`), runs each
  inside its own SAVEPOINT (a refused job rolls back alone), commits once, and only then resolves the
  callers' futures. An answer therefore always means "stored", and a burst costs one commit per group
  instead of one per request; the event loop never waits on the database.
- On PostgreSQL (several instances, many connections) `PooledWriter` runs each job in its own transaction
  on the async pool, through `run_sync`: the same job code, concurrency left to the server.
- `run_in_session` runs a job inside an open `AsyncSession` (pages and imports that already hold one), in a
  savepoint, then commits: again the same code.

A job raises to refuse (e.g. an `Refusal`): its savepoint is rolled back and the exception reaches the
caller. Jobs must not await and should stay short: they hold SQLite's write lock.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NoReturn, Protocol, TypeVar, cast

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import ignoring_insert

__all__ = ["Backlog", "BatchingWriter", "Job", "PooledWriter", "Prepared", "Retry", "Writer", "insert_or_ignore",
           "row_values", "run_in_session", "run_job", "table"]

T = TypeVar("T")
Job = Callable[[Connection], T]
log = logging.getLogger("contestday.writer")


class Writer(Protocol):
    backlog: Backlog

    async def run(self, job: Callable[[Connection], T]) -> T: ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class Backlog:
    """The jobs handed to a writer and not yet answered, in the order they came (touched on the event loop
    only). `oldest_wait()` says how long the oldest has waited: what tells the pages' admission
    (contestday/web/admission.py) that marks are queueing."""

    def __init__(self) -> None:
        self._waiting: OrderedDict[int, float] = OrderedDict()
        self._numbers = itertools.count()

    def enter(self) -> int:
        number = next(self._numbers)
        self._waiting[number] = time.monotonic()
        return number

    def leave(self, number: int) -> None:
        self._waiting.pop(number, None)

    def __len__(self) -> int:
        return len(self._waiting)

    def oldest_wait(self) -> float:
        """Seconds the oldest unanswered job has waited; 0.0 when none waits."""
        for since in self._waiting.values():
            return time.monotonic() - since
        return 0.0


_Pending = tuple[Callable[[Connection], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller gave up (a closed connection): the job's effect stands regardless
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class BatchingWriter:
    """One thread, one connection, group commit (SQLite)."""

    def __init__(self, engine: Engine, max_batch: int = 256, name: str = "writer") -> None:
        self.engine, self.max_batch, self.name = engine, max_batch, name
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = self.jobs = 0  # counters, for benchmarks and /health-style introspection
        self.backlog = Backlog()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"contestday-{self.name}", daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
            self._thread = None
        self.engine.dispose()

    async def run(self, job: Callable[[Connection], T]) -> T:
        if self._thread is None:
            self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        number = self.backlog.enter()
        try:
            self._queue.put((job, future, loop))
            return await future
        finally:
            self.backlog.leave(number)

    def _loop(self) -> None:
        with self.engine.connect() as conn:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                stop = False
                while len(batch) < self.max_batch:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                self._run_batch(conn, batch)
                if stop:
                    return

    def _run_batch(self, conn: Connection, batch: list[_Pending]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            with conn.begin():
                # SAVEPOINTs straight on the driver: SQLAlchemy's nested transactions cost 40 µs each
                raw = conn.connection.driver_connection
                assert raw is not None
                for job, _future, _loop in batch:
                    raw.execute("SAVEPOINT job")
                    try:
                        result = job(conn)
                    except Exception as exc:  # the job's refusal (or its bug): undo it alone
                        if not raw.in_transaction:  # SQLite rolled the whole transaction back itself (a full
                            raise  # disk, an I/O error): every job of the batch is lost, each is told so below
                        raw.execute("ROLLBACK TO job")
                        raw.execute("RELEASE job")
                        outcomes.append((None, exc))
                    else:
                        raw.execute("RELEASE job")
                        outcomes.append((result, None))
        except Exception as exc:  # BEGIN or COMMIT failed: nothing of the batch is stored, say so to everyone
            log.exception("%s batch of %d failed", self.name, len(batch))
            outcomes = [(None, exc)] * len(batch)
        self.batches += 1
        self.jobs += len(batch)
        for (_job, future, loop), (result, error) in zip(batch, outcomes, strict=True):
            loop.call_soon_threadsafe(_settle, future, result, error)


class PooledWriter:
    """Each job in its own transaction on the async pool (PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.backlog = Backlog()

    def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def run(self, job: Callable[[Connection], T]) -> T:
        number = self.backlog.enter()
        try:
            async with self.engine.begin() as conn:
                return await conn.run_sync(job)
        finally:
            self.backlog.leave(number)


class Retry(Exception):
    """Raised by a job that lost a race on another connection (PostgreSQL: the same op id, the same first
    mark, the same nonce stored meanwhile): run again, it finds the winner's row."""


async def run_job(target: AsyncSession | Writer, job: Callable[[Connection], T], attempts: int = 1) -> T:
    """Run `job` on a writer, or inside a session that already holds a transaction; again on `Retry`, up to
    `attempts` times in all."""
    for attempt in range(1, attempts + 1):
        try:
            if isinstance(target, AsyncSession):
                return await run_in_session(target, job)
            return await target.run(job)
        except Retry:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


async def run_in_session(session: AsyncSession, job: Callable[[Connection], T]) -> T:
    """Run a job in the session's transaction, in a savepoint, and commit on success. Rows the session had
    loaded before are detached (a new query reads them afresh)."""

    def in_savepoint(sync_session: Any) -> T:
        try:
            with sync_session.begin_nested():
                return job(sync_session.connection())
        finally:
            sync_session.expunge_all()  # the job wrote around the ORM: rows loaded before are now detached

    result = await session.run_sync(in_savepoint)
    await session.commit()
    return result


def table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


_DEFAULTS: dict[type[SQLModel], list[tuple[str, Any, Any]]] = {}


def row_values(model: type[SQLModel], **given: Any) -> dict[str, Any]:
    """Column values for a Core INSERT of `model`: the given ones plus the model's Python-side defaults
    (SQLModel keeps `default` and `default_factory` in the model, not in the table)."""
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = [(name, f.default_factory, f.default) for name, f in model.model_fields.items()
                    if name != "id" and (f.default_factory is not None or not f.is_required())]
        _DEFAULTS[model] = defaults
    values = dict(given)
    for name, factory, default in defaults:
        if name not in values:
            values[name] = factory() if factory is not None else default
    return values


_IGNORING: dict[tuple[str, type[SQLModel]], Any] = {}


def insert_or_ignore(conn: Connection, model: type[SQLModel]) -> Prepared:
    """INSERT … ON CONFLICT DO NOTHING for `model` on this connection's dialect, built once (execute it with
    the row as parameters; `rowcount` 0 means a unique constraint said no)."""
    key = (conn.dialect.name, model)
    statement = _IGNORING.get(key)
    if statement is None:
        statement = _IGNORING[key] = Prepared(ignoring_insert(key[0], table(model)))
    return statement


class _Rows:
    """The few parts of a result a job uses, over plain tuples."""

    __slots__ = ("inserted_id", "rowcount", "rows")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int, inserted_id: int | None) -> None:
        self.rows, self.rowcount, self.inserted_id = rows, rowcount, inserted_id

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalars(self) -> list[Any]:
        return [r[0] for r in self.rows]

    def scalar_one(self) -> Any:
        [row] = self.rows
        return row[0]


class _SqlAlchemyRows(_Rows):
    def __init__(self, result: Any, returns_rows: bool) -> None:
        rows = [tuple(r) for r in result] if returns_rows else []
        inserted = None
        if not returns_rows and result.context.isinsert and not result.context.executemany:
            inserted = result.inserted_primary_key[0] if result.inserted_primary_key else None
        super().__init__(rows, result.rowcount, inserted)


class Prepared:
    """A Core statement compiled once, run with a dict of parameters. On the writer's own SQLite connection
    it goes straight to the DB-API cursor with the compiled SQL and the columns' bind/result processors
    (about a tenth of SQLAlchemy's per-execution cost); on any other connection (PostgreSQL, a session's
    aiosqlite) through `Connection.execute`. Rows come back as plain tuples, in the selected order."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self.returns_rows = bool(getattr(statement, "is_select", False))
        self._sqlite: dict[tuple[str, ...], tuple[str, list[tuple[str, Any, Any]], list[Any]]] = {}
        self._pg: dict[tuple[str, ...], tuple[str, list[tuple[str, Any, Any]], bool]] = {}
        self._pg_results: dict[tuple[str, tuple[int, ...]], list[Any]] = {}
        # IN lists are rendered per execution: leave those to SQLAlchemy
        self.direct = not any(b.expanding for b in statement._get_embedded_bindparams())

    def _compile(self, conn: Connection, keys: tuple[str, ...]) -> tuple[Any, list[tuple[str, Any, Any]]]:
        """The statement compiled for this dialect and these keys, and its positional parameters: (key, default
        or _REQUIRED, the bind processor SQLAlchemy itself would apply)."""
        # an INSERT's columns are the keys given (as SQLAlchemy compiles it per parameter set)
        compiled: Any = self.statement.compile(dialect=conn.dialect, column_keys=list(keys))
        processors = compiled._bind_processors
        params = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            default = bind.effective_value if not bind.required else _REQUIRED
            params.append((bind.key, default, processors.get(name)))
        return compiled, params

    def _compile_sqlite(self, conn: Connection, keys: tuple[str, ...]) -> tuple[str, list[tuple[str, Any, Any]],
                                                                                 list[Any]]:
        compiled, params = self._compile(conn, keys)
        results = [c.type._cached_result_processor(conn.dialect, None)
                   for c in getattr(self.statement, "selected_columns", [])]
        return compiled.string, params, results

    def execute(self, conn: Connection, values: dict[str, Any] | list[dict[str, Any]] | None = None) -> _Rows:
        """Run with one parameter dict, or with each of a list (rowcount summed)."""
        if isinstance(values, list):
            done = [self.execute(conn, v) for v in values]
            return _Rows([], sum(d.rowcount for d in done), None)
        values = values or {}
        if self.direct and conn.dialect.driver == "asyncpg":
            return self._execute_asyncpg(conn, values)
        if not self.direct or conn.dialect.driver != "pysqlite":
            return _SqlAlchemyRows(conn.execute(self.statement, values), self.returns_rows)
        keys = tuple(values)
        prepared = self._sqlite.get(keys)
        if prepared is None:
            prepared = self._sqlite[keys] = self._compile_sqlite(conn, keys)
        sql, params, results = prepared
        args = self._arguments(params, values)
        raw = conn.connection.driver_connection
        assert raw is not None
        try:
            cursor = raw.execute(sql, args)
        except conn.dialect.loaded_dbapi.Error as exc:  # the same exception SQLAlchemy would raise
            raise DBAPIError.instance(sql, args, exc, conn.dialect.loaded_dbapi.Error) from exc
        rows: list[tuple[Any, ...]] = []
        if self.returns_rows:
            rows = _processed(cursor.fetchall(), results)
        return _Rows(rows, cursor.rowcount, cursor.lastrowid)

    def _arguments(self, params: list[tuple[str, Any, Any]], values: dict[str, Any]) -> list[Any]:
        args = []
        for key, default, process in params:
            value = values.get(key, default)
            if value is _REQUIRED:
                raise KeyError(f"parameter {key!r} missing")
            args.append(process(value) if process is not None and value is not None else value)
        return args

    def _execute_asyncpg(self, conn: Connection, values: dict[str, Any]) -> _Rows:
        """On PostgreSQL, the compiled SQL ($n placeholders, the casts SQLAlchemy renders) straight to asyncpg's
        prepared statement on the adapter's own connection and transaction, with the bind and result processors
        SQLAlchemy would apply: a Core execution through the async adapter cost more CPU than the statement
        (bench/scale_out.py). An error is raised as SQLAlchemy would raise it (IntegrityError for a unique
        constraint, a lost connection invalidated)."""
        keys = tuple(values)
        compiled = self._pg.get(keys)
        if compiled is None:
            statement, params = self._compile(conn, keys)
            returning = bool(statement.effective_returning) and not self.returns_rows
            compiled = self._pg[keys] = (statement.string, params, returning)
        sql, params, returning = compiled
        args = self._arguments(params, values)
        adapted: Any = conn.connection.dbapi_connection
        try:
            rows, status, oids = await_(_asyncpg_fetch(adapted, sql, args))
        except Exception as error:
            _raise_as_sqlalchemy(conn, adapted, sql, args, error)
        if self.returns_rows and rows:
            results = self._pg_results.get((sql, oids))
            if results is None:
                columns = list(self.statement.selected_columns)
                results = self._pg_results[(sql, oids)] = [
                    c.type._cached_result_processor(conn.dialect, oid) for c, oid in zip(columns, oids, strict=True)]
            return _Rows(_processed([tuple(r) for r in rows], results), _rowcount(status), None)
        inserted = rows[0][0] if returning and rows else None
        return _Rows([], _rowcount(status), inserted)


def _processed(rows: list[tuple[Any, ...]], results: list[Any]) -> list[tuple[Any, ...]]:
    """Each row through the columns' result processors (None: the driver's value as it is)."""
    if not any(results):
        return rows
    return [tuple(p(v) if p is not None else v for p, v in zip(results, r, strict=True)) for r in rows]


def _rowcount(status: str | None) -> int:
    """asyncpg's status message ("UPDATE 3", "INSERT 0 1", "SELECT 2") as the DB-API's rowcount."""
    if not status:
        return -1
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


async def _asyncpg_fetch(adapted: Any, sql: str, args: list[Any]) -> tuple[list[Any], str | None, tuple[int, ...]]:
    """What the adapter's cursor does for one execution (sqlalchemy/dialects/postgresql/asyncpg.py
    `_prepare_and_execute`, SQLAlchemy 2.1, pinned): under its mutex, in its transaction (begun if not yet),
    the statement from its per-connection cache of prepared statements."""
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        prepared, attributes = await adapted._prepare(sql, 0)
        rows = await prepared.fetch(*args)
        return rows, prepared.get_statusmsg(), tuple(a.type.oid for a in attributes or ())


def _raise_as_sqlalchemy(conn: Connection, adapted: Any, sql: str, args: list[Any], error: Exception) -> NoReturn:
    dbapi = conn.dialect.loaded_dbapi
    try:
        if isinstance(error, dbapi.Error):
            raise error
        adapted._handle_exception(error)  # raises asyncpg's error as the adapter's DB-API error
    except dbapi.Error as translated:
        lost = conn.dialect.is_disconnect(translated, adapted, None)
        wrapped = DBAPIError.instance(sql, args, translated, dbapi.Error, connection_invalidated=lost,
                                      dialect=conn.dialect)
        if lost:
            conn.invalidate(translated)
        raise wrapped from translated
    raise AssertionError("unreachable")


_REQUIRED = object()
