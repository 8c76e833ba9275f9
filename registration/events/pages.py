"""Organiser pages for events: list, import, export and the editor (server-rendered; plain JavaScript
in /static/editor.js only improves the editor, and the textarea form works without it).

The form bodies are typed: the textarea form (`EventTextForm`, urlencoded) and the import upload
(`EventFileUpload`, multipart); an upload past the route's limit gets `upload_too_large` from the composition root.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import tomli_w
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.web import uploads
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language, register
from contestday.web.public_address import set_public_address
from contestday.web.sessions import DbSession, WriteSession
from registration.events import service
from registration.events.address_box import PublicAddressForm, address_view
from registration.events.models import Event
from registration.events.routes import decode_event_file, read_event_file, validate_event_file
from registration.staff.start import StartLink, fill
from scoring.event_file import (
    AGGREGATES,
    AWARD_COUNTS,
    CERTIFICATES,
    CHINA_TZ,
    CRITERION_KINDS,
    EVENT_KINDS,
    EventFileError,
    parse_event_document,
    toml_ready,
)
from scoring.skill_levels import LEVELS

__all__ = ["HUB_ITEM_LINKS", "HUB_SECTIONS", "EventFileUpload", "EventPages", "EventTextForm", "editor_view",
           "hub_view", "new_document"]

Req = Request[Any, Any, Any]

AWARD_RULE_NAMES = {"merit_if_over_30": "参赛超过门槛人数时另设优胜奖（按比例）",
                    "total_within_30pct": "全部获奖者不超过参赛人数的比例"}
QUOTA_MODES = {"warn": "超额时提醒", "enforce": "超额时拒绝"}
STANDARD_GROUPS = ("学生组", "职工组")
_EVENT_FORM_LIMIT = uploads.MAX_EVENT_FILE_BYTES + 64 * 1024  # the file and the form around it
TIE_BREAK_KEYS = {"practical": "实操成绩", "theory": "理论成绩", "criterion:代码": "指定评分项得分",
                  "time_used": "用时（少者优先）"}
# Labels the templates translate through `_()` without a literal (tests/test_i18n.py checks them too).
LABELS: tuple[dict[str, str], ...] = (
    EVENT_KINDS, CRITERION_KINDS, AGGREGATES, dict((str(k), v) for k, v in LEVELS), AWARD_RULE_NAMES, AWARD_COUNTS,
    QUOTA_MODES, TIE_BREAK_KEYS, {g: g for g in STANDARD_GROUPS}, {k: k for k in TIE_BREAK_KEYS if not k.isascii()},
    CERTIFICATES)


# The organiser's event page is also the event's hub: every page of the contest day, in the order of the day.
# Pages other contexts own are linked by path (registration may not import them).
HUB_SECTIONS: tuple[tuple[str, tuple[StartLink, ...]], ...] = (
    ("赛前准备", (
        StartLink("报名管理", "/admin/events/{event}/registrations", "审核报名、导入名单、导出报名表"),
        StartLink("报名页面（公众）", "/r/{event}", "选手扫码报名的页面"),
        StartLink("报名海报", "/admin/events/{event}/poster.pdf", "带报名二维码的 A4 海报（PDF）"),
        StartLink("裁判管理", "/admin/events/{event}/judges", "裁判名册、考评员证、个人评分链接"),
        StartLink("账号与角色", "/admin/events/{event}/accounts", "工作人员账号、本赛事的角色、一次性登录链接"),
    )),
    ("赛事当天", (
        StartLink("检录情况", "/admin/events/{event}/checkin", "各赛项到场、缺考和调换赛位"),
        StartLink("检录终端", "/kiosk/events/{event}/checkin", "扫描参赛凭证检录并抽取赛位"),
        StartLink("裁判长控制台", "/console/events/{event}", "实时评分矩阵、复评要求、锁定与退回"),
    )),
    ("成绩与证书", (
        StartLink("成绩发布", "/console/events/{event}/publish", "发布或撤回各赛项的成绩公示"),
        StartLink("申诉与仲裁", "/console/events/{event}/appeals", "登记书面申诉，作出仲裁结论"),
        StartLink("证书管理", "/console/events/{event}/certificates", "颁发、作废和补发荣誉证书"),
        StartLink("成绩公示", "/results/{event}", "已发布的成绩和获奖名单"),
        StartLink("成绩大屏", "/board/{event}", "现场大屏：发布后自动更新"),
        StartLink("证书自助终端", "/kiosk/events/{event}/certificates", "选手扫码或输入姓名领取荣誉证书"),
    )),
)
HUB_ITEM_LINKS: tuple[StartLink, ...] = (
    StartLink("裁判组", "/admin/events/{event}/items/{code}/panel", scope="item"),
    StartLink("赛位安排", "/admin/events/{event}/items/{code}/seat-plan", scope="item"),
    StartLink("控制台", "/console/events/{event}?item={code}", scope="item"),
    StartLink("复核", "/console/events/{event}/items/{code}/recheck", scope="item"),
)
SEALED_PATH = "/sealed/events/{event}"  # shown, not linked: only the encryption judge may open it

register({
    "赛前准备": "Before the contest",
    "赛事当天": "Contest day",
    "成绩与证书": "Results and certificates",
    "审核报名、导入名单、导出报名表": "Review entries, import rosters, export the forms",
    "选手扫码报名的页面": "The page contestants reach by scanning the QR code",
    "带报名二维码的 A4 海报（PDF）": "An A4 poster with the registration QR code (PDF)",
    "裁判名册、考评员证、个人评分链接": "Judge registry, examiner cards, personal marking links",
    "检录情况": "Check-in status",
    "各赛项到场、缺考和调换赛位": "Present and absent per item; seat moves",
    "扫描参赛凭证检录并抽取赛位": "Scan tickets to check in and draw seats",
    "申诉与仲裁": "Appeals and arbitration",
    "登记书面申诉，作出仲裁结论": "Record written appeals and rule on them",
    "证书管理": "Certificates",
    "颁发、作废和补发荣誉证书": "Issue, revoke and reissue honour certificates",
    "裁判组": "Panel",
    "赛位安排": "Seat plan",
    "加密与解密页": "The sealed page",
    "证书类型": "Certificate",
    "要求上传照片": "Photo required",
    "学生须填写专业": "Students give their major",
    "居住/工作地声明（空为不要求）": "Residence declaration (empty: not asked)",
    "选手报名时须勾选“本人”加上述声明，如：本人在渝工作、学习或居住。":
        "Contestants tick “I” followed by this declaration, e.g. “I work, study or live in Chongqing”.",
    "在渝工作、学习或居住": "work, study or live in Chongqing",
    "职业技能等级证书": "Vocational skill level certificate",
    "专项职业能力证书": "Special ability certificate (no level)",
    "只有加密裁判登录后能打开：请在各赛项的裁判组里指定加密裁判，把这个地址交给他。":
        "Only the encryption judge can open it: name the encryption judge in an item's panel and give them this "
        "address.",
})


def hub_view(event_id: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The hub's links for one event; `items` are the stored document's items (code, name)."""
    return {
        "sections": [{"title": title, "links": [fill(link, event_id) for link in links]}
                     for title, links in HUB_SECTIONS],
        "items": [{"code": it.get("code"), "name": it.get("name"),
                   "links": [fill(link, event_id, str(it.get("code"))) for link in HUB_ITEM_LINKS]}
                  for it in items if it.get("code")],
        "sealed": SEALED_PATH.format(event=event_id),
    }


