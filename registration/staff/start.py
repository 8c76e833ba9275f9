"""Where a signed-in person lands: `/start`, their own page of what they can do, event by event.

Sign-in used to send everyone to the organiser's event list, a 403 for every other role. The page is built
from `ROLE_LINKS`, one table of links per role, filled in per event (and per item where a page is per item)
from the person's grants: an event's roles show under that event, an item's roles list that item only. The
paths are strings: registration sits below judging, results and kiosk and may not import them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import current_principal
from contestday.accounts.routes import START_PATH
from contestday.accounts.security import ROLES
from contestday.accounts.service import Principal
from contestday.web.errors import Refusal
from contestday.web.i18n import preferred_language, register
from contestday.web.sessions import DbSession
from registration.events.models import Item
from registration.events.service import list_events

__all__ = ["PUBLIC_LINKS", "ROLE_LINKS", "StartLink", "StartPage", "event_roles", "fill", "start_view"]



@dataclass(frozen=True)
class StartLink:
    """One thing a role can do: `path` holds `{event}` and, for scope "item", `{code}`."""

    label: str  # Chinese; the template translates it
    path: str
    hint: str = ""
    scope: str = "event"  # "global" (not tied to an event) | "admin" (global, held server-wide) | "event" | "item"


# Role order is the order of the sections on the page: the widest view first.
ROLE_LINKS: dict[str, tuple[StartLink, ...]] = {
    "organiser": (
        StartLink("赛事列表", "/admin/events", "新建、导入或导出赛事", "global"),
        StartLink("场地检查", "/admin/venue", "赛前在场地检查：手机扫码连接、字体、数据库、磁盘、时钟和打印测试页",
                  "global"),
        StartLink("全部账号", "/admin/accounts",
                  "全部工作人员账号：新建、授予或收回各赛事的角色、停用、重置和一次性登录链接", "admin"),
        StartLink("赛事工作台", "/admin/events/{event}",
                  "赛事设置、报名、裁判、检录、成绩发布、申诉和证书的全部入口"),
    ),
    "chief_judge": (
        StartLink("裁判长控制台", "/console/events/{event}", "实时评分矩阵、复评要求、锁定与退回"),
        StartLink("成绩发布", "/console/events/{event}/publish", "发布或撤回各赛项的成绩公示"),
        StartLink("申诉（只读）", "/console/events/{event}/appeals", "查看申诉和仲裁结果"),
        StartLink("控制台", "/console/events/{event}?item={code}", scope="item"),
        StartLink("复核", "/console/events/{event}/items/{code}/recheck", scope="item"),
        StartLink("并列裁定", "/console/events/{event}/items/{code}/ties", scope="item"),
    ),
    "judge": (
        StartLink("评分平板", "/judge",
                  "在平板上评分。请用裁判长发给您的个人评分链接（二维码）在平板上打开；"
                  "尚未分到裁判组时页面没有赛项。", "global"),
    ),
    "encryption_judge": (
        StartLink("加密与解密", "/sealed/events/{event}", "赛位对照表；评分全部锁定并复核后逐层解密"),
    ),
    "checkin": (
        StartLink("检录终端", "/kiosk/events/{event}/checkin", "扫描参赛凭证检录，并为选手抽取赛位"),
        StartLink("证书自助终端", "/kiosk/events/{event}/certificates", "选手扫码或输入姓名领取荣誉证书"),
    ),
}
# Every signed-in person, every event: what the public sees too.
PUBLIC_LINKS: tuple[StartLink, ...] = (
    StartLink("成绩公示", "/results/{event}", "已发布的成绩和获奖名单"),
    StartLink("成绩大屏", "/board/{event}", "现场大屏：发布后自动更新"),
)

register({
    "我的工作台": "My start page",
    "已登录：": "Signed in as",
    "角色：": "Roles:",
    "不分赛事": "Not tied to an event",
    "公开页面": "Public pages",
    "按赛项": "By item",
    "您的账号还没有分配角色，请联系组委会。": "Your account has no role yet: ask the organisers.",
    "赛事工作台": "Event hub",
    "赛事设置、报名、裁判、检录、成绩发布、申诉和证书的全部入口":
        "Every page of the event: settings, registration, judges, check-in, publishing, appeals, certificates",
    "新建、导入或导出赛事": "Create, import or export events",
    "赛前在场地检查：手机扫码连接、字体、数据库、磁盘、时钟和打印测试页":
        "Check the venue before the contest: a phone connects by QR code, fonts, database, disk, clock and a "
        "printer test sheet",
    "成绩发布": "Publish results",
    "发布或撤回各赛项的成绩公示": "Publish or withdraw each item's results",
    "实时评分矩阵、复评要求、锁定与退回": "Live marks, re-mark requests, locks and reopening",
    "申诉（只读）": "Appeals (read only)",
    "查看申诉和仲裁结果": "The appeals and the arbitration rulings",
    "控制台": "Console",
    "复核": "Re-check",
    "并列裁定": "Tie rulings",
    "评分平板": "Marking tablet",
    "在平板上评分。请用裁判长发给您的个人评分链接（二维码）在平板上打开；尚未分到裁判组时页面没有赛项。":
        "Mark on a tablet. Open your personal marking link (QR code) from the chief judge on the tablet; "
        "until you are on a panel the page lists no items.",
    "赛位对照表；评分全部锁定并复核后逐层解密": "The sealed seat list; reveal layer by layer once every score is "
                                              "locked and re-checked",
    "扫描参赛凭证检录，并为选手抽取赛位": "Scan tickets to check contestants in and draw their seats",
    "证书自助终端": "Certificate kiosk",
    "选手扫码或输入姓名领取荣誉证书": "Contestants scan or type their name to get their honour certificate",
    "成绩公示": "Published results",
    "已发布的成绩和获奖名单": "Published results and award lists",
    "成绩大屏": "Results board",
    "现场大屏：发布后自动更新": "The big screen on site: updates as results are published",
    "开始日期：": "Starts on:",
    "进入我的工作台": "Go to my start page",
    "您已登录为 {name}。": "You are signed in as {name}.",
})


def event_roles(principal: Principal) -> tuple[frozenset[str], dict[int, frozenset[str]]]:
    """(roles held for every event, roles held for one event — or some of its items — only)."""
    everywhere = frozenset(role for role, event_id, _ in principal.grants if event_id is None)
    scoped: dict[int, set[str]] = {}
    for role, event_id, _ in principal.grants:
        if event_id is not None:
            scoped.setdefault(event_id, set()).add(role)
    return everywhere, {k: frozenset(v) for k, v in scoped.items()}


def _ordered(roles: Iterable[str]) -> list[str]:
    held = set(roles)
    return [r for r in ROLE_LINKS if r in held]


def fill(link: StartLink, event_id: int | None = None, code: str = "") -> dict[str, str]:
    """The link as the templates show it (events/tiles.html)."""
    return {"label": link.label, "hint": link.hint, "href": link.path.format(event=event_id, code=code)}


def _role(role: str) -> dict[str, str]:
    zh, en = ROLES[role]
    return {"key": role, "zh": zh, "en": en}


async def start_view(session: AsyncSession, principal: Principal, events: list[dict[str, Any]]) -> dict[str, Any]:
    """What `start.html` shows: the person, links not tied to an event, then per event each role's links
    (per-item links as a table) and the public pages."""
    everywhere, scoped = event_roles(principal)
    mine = [e for e in events if everywhere or e["id"] in scoped]
    items: dict[int, list[tuple[str, str]]] = {}
    if mine:
        rows = (await session.exec(select(Item.event_id, Item.code, Item.name)
                                   .where(col(Item.event_id).in_([e["id"] for e in mine]))
                                   .order_by(col(Item.event_id), col(Item.position)))).all()
        for event_id, code, name in rows:
            items.setdefault(event_id, []).append((code, name))
    all_roles = everywhere.union(*scoped.values())
    general = [fill(link) for role in _ordered(all_roles) for link in ROLE_LINKS[role]
               if link.scope == "global" or (link.scope == "admin" and role in everywhere)]
    shown = []
    for event in mine:
        sections = []
        for role in _ordered(everywhere | scoped.get(event["id"], frozenset())):
            links = [fill(link, event["id"]) for link in ROLE_LINKS[role] if link.scope == "event"]
            per_item = [link for link in ROLE_LINKS[role] if link.scope == "item"]
            mine_ = principal.items(role, event["id"])  # a judge sees the items they sit on
            rows_ = [{"code": code, "name": name, "links": [fill(link, event["id"], code) for link in per_item]}
                     for code, name in items.get(event["id"], [])
                     if mine_ is None or code in mine_] if per_item else []
            if links or rows_:
                sections.append({"role": _role(role), "links": links, "item_rows": rows_})
        shown.append({**event, "sections": sections,
                      "public": [fill(link, event["id"]) for link in PUBLIC_LINKS]})
    return {"roles": [_role(r) for r in _ordered(all_roles)], "general": general, "events": shown}


class StartPage(Controller):
    include_in_schema = False

    @get(START_PATH)
    async def start_page(self, request: Request[Any, Any, Any], db_session: DbSession) -> Template:
        """Where sign-in lands (unless `next=` says otherwise): this person's events and, per event, what
        each of their roles can do, as links to the real pages."""
        principal = await current_principal(request)
        if principal is None:
            raise Refusal(401, "not_authenticated", "请先登录", "please sign in")
        view = await start_view(db_session, principal, await list_events(db_session, principal.events(principal.roles)))
        return Template("start.html", context={"lang": preferred_language(request), "principal": principal,
                                               **view})
