"""The organiser's certificate page (`/console/events/{id}/certificates`): every issued certificate by item
(serial, masked name, award, valid or revoked, what replaced it), revoke or reissue with a reason, each PDF
and its verify page, search by serial or name; issuing and printing per item, held while an appeal is open.

Plain forms with the CSRF token, so it works without JavaScript; the JSON twins are in certificates/routes.py.
Revoke and reissue take a `ReasonForm` (the reason; the store refuses an empty one, shown on the page).
Names are masked here as on the verify page: the page is shown on shared screens at the ceremony desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from certificates import store
from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language, register
from contestday.web.sessions import DbSession, WriteSession
from registration.events.models import Item
from registration.events.service import event_or_404
from results.appeals import open_appeals_by_item
from results.publication import current

__all__ = ["CertificateListPage", "ReasonForm", "certificate_page"]

Req = Request[Any, Any, Any]
STATES = {"valid": "有效", "revoked": "已作废"}

register({
    "荣誉证书管理": "Certificates",
    "赛事页面": "Event page",
    "申诉与仲裁": "Appeals and arbitration",
    "搜索": "Search",
    "证书编号或姓名": "Serial or name",
    "状态": "State",
    "全部": "All",
    "有效": "Valid",
    "已作废": "Revoked",
    "筛选": "Filter",
    "清除": "Clear",
    "证书编号": "Serial",
    "姓名": "Name",
    "单位": "Unit",
    "组别": "Group",
    "奖项": "Award",
    "颁发日期": "Issued on",
    "操作": "Actions",
    "核验页": "Verify page",
    "替代": "replaces",
    "已由 {s} 替代": "replaced by {s}",
    "原因": "Reason",
    "作废": "Revoke",
    "补发": "Reissue",
    "作废或补发须填写原因（例如：单位名称有误）。补发即作废原证书并以新编号重新颁发。":
        "Revoking or reissuing needs a reason (e.g. a misspelt unit). Reissuing revokes the certificate and "
        "issues it again under a new serial.",
    "成绩未发布：尚无证书。": "Results not published: no certificates yet.",
    "没有符合条件的证书。": "No certificates match.",
    "有 {n} 件申诉未裁定：裁定前不颁发、不打印证书。": "{n} open appeal(s): no issuing or printing until ruled.",
    "颁发": "Issue",
    "打印（PDF）": "Print (PDF)",
    "共 {n} 张，有效 {v} 张": "{n} certificate(s), {v} valid",
    "已颁发 {n} 张荣誉证书。": "{n} certificate(s) issued.",
    "未裁定申诉的赛项未颁发：{items}。": "Held for open appeals: {items}.",
    "已作废证书 {s}。": "Certificate {s} revoked.",
    "已补发：新证书编号 {new}（替代 {old}）。": "Reissued: new serial {new} (replaces {old}).",
    "证书只按已发布的成绩颁发，每人每项一张；已颁发的证书不会删除，只能作废或补发。":
        "Certificates follow published results, one per person and item; an issued certificate is never deleted, "
        "only revoked or reissued.",
})


# --- bodies ---
@dataclass
class ReasonForm:
    """Revoking or reissuing a certificate from the page: the reason (the store refuses an empty one)."""

    reason: str = ""


def _row(r: store.IssuedCertificate, replaced: dict[str, str], secret: str) -> dict[str, Any]:
    return {"serial": r.serial, "name": store.mask_name(r.name), "unit": r.unit, "group": r.group_name,
            "award": r.award, "state": r.state, "reason": r.reason, "issued_on": r.issued_on.isoformat(),
            "replaces": r.replaces, "replaced_by": replaced.get(r.serial),
            "verify": store.verify_url("", secret, r.serial)}


async def certificate_page(request: Req, session: AsyncSession, event_id: int, status: int = 200, done: str = "",
                           error: Refusal | None = None) -> Template:
    """The page, optionally with a done message or a refusal (kept on the page, with its code)."""
    event = await event_or_404(session, event_id)
    settings = request.app.state.settings
    lang = preferred_language(request)
    q = (request.query_params.get("q") or "").strip()
    state = request.query_params.get("state") or ""
    rows = (await session.exec(select(store.IssuedCertificate).where(
        store.IssuedCertificate.event_id == event_id).order_by(col(store.IssuedCertificate.order_key),
                                                               col(store.IssuedCertificate.id)))).all()
    replaced = {r.replaces: r.serial for r in rows if r.replaces}
    appeals = await open_appeals_by_item(session, event_id)
    items = []
    for item in (await session.exec(select(Item).where(Item.event_id == event_id)
                                    .order_by(col(Item.position)))).all():
        mine = [r for r in rows if r.item_id == item.id]
        shown = [r for r in mine if (not q or q.upper() in r.serial.upper() or q in r.name)
                 and (not state or r.state == state)]
        latest = await current(session, item.id or 0)
        items.append({"code": item.code, "name": item.name, "total": len(mine),
                      "valid": sum(r.state == "valid" for r in mine),
                      "published": latest is not None and latest.state == "published",
                      "open_appeals": appeals.get(item.id or 0, 0),
                      "rows": [_row(r, replaced, settings.secret_key) for r in shown]})
    return Template("certificates/admin.html", status_code=status, context={
        "lang": lang, "principal": await current_principal(request), "event": event, "items": items,
        "f": {"q": q, "state": state}, "states": STATES, "done": done,
        "error": None if error is None else {"code": error.code, "message": error.message_en if lang == "en"
                                             else error.message, **error.extra_fields}},
        headers={"Cache-Control": "no-store"})


class CertificateListPage(Controller):
    path = "/console/events/{event_id:int}/certificates"
    guards = [requires("organiser")]
    include_in_schema = False

    @get("/")
    async def page(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        lang, query = preferred_language(request), request.query_params
        done = ""
        if query.get("issued") is not None:
            done = gettext("已颁发 {n} 张荣誉证书。", lang).format(n=query.get("issued"))
            held = await store.held_by_appeals(db_session, event_id)
            if held:
                done += " " + gettext("未裁定申诉的赛项未颁发：{items}。", lang).format(items="、".join(held))
        elif query.get("done") == "revoked":
            done = gettext("已作废证书 {s}。", lang).format(s=query.get("serial", ""))
        elif query.get("done") == "reissued":
            done = gettext("已补发：新证书编号 {new}（替代 {old}）。", lang).format(
                new=query.get("serial", ""), old=query.get("old", ""))
        return await certificate_page(request, db_session, event_id, done=done)

    async def _act(self, request: Req, session: AsyncSession, event_id: int, serial: str,
                   action: str, reason: str) -> Redirect | Template:
        try:
            row = (await session.exec(select(store.IssuedCertificate).where(
                store.IssuedCertificate.serial == serial))).first()
            if row is None or row.event_id != event_id:
                raise Refusal(404, "unknown_certificate", f"本赛事没有编号为 {serial} 的证书",
                               f"no certificate {serial} in this event")
            by = await actor_name(request)
            if action == "revoke":
                await store.revoke(session, serial, reason, by)
                target = f"done=revoked&serial={serial}"
            else:
                new = await store.reissue(session, serial, reason, by)
                target = f"done=reissued&serial={new.serial}&old={serial}"
        except Refusal as exc:
            await session.rollback()
            return await certificate_page(request, session, event_id, exc.status_code, error=exc)
        return Redirect(f"/console/events/{event_id}/certificates?{target}", status_code=303)

    @post("/{serial:str}/revoke", status_code=303)
    async def revoke(self, request: Req, event_id: FromPath[int], serial: FromPath[str],
                     write_session: WriteSession, data: URLEncodedBody[ReasonForm]) -> Redirect | Template:
        return await self._act(request, write_session, event_id, serial, "revoke", data.reason)

    @post("/{serial:str}/reissue", status_code=303)
    async def reissue(self, request: Req, event_id: FromPath[int], serial: FromPath[str],
                      write_session: WriteSession, data: URLEncodedBody[ReasonForm]) -> Redirect | Template:
        return await self._act(request, write_session, event_id, serial, "reissue", data.reason)
