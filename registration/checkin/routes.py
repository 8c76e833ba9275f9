"""HTTP API of contest day at the door: check-in (contracts §5), draw, seat plans, no-shows. Thin: parse, call
the service, answer. The sealed mapping and its reveal are judging's (judging/sealed_routes.py).

The bodies are typed (`CheckinBody`, `DrawBody`, `SeatPlanBody`, `SeatMoveBody`) with loose fields on
purpose: a required field that is absent, empty or not text still gets `missing_field` with `field`, and the seat
plan still gets `invalid_seat_plan` naming the bad field (seats.read_plan), as when the bodies were read by hand.
Marking no-shows absent takes no body: the path names the item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import File
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import actor_name, requires
from contestday.web.bodies import Loose, Scalar, Sent, required_text
from contestday.web.errors import Refusal
from contestday.web.sessions import DbSession, WriteSession
from registration.checkin import search as checkin_search
from registration.checkin import seats
from registration.checkin.models import SeatSession
from registration.checkin.service import attendance_counts, mark_absent, redeem
from registration.entries.models import Entry, EntryMember
from registration.entries.personal import PersonalData
from registration.events.models import Item
from registration.events.service import item_by_code

__all__ = ["CheckinBody", "CheckinController", "DrawBody", "KioskPhotoController", "SeatMoveBody", "SeatPlanBody",
           "SeatSessionBody"]

STAFF = requires("checkin", "organiser")

# --- bodies ---
# Any JSON value one level deep: the handlers (and seats.read_plan) refuse what they cannot use with their own codes.


class DrawBody(msgspec.Struct):
    """A seat draw at the desk: the station, and the ticket code (a scan) or, without one, the `registration_id`
    of a person found by search (the search never shows ticket codes)."""

    station: Annotated[Loose, msgspec.Meta(
        description="检录台名称（文本，必填）/ the desk's name, text (required)")] = None
    ticket_code: Annotated[Sent, msgspec.Meta(
        description="参赛凭证号（扫码所得）/ the ticket code, as scanned")] = msgspec.UNSET
    registration_id: Annotated[Loose, msgspec.Meta(
        description="报名编号（整数；无凭证号时，为按姓名查找所得）/ the registration id, an integer (found by search, "
                    "when there is no ticket code)")] = None


class CheckinBody(DrawBody):
    """A check-in (contracts §5): as a draw, plus the client's one-off `nonce` (a replay is answered once)."""

    nonce: Annotated[Loose, msgspec.Meta(
        description="客户端生成的一次性编号（文本，必填）/ a client-made one-off id, text (required)")] = None


class SeatSessionBody(msgspec.Struct):
    """One session of a seat plan; an absent field takes its default (seats.read_plan)."""

    name: Annotated[Sent, msgspec.Meta(
        description="场次名称（默认“第 n 场”）/ the session's name (default 第 n 场)")] = msgspec.UNSET
    starts_at: Annotated[Sent, msgspec.Meta(
        description="开始时间，含时区，如 2026-10-20T09:00+08:00（必填）/ the start, with its time zone (required)",
    )] = msgspec.UNSET
    seat_count: Annotated[Sent, msgspec.Meta(
        description=f"座位数，1–{seats.MAX_SEATS}（必填）/ the number of seats, 1–{seats.MAX_SEATS} (required)",
    )] = msgspec.UNSET
    prefix: Annotated[Sent, msgspec.Meta(
        description="座位号前缀，1–4 位字母或数字（默认 A）/ the seat prefix, 1–4 letters or digits (default A)",
    )] = msgspec.UNSET
    first_number: Annotated[Sent, msgspec.Meta(
        description="首个座位号，0–9999（默认 1）/ the first seat number, 0–9999 (default 1)")] = msgspec.UNSET
    checkin_before_min: Annotated[Sent, msgspec.Meta(
        description="开始前多少分钟开放检录（默认 60）/ check-in opens this many minutes before (default 60)",
    )] = msgspec.UNSET
    checkin_after_min: Annotated[Sent, msgspec.Meta(
        description="开始后多少分钟停止检录（默认 15）/ check-in closes this many minutes after (default 15)",
    )] = msgspec.UNSET


