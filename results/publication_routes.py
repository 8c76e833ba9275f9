"""Publication over HTTP: the chief judge's gate and actions (JSON), and the public results (pages and JSON)
served only from published snapshots.

- `GET  /api/events/{id}/items/{code}/publication`: the blockers, the warnings (which never block) and the
  current version (chief judge, organiser).
- `POST /api/events/{id}/items/{code}/publication` `{reason?, working_days?}`: publish (409
  `publish_blocked` with every blocker; a reason from the second version on).
- `POST /api/events/{id}/items/{code}/publication/withdraw` `{reason}`: withdraw (a new version).
- `GET  /results/{id}`, `/results/{id}/{code}`: the public pages; `GET /api/public/events/{id}/results`: the
  same as JSON (what the board loads). Nothing but the latest published version of each item.
After each commit the new public view goes out on the event's board channel (`board_channel`).
Write bodies are typed (`PublishBody`, `WithdrawBody`, `TieBody`, the pages' `PublishForm`, `WithdrawForm`);
their fields are loose on purpose, so the handlers keep their own refusals (`invalid_working_days`,
`missing_field` with `field`) for a value of the wrong kind.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.web.admission import render_off_loop
from contestday.web.bodies import Loose
from contestday.web.downloads import download
from contestday.web.errors import Refusal, field_missing
from contestday.web.i18n import gettext, preferred_language
from contestday.web.jobs import Jobs, JobView
from contestday.web.page_process import IN_PAGE_PROCESS
from contestday.web.sessions import DbSession, WriteSession
from registration.entries.personal import PersonalData
from registration.events.models import Item
from registration.events.service import event_or_404
from results import export_jobs, lists
from results import messages as _messages  # noqa: F401  (registers the pages' English)
from results.appeals import final, open_appeals_by_item
from results.chief_pages import CHIEF_PAGES
from results.console.state import item_or_404
from results.gate import event_checks, item_gate, load_facts
from results.notice import DEFAULT_WORKING_DAYS
from results.publication import Publication, current, decide_tie, public_view, publish, withdraw
from scoring.event_file import CHINA_TZ

__all__ = ["PUBLICATION_ROUTES", "PublishBody", "PublishForm", "TieBody", "WithdrawBody", "WithdrawForm",
           "announce", "board_channel", "public_results"]

Req = Request[Any, Any, Any]
GUARD = requires("chief_judge", "organiser")

# --- bodies ---
# Any JSON value one level deep: a field of the wrong kind reaches the handler, which refuses it with its own
# code, as when the bodies were read by hand; each field's description says what it should be.
_REASON = Annotated[Loose, msgspec.Meta(description="原因（文本）/ the reason, text")]
_REPUBLISH_REASON = Annotated[Loose, msgspec.Meta(
    description="原因（文本，第二版起必填）/ the reason, text (required from the second version on)")]
_WORKING_DAYS = Annotated[Loose, msgspec.Meta(
    description="公示期工作日数，1–30 的整数（默认 5）/ the notice period: working days, whole, 1–30 (default 5)")]
_SEATS = Annotated[Loose, msgspec.Meta(
    description="并列组的全部赛位（文本），按裁定的名次 / every seat of the tied block (text), first to last")]
_GROUP = Annotated[Loose, msgspec.Meta(description="组别（文本，无组别为空）/ the group, text (empty: no groups)")]


class PublishBody(msgspec.Struct):
    """Publish: the reason (required from the second version on, by the service) and the notice period."""

    reason: _REPUBLISH_REASON = None
    working_days: _WORKING_DAYS = DEFAULT_WORKING_DAYS


class WithdrawBody(msgspec.Struct):
    """Withdraw: the reason, required (`missing_field` without one)."""

    reason: _REASON = None


class TieBody(msgspec.Struct):
    """Order a tied block: the group, every seat of the block first to last and the reason (these two
    required)."""

    reason: _REASON = None
    seats: _SEATS = None
    group: _GROUP = None


@dataclass
class PublishForm:
    """The publish page's form: the notice period ("" = the default) and the reason."""

    working_days: str = ""
    reason: str = ""


