"""Sign in and out (session cookie), each person's start page, who am I, and the language switch."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from registration.accounts import service
from registration.accounts.guards import SESSION_COOKIE, current_principal
from registration.accounts.start import START_PATH, safe_next, start_view
from registration.events.service import list_events
from registration.web import ApiError, DbSession, preferred_language

__all__ = ["AccountController"]

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _session_cookie(request: Request[Any, Any, Any], token: str, max_age: int) -> Cookie:
    secure = request.url.scheme == "https"
    return Cookie(key=SESSION_COOKIE, value=token, httponly=True, samesite="lax", secure=secure,
                  max_age=max_age, path="/")


class AccountController(Controller):
    tags = ["accounts"]

    @get("/login", include_in_schema=False)
    async def login_page(self, request: Request[Any, Any, Any]) -> Template:
        target = request.query_params.get("next")
        return Template("login.html", context={"lang": preferred_language(request), "next": safe_next(target),
                                               "error": None})

    @post("/login", include_in_schema=False, status_code=303)
    async def login(self, request: Request[Any, Any, Any], data: Form,
                    db_session: DbSession) -> Redirect | Template:
        user = await service.authenticate(db_session, data.get("name", "").strip(), data.get("password", ""))
        if user is None:
            return Template("login.html", status_code=401, context={
                "lang": preferred_language(request), "next": safe_next(data.get("next")),
                "error": "用户名或密码错误", "name": data.get("name", "")})
        token, _csrf = await service.start_session(db_session, user)
        await db_session.commit()
        max_age = int(service.SESSION_LIFETIME.total_seconds())
        return Redirect(path=safe_next(data.get("next")), status_code=303,
                        cookies=[_session_cookie(request, token, max_age)])

    @get("/login/link/{token:str}", include_in_schema=False)
    async def login_link(self, request: Request[Any, Any, Any], token: FromPath[str],
                         db_session: DbSession) -> Redirect:
        """A signed sign-in link (`contestday demo` prints them; later, judges' personal links)."""
        user = await service.user_from_link(db_session, request.app.state.settings.secret_key, token)
        if user is None:
            raise ApiError(401, "invalid_link", "登录链接无效或已过期", "invalid or expired sign-in link")
        session_token, _csrf = await service.start_session(db_session, user)
        await db_session.commit()
        max_age = int(service.SESSION_LIFETIME.total_seconds())
        return Redirect(path=safe_next(request.query_params.get("next")), status_code=303,
                        cookies=[_session_cookie(request, session_token, max_age)])

    @get(START_PATH, include_in_schema=False)
    async def start_page(self, request: Request[Any, Any, Any], db_session: DbSession) -> Template:
        """Where sign-in lands (unless `next=` says otherwise): this person's events and, per event, what
        each of their roles can do, as links to the real pages."""
        principal = await current_principal(request)
        if principal is None:
            raise ApiError(401, "not_authenticated", "请先登录", "please sign in")
        view = await start_view(db_session, principal, await list_events(db_session))
        return Template("start.html", context={"lang": preferred_language(request), "principal": principal,
                                               **view})

    @post("/logout", include_in_schema=False, status_code=303)
    async def logout(self, request: Request[Any, Any, Any], db_session: DbSession) -> Redirect:
        principal = await current_principal(request)
        token = request.cookies.get(SESSION_COOKIE)
        if principal is not None and token:
            form = await request.form()
            if form.get("csrf_token") != principal.csrf_token:
                raise ApiError(403, "csrf_failed", "页面已过期，请刷新后重试", "missing or wrong CSRF token")
            await service.end_session(db_session, token)
            await db_session.commit()
        return Redirect(path="/login", status_code=303, cookies=[_session_cookie(request, "", 0)])

    @get("/api/me", summary="当前用户 / who am I")
    async def me(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        principal = await current_principal(request)
        if principal is None:
            raise ApiError(401, "not_authenticated", "请先登录", "please sign in")
        return {"name": principal.name, "roles": sorted(principal.roles), "via": principal.via,
                "csrf_token": principal.csrf_token}

    @get("/lang/{lang:str}", include_in_schema=False)
    async def set_language(self, request: Request[Any, Any, Any], lang: FromPath[str]) -> Redirect:
        back = safe_next(request.headers.get("referer", "/").split(request.url.netloc, 1)[-1] or "/", default="/")
        value = lang if lang in ("zh", "en") else "zh"
        return Redirect(path=back, cookies=[Cookie(key="lang", value=value, max_age=31536000, samesite="lax")])
