"""Shared table plumbing for every context: the naming convention and exact column types.

Imported by every models module before it defines a table, so constraint names are stable across
SQLite and PostgreSQL (Alembic needs names to alter them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

__all__ = ["Cents", "DecimalText", "UTCDateTime", "ignoring_insert", "insert_ignoring_conflicts", "utcnow"]

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Cents(TypeDecorator[Decimal]):
    """A decimal of at most 2 places stored as integer hundredths: exact on every database."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        hundredths = Decimal(value) * 100
        if hundredths != hundredths.to_integral_value():
            raise ValueError(f"{value} has more than 2 decimals")
        return int(hundredths)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value) / 100


class DecimalText(TypeDecorator[Decimal]):
    """A decimal kept as its exact text (ratios, weights)."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> str | None:
        return None if value is None else str(Decimal(value))

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as naive UTC (SQLite has no zones); read back as aware UTC."""

    impl = DateTime()
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def ignoring_insert(dialect: str, target: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING into `target` (a model or table) for the dialect named (SQLite and
    PostgreSQL both have it)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return dialect_insert(target).on_conflict_do_nothing()


def insert_ignoring_conflicts(session: Any, model: type[SQLModel], rows: list[dict[str, Any]]) -> Any:
    """`ignoring_insert` of `rows` for the session's dialect."""
    bind = session.get_bind() if hasattr(session, "get_bind") else session.bind
    return ignoring_insert(bind.dialect.name, model).values(rows)
