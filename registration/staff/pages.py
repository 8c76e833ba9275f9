"""Staff accounts in the browser: /admin/accounts for administrators (server-wide organisers: every account)
and /admin/events/{id}/accounts for an event's organisers (the accounts of that event, its roles only).

Plain forms with the session's CSRF token; the rules live in registration/staff/service.py, shared with
`contestday user …`. A new sign-in link is shown once, in the answer to the form that made it (with its QR
code as an inline PNG): only its hash is stored, and a link in a URL of its own would end up in logs.
Also here: the page a refused sign-in link answers (used, revoked, expired)."""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts import service
from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.accounts.models import User
from contestday.accounts.security import ROLES
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language, register
from contestday.web.public_address import public_address
from contestday.web.sessions import DbSession, WriteSession
from registration.entries.qr import qr_png
from registration.events.models import Event, Item
from registration.staff import service as staff
from scoring.event_file import CHINA_TZ

__all__ = ["STAFF_PAGES", "AccountForm", "AdminAccountPages", "EventAccountPages", "RoleForm"]

Req = Request[Any, Any, Any]
# the forms of an account's page, one path each: …/{user_id}/grant, …/revoke (a role and its scope in the form),
# …/disable and so on (the path says everything: the form carries only its CSRF token)
ROLE_CHANGES = [f"/{{user_id:int}}/{what}" for what in ("grant", "revoke")]
ACCOUNT_CHANGES = [f"/{{user_id:int}}/{what}" for what in ("disable", "enable", "reset", "link")]
CREATE_ROWS = 3  # role rows of the "new account" form; more roles are given on the account's page
DONE = {"granted": "已授予角色", "revoked": "已收回角色", "disabled": "账号已停用，其登录会话已全部结束",
        "enabled": "账号已启用", "unlinked": "登录链接已撤销", "unchanged": "没有变化"}

ACTION_EN = {"创建账号": "Account created", "授予角色": "Give a role", "收回角色": "Role taken back",
             "停用": "Disabled", "启用": "Enabled", "重置": "Reset", "生成登录链接": "Link made",
             "撤销登录链接": "Link revoked"}
register({
    "账号与角色": "Accounts and roles",
    "全部账号": "All accounts",
    "工作人员账号、本赛事的角色、一次性登录链接": "Staff accounts, this event's roles, one-time sign-in links",
    "本赛事的工作人员账号：新建账号、授予或收回本赛事的角色、停用、重置和一次性登录链接":
        "This event's staff accounts: create, give and take this event's roles, disable, reset, one-time links",
    "全部工作人员账号：新建、授予或收回各赛事的角色、停用、重置和一次性登录链接":
        "Every staff account: create, give and take roles per event, disable, reset, one-time links",
    "新建账号": "New account",
    "账号": "Account",
    "撤销": "Revoke",
    "显示名称": "Display name",
    "范围": "Scope",
    "全部赛事（管理员）": "Every event (administrator)",
    "整个赛事": "The whole event",
    "创建账号并生成登录链接": "Create the account and its sign-in link",
    "新账号没有密码：把一次性登录链接（或二维码）交给本人，打开即登录，只能用一次。":
        "A new account has no password: give the person the one-time sign-in link (or QR code); it signs in once.",
    "上次登录": "Last sign-in",
    "正常": "Active",
    "已停用": "Disabled",
    "还没有账号。": "No accounts yet.",
    "角色与范围": "Roles and scopes",
    "收回": "Take back",
    "授予": "Give",
    "没有角色。": "No roles.",
    "停用账号": "Disable the account",
    "启用账号": "Enable the account",
    "停用后立即退出所有已登录的设备，未使用的登录链接作废。":
        "Disabling signs the account out on every device at once; unused links die.",
    "重置后旧密码不能再用，所有会话结束，旧的登录链接作废，并生成一个新的一次性登录链接。":
        "After a reset the old password no longer works, every session ends, older links die, and a new one-time "
        "link is made.",
    "确认重置": "Reset now",
    "生成新的登录链接": "New sign-in link",
    "一次性登录链接": "One-time sign-in link",
    "此链接只显示这一次：请现在复制或扫码交给本人。打开一次即失效，7 天内有效。":
        "This link is shown only now: copy it or let the person scan it. It works once, within 7 days.",
    "登录链接": "Sign-in links",
    "生成时间": "Made",
    "生成人": "Made by",
    "使用或撤销": "Used or revoked",
    "未使用": "Unused",
    "已使用": "Used",
    "已撤销": "Revoked",
    "已过期": "Expired",
    "变更记录": "Record of changes",
    "时间（北京时间）": "Time (Beijing)",
    "操作人": "By",
    "变更": "Change",
    "说明": "Details",
    "此账号在其他赛事或全部赛事也担任角色：只有管理员可以停用、重置它或为它生成登录链接。":
        "This account also holds roles in other events or everywhere: only an administrator may disable or reset it "
        "or make a link for it.",
    "登录链接不可用": "Sign-in link refused",
    "去登录": "Go to sign-in",
    "旧密码、会话和未用的登录链接已失效": "The old password, the sessions and the unused links no longer work",
    **ACTION_EN,
    **{zh: en for zh, en in [("已授予角色", "Role given"), ("已收回角色", "Role taken back"),
                             ("账号已停用，其登录会话已全部结束", "Account disabled: its sessions have ended"),
                             ("账号已启用", "Account enabled"), ("登录链接已撤销", "Sign-in link revoked"),
                             ("没有变化", "Nothing changed")]},
})