def new_document() -> dict[str, Any]:
    """What a new event starts from: the defaults of contracts §2 and one blank item."""
    return {
        "event": {"name": None, "kind": "city_industry", "starts_on": None,
                  "award_policy": {"rule": "merit_if_over_30", "ratio": 0.3, "threshold": 30},
                  "one_item_per_person": True, "unit_quota_per_group": 2, "unit_quota_mode": "warn"},
        "items": [blank_item()],
    }


def blank_item() -> dict[str, Any]:
    # None, not "": the validator then says 必填 (required) for what is still to fill in
    return {"code": None, "name": None, "team_size": 1, "certificate": "skill_level", "exam_level": 4, "pass_mark": 60,
            "groups": list(STANDARD_GROUPS), "theory_weight": 0, "tie_break": ["practical"], "promotion_top": 6,
            "criteria": [{"code": "A", "name": None, "max": None, "kind": "measurement"}]}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _local_datetime(value: Any) -> str:
    """An ISO date-time as the value of <input type=datetime-local>, in Beijing time."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA_TZ)
    return moment.strftime("%Y-%m-%dT%H:%M")


def _practical_max(criteria: list[dict[str, Any]]) -> str:
    total = 0.0
    for c in criteria:
        try:
            total += 0.0 if c.get("kind") == "deduction" else float(c.get("max") or 0)
        except (TypeError, ValueError):
            continue
    return f"{total:g}"


def editor_view(doc: Any) -> dict[str, Any]:
    """A forgiving view of a (possibly invalid) document for the editor's form fields."""
    event = _dict(_dict(doc).get("event"))
    items = []
    for raw in _list(_dict(doc).get("items")):
        item = dict(_dict(raw))
        item["criteria"] = [c for c in _list(item.get("criteria")) if isinstance(c, dict)]
        groups = [g for g in _list(item.get("groups")) if isinstance(g, str)]
        item["groups"] = groups
        item["other_groups"] = "，".join(g for g in groups if g not in STANDARD_GROUPS)
        item["tie_break"] = ", ".join(str(k) for k in _list(item.get("tie_break")))
        item["practical_max"] = _practical_max(item["criteria"])
        items.append(item)
    return {"event": event, "policy": _dict(event.get("award_policy")), "items": items,
            "registration_closes": _local_datetime(event.get("registration_closes"))}


