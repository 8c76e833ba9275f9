"""The organiser's check-in desk under /admin/events/{id}: status per item, marking no-shows absent at the
start, sign-in links for the kiosks, the seat plan form and seat moves; and the blind seat list (organiser and
chief judge). Thin: queries in kiosk/queries.py, the form in kiosk/plan_form.py, lists in kiosk/seat_lists.py;
every change goes through registration.checkin's services, the same ones the JSON API calls.

The forms are typed: the seat move as `MoveForm`, the seat plan as `PlanForm` (its fields by name, `s{n}_name`…,
as many as the rows). Marking no-shows absent takes no body (the path names the item; the form only carries
the CSRF token)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeAlias
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import col, select

from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.accounts.service import login_link_token
from contestday.web.errors import Refusal
from contestday.web.i18n import preferred_language
from contestday.web.public_address import public_address
from contestday.web.sessions import DbSession, WriteSession
from kiosk import messages, queries
from kiosk import plan_form as pf
from kiosk import seat_lists as lists
from registration.checkin import seats
from registration.checkin.models import SeatAssignment, SeatSession
from registration.checkin.service import mark_absent
from registration.entries.models import Entry
from registration.entries.tickets import normalise_code
from scoring.event_file import CHINA_TZ

__all__ = ["CheckinAdminPages", "MoveForm", "PlanForm", "SeatListPages", "download"]

Req = Request[Any, Any, Any]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINK_VALID = timedelta(hours=48)  # a kiosk is set up the day before and used on the day; its session lasts 24 h
DONE = {"absent": "已将未检录者记为缺考：{n} 人", "plan": "座位安排已保存", "move": "已调整座位：{n}"}


# --- bodies ---
@dataclass
class MoveForm:
    """A seat move (equipment fault): the item, the contestant (their current seat or ticket code), the target
    seat, the reason and the minutes given back; each checked by `_move`, so a refusal shows the form again."""

    item: str = ""
    contestant: str = ""
    seat: str = ""
    reason: str = ""
    minutes: str = ""


# The seat plan form's fields are named by row (`s0_name`, `s0_starts_at`, … see kiosk/plan_form.py), as many
# as the plan has sessions: typed as its fields by name, each one text.
PlanForm: TypeAlias = dict[str, str]


def download(data: bytes, filename: str, ascii_name: str, media_type: str = XLSX) -> Response[bytes]:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"})


def _local(moment: Any) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%m-%d %H:%M") if moment else ""



class CheckinAdminPages(Controller):
    path = "/admin/events/{event_id:int}"
    guards = [requires("organiser")]
    include_in_schema = False

    async def _overview(self, request: Req, db: DbSession, event_id: int, status: int = 200,
                        **context: Any) -> Template:
        if status != 200:
            await db.rollback()  # a refused change leaves nothing: the one-time links below are committed
        event = await queries.event_or_404(db, event_id)
        base = (await public_address(request, db)).url
        kiosk = f"/kiosk/events/{event_id}/checkin"
        by = await actor_name(request)
        staff = [(u, f"{base}/login/link/{await login_link_token(db, u, LINK_VALID, by)}?next={quote(kiosk)}")
                 for u in await queries.checkin_staff(db, event_id)]
        await db.commit()
        done = request.query_params.get("done")
        return Template("kiosk/admin_checkin.html", status_code=status, context={
            "lang": preferred_language(request), "principal": await current_principal(request), "event": event,
            "items": await queries.item_status(db, event_id), "staff": staff, "kiosk_url": kiosk,
            "moves": await queries.moves(db, event_id), "local": _local,
            "link_hours": int(LINK_VALID.total_seconds() // 3600),
            "done": messages.t(DONE[done], preferred_language(request), n=request.query_params.get("n", ""))
            if done in DONE else "", "move": context.pop("move", {}), **context})

    @get("/checkin")
    async def overview(self, request: Req, event_id: FromPath[int], write_session: WriteSession) -> Template:
        return await self._overview(request, write_session, event_id)  # mints the staff's one-time links

    @post("/items/{code:str}/absent", status_code=303)
    async def absent(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                     write_session: WriteSession) -> Redirect:
        item = await queries.item_or_404(write_session, event_id, code)
        n = await mark_absent(write_session, event_id, item.id or 0, await actor_name(request))
        return Redirect(f"/admin/events/{event_id}/checkin?done=absent&n={n}", status_code=303)

    # seat plan ----------------------------------------------------------------------------------------------
    async def _plan(self, request: Req, db: DbSession, event_id: int, code: str, rows: list[dict[str, str]] | None,
                    status: int = 200, errors: dict[str, str] | None = None) -> Template:
        event = await queries.event_or_404(db, event_id)
        item = await queries.item_or_404(db, event_id, code)
        stored = (await db.exec(select(SeatSession).where(SeatSession.item_id == item.id)
                                .order_by(col(SeatSession.position)))).all()
        drawn = (await db.exec(select(SeatAssignment.id).where(SeatAssignment.item_id == item.id))).first()
        rows = pf.plan_rows(stored) if rows is None else rows
        blank = {key: "" for key in pf.FIELDS}
        return Template("kiosk/seat_plan.html", status_code=status, context={
            "lang": preferred_language(request), "principal": await current_principal(request), "event": event,
            "item": item, "rows": rows + [dict(blank) for _ in range(pf.BLANK_ROWS)], "errors": errors or {},
            "locked": drawn is not None})

    @get("/items/{code:str}/seat-plan")
    async def plan(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                   db_session: DbSession) -> Template:
        return await self._plan(request, db_session, event_id, code, None)

    @post("/items/{code:str}/seat-plan", status_code=303)
    async def save_plan(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                        write_session: WriteSession, data: URLEncodedBody[PlanForm]) -> Redirect | Template:
        item = await queries.item_or_404(write_session, event_id, code)
        rows = pf.form_rows(data)
        payload, kept = pf.to_payload(rows)
        lang = preferred_language(request)
        try:
            await seats.replace_plan(write_session, item.id or 0, seats.read_plan(payload))
        except Refusal as exc:
            message = exc.message_en if lang == "en" else exc.message
            path = str(exc.extra_fields.get("field", ""))
            for sep in ("：", ": "):  # next to its field the message needs no path in front
                message = message.removeprefix(f"{path}{sep}") if path else message
            return await self._plan(request, write_session, event_id, code, rows, exc.status_code,
                                    {pf.where(exc, kept): message})
        return Redirect(f"/admin/events/{event_id}/checkin?done=plan", status_code=303)

    # seat move (equipment fault) ----------------------------------------------------------------------------
    @post("/checkin/move", status_code=303)
    async def move(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                   data: URLEncodedBody[MoveForm]) -> Redirect | Template:
        values = {k: str(v).strip() for k, v in dataclasses.asdict(data).items()}
        try:
            label = await self._move(write_session, event_id, values, await actor_name(request))
        except Refusal as exc:
            lang = preferred_language(request)
            error = {"field": exc.extra_fields.get("field", ""), "message": exc.message_en if lang == "en"
                     else exc.message}
            return await self._overview(request, write_session, event_id, exc.status_code,
                                        move={**values, "error": error})
        return Redirect(f"/admin/events/{event_id}/checkin?done=move&n={quote(label)}", status_code=303)

    async def _move(self, db: DbSession, event_id: int, values: dict[str, str], by: str) -> str:
        """The contestant is named by their current seat (what the chief judge sees at the broken bench) or
        by their ticket code; the page never lists names next to seats."""
        item = await queries.item_or_404(db, event_id, values["item"])
        who = values["contestant"].upper()
        at = await queries.session_of_seat(db, item.id or 0, who)
        if at is not None:
            found = select(SeatAssignment).where(SeatAssignment.session_id == at.id, SeatAssignment.seat_label == who)
        else:
            found = select(SeatAssignment).join(Entry, col(Entry.id) == SeatAssignment.entry_id).where(
                Entry.ticket_code == normalise_code(who), Entry.item_id == item.id)
        assignment = (await db.exec(found)).first() if who else None
        if assignment is None:
            raise Refusal(404, "not_drawn", "该座位无人，或该凭证尚未抽签",
                           "nobody on that seat, or that ticket has no seat", field="contestant")
        from_label = assignment.seat_label
        target = await queries.session_of_seat(db, item.id or 0, values["seat"].upper())
        if target is None:
            raise Refusal(422, "unknown_seat", "目标座位不属于该赛项", "no such seat in this item", field="seat")
        minutes = int(values["minutes"]) if values["minutes"].isdigit() else 0
        try:
            moved = await seats.move(db, assignment.entry_id, target.id or 0, values["seat"].upper(),
                                     values["reason"], minutes, by)
        except Refusal as exc:
            exc.extra_fields.setdefault("field", {"reason_required": "reason"}.get(exc.code, "seat"))
            raise
        return f"{from_label} → {moved.seat_label}"


class SeatListPages(Controller):
    """The blind seat list (no names): printable by the organiser and the chief judge."""

    path = "/admin/events/{event_id:int}/items/{code:str}"
    guards = [requires("organiser", "chief_judge")]
    include_in_schema = False

    @get("/seats.html")
    async def html(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                   db_session: DbSession) -> Template | Redirect:
        if request.query_params.get("names") == "1":  # the named list is the encryption judge's alone
            return Redirect(f"/sealed/events/{event_id}/items/{quote(code)}/seats.html", status_code=303)
        event = await queries.event_or_404(db_session, event_id)
        item = await queries.item_or_404(db_session, event_id, code)
        return Template("kiosk/seat_list.html", context={
            "lang": preferred_language(request), "event": event, "item": item, "named": False,
            "blocks": await lists.blind_blocks(db_session, item.id or 0), "tz": CHINA_TZ,
            "xlsx": f"/admin/events/{event_id}/items/{quote(code)}/seats.xlsx"})

    @get("/seats.xlsx")
    async def xlsx(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> Response[bytes]:
        item = await queries.item_or_404(db_session, event_id, code)
        data = lists.xlsx(await lists.blind_blocks(db_session, item.id or 0), False, f"{item.code} 座位表", CHINA_TZ)
        return download(data, f"{item.name}-座位表.xlsx", f"seats-{item.code}.xlsx")
