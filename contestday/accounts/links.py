"""Sign-in links that sign nobody in: why (used, revoked, expired, disabled, unknown) and the page saying so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.response import Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.models import SignInLink, User
from contestday.accounts.security import hash_token
from contestday.db.types import utcnow
from contestday.web.errors import Refusal
from contestday.web.i18n import preferred_language, register

__all__ = ["ASK_AGAIN", "LINK_REFUSALS", "LinkView", "link_refused", "link_state"]

LINK_REFUSALS = {
    "used": ("link_used", "这个登录链接已经用过：每个链接只能登录一次。", "this sign-in link has been used: each link "
             "signs in once"),
    "revoked": ("invalid_link", "这个登录链接已被撤销。", "this sign-in link was revoked"),
    "expired": ("invalid_link", "这个登录链接已过期。", "this sign-in link has expired"),
    "disabled": ("invalid_link", "这个账号已停用。", "this account is disabled"),
    "unknown": ("invalid_link", "登录链接无效。", "invalid sign-in link"),
}
ASK_AGAIN = "请向组委会索取新的登录链接，或用用户名和密码登录。"
register({
    ASK_AGAIN: "Ask the organisers for a new sign-in link, or sign in with your user name and password.",
    **{zh: en for _code, zh, en in LINK_REFUSALS.values()},
})


@dataclass(frozen=True)
class LinkView:
    id: int
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None

    @property
    def state(self) -> str:
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= utcnow() else "open"


async def link_state(session: AsyncSession, token: str) -> str:
    """Why a link was refused: used | revoked | expired | disabled | unknown."""
    row = (await session.exec(select(SignInLink, User.active).join(User, col(User.id) == col(SignInLink.user_id))
                              .where(SignInLink.token_hash == hash_token(token)))).first()
    if row is None:
        return "unknown"
    link, active = row
    view = LinkView(link.id or 0, link.created_by, link.created_at, link.expires_at, link.used_at, link.revoked_at)
    return "disabled" if view.state == "open" and not active else ("unknown" if view.state == "open" else view.state)


async def link_refused(request: Request[Any, Any, Any], db: AsyncSession, token: str) -> Template:
    """401 for a link that signs nobody in: a page saying why (JSON for API clients)."""
    code, zh, en = LINK_REFUSALS[await link_state(db, token)]
    if "text/html" not in request.headers.get("accept", ""):
        raise Refusal(401, code, f"{zh}{ASK_AGAIN}", en)
    return Template("accounts/link_refused.html", status_code=401, headers={"Cache-Control": "no-store"},
                    context={"lang": preferred_language(request), "principal": None, "code": code,
                             "reason": zh})
