"""Account use cases over a session: add users, sign in and out, resolve a session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, bindparam, delete
from sqlalchemy import select as select_core
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
from registration.writer import Prepared, table

__all__ = [
    "SESSION_LIFETIME",
    "Principal",
    "UserExists",
    "add_user",
    "authenticate",
    "end_session",
    "login_link_token",
    "resolve_session",
    "session_principal",
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


_LS, _U, _UR = table(LoginSession), table(User), table(UserRole)
_SESSION = Prepared(
    select_core(_LS.c.expires_at, _LS.c.csrf_token, _U.c.id, _U.c.display_name, _U.c.name, _U.c.active)
    .join_from(_LS, _U, _U.c.id == _LS.c.user_id).where(_LS.c.token_hash == bindparam("token_hash")))
_ROLES = Prepared(select_core(_UR.c.role).where(_UR.c.user_id == bindparam("user_id")))


def session_principal(conn: Connection, token: str) -> Principal | None:
    """Who holds this session cookie (None: unknown, expired, or the account is disabled). Two prepared
    statements: it runs on every signed-in request."""
    row = _SESSION.execute(conn, {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    expires_at, csrf, user_id, display_name, name, active = row
    if expires_at < utcnow() or not active:
        return None
    roles = _ROLES.execute(conn, {"user_id": user_id}).scalars()
    return Principal(user_id, display_name or name, frozenset(roles), "session", csrf)


async def resolve_session(session: AsyncSession, token: str) -> Principal | None:
    return await session.run_sync(lambda s: session_principal(s.connection(), token))