# --- bodies ---
@dataclass
class AccountForm:
    """The "new account" form of accounts/list.html: the account and up to CREATE_ROWS (role, scope) rows; a
    refusal shows the form again with what was sent."""

    name: str = ""
    display_name: str = ""
    role_0: str = ""
    scope_0: str = ""
    role_1: str = ""
    scope_1: str = ""
    role_2: str = ""
    scope_2: str = ""


@dataclass
class RoleForm:
    """A role given (`role`, `scope` as "", "E5" or "E5:SA01") or taken back (`role`, `event_id`, `item_id`:
    exactly the scope it is held for, "" for none) on an account's page."""

    role: str = ""
    scope: str = ""
    event_id: str = ""
    item_id: str = ""


def _local(moment: Any) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _message(exc: Refusal, lang: str) -> str:
    return exc.message_en if lang == "en" else exc.message


def _parse_scope(value: str, event_id: int | None) -> tuple[int | None, str | None]:
    """A scope option: "" server-wide, "E5" the whole event 5, "E5:SA01" one item of it. On an event's
    page anything else than that event is refused."""
    value = value.strip()
    if not value:
        scope: tuple[int | None, str | None] = (None, None)
    else:
        head, _, code = value.partition(":")
        if not (head.startswith("E") and head[1:].isdigit()):
            raise Refusal(422, "invalid_scope", "范围无效", "invalid scope")
        scope = (int(head[1:]), code or None)
    if event_id is not None and scope[0] != event_id:
        raise Refusal(403, "wrong_event_role", "只能授予本赛事的角色", "only this event's roles can be given here")
    return scope


def _check_server_wide(role: str, scope: tuple[int | None, str | None]) -> None:
    if scope[0] is None and role != "organiser":
        raise Refusal(422, "server_wide_admin_only", "只有组委会（管理员）的角色可以对全部赛事有效：请选择赛事",
                       "only the organiser (administrator) role holds for every event: choose an event")


async def _scopes(db: AsyncSession, event_id: int | None) -> list[dict[str, Any]]:
    """The options of the scope selects: per event, the whole event then each item."""
    query = select(Event).order_by(col(Event.starts_on).desc(), col(Event.id).desc())
    if event_id is not None:
        query = query.where(Event.id == event_id)
    events = (await db.exec(query)).all()
    items = (await db.exec(select(Item).where(col(Item.event_id).in_([e.id for e in events]))
                           .order_by(col(Item.position)))).all()
    return [{"id": e.id, "name": e.name, "items": [(i.id, i.code, i.name) for i in items if i.event_id == e.id]}
            for e in events]


def _scope_names(scopes: list[dict[str, Any]], lang: str, on_event_page: bool) -> dict[tuple[int, int | None], str]:
    """(event id, item id) → how the record names the scope."""
    names: dict[tuple[int, int | None], str] = {}
    for e in scopes:
        names[(e["id"], None)] = gettext("整个赛事", lang) if on_event_page else e["name"]
        for item_id, code, name in e["items"]:
            names[(e["id"], item_id)] = f"{'' if on_event_page else e['name'] + ' · '}{code} {name}"
    return names


def _base(event_id: int | None) -> str:
    return "/admin/accounts" if event_id is None else f"/admin/events/{event_id}/accounts"


async def _context(request: Req, db: AsyncSession, event_id: int | None) -> dict[str, Any]:
    event = None
    if event_id is not None:
        event = await db.get(Event, event_id)
        if event is None:
            raise Refusal(404, "unknown_event", "找不到该赛事", "no such event")
    scopes = await _scopes(db, event_id)
    return {"lang": preferred_language(request), "principal": await current_principal(request), "event": event,
            "base": _base(event_id), "roles": ROLES, "item_roles": staff.ITEM_ROLES, "local": _local,
            "scopes": scopes, "actions": staff.ACTIONS,
            "scope_names": _scope_names(scopes, preferred_language(request), event_id is not None)}


