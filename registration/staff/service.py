"""Staff accounts as the organisers manage them (the pages under /admin/accounts and
/admin/events/{id}/accounts, and `contestday user …`): create an account with its roles, give and take roles
per event and item, disable and enable, reset, and one-time sign-in links.

Why a module of its own: the pages and the command line must apply the same rules, and one of them is a
boundary — an event's organiser manages that event's roles only, and nothing that reaches beyond it: an
account that also holds a role elsewhere (or everywhere) can be given and taken this event's roles, but only
an administrator may disable it, reset it or sign in as it with a link. Every change is recorded
(`role_change`); grant_role and revoke_role record themselves. Refusals are `Refusal`s, which the pages show
on their forms and the command line prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, update
from sqlalchemy import select as select_core
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts import service
from contestday.accounts.links import LinkView
from contestday.accounts.models import LoginSession, RoleChange, SignInLink, User, UserRole
from contestday.accounts.security import ROLES
from contestday.db.types import utcnow
from contestday.web.errors import Refusal
from registration.events.models import Event, Item

__all__ = [
    "ACTIONS",
    "EVENT_ROLES",
    "ITEM_ROLES",
    "LINK_LIFETIME",
    "AccountView",
    "GrantView",
    "account",
    "account_by_name",
    "account_views",
    "changes_of",
    "check_scope",
    "conflict_error",
    "create_account",
    "give",
    "issue_link",
    "links_of",
    "reset",
    "revoke_link",
    "set_active",
    "take",
]

LINK_LIFETIME = timedelta(days=7)  # handed over the week before the contest; unused, it dies on its own
EVENT_ROLES = ("organiser", "chief_judge", "checkin")  # for a whole event
ITEM_ROLES = ("judge", "encryption_judge")  # for one item (or, left blank, every item of the event)
ACTIONS = {"create": "创建账号", "grant": "授予角色", "revoke": "收回角色", "disable": "停用", "enable": "启用",
           "reset": "重置", "link": "生成登录链接", "unlink": "撤销登录链接"}
SIDE_NAMES = {"scoring": "裁判或裁判长", "sealing": "加密裁判"}


@dataclass(frozen=True)
class GrantView:
    role: str
    event_id: int | None
    event_name: str | None
    item_id: int | None
    item_code: str | None
    item_name: str | None


@dataclass
class AccountView:
    user: User
    grants: list[GrantView] = field(default_factory=list)
    last_sign_in: datetime | None = None

    def beyond(self, event_id: int) -> bool:
        """Holds a role server-wide or in another event: the event's organiser may not act for the account."""
        return any(g.event_id != event_id for g in self.grants)



def _unknown_user(name: str) -> Refusal:
    return Refusal(404, "unknown_user", f"找不到用户 {name}", f"no user {name}")


async def account(session: AsyncSession, user_id: int, event_id: int | None = None) -> User:
    """The account, or 404; with `event_id`, only an account that belongs to the event (holds a role there,
    or was created on its page): an event's organiser never reaches other accounts through an id."""
    user = await session.get(User, user_id)
    if user is None or (event_id is not None and user_id not in await _event_user_ids(session, event_id)):
        raise _unknown_user(str(user_id))
    return user


async def account_by_name(session: AsyncSession, name: str) -> User:
    user = (await session.exec(select(User).where(User.name == name))).first()
    if user is None:
        raise _unknown_user(name)
    return user


async def _event_user_ids(session: AsyncSession, event_id: int) -> set[int]:
    holding = (await session.exec(select(UserRole.user_id).where(UserRole.event_id == event_id))).all()
    created = (await session.exec(select(RoleChange.user_id).where(RoleChange.event_id == event_id,
                                                                   RoleChange.action == "create"))).all()
    return {u for u in [*holding, *created] if u is not None}


