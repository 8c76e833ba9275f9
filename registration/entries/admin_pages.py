"""Organiser pages of registration under /admin/events/{id}/registrations: overview with closing by hand,
the filtered list, the review queue, an entry's detail (the only page with the whole ID number), edit and
withdraw, roster import and the exports. Thin: queries live in admin_service, files in roster/exports."""

from __future__ import annotations

import base64
import dataclasses
import time
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template

from contestday.accounts.guards import current_principal, requires
from contestday.db.types import utcnow
from contestday.web import uploads
from contestday.web.admission import render_off_loop
from contestday.web.downloads import download
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language
from contestday.web.page_process import IN_PAGE_PROCESS
from contestday.web.sessions import DbSession, WriteSession
from registration.entries import admin_service as svc
from registration.entries import exports, roster
from registration.entries.admin_form import (
    DONE,
    FLAGS,
    REVIEWS,
    SOURCES,
    STATES,
    edit_values,
    error_field,
    form_payload,
)
from registration.entries.context import load_context
from registration.entries.models import Entry
from registration.entries.request import RequestError, read_request
from registration.entries.service import amend, decide_review, is_open, seat_of, withdraw
from registration.entries.tickets import format_code
from registration.events.service import event_or_404
from scoring.event_file import CHINA_TZ
from scoring.identity import GENDER_NAMES
from scoring.skill_levels import LEVELS

__all__ = ["EditForm", "ReasonForm", "RegistrationAdminPages", "ReviewForm", "RosterUpload"]

Req = Request[Any, Any, Any]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- bodies ---
@dataclass
class ReasonForm:
    """Closing or reopening registration by hand: the reason, recorded in the log (the service requires one)."""

    reason: str = ""


@dataclass
class ReviewForm:
    """A review decision from the queue or from the entry's page (`back` = "detail" answers on that page)."""

    decision: str = ""
    reason: str = ""
    back: str = ""


# The edit form's fields are named after the request of contracts §5 ("item", "name", "members[1].phone",
# "instructors[0].name", "instructor_rows"): not identifiers, and as many as the entry has members and instructors,
# so the form is typed as its fields by name, each one text. A refusal shows the form again with what was sent.
EditForm: TypeAlias = dict[str, str]


@dataclass
class RosterUpload:
    """A unit's roster (.xlsx or .csv) to import, or only to check (`dry_run`)."""

    file: UploadFile | None = None
    dry_run: str = ""


def _local(moment: Any) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def _message(exc: Refusal | RequestError, lang: str) -> str:
    if isinstance(exc, RequestError):
        return exc.en if lang == "en" else exc.zh
    return exc.message_en if lang == "en" else exc.message


async def _entry(db: DbSession, event_id: int, entry_id: int) -> Entry:
    entry = await db.get(Entry, entry_id)
    if entry is None or entry.event_id != event_id:
        raise Refusal(404, "unknown_registration", "找不到该报名", "no such registration")
    return entry


