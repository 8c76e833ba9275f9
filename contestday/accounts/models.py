"""Tables of people and access: users, their roles, login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from contestday.db.types import UTCDateTime, utcnow

__all__ = ["LoginSession", "RoleChange", "RoleSide", "SignInLink", "User", "UserRole"]


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    display_name: str | None = Field(default=None, max_length=80)
    password_hash: str | None = Field(default=None, max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserRole(SQLModel, table=True):
    """A role held by a user. `event_id` NULL: server-wide (administrators, and roles given before roles were
    per event); otherwise that event only, and with `item_id` that item only (judges, encryption judges)."""

    __tablename__ = "user_role"
    # NULLs are distinct in a plain UNIQUE: the index folds them to 0 so "server-wide" is held once
    __table_args__ = (Index("uq_user_role_scope", "user_id", "role", text("coalesce(event_id, 0)"),
                            text("coalesce(item_id, 0)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"),
                                          nullable=False, index=True))
    role: str = Field(max_length=32)
    event_id: int | None = Field(default=None, foreign_key="event.id", ondelete="CASCADE")
    item_id: int | None = Field(default=None, foreign_key="item.id", ondelete="CASCADE")


class RoleSide(SQLModel, table=True):
    """Which side of the blind a person stands on in one event: `scoring` (judges, chief judge) or `sealing`
    (the encryption judge, who holds the seat → name list). One row per person and event: the unique key is
    what keeps anyone from being on both sides, however grants race."""

    __tablename__ = "role_side"
    __table_args__ = (UniqueConstraint("user_id", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False))
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), nullable=False))
    side: str = Field(max_length=16)


class RoleChange(SQLModel, table=True):
    """Every change to who may do what: grants, revocations, disabling, password resets, sign-in links."""

    __tablename__ = "role_change"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="SET NULL"),
                                                               nullable=True, index=True))
    user_name: str = Field(max_length=80)
    action: str = Field(max_length=16)  # grant | revoke | create | disable | enable | reset | link | unlink
    role: str | None = Field(default=None, max_length=32)
    event_id: int | None = Field(default=None)
    item_id: int | None = Field(default=None)
    by: str = Field(max_length=80)
    note: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SignInLink(SQLModel, table=True):
    """A one-time sign-in link: only the hash of its random token is stored; used once, or revoked, it is dead."""

    __tablename__ = "sign_in_link"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"),
                                          nullable=False, index=True))
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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
