"""Account use cases over a session: add users, sign in and out, resolve a session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registration.accounts.models import LoginSession, User, UserRole
from registration.accounts.security import (
    ROLES,
    hash_password,
    hash_token,
    new_token,
    sign,
    unsign,
    verify_password,
)
from registration.base import utcnow

__all__ = [
    "SESSION_LIFETIME",
    "Principal",
    "UserExists",
    "add_user",
    "authenticate",
    "end_session",
    "login_link_token",
    "resolve_session",
    "start_session",
    "user_from_link",
]

SESSION_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Principal:
    """Who is asking: resolved once per request from the session cookie or the bearer token."""

    user_id: int | None
    name: str
    roles: frozenset[str]
    via: str  # "session" | "token"
    csrf_token: str | None = None

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


class UserExists(Exception):
    pass


async def add_user(session: AsyncSession, name: str, password: str, roles: list[str],
                   display_name: str | None = None) -> User:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"未知角色 / unknown role: {', '.join(unknown)}")
    user = User(name=name, display_name=display_name, password_hash=hash_password(password))
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # unique name: the schema decides, not a prior lookup
        raise UserExists(name) from exc
    assert user.id is not None
    for role in roles:
        session.add(UserRole(user_id=user.id, role=role))
    return user


async def authenticate(session: AsyncSession, name: str, password: str) -> User | None:
    user = (await session.exec(select(User).where(User.name == name))).first()
    if user is None or not user.active:
        verify_password(None, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def login_link_token(secret_key: str, user: User, valid_for: timedelta) -> str:
    expires = int((utcnow() + valid_for).timestamp())
    return sign(secret_key, f"{user.id}:{expires}")


async def user_from_link(session: AsyncSession, secret_key: str, token: str) -> User | None:
    payload = unsign(secret_key, token)
    if payload is None:
        return None
    user_id, _, expires = payload.partition(":")
    if not (user_id.isdigit() and expires.isdigit()) or int(expires) < utcnow().timestamp():
        return None
    user = await session.get(User, int(user_id))
    return user if user is not None and user.active else None


async def start_session(session: AsyncSession, user: User) -> tuple[str, str]:
    """A new login session; returns (cookie token, csrf token). Only the token's hash is stored."""
    assert user.id is not None
    token, csrf = new_token(), new_token(24)
    now = utcnow()
    await session.exec(delete(LoginSession).where(col(LoginSession.expires_at) < now))
    session.add(LoginSession(token_hash=hash_token(token), user_id=user.id, csrf_token=csrf,
                             expires_at=now + SESSION_LIFETIME))
    return token, csrf


async def end_session(session: AsyncSession, token: str) -> None:
    await session.exec(delete(LoginSession).where(col(LoginSession.token_hash) == hash_token(token)))


async def resolve_session(session: AsyncSession, token: str) -> Principal | None:
    row = (await session.exec(
        select(LoginSession, User).join(User, col(User.id) == LoginSession.user_id)
        .where(LoginSession.token_hash == hash_token(token))
    )).first()
    if row is None:
        return None
    login, user = row
    if login.expires_at < utcnow() or not user.active:
        return None
    roles = (await session.exec(select(UserRole.role).where(UserRole.user_id == user.id))).all()
    return Principal(user.id, user.display_name or user.name, frozenset(roles), "session", login.csrf_token)
