"""The database recipe: one unique key, 20 concurrent writers, exactly one wins (SQLite WAL + BEGIN IMMEDIATE,
and PostgreSQL when CONTESTDAY_TEST_DATABASE_URL is set)."""

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from contestday.accounts.models import User
from contestday.db.engine import create_engine, create_sessionmaker
from contestday.settings import Settings


async def test_twenty_concurrent_inserts_of_one_unique_key(settings: Settings) -> None:
    engine = create_engine(settings.database_url, pool_size=20, max_overflow=0)
    maker = create_sessionmaker(engine)

    async def insert() -> str:
        async with maker() as session:
            # read first, then write: the pattern that deadlocks a deferred SQLite transaction
            await session.exec(text("SELECT count(*) FROM app_user"))  # type: ignore[call-overload]
            session.add(User(name="same-name"))
            try:
                await session.commit()
                return "ok"
            except IntegrityError:
                return "duplicate"

    outcomes = await asyncio.gather(*(insert() for _ in range(20)))
    assert sorted(outcomes).count("ok") == 1 and outcomes.count("duplicate") == 19
    async with maker() as session:
        assert (await session.exec(text("SELECT count(*) FROM app_user"))).one()[0] == 1  # type: ignore[call-overload]
    await engine.dispose()


async def test_sqlite_connection_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.sqlite3'}")
    async with engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    await engine.dispose()
