"""Account use cases over a session: add users, sign in and out, resolve a session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, bindparam, column, delete, update
from sqlalchemy import select as select_core
from sqlalchemy import table as sql_table
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.models import LoginSession, RoleChange, RoleSide, SignInLink, User, UserRole
from contestday.accounts.security import (
    ROLES,
    hash_password,
    hash_token,
    new_token,
)
from contestday.db.types import insert_ignoring_conflicts, utcnow
from contestday.db.writer import Prepared, table

__all__ = [
    "SESSION_LIFETIME",
    "SIDES",
    "SIGNED_OUT",
    "Grant",
    "Principal",
    "RoleConflict",
    "UserExists",
    "account_channel",
    "add_user",
    "end_session",
    "grant_role",
    "login_link_token",
    "record_change",
    "release_side",
    "resolve_session",
    "revoke_role",
    "session_principal",
    "start_session",
    "user_from_link",
]

SESSION_LIFETIME = timedelta(hours=24)
# After a commit that disables an account, resets it or takes a role: its open websockets (tablet, console), on
# every instance, hear this on the account's channel and close 4403 "signed out".
SIGNED_OUT = '{"type": "signed_out"}'


def account_channel(user_id: int) -> str:
    return f"account:{user_id}"


# (role, event id or None: server-wide, item code or None: the whole event)
Grant = tuple[str, int | None, str | None]

# The two sides of the blind (see RoleSide): nobody holds a role on both in one event.
SIDES = {"judge": "scoring", "chief_judge": "scoring", "encryption_judge": "sealing"}


@dataclass(frozen=True)
class Principal:
    """Who is asking: resolved once per request from the session cookie or the bearer token. `grants` say
    where each role holds; without them (the bearer token, older callers) every role is server-wide."""

    user_id: int | None
    name: str
    roles: frozenset[str]
    via: str  # "session" | "token"
    csrf_token: str | None = None
    grants: frozenset[Grant] = frozenset()

    def __post_init__(self) -> None:
        if not self.grants:
            object.__setattr__(self, "grants", frozenset((role, None, None) for role in self.roles))

    def has_any(self, roles: frozenset[str]) -> bool:
        """Holds one of `roles` somewhere (an event, an item, or server-wide)."""
        return bool(self.roles & roles)

    def holds(self, roles: frozenset[str] | str, event_id: int | None = None, item: str | None = None,
              *, server_wide: bool = False) -> bool:
        """Holds one of `roles` for this event (and item, when given). A grant for one item of the event
        holds for the event's own pages (they show that item only) but not for another item's."""
        wanted = frozenset({roles}) if isinstance(roles, str) else roles
        for role, g_event, g_item in self.grants:
            if role not in wanted:
                continue
            if g_event is None:
                return True
            if server_wide or (event_id is not None and g_event != event_id):
                continue
            if event_id is None or item is None or g_item is None or g_item == item:
                return True
        return False

    def events(self, roles: frozenset[str] | str) -> frozenset[int] | None:
        """The events where one of `roles` holds; None: every event (server-wide)."""
        wanted = frozenset({roles}) if isinstance(roles, str) else roles
        found = set()
        for role, g_event, _ in self.grants:
            if role in wanted:
                if g_event is None:
                    return None
                found.add(g_event)
        return frozenset(found)

    def items(self, roles: frozenset[str] | str, event_id: int) -> frozenset[str] | None:
        """The item codes of `event_id` where one of `roles` holds; None: the whole event."""
        wanted = frozenset({roles}) if isinstance(roles, str) else roles
        found = set()
        for role, g_event, g_item in self.grants:
            if role in wanted and g_event in (None, event_id):
                if g_event is None or g_item is None:
                    return None
                found.add(g_item)
        return frozenset(found)


class UserExists(Exception):
    pass


class RoleConflict(Exception):
    """The grant would put a person on both sides of the blind in one event."""

    def __init__(self, role: str, held_side: str) -> None:
        super().__init__(role, held_side)
        self.role, self.held_side = role, held_side


async def record_change(session: AsyncSession, user: User, action: str, by: str, role: str | None = None,
                        event_id: int | None = None, item_id: int | None = None, note: str = "") -> None:
    """One row of the account record (role_change); the caller commits with the change itself."""
    session.add(RoleChange(user_id=user.id, user_name=user.name, action=action, role=role, event_id=event_id,
                           item_id=item_id, by=by[:80], note=note[:200]))


async def _claim_side(session: AsyncSession, user_id: int, event_id: int | None, role: str) -> None:
    side = SIDES.get(role)
    if side is None or event_id is None:
        return
    # insert-or-keep, then read: the unique (user, event) key decides between racing grants
    await session.exec(insert_ignoring_conflicts(session, RoleSide, [
        {"user_id": user_id, "event_id": event_id, "side": side}]))
    held = (await session.exec(select(RoleSide.side).where(RoleSide.user_id == user_id,
                                                           RoleSide.event_id == event_id))).one()
    if held != side:
        raise RoleConflict(role, held)


async def release_side(session: AsyncSession, user_id: int, event_id: int | None) -> None:
    """Forget the person's side in the event once no role of either side holds there any more."""
    if event_id is None:
        return
    left = (await session.exec(select(UserRole.id).where(
        UserRole.user_id == user_id, UserRole.event_id == event_id,
        col(UserRole.role).in_(list(SIDES))))).first()
    if left is None:
        await session.exec(delete(RoleSide).where(col(RoleSide.user_id) == user_id,
                                                  col(RoleSide.event_id) == event_id))