class SeatPlanBody(msgspec.Struct):
    """An item's seat plan: its sessions, at least one."""

    sessions: Annotated[list[SeatSessionBody | Scalar | list[Scalar]] | Scalar | dict[str, Scalar],
                        msgspec.Meta(description="场次（至少一个）/ the sessions (at least one)")] = None


class SeatMoveBody(msgspec.Struct):
    """Move a contestant (equipment failure): to which session and seat, why, and the minutes given back."""

    registration_id: Annotated[Loose, msgspec.Meta(
        description="报名编号（整数）/ the registration id, an integer")] = None
    session: Annotated[Loose, msgspec.Meta(
        description="目标场次名称（文本，必填）/ the target session's name, text (required)")] = None
    seat: Annotated[Loose, msgspec.Meta(
        description="目标座位号（文本，必填）/ the target seat, text (required)")] = None
    reason: Annotated[Loose, msgspec.Meta(description="调整原因 / the reason")] = ""
    minutes_returned: Annotated[Loose, msgspec.Meta(
        description="补回的分钟数（整数，默认 0）/ minutes given back, an integer (default 0)")] = 0


def _ticket_or_registration(body: DrawBody) -> tuple[str, int | None]:
    """The ticket code (a scan), or the staff desk's `registration_id` of a person found by search (the
    search never shows ticket codes)."""
    registration = body.registration_id
    if body.ticket_code is msgspec.UNSET and isinstance(registration, int) and not isinstance(registration, bool):
        return "", registration
    if not isinstance(body.ticket_code, str) or not body.ticket_code.strip():
        raise Refusal(422, "missing_field", "ticket_code：必填", "ticket_code is required", field="ticket_code")
    return body.ticket_code, None


async def _plan_view(session: AsyncSession, item: Item) -> dict[str, Any]:
    sessions = (await session.exec(select(SeatSession).where(SeatSession.item_id == item.id)
                                   .order_by(col(SeatSession.position)))).all()
    return {"sessions": [{
        "name": s.name, "starts_at": s.starts_at.isoformat(), "seat_count": s.seat_count, "prefix": s.prefix,
        "first_number": s.first_number, "checkin_opens_at": s.checkin_opens_at.isoformat(),
        "checkin_closes_at": s.checkin_closes_at.isoformat(), "seats": seats.seat_labels(s)} for s in sessions]}


