"""Route guards: who may call what. `requires("organiser")` on a handler or controller.

The principal comes from the bearer token of contracts §1 (`CONTESTDAY_ADMIN_TOKEN`, organiser role,
for scripts) or the session cookie. A cookie-authenticated unsafe request must also carry the
session's CSRF token (header `X-CSRF-Token` or form field `csrf_token`): a bearer token is not sent
by browsers on their own, so it needs none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import WebSocketException
from litestar.handlers.base import BaseRouteHandler

from contestday.accounts.security import ROLES, same
from contestday.accounts.service import Principal, session_principal
from contestday.web.errors import Refusal

__all__ = ["SESSION_COOKIE", "Scope", "actor_name", "current_principal", "requires", "wrong_scope"]

# What a route acts on, when its path does not say: (event id, item code or None), or None when unknown
Scope = Callable[[ASGIConnection[Any, Any, Any, Any]], Awaitable[tuple[int, str | None] | None]]

SESSION_COOKIE = "contestday_session"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


async def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """Resolve (once per request) who is calling; None for anonymous."""
    if "principal" in connection.state:
        return connection.state["principal"]
    principal: Principal | None = None
    auth = connection.headers.get("authorization", "")
    admin_token: str | None = connection.app.state.settings.admin_token
    if auth.lower().startswith("bearer "):
        given = auth[7:].strip()
        if admin_token and same(given, admin_token):
            principal = Principal(None, "api-token", frozenset({"organiser"}), "token")
        else:
            raise _refusal(connection, 401, "invalid_token", "访问令牌无效", "invalid bearer token")
    elif token := connection.cookies.get(SESSION_COOKIE):
        # on every signed-in request: the reader thread (SQLite) or the pool, never a write lock
        principal = await connection.app.state.reader.run(partial(session_principal, token=token))
    connection.state["principal"] = principal
    return principal


async def actor_name(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Who is acting, as logs and audit rows name them."""
    principal = await current_principal(connection)
    return principal.name if principal else "?"


def _refusal(connection: ASGIConnection[Any, Any, Any, Any], status: int, code: str, zh: str,
             en: str) -> Exception:
    if connection.scope["type"] == "websocket":
        return WebSocketException(detail=f"{code}: {en}", code=4401 if status == 401 else 4403)
    return Refusal(status, code, zh, en)


async def _check_csrf(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> None:
    if principal.via != "session" or connection.scope.get("method") not in _UNSAFE:
        return
    given = connection.headers.get("x-csrf-token")
    if given is None and "form" in connection.headers.get("content-type", ""):
        form = await connection.form()  # type: ignore[attr-defined]
        given = form.get("csrf_token")
    if not given or not principal.csrf_token or not same(str(given), principal.csrf_token):
        raise Refusal(403, "csrf_failed", "页面已过期或来源不明，请刷新页面后重试",
                       "missing or wrong CSRF token: reload the page and try again")


def wrong_scope(connection: ASGIConnection[Any, Any, Any, Any], roles: tuple[str, ...],
                event_id: int | None, item: str | None) -> Exception:
    """403 `wrong_event_role`: the role is held, but not for this event or item."""
    names = "、".join(ROLES[r][0] for r in roles)
    where = "全部赛事" if event_id is None else (f"本赛事的赛项 {item}" if item else "本赛事")
    where_en = "every event" if event_id is None else (f"item {item} of this event" if item else "this event")
    return _refusal(connection, 403, "wrong_event_role", f"您的角色（{names}）不适用于{where}",
                    f"your role ({', '.join(ROLES[r][1] for r in roles)}) does not hold for {where_en}")


def _path_scope(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[int | None, str | None]:
    params = connection.path_params
    event_id = params.get("event_id")
    item = params.get("code")
    return (event_id if isinstance(event_id, int) else None), (item if isinstance(item, str) else None)


def requires(*roles: str, server_wide: bool = False, scope: Scope | None = None) -> Any:
    """A guard admitting principals holding any of `roles` for the route's event and item: the path's
    `event_id` and `code` (item code), or what `scope` reads (e.g. a certificate's event from its serial).
    A route naming no event admits the role held anywhere (its handler shows only what the person's events
    hold), unless `server_wide`: then only a role held for every event (administrators)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    wanted = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await current_principal(connection)
        if principal is None:
            raise _refusal(connection, 401, "not_authenticated", "请先登录", "please sign in")
        if not principal.has_any(wanted):
            names = "、".join(ROLES[r][0] for r in roles)
            raise _refusal(connection, 403, "forbidden", f"需要以下角色之一：{names}",
                           f"needs one of the roles: {', '.join(ROLES[r][1] for r in roles)}")
        event_id, item = _path_scope(connection)
        if scope is not None and event_id is None:
            found = await scope(connection)
            if found is not None:
                event_id, item = found
        if server_wide and not principal.holds(wanted, server_wide=True):
            raise wrong_scope(connection, roles, None, None)
        if event_id is not None and not principal.holds(wanted, event_id, item):
            raise wrong_scope(connection, roles, event_id, item)
        await _check_csrf(connection, principal)

    guard.roles = wanted  # type: ignore[attr-defined]  # read by the role × route matrix test
    guard.server_wide = server_wide  # type: ignore[attr-defined]
    return guard