@dataclass
class WithdrawForm:
    """The publish page's withdraw form: the reason."""

    reason: str = ""


def _reason(value: Loose) -> str:
    """A required reason, as `json_object(request, "reason")` demanded it: non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise field_missing("reason")
    return value


def _is_organiser(principal: Any, event_id: int) -> bool:
    return principal is not None and bool(principal.holds("organiser", event_id))


def board_channel(event_id: int) -> str:
    return f"board:{event_id}"



async def public_results(session: AsyncSession, event_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Every item of the event with the public view of its latest version (None: not published yet), and
    whether it is final (notice period over, no appeal open)."""
    event = await event_or_404(session, event_id)
    items = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
    latest: dict[int, Publication] = {}
    for row in (await session.exec(select(Publication).where(Publication.event_id == event_id)
                                   .order_by(col(Publication.version)))).all():
        latest[row.item_id] = row
    appeals = await open_appeals_by_item(session, event_id)
    return {"event_id": event_id, "event": event.name,
            "items": [{"code": i.code, "name": i.name, "view": public_view(latest.get(i.id or 0)),
                       "final": final(latest.get(i.id or 0), appeals.get(i.id or 0, 0), now)} for i in items]}


def _current_summary(row: Publication | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"version": row.version, "state": row.state, "hash": row.hash, "at": row.at.astimezone(CHINA_TZ).isoformat(),
            "by": row.by, "reason": row.reason,
            "notice_ends_at": row.notice_ends_at.astimezone(CHINA_TZ).isoformat() if row.notice_ends_at else None}


def announce(request: Req, event_id: int, item: Item, row: Publication) -> None:
    channels: ChannelsPlugin = request.app.plugins.get(ChannelsPlugin)
    message = {"type": "publication", "item": item.code, "name": item.name, "version": row.version,
               "view": public_view(row)}
    channels.publish(json.dumps(message, ensure_ascii=False), [board_channel(event_id)])