class RegistrationAdminPages(Controller):
    path = "/admin/events/{event_id:int}/registrations"
    guards = [requires("organiser")]
    include_in_schema = False

    async def _page(self, request: Req, db: DbSession, event_id: int, template: str, status: int = 200,
                    **context: Any) -> Template:
        event = await event_or_404(db, event_id)
        pending = await db.exec(svc.pending_count(event_id))
        return Template(f"registrations/{template}", status_code=status, context={
            "lang": preferred_language(request), "principal": await current_principal(request), "event": event,
            "pending_count": pending.one(), "states": STATES, "reviews": REVIEWS, "flag_names": FLAGS,
            "sources": SOURCES, "genders": GENDER_NAMES, "short": lambda code: format_code(code)[:9], "local": _local,
            "done": request.query_params.get("done"), "done_messages": DONE, **context})

    # overview, closing by hand ----------------------------------------------------------------------------
    async def _overview(self, request: Req, db: DbSession, event_id: int, status: int = 200,
                        error: str = "") -> Template:
        event = await event_or_404(db, event_id)
        counts = await svc.group_counts(db, event_id)
        return await self._page(request, db, event_id, "overview.html", status, counts=counts,
                                minimum=svc.MIN_INITIAL, error=error, deadline=_local(event.registration_closes),
                                closed_at=_local(event.registration_closed_at),
                                open_now=is_open(event.registration_closes, event.registration_closed_at,
                                                 utcnow()))

    @get("/")
    async def overview(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        return await self._overview(request, db_session, event_id)

    async def _set_closed(self, request: Req, event_id: int, db: DbSession, closed: bool,
                          form: ReasonForm) -> Redirect | Template:
        principal = await current_principal(request)
        try:
            await svc.set_closed(db, await event_or_404(db, event_id), closed, form.reason,
                                 principal.user_id or principal.name if principal else None)
        except Refusal as exc:
            return await self._overview(request, db, event_id, 422, _message(exc, preferred_language(request)))
        done = "closed" if closed else "reopened"
        return Redirect(f"/admin/events/{event_id}/registrations/?done={done}", status_code=303)

    @post("/close", status_code=303)
    async def close(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                    data: URLEncodedBody[ReasonForm]) -> Redirect | Template:
        return await self._set_closed(request, event_id, write_session, True, data)

    @post("/reopen", status_code=303)
    async def reopen(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                     data: URLEncodedBody[ReasonForm]) -> Redirect | Template:
        return await self._set_closed(request, event_id, write_session, False, data)

    # list, review queue, detail ----------------------------------------------------------------------------
    @get("/list", opt=IN_PAGE_PROCESS)
    async def entry_list(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        filters = svc.Filters.of(request.query_params)
        views, total = await svc.find_entries(db_session, event_id, filters)
        counts = await svc.group_counts(db_session, event_id)
        query = "&".join(f"{k}={quote(str(v))}" for k, v in dataclasses.asdict(filters).items() if v and k != "page")
        return await self._page(request, db_session, event_id, "list.html", views=views, total=total, f=filters,
                                page_size=svc.PAGE_SIZE, query=query,
                                item_options=list(dict.fromkeys((c.item_code, c.item_name) for c in counts)),
                                group_options=list(dict.fromkeys(c.group for c in counts)))

    async def _review(self, request: Req, db: DbSession, event_id: int, status: int = 200,
                      errors: dict[int, str] | None = None) -> Template:
        cases = await svc.review_queue(db, event_id)
        return await self._page(request, db, event_id, "review.html", status, cases=cases, errors=errors or {})

    @get("/review")
    async def review(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        return await self._review(request, db_session, event_id)

    @post("/{entry_id:int}/review", status_code=303)
    async def decide(self, request: Req, event_id: FromPath[int], entry_id: FromPath[int],
                     write_session: WriteSession, data: URLEncodedBody[ReviewForm]) -> Redirect | Template:
        entry = await _entry(write_session, event_id, entry_id)
        principal = await current_principal(request)
        try:
            if entry.state != "active":
                raise Refusal(409, "not_active", "该报名已撤回或已驳回", "this registration is no longer active")
            await decide_review(write_session, entry, data.decision == "approve", data.reason,
                                principal.name if principal else "?")
        except Refusal as exc:
            lang = preferred_language(request)
            if data.back == "detail":
                return await self._detail(request, write_session, event_id, entry_id, exc.status_code,
                                          _message(exc, lang))
            return await self._review(request, write_session, event_id, exc.status_code,
                                      {entry_id: _message(exc, lang)})
        await write_session.commit()
        back = f"{entry_id}" if data.back == "detail" else "review"
        return Redirect(f"/admin/events/{event_id}/registrations/{back}?done={data.decision}", status_code=303)

    async def _detail(self, request: Req, db: DbSession, event_id: int, entry_id: int, status: int = 200,
                      error: str = "") -> Template:
        """The one page that shows whole ID numbers (decrypted for the organiser)."""
        ctx = await load_context(db, event_id, request.app.state.settings.secret_key)
        [view] = await svc.entry_views(db, [await _entry(db, event_id, entry_id)])
        numbers = [ctx.personal.decrypt(m.id_number_enc) or m.id_masked for m in view.members]
        return await self._page(request, db, event_id, "detail.html", status, v=view, numbers=numbers, error=error)

    @get("/{entry_id:int}")
    async def detail(self, request: Req, event_id: FromPath[int], entry_id: FromPath[int],
                     db_session: DbSession) -> Template:
        return await self._detail(request, db_session, event_id, entry_id)

    # edit, withdraw ------------------------------------------------------------------------------------------
    async def _edit_page(self, request: Req, db: DbSession, event_id: int, entry_id: int, values: dict[str, str],
                         status: int = 200, errors: dict[str, str] | None = None) -> Template:
        ctx = await load_context(db, event_id, request.app.state.settings.secret_key)
        [view] = await svc.entry_views(db, [await _entry(db, event_id, entry_id)])
        return await self._page(request, db, event_id, "edit.html", status, v=view, values=values,
                                errors=errors or {}, items=ctx.spec.items, team=len(view.members) > 1,
                                levels=LEVELS, declaration=ctx.spec.residence_declaration,
                                group_names=list(dict.fromkeys(g for i in ctx.spec.items for g in i.groups)))

    @get("/{entry_id:int}/edit")
    async def edit_form(self, request: Req, event_id: FromPath[int], entry_id: FromPath[int],
                        db_session: DbSession) -> Template:
        [view] = await svc.entry_views(db_session, [await _entry(db_session, event_id, entry_id)])
        return await self._edit_page(request, db_session, event_id, entry_id, edit_values(view))

    @post("/{entry_id:int}/edit", status_code=303)
    async def edit(self, request: Req, event_id: FromPath[int], entry_id: FromPath[int],
                   write_session: WriteSession, data: URLEncodedBody[EditForm]) -> Redirect | Template:
        values = {k: v for k, v in data.items() if k != "csrf_token"}
        ctx = await load_context(write_session, event_id, request.app.state.settings.secret_key)
        [view] = await svc.entry_views(write_session, [await _entry(write_session, event_id, entry_id)])
        stored = [ctx.personal.decrypt(m.id_number_enc) or "" for m in view.members]
        try:
            req = read_request(form_payload(values, stored, [bool(m.photo) for m in view.members]))
            # the organiser corrects entries after the deadline too: the other rules stay
            await amend(write_session, dataclasses.replace(ctx, closes=None, closed_at=None), entry_id, req)
        except (RequestError, Refusal) as exc:
            await write_session.rollback()
            lang = preferred_language(request)
            where = error_field(exc)
            return await self._edit_page(request, write_session, event_id, entry_id, values,
                                         exc.status_code if isinstance(exc, Refusal) else 422,
                                         {where: _message(exc, lang)})
        return Redirect(f"/admin/events/{event_id}/registrations/{entry_id}?done=saved", status_code=303)

    @get("/{entry_id:int}/withdraw")
    async def withdraw_form(self, request: Req, event_id: FromPath[int], entry_id: FromPath[int],
                            db_session: DbSession) -> Template:
        [view] = await svc.entry_views(db_session, [await _entry(db_session, event_id, entry_id)])
        return await self._page(request, db_session, event_id, "withdraw.html", v=view,
                                seat=await seat_of(db_session, entry_id))

    @post("/{entry_id:int}/withdraw", status_code=303)
    async def do_withdraw(self, request: Req, event_id: FromPath[int], entry_id: FromPath[int],
                          write_session: WriteSession) -> Redirect | Template:
        entry = await _entry(write_session, event_id, entry_id)
        if entry.state != "active":
            raise Refusal(409, "not_active", "该报名已撤回或已驳回", "this registration is no longer active")
        try:
            await withdraw(write_session, entry)  # frees a seat drawn, refused once that session has started
        except Refusal as exc:
            await write_session.rollback()
            [view] = await svc.entry_views(write_session, [await _entry(write_session, event_id, entry_id)])
            return await self._page(request, write_session, event_id, "withdraw.html", exc.status_code, v=view,
                                    seat=await seat_of(write_session, entry_id),
                                    error=_message(exc, preferred_language(request)), error_code=exc.code)
        await write_session.commit()
        return Redirect(f"/admin/events/{event_id}/registrations/{entry_id}?done=withdrawn", status_code=303)

    # roster import -----------------------------------------------------------------------------------------
    @get("/roster")
    async def roster_form(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        return await self._page(request, db_session, event_id, "roster.html", results=None, error="")

    @post("/roster", status_code=200, request_max_body_size=uploads.FORM_LIMIT)
    async def roster_import(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                            data: MultipartBody[RosterUpload]) -> Template:
        """A body over FORM_LIMIT is refused before this runs (413 `upload_too_large`, naming the limit)."""
        lang = preferred_language(request)
        upload, dry_run = data.file, bool(data.dry_run)
        if upload is None or not upload.filename:
            return await self._page(request, write_session, event_id, "roster.html", 422, results=None,
                                    error=gettext("请选择要导入的名单文件", lang))
        try:
            table = await uploads.off_loop(roster.read_roster, await upload.read(), upload.filename)
        except (roster.RosterError, uploads.UploadRefused) as exc:
            status = exc.status_code if isinstance(exc, uploads.UploadRefused) else 422
            return await self._page(request, write_session, event_id, "roster.html", status, results=None,
                                    error=exc.en if lang == "en" else exc.zh, filename=upload.filename)
        ctx = await load_context(write_session, event_id, request.app.state.settings.secret_key)
        await write_session.commit()  # end the read: on SQLite a dry run's own transaction waits for the write lock
        started = time.perf_counter()
        if dry_run:
            async with svc.rolled_back_session(write_session.bind) as scratch:  # type: ignore[arg-type]
                results = await svc.import_roster(scratch, ctx, table)
        else:
            results = await svc.import_roster(write_session, ctx, table)
        seconds = time.perf_counter() - started
        report = base64.b64encode(exports.report_xlsx(results)).decode()
        return await self._page(request, write_session, event_id, "roster.html", results=results, dry_run=dry_run,
                                ok=sum(r.ok for r in results), failed=sum(not r.ok for r in results),
                                seconds=seconds, report=report, filename=upload.filename,
                                ignored=table.ignored_columns, error="")

    @get("/roster-template.xlsx")
    async def roster_template(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Response[bytes]:
        ctx = await load_context(db_session, event_id, request.app.state.settings.secret_key)
        items = [(i.code, i.name, i.groups) for i in ctx.spec.items]
        return download(roster.template_xlsx(items), "报名名单模板.xlsx", XLSX, ascii_stem="registrations")

    # exports ----------------------------------------------------------------------------------------------
    async def _people(self, request: Req, db: DbSession, event_id: int) -> list[exports.PersonRow]:
        ctx = await load_context(db, event_id, request.app.state.settings.secret_key)
        return await exports.load_people(db, event_id, ctx.personal, request.query_params.get("item", ""))

    @get("/forms.xlsx")
    async def export_forms(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Response[bytes]:
        people = await self._people(request, db_session, event_id)
        return download(await render_off_loop(exports.text_xlsx, *exports.form_sheet(people)),
                        "参赛选手报名表.xlsx", XLSX, ascii_stem="registrations")

    @get("/summary.xlsx", opt=IN_PAGE_PROCESS)
    async def export_summary(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Response[bytes]:
        people = await self._people(request, db_session, event_id)
        return download(await render_off_loop(exports.text_xlsx, *exports.summary_sheet(people)),
                        "参赛信息汇总表.xlsx", XLSX, ascii_stem="registrations")

    @get("/photos.zip")
    async def export_photos(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Response[bytes]:
        people = await self._people(request, db_session, event_id)
        data, _missing = exports.photos_zip(people, request.app.state.settings.data_dir / "photos")
        return download(data, "参赛人员照片.zip", "application/zip", ascii_stem="registrations")
