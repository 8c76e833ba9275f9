"""The arbitration page (`/console/events/{id}/appeals`): every appeal of the event, open or decided, a paper
appeal recorded, and arbitration's ruling (results/appeals.py), as plain forms with the CSRF token.

The organiser (the arbitration committee's desk) acts; the chief judge reads the same page without the forms.
A ruling that changes the results republishes through the publish gate; when the gate refuses, the page says
so with every blocker and keeps what the arbiter wrote, and the appeal stays open.
The forms are typed (`PaperAppealForm`, `RulingForm`); a refused form is shown again with what was sent.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language, register
from contestday.web.sessions import DbSession, WriteSession
from registration.entries.models import Entry, EntryMember
from registration.events.models import Item
from registration.events.service import event_or_404
from results.appeals import RULINGS, Appeal, file_appeal, rule
from results.publication_routes import announce
from scoring.event_file import CHINA_TZ

__all__ = ["AppealAdminPage", "PaperAppealForm", "RulingForm"]

Req = Request[Any, Any, Any]
STATES = {"open": "待裁定", "upheld": "申诉成立", "dismissed": "申诉不成立"}
FILTERS = {"open": "待裁定", "decided": "已裁定"}


# --- bodies ---
@dataclass
class PaperAppealForm:
    """A paper appeal to record: the item's code, who filed it and the grounds."""

    item: str = ""
    filed_by: str = ""
    text: str = ""


@dataclass
class RulingForm:
    """Arbitration's ruling (a radio: upheld | dismissed), its reasons, and the "changes the results" checkbox
    (a checkbox: text, or several texts if sent more than once; its first value counts, as before)."""

    ruling: str = ""
    text: str = ""
    changes_results: str | list[str] = ""

    def changes(self) -> bool:
        value = self.changes_results
        first = value if isinstance(value, str) else (value[0] if value else "")
        return first in ("1", "on", "true")

register({
    "申诉与仲裁": "Appeals and arbitration",
    "赛事页面": "Event page",
    "荣誉证书管理": "Certificates",
    "申诉须在赛项结束后规定时限内以书面提出；仲裁裁定为最终裁定。裁定“申诉成立且改变成绩”时，将以更正后的成绩重新发布（须通过发布前检查）。":
        "Appeals are filed in writing within the window after the item ends; arbitration's ruling is final. "
        "A ruling that upholds an appeal and changes the results publishes the corrected results again "
        "(through the publish gate).",
    "仅组织方（仲裁委员会）可登记和裁定；裁判长只能查看。":
        "Only the organiser (the arbitration committee) records and rules; the chief judge can only read.",
    "全部": "All",
    "待裁定": "Open",
    "已裁定": "Decided",
    "申诉成立": "Upheld",
    "申诉不成立": "Dismissed",
    "赛项": "Item",
    "状态": "State",
    "筛选": "Filter",
    "清除": "Clear",
    "待裁定 {o} 件 · 已裁定 {d} 件": "{o} open · {d} decided",
    "没有符合条件的申诉。": "No appeals match.",
    "第 {n} 号": "No. {n}",
    "提交时间": "Filed at",
    "申诉人": "Filed by",
    "选手": "Contestant",
    "书面": "Paper",
    "申诉内容": "Grounds",
    "裁定": "Ruling",
    "裁定理由": "Reasons",
    "申诉成立，改变成绩（以更正后的成绩重新发布）": "Upheld and changes the results (publish the corrected results)",
    "提交裁定": "Record the ruling",
    "裁定人": "Ruled by",
    "已重新发布第 {n} 版": "published again as version {n}",
    "登记书面申诉": "Record a paper appeal",
    "申诉人（姓名、单位或身份）": "Filed by (name, unit or role)",
    "登记": "Record",
    "已登记书面申诉（第 {n} 号）。": "Paper appeal No. {n} recorded.",
    "已裁定第 {n} 号申诉。": "Appeal No. {n} ruled on.",
    "已裁定第 {n} 号申诉，成绩已重新发布为第 {v} 版。":
        "Appeal No. {n} ruled on; the results are published again as version {v}.",
    "发布前检查未通过，裁定未保存，申诉仍待裁定：":
        "The publish gate refused: the ruling was not saved and the appeal stays open:",
    "公示页面": "Public results",
})


def _mask(name: str) -> str:
    """张三丰 → 张*丰, 李华 → 李* (as the verify page masks; certificates sit above results, so not imported)."""
    return name if len(name) <= 1 else name[0] + "*" * max(1, len(name) - 2) + (name[-1] if len(name) > 2 else "")


async def _appellants(session: AsyncSession, entry_ids: list[int]) -> dict[int, str]:
    """entry id → "张*丰（单位）": the contestant named as far as arbitration needs, never in full."""
    if not entry_ids:
        return {}
    units = {e.id: e.unit for e in (await session.exec(select(Entry).where(col(Entry.id).in_(entry_ids)))).all()}
    names: dict[int, list[str]] = {}
    for m in (await session.exec(select(EntryMember).where(col(EntryMember.entry_id).in_(entry_ids))
                                 .order_by(col(EntryMember.position)))).all():
        names.setdefault(m.entry_id, []).append(_mask(m.name))
    return {i: f"{'、'.join(names.get(i, []))}（{units.get(i, '')}）" for i in entry_ids}


