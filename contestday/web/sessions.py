"""The request's database sessions, as handlers ask for them: read-only by default, the write session only
where a handler writes."""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["DbSession", "WriteSession"]

# Provided by the composition root under the parameter's name. `db_session: DbSession` is a read session: no
# write lock, deferred on SQLite, and a write through it fails. `write_session: WriteSession` holds the write
# lock (SQLite's one writer) for the request; the handler or its service commits once.
DbSession = NamedDependency[AsyncSession]
WriteSession = NamedDependency[AsyncSession]