async def list_page(request: Req, db: AsyncSession, event_id: int | None, *, status: int = 200,
                    values: dict[str, str] | None = None, error: str = "") -> Template:
    context = await _context(request, db, event_id)
    return Template("accounts/list.html", status_code=status, headers={"Cache-Control": "no-store"}, context={
        **context, "accounts": await staff.account_views(db, event_id), "values": values or {}, "error": error,
        "rows": range(CREATE_ROWS)})


async def account_page(request: Req, db: AsyncSession, event_id: int | None, user_id: int, *, status: int = 200,
                       new_link: str = "", error: str = "") -> Template:
    user = await staff.account(db, user_id, event_id)
    context = await _context(request, db, event_id)
    view = (await staff.account_views(db, user_ids=[user_id]))[0]
    done = DONE.get(request.query_params.get("done", "")) if not error else None
    link = {}
    if new_link:
        link = {"url": new_link, "qr": base64.b64encode(qr_png(new_link, module_px=6)).decode("ascii")}
    return Template("accounts/account.html", status_code=status, headers={"Cache-Control": "no-store"}, context={
        **context, "user": user, "view": view, "links": await staff.links_of(db, user),
        "changes": await staff.changes_of(db, user, event_id), "new_link": link, "error": error,
        "done": gettext(done, context["lang"]) if done else "",
        "locked": event_id is not None and view.beyond(event_id),
        "mine": lambda g: event_id is None or g.event_id == event_id})


async def _link_url(request: Req, db: AsyncSession, token: str) -> str:
    return f"{(await public_address(request, db)).url}/login/link/{token}"


async def create(request: Req, db: AsyncSession, event_id: int | None, form: AccountForm) -> Template:
    values = dataclasses.asdict(form)
    grants: list[tuple[str, int | None, str | None]] = []
    try:
        for n in range(CREATE_ROWS):
            role = values.get(f"role_{n}", "")
            if not role:
                continue
            scope = _parse_scope(values.get(f"scope_{n}", ""), event_id)
            _check_server_wide(role, scope)
            grants.append((role, *scope))
        user = await staff.create_account(db, values.get("name", ""), values.get("display_name"), grants,
                                          await actor_name(request), event_id)
        token = await staff.issue_link(db, user, await actor_name(request))
    except Refusal as exc:
        await db.rollback()
        return await list_page(request, db, event_id, status=exc.status_code, values=values,
                               error=_message(exc, preferred_language(request)))
    await db.commit()
    assert user.id is not None
    link = await _link_url(request, db, token)
    return await account_page(request, db, event_id, user.id, status=201, new_link=link)


async def _guarded(request: Req, db: AsyncSession, event_id: int | None, user_id: int,
                   account_wide: bool) -> User:
    """The account, for a change an event's organiser may make: account-wide changes (disable, reset,
    links) only for an account confined to this event."""
    user = await staff.account(db, user_id, event_id)
    if account_wide and event_id is not None:
        view = (await staff.account_views(db, user_ids=[user_id]))[0]
        if view.beyond(event_id):
            raise Refusal(403, "account_beyond_event",
                           "此账号在其他赛事或全部赛事也担任角色：只有管理员可以停用、重置它或为它生成登录链接。",
                           "the account holds roles beyond this event: only an administrator may do this")
    return user


async def change(request: Req, db: AsyncSession, event_id: int | None, user_id: int, what: str,
                 form: RoleForm | None = None, link_id: int | None = None) -> Redirect | Template:
    """One change from the account's page; a refusal shows on the page (409 `role_conflict` and the others).
    Only a role given or taken back reads a `form`; the other changes are named by their path."""
    form = form or RoleForm()
    by = await actor_name(request)
    token, done = "", "unchanged"
    try:
        user = await _guarded(request, db, event_id, user_id, what not in ("grant", "revoke"))
        principal = await current_principal(request)
        if what in ("disable", "reset") and principal is not None and principal.user_id == user_id:
            raise Refusal(409, "own_account", "不能停用或重置自己的账号：请另一位管理员操作",
                           "you cannot disable or reset your own account: ask another administrator")
        if what == "grant":
            scope = _parse_scope(form.scope, event_id)
            _check_server_wide(form.role, scope)
            done = "granted" if await staff.give(db, user, form.role, by, *scope) else "unchanged"
        elif what == "revoke":
            g_event = int(form.event_id) if form.event_id.isdigit() else None
            if event_id is not None and g_event != event_id:
                raise Refusal(403, "wrong_event_role", "只能收回本赛事的角色", "only this event's roles here")
            done = "revoked" if await staff.take(db, user, form.role, by, g_event,
                                                 int(form.item_id) if form.item_id.isdigit() else None) else "unchanged"
        elif what in ("disable", "enable"):
            done = what + "d" if await staff.set_active(db, user, what == "enable", by) else "unchanged"
        elif what == "reset":
            token = await staff.reset(db, user, by)
        elif what == "link":
            token = await staff.issue_link(db, user, by)
        else:
            assert link_id is not None
            done = "unlinked" if await staff.revoke_link(db, user, link_id, by) else "unchanged"
    except Refusal as exc:
        await db.rollback()
        if exc.status_code == 404:
            raise
        return await account_page(request, db, event_id, user_id, status=exc.status_code,
                                  error=_message(exc, preferred_language(request)))
    await db.commit()
    if what == "reset" or (what in ("disable", "revoke") and done != "unchanged"):  # committed: its sockets close
        request.app.plugins.get(ChannelsPlugin).publish(service.SIGNED_OUT, [service.account_channel(user_id)])
    if token:
        return await account_page(request, db, event_id, user_id, new_link=await _link_url(request, db, token))
    return Redirect(f"{_base(event_id)}/{user_id}?done={done}", status_code=303)