class CheckinController(Controller):
    path = "/api/events/{event_id:int}"
    tags = ["check-in"]

    @post("/checkins", guards=[STAFF], status_code=200, summary="检录 / check a ticket in (contracts §5)")
    async def checkin(self, event_id: FromPath[int], request: Request[Any, Any, Any],
                      data: JSONBody[CheckinBody]) -> Response[dict[str, Any]]:
        station, nonce = required_text(data, "station", "nonce")
        code, entry_id = _ticket_or_registration(data)
        answer = await redeem(request.app.state.writer, event_id, code, station.strip()[:64],
                              nonce.strip()[:80], by=await actor_name(request), entry_id=entry_id)
        return Response(answer.body, status_code=answer.status_code)

    @post("/draws", guards=[STAFF], status_code=200, summary="抽签 / draw a seat for a checked-in ticket")
    async def draw(self, event_id: FromPath[int], write_session: WriteSession,
                   data: JSONBody[DrawBody]) -> dict[str, Any]:
        (station,) = required_text(data, "station")
        code, entry_id = _ticket_or_registration(data)
        assignment, seat_session, drawn_now = await seats.draw(write_session, event_id, code,
                                                               station.strip()[:64], entry_id=entry_id)
        return {"seat": assignment.seat_label, "session": seat_session.name,
                "starts_at": seat_session.starts_at.isoformat(), "drawn_now": drawn_now}

    @get("/checkin/search", guards=[STAFF], summary="按姓名查找（遗失凭证）/ find a contestant who lost the ticket")
    async def search(self, event_id: FromPath[int], q: FromQuery[str], request: Request[Any, Any, Any],
                     db_session: DbSession) -> Response[list[dict[str, Any]]]:
        """Never the ticket code: check the person in by `registration_id` (registration/checkin/search.py)."""
        found = await checkin_search.search(db_session, PersonalData(request.app.state.settings.secret_key),
                                            event_id, q)
        return Response(found.rows, headers={"X-More-Results": "1" if found.more else "0",
                                             "Cache-Control": "no-store"})

    @get("/checkin/status", guards=[requires("checkin", "organiser", "chief_judge")],
         summary="各赛项检录情况 / check-in status per item")
    async def status(self, event_id: FromPath[int], db_session: DbSession) -> list[dict[str, Any]]:
        counts = await attendance_counts(db_session, event_id)
        items = (await db_session.exec(select(Item).where(Item.event_id == event_id)
                                       .order_by(col(Item.position)))).all()
        return [{"item": i.code, "item_name": i.name, **counts[i.id]} for i in items if i.id in counts]

    @get("/items/{code:str}/seat-plan", guards=[requires("organiser", "chief_judge")], summary="座位安排 / seat plan")
    async def get_plan(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        return await _plan_view(db_session, await item_by_code(db_session, event_id, code))

    @put("/items/{code:str}/seat-plan", guards=[requires("organiser")], summary="设置座位安排 / set the seat plan")
    async def put_plan(self, event_id: FromPath[int], code: FromPath[str], write_session: WriteSession,
                       data: JSONBody[SeatPlanBody]) -> dict[str, Any]:
        item = await item_by_code(write_session, event_id, code)
        # as sent: an absent field of a session takes its default there, a null one is refused
        await seats.replace_plan(write_session, item.id or 0, seats.read_plan(msgspec.to_builtins(data)))
        return await _plan_view(write_session, item)

    @post("/items/{code:str}/absent", guards=[requires("organiser", "chief_judge")], status_code=200,
          summary="开赛时将未检录者记为缺考 / mark no-shows absent")
    async def absent(self, event_id: FromPath[int], code: FromPath[str], request: Request[Any, Any, Any],
                     write_session: WriteSession) -> dict[str, Any]:
        item = await item_by_code(write_session, event_id, code)
        return {"marked_absent": await mark_absent(write_session, event_id, item.id or 0, await actor_name(request))}

    @post("/seats/move", guards=[requires("organiser", "chief_judge")], status_code=200,
          summary="调整座位（设备故障）/ move a contestant, with a reason")
    async def move(self, event_id: FromPath[int], request: Request[Any, Any, Any],
                   write_session: WriteSession, data: JSONBody[SeatMoveBody]) -> dict[str, Any]:
        session_name, seat = required_text(data, "session", "seat")
        entry = await write_session.get(Entry, data.registration_id)
        if entry is None or entry.event_id != event_id:
            raise Refusal(404, "unknown_registration", "找不到该报名", "no such registration")
        target = (await write_session.exec(select(SeatSession).where(SeatSession.item_id == entry.item_id,
                                                                     SeatSession.name == session_name))).first()
        if target is None:
            raise Refusal(422, "unknown_seat", "目标场次不属于该赛项", "no such session in this item")
        minutes = data.minutes_returned
        moved = await seats.move(write_session, entry.id or 0, target.id or 0, seat,
                                 str(data.reason), minutes if isinstance(minutes, int) else 0,
                                 await actor_name(request))
        return {"session": target.name, "seat": moved.seat_label}


async def _entry_event(connection: Any) -> tuple[int, str | None] | None:
    """The event of the photo's entry: check-in staff see the photos of their own event only."""
    async with connection.app.state.read_session() as session:
        event_id = (await session.exec(select(Entry.event_id).where(
            Entry.id == connection.path_params["entry_id"]))).first()
    return None if event_id is None else (event_id, None)


class KioskPhotoController(Controller):
    path = "/kiosk/photos"
    include_in_schema = False

    @get("/{entry_id:int}/{position:int}", guards=[requires("checkin", "organiser", scope=_entry_event)])
    async def photo(self, entry_id: FromPath[int], position: FromPath[int], request: Request[Any, Any, Any],
                    db_session: DbSession) -> File:
        member = (await db_session.exec(select(EntryMember).where(EntryMember.entry_id == entry_id,
                                                                  EntryMember.position == position))).first()
        path = Path(request.app.state.settings.data_dir) / "photos" / (member.photo or "") if member else None
        if path is None or not member or not member.photo or not path.is_file():
            raise Refusal(404, "no_photo", "没有照片", "no photo")
        return File(path=path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})
