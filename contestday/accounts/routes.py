"""Sign in and out (session cookie), each person's start page, who am I, and the language switch.

The sign-in form carries a pre-session CSRF token (double submit: a signed random value in a SameSite=Lax
cookie and the same value in the form), so another site cannot sign a browser in to an account of its
choosing; failures are limited per account and per address (contestday/accounts/limits.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie, State
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import col, select

from contestday.accounts import limits, service
from contestday.accounts.guards import SESSION_COOKIE, current_principal
from contestday.accounts.links import link_refused
from contestday.accounts.models import User
from contestday.accounts.security import check_password, new_token, same, sign, unsign
from contestday.web.errors import Refusal
from contestday.web.i18n import preferred_language, register
from contestday.web.sessions import WriteSession

__all__ = ["START_PATH", "AccountController", "LoginForm", "safe_next"]

START_PATH = "/start"  # where sign-in lands: the role hub (registration.staff.start)
LOGIN_CSRF_COOKIE = "contestday_login_csrf"
LOGIN_CSRF_SECONDS = 12 * 3600  # a sign-in page left open over a morning still works
CSRF_EXPIRED = "页面已过期，请重新输入用户名和密码登录。"
register({CSRF_EXPIRED: "The page had expired: enter your user name and password again."})


# --- bodies ---
@dataclass
class LoginForm:
    """The sign-in form (login.html). Its `csrf_token` is read here, not by a guard: there is no session yet, so
    it is the pre-session token checked against the sign-in page's cookie."""

    name: str = ""
    password: str = ""
    next: str = ""
    csrf_token: str = ""