class PublicationApi(Controller):
    path = "/api/events/{event_id:int}/items/{code:str}/publication"
    guards = [GUARD]
    tags = ["results"]

    @get("/", summary="发布前检查 / the publish gate: blockers and the current version")
    async def gate(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        item = await item_or_404(db_session, event_id, code)
        facts = await load_facts(db_session, event_id, [item.id or 0])
        found, _ranking = await item_gate(db_session, event_id, item, facts)  # what `blockers` runs, plus warnings
        return {"item": item.code, "blockers": found, "ready": not found,
                "warnings": facts.warnings.get(item.id or 0, []),
                "current": _current_summary(await current(db_session, item.id or 0))}

    @post("/", status_code=201, summary="发布成绩 / publish (refused while anything blocks)")
    async def publish(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                      write_session: WriteSession, data: JSONBody[PublishBody]) -> dict[str, Any]:
        days = data.working_days
        if not isinstance(days, int) or not 1 <= days <= 30:
            raise Refusal(422, "invalid_working_days", "公示期应为 1–30 个工作日", "working_days: 1 to 30",
                           field="working_days")
        item = await item_or_404(write_session, event_id, code)
        row = await publish(write_session, event_id, item.code, await actor_name(request), str(data.reason or ""),
                            days)
        announce(request, event_id, item, row)
        return _current_summary(row) or {}

    @post("/withdraw", status_code=200, summary="撤回已发布成绩（须填原因）/ withdraw, with a reason")
    async def withdraw(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                       write_session: WriteSession, data: JSONBody[WithdrawBody]) -> dict[str, Any]:
        reason = _reason(data.reason)
        item = await item_or_404(write_session, event_id, code)
        row = await withdraw(write_session, event_id, item.code, await actor_name(request), reason)
        announce(request, event_id, item, row)
        return _current_summary(row) or {}


class PublishPages(Controller):
    """The chief judge's publish page: every item with its blockers, publish and withdraw (works without
    JavaScript: plain forms with the CSRF token)."""

    path = "/console/events/{event_id:int}/publish"
    guards = [GUARD]
    include_in_schema = False

    async def _page(self, request: Req, session: AsyncSession, event_id: int, status: int = 200,
                    done: str = "", error: str = "") -> Template:
        event = await event_or_404(session, event_id)
        principal = await current_principal(request)
        rows = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
        found, warned = await event_checks(session, event_id, rows)  # one batch for the event, not per item
        latest: dict[int, Publication] = {}
        for row in (await session.exec(select(Publication).where(Publication.event_id == event_id)
                                       .order_by(col(Publication.version)))).all():
            latest[row.item_id] = row
        listed = [(k, gettext(v, preferred_language(request))) for k, v in lists.KINDS.items()
                  if k != "qualified" or _is_organiser(principal, event_id)]
        items = [{"code": item.code, "name": item.name, "current": _current_summary(latest.get(item.id or 0)),
                  "blockers": found[item.id or 0], "warnings": warned.get(item.id or 0, []),
                  # no 晋升名单 for a 专项职业能力证书 item (no level, so nobody is promoted)
                  "lists": [(k, v) for k, v in listed if lists.offered(k, event.kind, item.certificate)]}
                 for item in rows]
        return Template("results/publish.html", status_code=status, context={
            "lang": preferred_language(request), "principal": principal, "event": event, "items": items,
            "done": done, "error": error},
            headers={"Cache-Control": "no-store"})

    @get("/")
    async def page(self, request: Req, event_id: FromPath[int]) -> Template:
        lang = preferred_language(request)
        done = request.query_params.get("done", "")
        text = {"published": "已发布第 {n} 版。", "withdrawn": "已撤回（第 {n} 版）。"}.get(done)
        message = gettext(text, lang).format(n=request.query_params.get("v", "")) if text else ""
        if request.query_params.get("issued") is not None:
            message = gettext("已颁发 {n} 张荣誉证书。", lang).format(n=request.query_params.get("issued"))
        # a read session: no write lock, so a slow page never holds up the tablets' and kiosks' writes
        async with request.app.state.read_session() as session:
            return await self._page(request, session, event_id, done=message)

    @post("/{code:str}", status_code=303)
    async def publish_form(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                           write_session: WriteSession, data: URLEncodedBody[PublishForm]) -> Redirect | Template:
        async def act(item: Item, by: str) -> Publication:
            try:
                days = int(data.working_days or DEFAULT_WORKING_DAYS)
            except ValueError:
                days = 0
            if not 1 <= days <= 30:
                raise Refusal(422, "invalid_working_days", "公示期应为 1–30 个工作日", "working_days: 1 to 30")
            return await publish(write_session, event_id, item.code, by, data.reason, days)

        return await self._act(request, write_session, event_id, code, act, "published")

    @post("/{code:str}/withdraw", status_code=303)
    async def withdraw_form(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                            write_session: WriteSession, data: URLEncodedBody[WithdrawForm]) -> Redirect | Template:
        async def act(item: Item, by: str) -> Publication:
            return await withdraw(write_session, event_id, item.code, by, data.reason)

        return await self._act(request, write_session, event_id, code, act, "withdrawn")

    async def _act(self, request: Req, session: AsyncSession, event_id: int, code: str,
                   act: Callable[[Item, str], Awaitable[Publication]], done: str) -> Redirect | Template:
        """Run a form's action; on a refusal, the page again with the reason; else announce and go back."""
        try:
            item = await item_or_404(session, event_id, code)
            row = await act(item, await actor_name(request))
        except Refusal as exc:
            await session.rollback()
            lang = preferred_language(request)
            return await self._page(request, session, event_id, exc.status_code,
                                    error=exc.message_en if lang == "en" else exc.message)
        announce(request, event_id, item, row)
        return Redirect(f"/console/events/{event_id}/publish?done={done}&v={row.version}", status_code=303)


class ExportPages(Controller):
    """The event's archive of every list as one ZIP, built in the background (results/export_jobs.py), and the
    page of every background job of the event (certificate batches too): the organiser's only (the qualified
    list holds whole ID numbers). Each answer reads the job's row, so any instance shows any job."""

    path = "/console/events/{event_id:int}/exports"
    guards = [requires("organiser")]
    include_in_schema = False

    @post("/", status_code=303)
    async def start(self, request: Req, event_id: FromPath[int], write_session: WriteSession) -> Redirect:
        await event_or_404(write_session, event_id)
        job_id = await export_jobs.start_export(request.app.state, write_session, event_id,
                                                await actor_name(request))
        return Redirect(f"/console/events/{event_id}/exports/{job_id}", status_code=303)

    async def _job(self, request: Req, session: AsyncSession, event_id: int, job_id: str) -> JobView:
        jobs: Jobs = request.app.state.jobs
        job = await jobs.find(session, event_id, job_id)
        if job is None:
            raise Refusal(404, "unknown_export", "没有该导出任务", "no such export")
        return job

    @get("/{job_id:str}")
    async def progress(self, request: Req, event_id: FromPath[int], job_id: FromPath[str],
                       db_session: DbSession) -> Template:
        job = await self._job(request, db_session, event_id, job_id)
        return Template("results/export.html", context={
            "lang": preferred_language(request), "principal": await current_principal(request),
            "event": await event_or_404(db_session, event_id), "job": job}, headers={"Cache-Control": "no-store"})

    @get("/{job_id:str}/progress.json")
    async def progress_json(self, request: Req, event_id: FromPath[int], job_id: FromPath[str],
                            db_session: DbSession) -> dict[str, Any]:
        return (await self._job(request, db_session, event_id, job_id)).view()

    @get("/{job_id:str}/archive.zip")
    async def archive(self, request: Req, event_id: FromPath[int], job_id: FromPath[str],
                      db_session: DbSession) -> Response[bytes]:
        job = await self._job(request, db_session, event_id, job_id)
        if job.state == "expired":
            raise Refusal(410, "export_expired", f"该文件已过期删除（完成后保留 {job.keep_hours} 小时），请重新生成",
                          f"the file was deleted ({job.keep_hours} hours after it was made): start again")
        path = request.app.state.jobs.path(job)
        if job.state != "done" or path is None:
            raise Refusal(409, "export_not_ready", "导出尚未完成", "the export is not finished")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise Refusal(410, "export_file_missing",
                          "本服务器的数据目录中没有该文件：多个实例必须共用同一个 CONTESTDAY_DATA_DIR；请重新生成",
                          "the file is not in this server's data directory (several instances must share "
                          "CONTESTDAY_DATA_DIR): start again") from None
        return download(data, job.filename, job.media_type, ascii_stem="export", no_store=True)


class TieApi(Controller):
    path = "/api/events/{event_id:int}/items/{code:str}/ties"
    guards = [requires("chief_judge")]
    tags = ["results"]

    @post("/", status_code=201, summary="裁定并列名次（须填理由）/ order a tied block, with a reason")
    async def decide(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                     write_session: WriteSession, data: JSONBody[TieBody]) -> dict[str, Any]:
        reason = _reason(data.reason)
        given = data.seats if isinstance(data.seats, list) else []
        seats = [s for s in given if isinstance(s, str)]
        if not seats or len(seats) != len(given):
            raise Refusal(422, "missing_field", "seats：请按名次列出并列组的全部赛位", "seats: the block, in order",
                           field="seats")
        row = await decide_tie(write_session, event_id, code, str(data.group or ""), seats, reason,
                               await actor_name(request))
        return {"group": row.group_name, "seats": row.seats, "reason": row.reason, "by": row.by,
                "at": row.at.isoformat()}


def _stars_query(params: Any) -> tuple[int, int | None]:
    """`?age=` (周岁, default 40) and `?year=` (the nomination year, default the publication's) of the stars
    list; an older client's `?on=YYYY-MM-DD` is read as its year, since the cut-off is 1 January of year − age."""
    try:
        age = int(params.get("age") or 40)
        year_text, on_text = params.get("year"), params.get("on")
        year = int(year_text) if year_text else date.fromisoformat(on_text).year if on_text else None
    except ValueError:
        age = year = -1
    if not 1 <= age <= 100 or (year is not None and not 1900 <= year <= 9999):
        raise Refusal(422, "invalid_query",
                       "age 应为 1–100 的整数，year 应为年份（如 2023），on 应为日期（YYYY-MM-DD）",
                       "age: a whole number 1–100; year: a year (e.g. 2023); on: a date (YYYY-MM-DD)")
    return age, year


class ListDownloads(Controller):
    """`GET /api/events/{id}/items/{code}/lists/{kind}.xlsx|.pdf` (results/lists.py); the qualified list holds
    whole ID numbers, so it is the organiser's only."""

    path = "/api/events/{event_id:int}/items/{code:str}/lists"
    guards = [GUARD]
    tags = ["results"]

    @get("/{name:str}", summary="名单下载（XLSX/PDF）/ a list as XLSX or PDF", opt=IN_PAGE_PROCESS)
    async def download(self, request: Req, event_id: FromPath[int], code: FromPath[str], name: FromPath[str],
                       db_session: DbSession) -> Response[bytes]:
        kind, _, ext = name.partition(".")
        if ext not in ("xlsx", "pdf"):
            raise Refusal(404, "unknown_format", "名单格式只有 .xlsx 和 .pdf", "lists come as .xlsx or .pdf")
        principal = await current_principal(request)
        if kind == "qualified" and not _is_organiser(principal, event_id):
            raise Refusal(403, "forbidden", "合格人员名单含完整身份证号，仅组织方可下载",
                           "the qualified list holds whole ID numbers: organisers only")
        age, year = _stars_query(request.query_params)
        personal = PersonalData(request.app.state.settings.secret_key)
        sheet = await lists.build(db_session, event_id, code, kind, personal, age=age, year=year)
        # drawing a long list takes a while: in the render process, so tablets and /health keep their answers
        data = await render_off_loop(lists.sheet_xlsx if ext == "xlsx" else lists.sheet_pdf, sheet)
        media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if ext == "xlsx"
                 else "application/pdf")
        return download(data, f"{sheet.title}.{ext}", media, ascii_stem=kind, no_store=True)