async def grant_role(session: AsyncSession, user: User, role: str, by: str, event_id: int | None = None,
                     item_id: int | None = None) -> bool:
    """Give `role` (server-wide, for an event, or for one item of it) and record it; False when already held.
    Raises RoleConflict (nothing written) for the other side of the blind. The caller commits."""
    if role not in ROLES:
        raise ValueError(f"未知角色 / unknown role: {role}")
    assert user.id is not None
    async with session.begin_nested():
        await _claim_side(session, user.id, event_id, role)
        result = await session.exec(insert_ignoring_conflicts(session, UserRole, [
            {"user_id": user.id, "role": role, "event_id": event_id, "item_id": item_id}]))
    if not result.rowcount:
        return False
    await record_change(session, user, "grant", by, role, event_id, item_id)
    return True


async def revoke_role(session: AsyncSession, user: User, role: str, by: str, event_id: int | None = None,
                      item_id: int | None = None) -> bool:
    """Take `role` back from exactly that scope and record it; False when it was not held. The caller commits."""
    assert user.id is not None
    scope = [col(UserRole.event_id).is_(None) if event_id is None else col(UserRole.event_id) == event_id,
             col(UserRole.item_id).is_(None) if item_id is None else col(UserRole.item_id) == item_id]
    result = await session.exec(delete(UserRole).where(col(UserRole.user_id) == user.id,
                                                       col(UserRole.role) == role, *scope))
    if not result.rowcount:
        return False
    await release_side(session, user.id, event_id)
    await record_change(session, user, "revoke", by, role, event_id, item_id)
    return True


async def add_user(session: AsyncSession, name: str, password: str, roles: list[str],
                   display_name: str | None = None, event_id: int | None = None, by: str = "cli") -> User:
    """A new account holding `roles` server-wide, or for `event_id` only; recorded. The caller commits."""
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
    await record_change(session, user, "create", by, event_id=event_id)
    for role in roles:
        await grant_role(session, user, role, by, event_id)
    return user


async def login_link_token(session: AsyncSession, user: User, valid_for: timedelta, by: str) -> str:
    """A new one-time sign-in link for `user`: a random token of which only the hash is stored (a copy of the
    database signs nobody in), recorded as issued by `by`. The caller commits."""
    assert user.id is not None
    token = new_token()
    session.add(SignInLink(token_hash=hash_token(token), user_id=user.id, created_by=by[:80],
                           expires_at=utcnow() + valid_for))
    await record_change(session, user, "link", by)
    return token


async def user_from_link(session: AsyncSession, token: str) -> User | None:
    """Spend a one-time link: a guarded UPDATE marks it used, so of two racing uses exactly one wins. None for
    an unknown, used, revoked or expired link, or a disabled account. The caller commits with the session."""
    now = utcnow()
    active = select(User.id).where(col(User.active).is_(True))
    spent = await session.exec(update(SignInLink).where(
        col(SignInLink.token_hash) == hash_token(token), col(SignInLink.used_at).is_(None),
        col(SignInLink.revoked_at).is_(None), col(SignInLink.expires_at) > now,
        col(SignInLink.user_id).in_(active)).values(used_at=now))
    if spent.rowcount != 1:
        return None
    user_id = (await session.exec(select(SignInLink.user_id)
                                  .where(SignInLink.token_hash == hash_token(token)))).one()
    return await session.get(User, user_id)


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
# the item table by name: accounts sit below registration and read only an item's code for a per-item grant
_ITEM = sql_table("item", column("id"), column("code"))
_ROLES = Prepared(select_core(_UR.c.role, _UR.c.event_id, _ITEM.c.code)
                  .join_from(_UR, _ITEM, _ITEM.c.id == _UR.c.item_id, isouter=True)
                  .where(_UR.c.user_id == bindparam("user_id")))


def session_principal(conn: Connection, token: str) -> Principal | None:
    """Who holds this session cookie (None: unknown, expired, or the account is disabled). Two prepared
    statements: it runs on every signed-in request."""
    row = _SESSION.execute(conn, {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    expires_at, csrf, user_id, display_name, name, active = row
    if expires_at < utcnow() or not active:
        return None
    rows = _ROLES.execute(conn, {"user_id": user_id}).rows
    grants = frozenset((role, event_id, code) for role, event_id, code in rows)
    return Principal(user_id, display_name or name, frozenset(g[0] for g in grants), "session", csrf, grants)


async def resolve_session(session: AsyncSession, token: str) -> Principal | None:
    return await session.run_sync(lambda s: session_principal(s.connection(), token))
