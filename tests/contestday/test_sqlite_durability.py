"""An answer means "stored", power cut included: on a real SQLite file every connection that commits writes (the
app's writer thread, the async engine behind pages and sessions) runs with PRAGMA synchronous=FULL (2), so
under WAL each commit is fsynced before the caller is answered; NORMAL (1) would fsync only at checkpoints.
The read-only thread may stay NORMAL: it never commits a write. SQLite only (PostgreSQL fsyncs its WAL on
commit by default)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Connection

from contestday.app import create_app
from contestday.db.engine import create_engine, create_writer
from contestday.db.migrate import upgrade
from contestday.settings import load_settings

FULL, NORMAL = 2, 1


def _synchronous(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())


async def test_the_apps_writer_and_engine_commit_with_synchronous_full(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTESTDAY_SQLITE_SYNCHRONOUS", raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'durable.sqlite3'}"
    await anyio.to_thread.run_sync(upgrade, url)  # migrations run their own event loop
    app = create_app(load_settings({"CONTESTDAY_DATA_DIR": str(tmp_path / "data"), "CONTESTDAY_DATABASE_URL": url,
                                    "CONTESTDAY_SECRET_KEY": "k"}, dotenv=False))
    async with AsyncTestClient(app=app):
        assert await app.state.writer.run(_synchronous) == FULL
        assert await app.state.writer.run(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar_one()) == "wal"
        async with app.state.sessionmaker() as session:  # pages, imports, the draw: commits of their own
            conn = await session.connection()
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one() == FULL
        assert await app.state.reader.run(_synchronous) == NORMAL
    assert (tmp_path / "durable.sqlite3").is_file()


async def test_the_benchmark_switch_really_changes_the_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/tablets.py compares NORMAL with FULL through this variable: it must take effect, and nothing but
    the two known weaker/stronger names may weaken the default."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bench.sqlite3'}"
    for value, expected in (("NORMAL", NORMAL), ("full", FULL), ("OFF", FULL), ("EXTRA", 3)):
        monkeypatch.setenv("CONTESTDAY_SQLITE_SYNCHRONOUS", value)
        engine = create_engine(url)
        writer = create_writer(url, engine)
        writer.start()
        try:
            assert await writer.run(_synchronous) == expected, value
        finally:
            await writer.stop()
            await engine.dispose()