class AdminAccountPages(Controller):
    """Administrators: every account, roles of every event and server-wide ones."""

    path = "/admin/accounts"
    guards = [requires("organiser", server_wide=True)]
    include_in_schema = False

    @get("")
    async def accounts(self, request: Req, db_session: DbSession) -> Template:
        return await list_page(request, db_session, None)

    @post("", status_code=201)
    async def create(self, request: Req, write_session: WriteSession,
                     data: URLEncodedBody[AccountForm]) -> Template:
        return await create(request, write_session, None, data)

    @get("/{user_id:int}")
    async def account(self, request: Req, user_id: FromPath[int], db_session: DbSession) -> Template:
        return await account_page(request, db_session, None, user_id)

    @post(ROLE_CHANGES, status_code=303)
    async def change_role(self, request: Req, user_id: FromPath[int], write_session: WriteSession,
                          data: URLEncodedBody[RoleForm]) -> Redirect | Template:
        return await change(request, write_session, None, user_id, _action(request), data)

    @post(ACCOUNT_CHANGES, status_code=303)
    async def change(self, request: Req, user_id: FromPath[int], write_session: WriteSession) -> Redirect | Template:
        return await change(request, write_session, None, user_id, _action(request))

    @post("/{user_id:int}/links/{link_id:int}/revoke", status_code=303)
    async def revoke_link(self, request: Req, user_id: FromPath[int], link_id: FromPath[int],
                          write_session: WriteSession) -> Redirect | Template:
        return await change(request, write_session, None, user_id, "unlink", link_id=link_id)


class EventAccountPages(Controller):
    """An event's organisers: the accounts of the event and the event's roles."""

    path = "/admin/events/{event_id:int}/accounts"
    guards = [requires("organiser")]
    include_in_schema = False

    @get("")
    async def accounts(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        return await list_page(request, db_session, event_id)

    @post("", status_code=201)
    async def create(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                     data: URLEncodedBody[AccountForm]) -> Template:
        return await create(request, write_session, event_id, data)

    @get("/{user_id:int}")
    async def account(self, request: Req, event_id: FromPath[int], user_id: FromPath[int],
                      db_session: DbSession) -> Template:
        return await account_page(request, db_session, event_id, user_id)

    @post(ROLE_CHANGES, status_code=303)
    async def change_role(self, request: Req, event_id: FromPath[int], user_id: FromPath[int],
                          write_session: WriteSession, data: URLEncodedBody[RoleForm]) -> Redirect | Template:
        return await change(request, write_session, event_id, user_id, _action(request), data)

    @post(ACCOUNT_CHANGES, status_code=303)
    async def change(self, request: Req, event_id: FromPath[int], user_id: FromPath[int],
                     write_session: WriteSession) -> Redirect | Template:
        return await change(request, write_session, event_id, user_id, _action(request))

    @post("/{user_id:int}/links/{link_id:int}/revoke", status_code=303)
    async def revoke_link(self, request: Req, event_id: FromPath[int], user_id: FromPath[int],
                          link_id: FromPath[int], write_session: WriteSession) -> Redirect | Template:
        return await change(request, write_session, event_id, user_id, "unlink", link_id=link_id)


def _action(request: Req) -> str:
    """The change a form's path names (the last segment of one of ROLE_CHANGES or ACCOUNT_CHANGES)."""
    return request.url.path.rstrip("/").rsplit("/", 1)[1]


STAFF_PAGES = [AdminAccountPages, EventAccountPages]