async def account_views(session: AsyncSession, event_id: int | None = None,
                        user_ids: list[int] | None = None) -> list[AccountView]:
    """Every account (or the event's, or those of `user_ids`) with every role it holds and its last sign-in."""
    query = select(User).order_by(col(User.name))
    if event_id is not None:
        query = query.where(col(User.id).in_(await _event_user_ids(session, event_id)))
    if user_ids is not None:
        query = query.where(col(User.id).in_(user_ids))
    views = {u.id: AccountView(u) for u in (await session.exec(query)).all()}
    if not views:
        return []
    ids = list(views)
    grants = (await session.exec(  # type: ignore[call-overload]
        select_core(col(UserRole.user_id), col(UserRole.role), col(UserRole.event_id), col(Event.name),
                    col(UserRole.item_id), col(Item.code), col(Item.name))
        .join(Event, col(Event.id) == col(UserRole.event_id), isouter=True)
        .join(Item, col(Item.id) == col(UserRole.item_id), isouter=True)
        .where(col(UserRole.user_id).in_(ids))
        .order_by(col(UserRole.event_id), col(Item.position), col(UserRole.role)))).all()
    order = {role: n for n, role in enumerate(ROLES)}
    for user_id, role, g_event, event_name, item_id, code, item_name in grants:
        views[user_id].grants.append(GrantView(role, g_event, event_name, item_id, code, item_name))
    for view in views.values():
        view.grants.sort(key=lambda g: (g.event_id or 0, order.get(g.role, 99), g.item_code or ""))
    # sessions are deleted when they end: the newest one still stored or the newest link used, if any
    for table_user, moment in [*(await session.exec(select(LoginSession.user_id, func.max(LoginSession.created_at))
                                                     .where(col(LoginSession.user_id).in_(ids))
                                                     .group_by(col(LoginSession.user_id)))).all(),
                               *(await session.exec(select(SignInLink.user_id, func.max(SignInLink.used_at))
                                                     .where(col(SignInLink.user_id).in_(ids))
                                                     .group_by(col(SignInLink.user_id)))).all()]:
        if moment is not None:
            moment = _aware(moment)
            last = views[table_user].last_sign_in
            views[table_user].last_sign_in = moment if last is None or moment > last else last
    return list(views.values())


def _aware(value: datetime) -> datetime:
    """func.max bypasses the column type: SQLite gives back a string, both give back naive UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _item(session: AsyncSession, event_id: int, code: str) -> Item:
    item = (await session.exec(select(Item).where(Item.event_id == event_id, Item.code == code))).first()
    if item is None:
        raise Refusal(404, "unknown_item", f"本赛事没有赛项 {code}", f"the event has no item {code}")
    return item


async def check_scope(session: AsyncSession, role: str, event_id: int | None,
                      item_code: str | None) -> int | None:
    """Validate a role's scope; returns the item id. Judges and encryption judges may be per item; the
    other roles hold for a whole event; server-wide only where the caller allows it."""
    if role not in ROLES:
        raise Refusal(422, "unknown_role", f"未知角色：{role}（可选：{'、'.join(ROLES)}）",
                       f"unknown role: {role} (one of {', '.join(ROLES)})")
    if event_id is None:
        if item_code:
            raise Refusal(422, "item_needs_event", "指定赛项时必须指定赛事", "an item needs its event")
        return None
    if await session.get(Event, event_id) is None:
        raise Refusal(404, "unknown_event", f"找不到赛事 {event_id}", f"no event {event_id}")
    if not item_code:
        return None
    if role not in ITEM_ROLES:
        raise Refusal(422, "role_per_event", f"{ROLES[role][0]}的角色对整个赛事有效，不能只给一个赛项",
                       f"the {ROLES[role][1]} role holds for the whole event, not one item")
    return (await _item(session, event_id, item_code)).id


def conflict_error(user: User, exc: service.RoleConflict) -> Refusal:
    """409 `role_conflict`: the blind rule, said the way an organiser reads it."""
    held = SIDE_NAMES.get(exc.held_side, exc.held_side)
    return Refusal(409, "role_conflict",
                    f"{user.display_name or user.name} 在本赛事已担任{held}，不能再担任{ROLES[exc.role][0]}："
                    "同一赛事中评分的裁判和掌握赛位对照表的加密裁判不能是同一人（盲评）。",
                    f"{user.name} is already on the {exc.held_side} side in this event and cannot also be "
                    f"{ROLES[exc.role][1]}: the judges and the encryption judge of an event are different people "
                    "(blind marking).", role=exc.role, held_side=exc.held_side)


async def give(session: AsyncSession, user: User, role: str, by: str, event_id: int | None,
               item_code: str | None = None) -> bool:
    """Give a role (recorded by grant_role); False when already held. The caller commits."""
    item_id = await check_scope(session, role, event_id, item_code)
    try:
        return await service.grant_role(session, user, role, by, event_id, item_id)
    except service.RoleConflict as exc:
        raise conflict_error(user, exc) from exc


async def take(session: AsyncSession, user: User, role: str, by: str, event_id: int | None,
               item_id: int | None = None) -> bool:
    """Take a role back from exactly that scope (recorded by revoke_role); False when it was not held."""
    return await service.revoke_role(session, user, role, by, event_id, item_id)


async def create_account(session: AsyncSession, name: str, display_name: str | None,
                         grants: list[tuple[str, int | None, str | None]], by: str,
                         event_id: int | None = None) -> User:
    """A new account without a password (it signs in by a one-time link) holding `grants` (role, event id,
    item code); `event_id` is the event page it was created on. The schema's unique name decides between
    two organisers creating the same name. The caller commits, or rolls back on a refusal."""
    name = name.strip()
    if not name or len(name) > 80 or any(ch.isspace() for ch in name):
        raise Refusal(422, "invalid_name", "用户名必填，不超过 80 个字符，不含空格",
                       "a user name is required: up to 80 characters, no spaces")
    user = User(name=name, display_name=(display_name or "").strip()[:80] or None, password_hash=None)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Refusal(409, "user_exists", f"用户名 {name} 已被使用", f"the user name {name} is taken") from exc
    await service.record_change(session, user, "create", by, event_id=event_id)
    for role, g_event, item_code in grants:
        await give(session, user, role, by, g_event, item_code)
    return user


async def _end_sessions_and_links(session: AsyncSession, user_id: int) -> None:
    now = utcnow()
    await session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user_id))
    await session.exec(update(SignInLink).where(
        col(SignInLink.user_id) == user_id, col(SignInLink.used_at).is_(None),
        col(SignInLink.revoked_at).is_(None)).values(revoked_at=now))


async def set_active(session: AsyncSession, user: User, active: bool, by: str) -> bool:
    """Disable (its sessions end at once, its open links die) or enable an account; False when it already
    was. The caller commits."""
    assert user.id is not None
    changed = await session.exec(update(User).where(
        col(User.id) == user.id, col(User.active).is_(not active)).values(active=active))
    if not changed.rowcount:
        return False
    if not active:
        await _end_sessions_and_links(session, user.id)
    await service.record_change(session, user, "enable" if active else "disable", by)
    await session.refresh(user)
    return True


async def issue_link(session: AsyncSession, user: User, by: str, valid_for: timedelta = LINK_LIFETIME) -> str:
    """A fresh one-time sign-in link's token (recorded). A disabled account gets none."""
    if not user.active:
        raise Refusal(409, "account_disabled", "账号已停用：请先启用再生成登录链接",
                       "the account is disabled: enable it first")
    return await service.login_link_token(session, user, valid_for, by)


