"""Tables of people and access: users, their roles, login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from registration.base import UTCDateTime, utcnow

__all__ = ["LoginSession", "User", "UserRole"]


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    display_name: str | None = Field(default=None, max_length=80)
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserRole(SQLModel, table=True):
    """A role held by a user; `event_id` scopes it to one event (NULL: every event)."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"),
                                          nullable=False, index=True))
    role: str = Field(max_length=32)
    event_id: int | None = Field(default=None, foreign_key="event.id", ondelete="CASCADE")


class LoginSession(SQLModel, table=True):
    """A browser session: the cookie carries a random token, only its hash is stored."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"),
                                          nullable=False, index=True))
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
