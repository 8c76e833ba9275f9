"""The request's database session, as handlers ask for it."""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["DbSession"]

# The request's database session, provided by the composition root under the name `db_session`.
DbSession = NamedDependency[AsyncSession]