async def reset(session: AsyncSession, user: User, by: str, valid_for: timedelta = LINK_LIFETIME) -> str:
    """The password no longer works, the sessions end, older links die; returns a new link's token."""
    assert user.id is not None
    await session.exec(update(User).where(col(User.id) == user.id)
                       .values(password_hash=None))
    await _end_sessions_and_links(session, user.id)
    await service.record_change(session, user, "reset", by, note="旧密码、会话和未用的登录链接已失效")
    await session.refresh(user)
    return await issue_link(session, user, by, valid_for)


async def revoke_link(session: AsyncSession, user: User, link_id: int, by: str) -> bool:
    """Revoke one unused link of the account; False when it was used, revoked already, or not this account's."""
    done = await session.exec(update(SignInLink).where(
        col(SignInLink.id) == link_id, col(SignInLink.user_id) == user.id, col(SignInLink.used_at).is_(None),
        col(SignInLink.revoked_at).is_(None)).values(revoked_at=utcnow()))
    if not done.rowcount:
        return False
    await service.record_change(session, user, "unlink", by, note=f"#{link_id}")
    return True


async def links_of(session: AsyncSession, user: User, limit: int = 20) -> list[LinkView]:
    rows = (await session.exec(select(SignInLink).where(SignInLink.user_id == user.id)
                               .order_by(col(SignInLink.id).desc()).limit(limit))).all()
    return [LinkView(r.id or 0, r.created_by, r.created_at, r.expires_at, r.used_at, r.revoked_at) for r in rows]


async def changes_of(session: AsyncSession, user: User, event_id: int | None = None,
                     limit: int = 200) -> list[RoleChange]:
    """The account's record, newest first; for an event's page, that event's rows and the account's own."""
    query = select(RoleChange).where(RoleChange.user_id == user.id)
    if event_id is not None:
        query = query.where(or_(col(RoleChange.event_id) == event_id,
                                col(RoleChange.action).in_(["disable", "enable", "reset", "link", "unlink"])))
    return list((await session.exec(query.order_by(col(RoleChange.id).desc()).limit(limit))).all())