async def _page(request: Req, session: AsyncSession, event_id: int, status: int = 200, done: str = "",
                error: Refusal | None = None, values: dict[Any, Any] | None = None) -> Template:
    event = await event_or_404(session, event_id)
    lang = preferred_language(request)
    principal = await current_principal(request)
    wanted = request.query_params.get("state") or ""
    item_code = request.query_params.get("item") or ""
    items = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
    by_id = {i.id: i for i in items}
    rows = (await session.exec(select(Appeal).where(Appeal.event_id == event_id).order_by(col(Appeal.id)))).all()
    who = await _appellants(session, [r.entry_id for r in rows if r.entry_id is not None])
    shown = []
    for r in rows:
        item = by_id.get(r.item_id)
        if (wanted == "open" and r.state != "open") or (wanted == "decided" and r.state == "open"):
            continue
        if item_code and (item is None or item.code != item_code):
            continue
        shown.append({
            "id": r.id, "item": item.name if item else "?", "code": item.code if item else "",
            "filed_at": r.filed_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M"), "source": r.source,
            "by": who.get(r.entry_id or 0, "") if r.source == "contestant" else r.filed_by, "text": r.text,
            "state": r.state, "ruling": r.ruling, "ruled_by": r.ruled_by, "version": r.version,
            "ruled_at": r.ruled_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if r.ruled_at else ""})
    failed = None
    if error is not None:
        failed = {"code": error.code, "message": error.message_en if lang == "en" else error.message,
                  "blockers": [b.get("message_en" if lang == "en" else "message", "")
                               for b in error.extra_fields.get("blockers", [])]}
    return Template("results/appeals_admin.html", status_code=status, context={
        "lang": lang, "principal": principal, "event": event, "appeals": shown,
        "items": [(i.code, i.name) for i in items], "f": {"state": wanted, "item": item_code},
        "filters": FILTERS, "states": STATES, "rulings": RULINGS,
        "counts": {"open": sum(r.state == "open" for r in rows), "decided": sum(r.state != "open" for r in rows)},
        "can_rule": principal is not None and principal.holds("organiser", event.id),
        "done": done, "error": failed, "values": values or {}}, headers={"Cache-Control": "no-store"})


class AppealAdminPage(Controller):
    path = "/console/events/{event_id:int}/appeals"
    include_in_schema = False

    @get("/", guards=[requires("organiser", "chief_judge")])
    async def page(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        lang, query = preferred_language(request), request.query_params
        done = ""
        if query.get("done") == "paper":
            done = gettext("已登记书面申诉（第 {n} 号）。", lang).format(n=query.get("n", ""))
        elif query.get("done") == "ruled" and query.get("v"):
            done = gettext("已裁定第 {n} 号申诉，成绩已重新发布为第 {v} 版。", lang).format(
                n=query.get("n", ""), v=query.get("v"))
        elif query.get("done") == "ruled":
            done = gettext("已裁定第 {n} 号申诉。", lang).format(n=query.get("n", ""))
        return await _page(request, db_session, event_id, done=done)

    @post("/paper", status_code=303, guards=[requires("organiser")])
    async def paper(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                    data: URLEncodedBody[PaperAppealForm]) -> Redirect | Template:
        values = dataclasses.asdict(data)
        await event_or_404(write_session, event_id)
        try:
            row = await file_appeal(write_session, event_id, text=values["text"], item_code=values["item"],
                                    by=values["filed_by"], hours=request.app.state.settings.appeal_hours)
        except Refusal as exc:
            await write_session.rollback()
            return await _page(request, write_session, event_id, exc.status_code, error=exc, values={"paper": values})
        return Redirect(f"/console/events/{event_id}/appeals?done=paper&n={row.id}", status_code=303)

    @post("/{appeal_id:int}/ruling", status_code=303, guards=[requires("organiser")])
    async def ruling(self, request: Req, event_id: FromPath[int], appeal_id: FromPath[int],
                     write_session: WriteSession, data: URLEncodedBody[RulingForm]) -> Redirect | Template:
        ruling, text, changes = data.ruling, data.text, data.changes()
        values: dict[Any, Any] = {appeal_id: {"ruling": ruling, "text": text, "changes": changes}}
        try:
            row, published = await rule(write_session, event_id, appeal_id, ruling, text, changes,
                                        await actor_name(request))
        except Refusal as exc:
            await write_session.rollback()
            return await _page(request, write_session, event_id, exc.status_code, error=exc, values=values)
        version = ""
        if published is not None:
            item = await write_session.get(Item, published.item_id)
            assert item is not None
            announce(request, event_id, item, published)
            version = f"&v={published.version}"
        return Redirect(f"/console/events/{event_id}/appeals?done=ruled&n={row.id}{version}", status_code=303)
