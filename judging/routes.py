"""HTTP routes of judging: the judge's personal link (sets the session the tablet's websocket uses)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import Redirect

from contestday.accounts import service as accounts
from contestday.accounts.guards import SESSION_COOKIE
from contestday.accounts.models import User
from contestday.web.errors import Refusal
from contestday.web.sessions import WriteSession
from judging.panels import judge_from_link

__all__ = ["JudgeLinkController"]


class JudgeLinkController(Controller):
    path = "/j"
    include_in_schema = False

    @get("/{token:str}")
    async def open_link(self, token: FromPath[str], request: Request[Any, Any, Any],
                        write_session: WriteSession) -> Redirect:
        judge = await judge_from_link(write_session, request.app.state.settings.secret_key, token)
        user = await write_session.get(User, judge.user_id) if judge is not None and judge.user_id else None
        if judge is None or user is None or not user.active:
            raise Refusal(401, "invalid_link", "裁判链接无效或已撤销，请联系裁判长", "invalid or revoked judge link")
        session_token, _csrf = await accounts.start_session(write_session, user)
        await write_session.commit()
        cookie = Cookie(key=SESSION_COOKIE, value=session_token, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https", max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
        return Redirect(path="/judge", status_code=303, cookies=[cookie])
