"""Settings of the whole server kept in the database (`server_setting`), so every instance on one database
agrees: the public address the QR codes carry (contestday/web/public_address.py) is the first. One row per
key, with who set it and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import UTCDateTime, utcnow

__all__ = ["ServerSetting", "read_setting", "write_setting"]


class ServerSetting(SQLModel, table=True):
    __tablename__ = "server_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(default="", max_length=80)


async def read_setting(session: AsyncSession, key: str) -> ServerSetting | None:
    return (await session.exec(select(ServerSetting).where(ServerSetting.key == key))).first()


async def write_setting(session: AsyncSession, key: str, value: str, by: str) -> None:
    """Insert or replace `key` in one statement (two instances setting it at once: the last one wins, no
    IntegrityError); the caller commits."""
    from sqlalchemy.dialects import postgresql, sqlite

    bind = session.get_bind()
    insert: Any = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    row = {"key": key, "value": value, "updated_at": utcnow(), "updated_by": by[:80]}
    statement = insert(ServerSetting).values(row)
    await session.exec(statement.on_conflict_do_update(
        index_elements=["key"], set_={"value": row["value"], "updated_at": row["updated_at"],
                                      "updated_by": row["updated_by"]}))
