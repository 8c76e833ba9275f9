"""Alembic environment: every context's tables on SQLModel.metadata, async engines, batch mode for SQLite."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from contestday.db.engine import create_engine

config = context.config
# The composition root names the module that imports every context's tables (contestday.models); the kernel
# imports it by name so the layers stay one way (the database kernel knows no context).
importlib.import_module(config.get_main_option("models_module") or "contestday.models")
target_metadata = SQLModel.metadata
_MIGRATION_LOCK = 0x636F6E74  # "cont": the advisory lock key migrations hold on PostgreSQL


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # several instances starting at once (docker compose up): one migrates, the others wait here and then
            # find the schema current; released with the transaction
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left rows pointing at nothing: {broken[:5]}")


def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    """SQLite's batch mode rebuilds a table (copy, DROP, rename) to change a column; with foreign keys on, the
    DROP would cascade and delete every row that points at the table (an item's criteria, entries, panels).
    So migrations run with them off, and check them once at the end instead."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.close()


async def _run_async() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _foreign_keys_off)  # after the app's own connect recipe
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