def _errors(exc: Refusal, lang: str) -> list[dict[str, str]]:
    found = exc.extra_fields.get("errors") or [{"path": "", "message": exc.message, "message_en": exc.message_en}]
    return [{"path": e["path"], "text": e["message_en"] if lang == "en" else e["message"]} for e in found]


def _anchor(path: str) -> str:
    """The form field an error belongs to: list entries of groups and tie-breaks sit in one input."""
    head, _, tail = path.rpartition("[")
    return head if tail.endswith("]") and head.endswith((".groups", ".tie_break")) else path


def _field_errors(errors: list[dict[str, str]]) -> dict[str, list[str]]:
    by_path: dict[str, list[str]] = {}
    for e in errors:
        by_path.setdefault(_anchor(e["path"]), []).append(e["text"])
    return by_path


def _warnings(doc: dict[str, Any], lang: str) -> list[dict[str, str]]:
    try:
        spec = parse_event_document(doc)
    except EventFileError:
        return []
    return [{"path": w.path, "text": w.en if lang == "en" else w.zh} for w in spec.warnings]



async def _base_context(request: Req) -> dict[str, Any]:
    return {"lang": preferred_language(request), "principal": await current_principal(request)}


async def _document(db_session: DbSession, event_id: int) -> dict[str, Any]:
    doc = await service.event_document(db_session, event_id)
    if doc is None:
        raise Refusal(404, "unknown_event", "找不到该赛事", "no such event")
    return doc


# --- bodies ---
@dataclass
class EventTextForm:
    """The editor's textarea form (the no-JavaScript path): the whole event file, JSON or TOML."""

    document: str = ""


@dataclass
class EventFileUpload:
    """The import form: the event file chosen (JSON or TOML)."""

    file: UploadFile | None = None


CREATE = requires("organiser", server_wide=True)  # a new event: administrators (organisers of every event)