def safe_next(target: str | None, default: str = START_PATH) -> str:
    """Only a path of this site: never send a signed-in user to another site (`//evil`, `/\\evil` which
    browsers read as `//evil`, `https://…`) nor split the Location header (control characters)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _session_cookie(request: Request[Any, Any, Any], token: str, max_age: int) -> Cookie:
    secure = request.url.scheme == "https"
    return Cookie(key=SESSION_COOKIE, value=token, httponly=True, samesite="lax", secure=secure,
                  max_age=max_age, path="/")


def _csrf_valid(secret_key: str, token: str) -> bool:
    payload = unsign(secret_key, "login-csrf", token)
    expires = (payload or "").rpartition(":")[2]
    return expires.isdigit() and int(expires) > time.time()


def _login_page(request: Request[Any, Any, Any], *, status: int = 200, error: str | None = None, code: str = "",
                name: str = "", target: str | None = None, headers: dict[str, str] | None = None) -> Template:
    """The form, with this browser's CSRF token: the cookie's while valid (several tabs), else a new one."""
    key = request.app.state.settings.secret_key
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not _csrf_valid(key, token):
        token = sign(key, "login-csrf", f"{new_token(18)}:{int(time.time()) + LOGIN_CSRF_SECONDS}")
    cookie = Cookie(key=LOGIN_CSRF_COOKIE, value=token, httponly=True, samesite="lax", path="/login",
                    secure=request.url.scheme == "https", max_age=LOGIN_CSRF_SECONDS)
    return Template("login.html", status_code=status, cookies=[cookie],
                    headers={"Cache-Control": "no-store", **(headers or {})},
                    context={"lang": preferred_language(request), "next": safe_next(target), "error": error,
                             "code": code, "name": name, "csrf_token": token})


async def _password_holder(state: State, name: str, password: str) -> int | None:
    """The id of the active account `name` if this is its password. The hash is read first and the
    connection given back: neither a pooled connection nor SQLite's write lock is held while argon2 runs (a
    queue of sign-ins would otherwise hold up every writer and /health). An unknown name costs the same."""
    async with state.read_session() as session:
        row = (await session.exec(select(User.id, User.password_hash).where(
            User.name == name, col(User.active).is_(True)))).first()
    user_id, password_hash = row if row is not None else (None, None)
    return user_id if await check_password(password_hash, password) else None


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    return "text/html" in request.headers.get("accept", "")


class AccountController(Controller):
    tags = ["accounts"]

    @get("/login", include_in_schema=False)
    async def login_page(self, request: Request[Any, Any, Any]) -> Template:
        return _login_page(request, target=request.query_params.get("next"))

    @post("/login", include_in_schema=False, status_code=303)
    async def login(self, request: Request[Any, Any, Any], data: URLEncodedBody[LoginForm]) -> Redirect | Template:
        name, target = data.name.strip(), data.next
        given, cookie = data.csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not (given and same(given, cookie) and _csrf_valid(request.app.state.settings.secret_key, cookie)):
            if not _wants_page(request):
                raise Refusal(403, "csrf_failed", CSRF_EXPIRED, "missing or wrong CSRF token: reload the page")
            return _login_page(request, status=403, error=CSRF_EXPIRED, code="csrf_failed", name=name, target=target)
        try:  # counted whether or not the name exists: the answer never tells
            attempt = await limits.attempt(request, limits.LOGIN, account=name)
        except limits.TooManyAttempts as exc:
            if not _wants_page(request):
                raise
            message = exc.message if preferred_language(request) != "en" else exc.message_en
            return _login_page(request, status=429, error=message, code=exc.code, name=name, target=target,
                               headers=exc.retry_headers)
        user_id = await _password_holder(request.app.state, name, data.password)
        async with request.app.state.open_session() as session:  # the writer, only now
            user = await session.get(User, user_id) if user_id is not None else None
            if user is None or not user.active:
                return _login_page(request, status=401, error="用户名或密码错误", code="invalid_credentials",
                                   name=name, target=target)
            await attempt.succeeded()
            token, _csrf = await service.start_session(session, user)
            await session.commit()
        max_age = int(service.SESSION_LIFETIME.total_seconds())
        return Redirect(path=safe_next(data.next), status_code=303,
                        cookies=[_session_cookie(request, token, max_age)])

    @get("/login/link/{token:str}", include_in_schema=False)
    async def login_link(self, request: Request[Any, Any, Any], token: FromPath[str],
                         write_session: WriteSession) -> Redirect | Template:
        """A one-time sign-in link (staff accounts' pages, `contestday user link`, the demo): used once, so this
        GET writes (it starts the session)."""
        attempt = await limits.attempt(request, limits.LOGIN_LINK)  # bad links count per address
        user = await service.user_from_link(write_session, token)
        if user is None:
            await write_session.rollback()
            return await link_refused(request, write_session, token)
        await attempt.succeeded()
        session_token, _csrf = await service.start_session(write_session, user)
        await write_session.commit()
        max_age = int(service.SESSION_LIFETIME.total_seconds())
        return Redirect(path=safe_next(request.query_params.get("next")), status_code=303,
                        cookies=[_session_cookie(request, session_token, max_age)])

    @post("/logout", include_in_schema=False, status_code=303)
    async def logout(self, request: Request[Any, Any, Any], write_session: WriteSession) -> Redirect:
        principal = await current_principal(request)
        token = request.cookies.get(SESSION_COOKIE)
        if principal is not None and token:
            form = await request.form()
            if form.get("csrf_token") != principal.csrf_token:
                raise Refusal(403, "csrf_failed", "页面已过期，请刷新后重试", "missing or wrong CSRF token")
            await service.end_session(write_session, token)
            await write_session.commit()
        return Redirect(path="/login", status_code=303, cookies=[_session_cookie(request, "", 0)])

    @get("/api/me", summary="当前用户 / who am I")
    async def me(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await current_principal(request)
        if principal is None:
            raise Refusal(401, "not_authenticated", "请先登录", "please sign in")
        grants = [{"role": role, "event_id": event_id, "item": item}
                  for role, event_id, item in sorted(principal.grants, key=lambda g: (g[0], g[1] or 0, g[2] or ""))]
        return {"name": principal.name, "roles": sorted(principal.roles), "grants": grants, "via": principal.via,
                "csrf_token": principal.csrf_token}

    @get("/lang/{lang:str}", include_in_schema=False)
    async def set_language(self, request: Request[Any, Any, Any], lang: FromPath[str]) -> Redirect:
        back = safe_next(request.headers.get("referer", "/").split(request.url.netloc, 1)[-1] or "/", default="/")
        value = lang if lang in ("zh", "en") else "zh"
        return Redirect(path=back, cookies=[Cookie(key="lang", value=value, max_age=31536000, samesite="lax")])
