"""The group-commit writer: a refused job rolls back alone, an answer means committed, and the prepared
statements read and write exactly what SQLAlchemy would."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import bindparam, select

from contestday.db.engine import create_engine, create_writer
from contestday.db.types import UTCDateTime
from contestday.db.writer import BatchingWriter, Prepared

metadata = sa.MetaData()
thing = sa.Table("thing", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(20), unique=True), sa.Column("born", sa.Date),
                 sa.Column("at", UTCDateTime), sa.Column("data", sa.JSON))
INSERT = Prepared(sa.insert(thing))
BY_NAME = Prepared(select(thing.c.id, thing.c.born, thing.c.at, thing.c.data).where(thing.c.name == bindparam("n")))
IN_NAMES = Prepared(select(thing.c.name).where(thing.c.name.in_(bindparam("names", expanding=True)))
                    .order_by(thing.c.name))


@pytest.fixture
async def writer(tmp_path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    w = create_writer(url, engine)
    assert isinstance(w, BatchingWriter)
    yield w
    await w.stop()
    await engine.dispose()


def insert(name: str, then_fail: bool = False) -> Any:
    def job(conn: sa.Connection) -> int:
        new = INSERT.execute(conn, {"name": name, "born": date(1990, 1, 2), "at": datetime(2026, 5, 1, tzinfo=UTC),
                                    "data": {"k": [1, "二"]}}).inserted_id
        if then_fail:
            raise ValueError("refused after writing")
        return int(new)
    return job


async def test_a_refused_job_rolls_back_alone_and_answers_mean_committed(writer: BatchingWriter) -> None:
    jobs = [insert(f"n{k}", then_fail=k % 3 == 0) for k in range(30)] + [insert("n1")]  # the last one collides
    results = await asyncio.gather(*(writer.run(j) for j in jobs), return_exceptions=True)
    assert writer.batches < len(jobs)  # they were grouped
    refused = [k for k, r in enumerate(results) if isinstance(r, Exception)]
    assert refused == [k for k in range(30) if k % 3 == 0] + [30]
    assert isinstance(results[30], sa.exc.IntegrityError)
    with sa.create_engine(writer.engine.url).connect() as conn:  # another connection sees every answered job
        names = set(conn.execute(select(thing.c.name)).scalars())
    assert names == {f"n{k}" for k in range(30) if k % 3}


async def test_prepared_statements_read_what_sqlalchemy_reads(writer: BatchingWriter) -> None:
    await writer.run(insert("a"))
    await writer.run(insert("b"))

    def read(conn: sa.Connection) -> Any:
        fast = BY_NAME.execute(conn, {"n": "a"}).first()
        slow = conn.execute(BY_NAME.statement, {"n": "a"}).first()
        return fast, tuple(slow) if slow else None, IN_NAMES.execute(conn, {"names": ["b", "a", "z"]}).scalars()

    fast, slow, names = await writer.run(read)
    assert fast == slow and fast[1] == date(1990, 1, 2) and fast[2] == datetime(2026, 5, 1, tzinfo=UTC)
    assert fast[3] == {"k": [1, "二"]} and names == ["a", "b"]
    with pytest.raises(KeyError, match="'n'"):
        await writer.run(lambda conn: BY_NAME.execute(conn, {}))


async def test_the_backlog_says_how_long_the_oldest_job_has_waited(
        writer: BatchingWriter) -> None:
    import threading

    assert len(writer.backlog) == 0 and writer.backlog.oldest_wait() == 0.0
    release = threading.Event()

    def slow(conn: sa.Connection) -> str:
        release.wait(5)
        return "done"

    running = asyncio.create_task(writer.run(slow))
    queued = asyncio.create_task(writer.run(insert("queued")))
    for _ in range(500):  # both handed over (a busy machine may take a while to start them)
        if len(writer.backlog) == 2:
            break
        await asyncio.sleep(0.01)
    assert len(writer.backlog) == 2  # the job in hand and the one behind it
    first = writer.backlog.oldest_wait()
    await asyncio.sleep(0.05)
    assert writer.backlog.oldest_wait() - first >= 0.045  # the oldest's wait grows while it waits
    release.set()
    assert await running == "done" and await queued > 0
    assert len(writer.backlog) == 0 and writer.backlog.oldest_wait() == 0.0
    with pytest.raises(ValueError):  # a refused job leaves the backlog too
        await writer.run(insert("refused", then_fail=True))
    assert len(writer.backlog) == 0


@pytest.fixture
def pg_database() -> Any:
    from tests.support.services import pg_database as database

    with database("cdwriter", migrated=False) as url:
        yield url


async def test_on_postgresql_prepared_statements_go_to_asyncpg_and_behave_as_sqlalchemy(pg_database: str) -> None:
    """The direct asyncpg path (Prepared on PostgreSQL) reads what SQLAlchemy reads, gives the new row's id and the
    rowcount, raises a unique violation as IntegrityError with the job's whole transaction rolled back, and runs in
    the job's transaction (a second connection sees nothing until the commit)."""
    from contestday.db.writer import PooledWriter

    database_url = pg_database
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    pg = PooledWriter(engine)
    rename = Prepared(sa.update(thing).where(thing.c.name == bindparam("old")).values(name=bindparam("new")))
    try:
        first = await pg.run(insert("a"))
        assert first == 1 and await pg.run(insert("b")) == 2

        def read(conn: sa.Connection) -> Any:
            fast = BY_NAME.execute(conn, {"n": "a"}).first()
            slow = conn.execute(BY_NAME.statement, {"n": "a"}).first()
            moved = rename.execute(conn, {"old": "b", "new": "c"}).rowcount
            none = rename.execute(conn, {"old": "zz", "new": "y"}).rowcount
            return fast, tuple(slow) if slow else None, moved, none, IN_NAMES.execute(conn, {"names": ["c", "a"]})

        fast, slow, moved, none, names = await pg.run(read)
        assert fast == slow and fast[1] == date(1990, 1, 2) and fast[2] == datetime(2026, 5, 1, tzinfo=UTC)
        assert fast[3] == {"k": [1, "二"]} and (moved, none) == (1, 0) and names.scalars() == ["a", "c"]

        def two_then_collide(conn: sa.Connection) -> None:
            insert("d")(conn)
            insert("a")(conn)  # taken: the whole job is refused, "d" with it

        with pytest.raises(sa.exc.IntegrityError):
            await pg.run(two_then_collide)
        seen_outside: list[Any] = []
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")

        def insert_and_look(conn: sa.Connection) -> None:
            import asyncpg
            from sqlalchemy.util import await_

            insert("e")(conn)
            other = await_(asyncpg.connect(dsn))  # another connection, while the job's transaction is open
            try:
                seen_outside.extend(await_(other.fetch("SELECT name FROM thing WHERE name = 'e'")))
            finally:
                await_(other.close())

        await pg.run(insert_and_look)
        assert seen_outside == []  # the direct statements ran inside the job's transaction
        names_now = await pg.run(lambda conn: sorted(conn.execute(select(thing.c.name)).scalars()))
        assert names_now == ["a", "c", "e"]
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
        await engine.dispose()



async def test_a_full_file_fails_the_whole_batch_with_its_own_error(writer: BatchingWriter) -> None:
    """SQLite rolls the whole transaction back on SQLITE_FULL: the batch's savepoint is gone with it. Every job of
    the batch is told the storage error itself (not "no such savepoint"), and none of it is stored."""
    from contestday.db.outage import storage_failure

    await writer.run(insert("before"))
    with writer.engine.connect() as probe:  # the writer's file, held at its current size from now on
        pages = probe.exec_driver_sql("PRAGMA page_count").scalar()

    def cap(conn: sa.Connection) -> None:
        conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")

    await writer.run(cap)

    def big(conn: sa.Connection) -> int:
        return int(INSERT.execute(conn, {"name": "big", "data": ["x" * 200_000]}).inserted_id)

    results = await asyncio.gather(writer.run(insert("small")), writer.run(big), writer.run(insert("after")),
                                   return_exceptions=True)
    assert all(isinstance(r, sa.exc.OperationalError) and storage_failure(r) == "full" for r in results), results
    with sa.create_engine(writer.engine.url).connect() as conn:
        assert set(conn.execute(select(thing.c.name)).scalars()) == {"before"}