class EventPages(Controller):
    path = "/admin"
    guards = [requires("organiser")]
    include_in_schema = False

    async def _list_page(self, request: Req, db_session: DbSession, *, status: int = 200,
                         errors: list[dict[str, str]] | None = None, filename: str = "") -> Template:
        context = await _base_context(request)
        principal = await current_principal(request)
        only = principal.events("organiser") if principal else frozenset()
        return Template("events/list.html", status_code=status, context={
            **context, "events": await service.list_events(db_session, only), "kinds": EVENT_KINDS,
            "may_create": only is None,
            "errors": errors or [], "filename": filename})

    async def _editor_page(self, request: Req, doc: Any, event_id: int | None, *, status: int = 200,
                           errors: list[dict[str, str]] | None = None, text: str | None = None,
                           session: AsyncSession | None = None, address: dict[str, Any] | None = None) -> Template:
        context = await _base_context(request)
        errors = errors or []
        if address is None and event_id is not None and session is not None:
            address = await address_view(request, session, context["principal"], context["lang"])
        return Template("events/editor.html", status_code=status, context={
            "address": address,
            **context, "event_id": event_id, "view": editor_view(doc), "blank": editor_view({"items": [blank_item()]}),
            "text": text if text is not None else json.dumps(doc, ensure_ascii=False, indent=2),
            "errors": errors, "field_errors": _field_errors(errors), "saved": request.query_params.get("saved"),
            "warnings": [] if errors or not isinstance(doc, dict) else _warnings(doc, context["lang"]),
            "hub": None if event_id is None else hub_view(event_id, editor_view(doc)["items"]),
            "kinds": EVENT_KINDS, "criterion_kinds": CRITERION_KINDS, "aggregates": AGGREGATES,
            "levels": LEVELS, "rules": AWARD_RULE_NAMES, "award_counts": AWARD_COUNTS, "quota_modes": QUOTA_MODES,
            "standard_groups": STANDARD_GROUPS, "tie_break_keys": TIE_BREAK_KEYS, "certificates": CERTIFICATES})

    @get("/events")
    async def event_list(self, request: Req, db_session: DbSession) -> Template:
        return await self._list_page(request, db_session)

    @post("/events/import", status_code=303, guards=[CREATE], request_max_body_size=_EVENT_FORM_LIMIT)
    async def import_file(self, request: Req, write_session: WriteSession,
                          data: MultipartBody[EventFileUpload]) -> Redirect | Template:
        lang = preferred_language(request)
        upload = data.file
        if upload is None or not upload.filename:
            errors = [{"path": "", "text": gettext("请选择要导入的赛事文件", lang)}]
            return await self._list_page(request, write_session, status=422, errors=errors)
        try:
            raw = await upload.read()
            spec = await uploads.off_loop(read_event_file, raw, upload.content_type or "", upload.filename)
        except Refusal as exc:
            return await self._list_page(request, write_session, status=exc.status_code, errors=_errors(exc, lang),
                                         filename=upload.filename)
        event_id = await service.create_event(write_session, spec)
        await write_session.commit()
        return Redirect(path=f"/admin/events/{event_id}?saved=imported", status_code=303)

    @get("/events/new", guards=[CREATE])
    async def new_event(self, request: Req) -> Template:
        return await self._editor_page(request, new_document(), None)

    @get("/events/{event_id:int}")
    async def edit_event(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        return await self._editor_page(request, await _document(db_session, event_id), event_id,
                                       session=db_session)

    @post("/events/{event_id:int}/public-address", status_code=303, guards=[CREATE])
    async def set_address(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                          data: URLEncodedBody[PublicAddressForm]) -> Redirect | Template:
        """The address the QR codes carry, for the whole server (administrators): 422 with the reason beside
        the field when it is not one phones can reach, 409 while CONTESTDAY_PUBLIC_URL fixes it."""
        doc = await _document(write_session, event_id)
        try:
            await set_public_address(request, write_session, data.url, await actor_name(request))
        except Refusal as exc:
            await write_session.rollback()
            context = await _base_context(request)
            address = await address_view(request, write_session, context["principal"], context["lang"], error=exc,
                                         value=data.url)
            return await self._editor_page(request, doc, event_id, status=exc.status_code, address=address)
        return Redirect(path=f"/admin/events/{event_id}?saved=address#public-address", status_code=303)

    async def _save_text(self, request: Req, db_session: DbSession, event: Event | None,
                         text: str) -> Redirect | Template:
        """The no-JavaScript path: the event file posted from the textarea; nothing is stored on an error."""
        doc: Any = None
        try:
            doc = await uploads.off_loop(decode_event_file, text.encode("utf-8"))
            spec = await uploads.off_loop(validate_event_file, doc)
        except Refusal as exc:
            if not isinstance(doc, dict):
                doc = new_document() if event is None else await _document(db_session, event.id or 0)
            return await self._editor_page(request, doc, None if event is None else event.id,
                                           status=exc.status_code,
                                           errors=_errors(exc, preferred_language(request)), text=text,
                                           session=db_session)
        if event is None:
            event_id = await service.create_event(db_session, spec)
        else:
            await service.replace_event(db_session, event, spec)
            event_id = event.id or 0
        await db_session.commit()
        return Redirect(path=f"/admin/events/{event_id}?saved=1", status_code=303)

    @post("/events/new", status_code=303, guards=[CREATE])
    async def create_from_text(self, request: Req, write_session: WriteSession,
                               data: URLEncodedBody[EventTextForm]) -> Redirect | Template:
        return await self._save_text(request, write_session, None, data.document)

    @post("/events/{event_id:int}", status_code=303)
    async def replace_from_text(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                                data: URLEncodedBody[EventTextForm]) -> Redirect | Template:
        event = await write_session.get(Event, event_id)
        if event is None:
            raise Refusal(404, "unknown_event", "找不到该赛事", "no such event")
        return await self._save_text(request, write_session, event, data.document)

    @get("/events/{event_id:int}/export.json")
    async def export_json(self, event_id: FromPath[int], db_session: DbSession) -> Response[str]:
        doc = await _document(db_session, event_id)
        return Response(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="event-{event_id}.json"'})

    @get("/events/{event_id:int}/export.toml")
    async def export_toml(self, event_id: FromPath[int], db_session: DbSession) -> Response[str]:
        doc = await _document(db_session, event_id)
        return Response(tomli_w.dumps(toml_ready(doc)), media_type="application/toml; charset=utf-8",
                         headers={"Content-Disposition": f'attachment; filename="event-{event_id}.toml"'})