class PublicResults(Controller):
    include_in_schema = False

    @get("/results/{event_id:int}", opt=IN_PAGE_PROCESS)
    async def event_page(self, event_id: FromPath[int], db_session: DbSession) -> Template:
        data = await public_results(db_session, event_id)
        return Template("results/public.html", context={**data, "only": None},
                        headers={"Cache-Control": "no-cache"})

    @get("/results/{event_id:int}/{code:str}", opt=IN_PAGE_PROCESS)
    async def item_page(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> Template:
        data = await public_results(db_session, event_id)
        if not any(i["code"] == code for i in data["items"]):
            raise Refusal(404, "unknown_item", f"本赛事没有赛项“{code}”", f"no item {code!r} in this event")
        return Template("results/public.html", context={**data, "only": code},
                        headers={"Cache-Control": "no-cache"})

    @get("/api/public/events/{event_id:int}/results", include_in_schema=True, tags=["results"],
         summary="已发布成绩（公开）/ published results (public)", opt=IN_PAGE_PROCESS)
    async def json(self, event_id: FromPath[int], db_session: DbSession) -> dict[str, Any]:
        return await public_results(db_session, event_id)


PUBLICATION_ROUTES = (PublicationApi, PublishPages, ExportPages, TieApi, ListDownloads, PublicResults, *CHIEF_PAGES)
