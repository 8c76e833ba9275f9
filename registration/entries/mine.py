""""My registration" `/r/{event}/mine`: a contestant finds their own entry by ID number + phone, then
amends or withdraws it while registration is open (read-only after the deadline, and once checked in: then
the staff on site decide, `checked_in`).

Safety: a wrong pair gets one neutral answer whichever half was wrong (`not_found`); failed look-ups are
limited per client address and per ID number (`too_many_attempts`, contestday/accounts/limits.py); a
successful look-up sets a 15-minute signed cookie naming the entry, and every post must also carry the
cookie's value in the form (double submit: another site can make the browser send the cookie, but cannot
read it to put it in the form)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, UploadFile
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts import limits
from contestday.db.types import utcnow
from contestday.web import uploads
from contestday.web.errors import Refusal
from contestday.web.public_address import public_address
from contestday.web.sessions import DbSession, WriteSession
from registration.entries import public_form as pf
from registration.entries.models import Entry, EntryMember
from registration.entries.public_data import (
    MINE_COOKIE_SECONDS,
    TicketView,
    find_own_entry,
    load_members,
    load_ticket,
    mask_phone,
    member_values,
    mine_cookie,
    read_mine_cookie,
)
from registration.entries.public_views import (
    MINE_COOKIE,
    check_form,
    context_or_none,
    expired_cookie,
    form_page,
    message_page,
    refusal,
    same_token,
    save_photos,
)
from registration.entries.request import RequestError
from registration.entries.service import RegistrationContext, amend, checked_in_refusal, is_open, on_site, withdraw
from registration.events.models import Item

__all__ = ["LookupForm", "MinePages", "RegistrationForm", "WithdrawForm", "read_form_as_sent"]

Req = Request[Any, Any, Any]
MAX_FORM_BYTES = 11 * 1024 * 1024 + 512 * 1024
NOT_FOUND = "未找到匹配的有效报名。请核对身份证号码和手机号码（须与报名时填写的一致）。"
NOTICES = {"amended": "报名信息已修改。"}
# Once checked in (or seated) the entry is the contest day's: withdrawing or changing it is for the staff on site.
CHECKED_IN = checked_in_refusal()


# --- bodies ---
@dataclass
class RegistrationForm:
    """The form of public/form.html, posted multipart (a photo per member): a new registration at /r/{event}, an
    amended one at /r/{event}/mine/edit (`mine`: the form's copy of the look-up cookie). Field names are
    public_form's: the team, two members `m{i}_…` with their photos, two instructors `ins{i}_…`, the
    confirmation. A refusal shows the form again with what was sent."""

    mine: str = ""
    item: str = ""
    group: str = ""
    identity: str = ""
    unit: str = ""
    m0_name: str = ""
    m0_id_number: str = ""
    m0_phone: str = ""
    m0_education: str = ""
    m0_skill_level: str = ""
    m0_certificate_number: str = ""
    m0_years_in_occupation: str = ""
    m0_female_base: str = ""
    m0_major: str = ""
    m0_residence_declared: str = ""
    m0_photo: UploadFile | None = None
    m1_name: str = ""
    m1_id_number: str = ""
    m1_phone: str = ""
    m1_education: str = ""
    m1_skill_level: str = ""
    m1_certificate_number: str = ""
    m1_years_in_occupation: str = ""
    m1_female_base: str = ""
    m1_major: str = ""
    m1_residence_declared: str = ""
    m1_photo: UploadFile | None = None
    ins0_name: str = ""
    ins0_phone: str = ""
    ins1_name: str = ""
    ins1_phone: str = ""
    confirm: str = ""

    async def read(self) -> pf.FormInput:
        """What public_form makes of the posted fields: the text to show again, each photo's bytes (an empty
        file part, a photo not chosen, is none), whether the declaration was confirmed."""
        return await pf.read_form({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})


@dataclass
class LookupForm:
    """Finding one's own entry: the ID number and the phone given when registering."""

    id_number: str = ""
    phone: str = ""


@dataclass
class WithdrawForm:
    """Withdrawing one's entry: the form's copy of the look-up cookie and the box ticked to confirm."""

    mine: str = ""
    sure: str = ""


async def read_form_as_sent(request: Req) -> None:
    """`before_request` of the public form posts: read the form in the encoding it came in, for the typed body
    to decode from. The pages post multipart (form.html) or urlencoded (mine.html), and a client may post either:
    litestar's own reader takes only the declared one (urlencoded to a multipart route is refused 400, multipart
    to a urlencoded route reads as empty), where these routes have always read both."""
    await request.form()


def _mine(ctx: RegistrationContext, t: TicketView | None, token: str = "", *, error: str = "", code: str = "",
          notice: str = "", status: int = 200, checked_in: bool = False) -> Template:
    return Template("public/mine.html", status_code=status, context={
        "event_id": ctx.event_id, "event_name": ctx.spec.name, "t": t, "mine_token": token, "error": error,
        "code": code, "notice": notice, "open": is_open(ctx.closes, ctx.closed_at, utcnow()),
        "checked_in": checked_in, "checked_in_message": CHECKED_IN.message}, headers={"Cache-Control": "no-store"})


async def _owned(session: AsyncSession, request: Req, event_id: int,
                 form_token: str | None = None) -> tuple[Entry, list[EntryMember], str] | None:
    """The entry the signed cookie names (active, of this event); for posts also the form's copy of it."""
    cookie = request.cookies.get(MINE_COOKIE)
    entry_id = read_mine_cookie(request.app.state.settings.secret_key, cookie, event_id)
    if entry_id is None or (form_token is not None and not same_token(form_token, cookie)):
        return None
    entry = await session.get(Entry, entry_id)
    if entry is None or entry.event_id != event_id or entry.state != "active":
        return None
    assert cookie is not None
    return entry, await load_members(session, entry_id), cookie


def _too_many(exc: limits.TooManyAttempts, event_id: int) -> Template:
    page = message_page("尝试次数过多", exc.message, 429, [(f"/r/{event_id}/mine", "我的报名")])
    page.headers.update(exc.retry_headers)
    return page


def _edit_extra(ctx: RegistrationContext, members: list[EntryMember], token: str) -> dict[str, Any]:
    pad = ["", ""]
    return {"action": f"/r/{ctx.event_id}/mine/edit", "mine_token": token,
            "kept_ids": [m.id_masked for m in members] + pad,
            "kept_phones": [mask_phone(m.phone) for m in members] + pad,
            "kept_photos": [bool(m.photo) for m in members] + [False, False]}


async def _ticket(request: Req, session: AsyncSession, code: str) -> TicketView | None:
    return await load_ticket(session, code, (await public_address(request, session)).url)


class MinePages(Controller):
    path = "/r/{event_id:int}/mine"
    include_in_schema = False

    @get("/")
    async def page(self, event_id: FromPath[int], request: Req, db_session: DbSession) -> Template:
        ctx = await context_or_none(db_session, request, event_id)
        if ctx is None:
            return message_page("找不到该赛事", "链接有误或赛事已删除。", 404)
        owned = await _owned(db_session, request, event_id)
        if owned is None:
            return _mine(ctx, None)
        t = await _ticket(request, db_session, owned[0].ticket_code)
        return _mine(ctx, t, owned[2], notice=NOTICES.get(request.query_params.get("done", ""), ""),
                     checked_in=await on_site(db_session, owned[0].id or 0))

    @post("/", before_request=read_form_as_sent)
    async def lookup(self, event_id: FromPath[int], request: Req, write_session: WriteSession,
                     data: URLEncodedBody[LookupForm]) -> Response[Any]:
        ctx = await context_or_none(write_session, request, event_id)
        if ctx is None:
            return message_page("找不到该赛事", "链接有误或赛事已删除。", 404)
        id_number, phone = data.id_number, data.phone
        try:  # a failed look-up counts per address and per ID number tried
            attempt = await limits.attempt(request, limits.MINE, person=f"{event_id}:{id_number.strip()}")
        except limits.TooManyAttempts as exc:
            page = _mine(ctx, None, error=exc.message, code=exc.code, status=429)
            page.headers.update(exc.retry_headers)
            return page
        entry = await find_own_entry(write_session, ctx.personal, event_id, id_number, phone) \
            if id_number.strip() and phone.strip() else None
        if entry is None or entry.id is None:
            return _mine(ctx, None, error=NOT_FOUND, code="not_found", status=404)
        await attempt.succeeded()
        token = mine_cookie(request.app.state.settings.secret_key, event_id, entry.id)
        return Redirect(f"/r/{event_id}/mine", status_code=303, cookies=[Cookie(
            key=MINE_COOKIE, value=token, max_age=MINE_COOKIE_SECONDS, path=f"/r/{event_id}/mine", httponly=True,
            samesite="lax", secure=request.url.scheme == "https")])

    @get("/edit")
    async def edit_form(self, event_id: FromPath[int], request: Req, db_session: DbSession) -> Response[Any]:
        ctx = await context_or_none(db_session, request, event_id)
        owned = await _owned(db_session, request, event_id)
        if ctx is None or owned is None or not is_open(ctx.closes, ctx.closed_at, utcnow()) \
                or await on_site(db_session, owned[0].id or 0):
            return Redirect(f"/r/{event_id}/mine", status_code=303)
        entry, members, token = owned
        item = await db_session.get(Item, entry.item_id)
        values = member_values(entry, members, item.code if item else "")
        for m in members:  # what seed 002 asks besides the usual fields (the declaration stays ticked)
            values.update({f"m{m.position}_major": m.major or "",
                           f"m{m.position}_residence_declared": "1" if m.residence_declared else ""})
        return form_page(ctx, values, mode="edit", extra=_edit_extra(ctx, members, token))

    @post("/edit", request_max_body_size=MAX_FORM_BYTES, before_request=read_form_as_sent)
    async def edit(self, event_id: FromPath[int], request: Req, write_session: WriteSession,
                   data: MultipartBody[RegistrationForm]) -> Response[Any]:
        ctx = await context_or_none(write_session, request, event_id)
        try:  # a post without a valid cookie counts as a failed look-up, before the photos are decoded
            attempt = await limits.attempt(request, limits.MINE)
        except limits.TooManyAttempts as exc:
            return _too_many(exc, event_id)
        form = await data.read()
        owned = await _owned(write_session, request, event_id, form.values.get("mine", ""))
        if ctx is None or owned is None:
            return message_page("请重新查询", "页面已过期，请重新输入身份证号码和手机号码查询。", 422,
                                [(f"/r/{event_id}/mine", "我的报名")])
        await attempt.succeeded()
        entry, members, token = owned
        assert entry.id is not None
        if await on_site(write_session, entry.id):
            t = await _ticket(request, write_session, entry.ticket_code)
            return _mine(ctx, t, token, error=CHECKED_IN.message, code=CHECKED_IN.code, status=409, checked_in=True)
        kept = pf.KeptData([ctx.personal.decrypt(m.id_number_enc) or "" for m in members],
                           [m.phone for m in members], list(members[0].instructors) if members else [],
                           {m.position: m.person_hash for m in members if m.photo})
        keep = {m.position: (m.person_hash, m.photo) for m in members if m.photo}
        item = ctx.spec.item(form.values.get("item", ""))
        try:
            # decoding photos takes a good part of a second: off the event loop
            req, photos = (await uploads.off_loop(check_form, ctx, form, kept) if form.photos
                           else check_form(ctx, form, kept))
            await amend(write_session, ctx, entry.id, req, own=True)
        except (RequestError, Refusal) as exc:
            status, errors = refusal(exc, bool(item and item.team_size > 1))
            return form_page(ctx, form.values, errors, status=status, mode="edit",
                             extra=_edit_extra(ctx, members, token))
        saved = await save_photos(write_session, request, entry.id, photos, keep)
        return Redirect(f"/r/{event_id}/mine", status_code=303, query_params={"done": "amended"} if saved else {})

    @post("/withdraw", before_request=read_form_as_sent)
    async def withdraw_entry(self, event_id: FromPath[int], request: Req, write_session: WriteSession,
                             data: URLEncodedBody[WithdrawForm]) -> Response[Any]:
        ctx = await context_or_none(write_session, request, event_id)
        try:  # a post without a valid cookie counts as a failed look-up
            attempt = await limits.attempt(request, limits.MINE)
        except limits.TooManyAttempts as exc:
            return _too_many(exc, event_id)
        owned = await _owned(write_session, request, event_id, data.mine)
        if ctx is None or owned is None:
            return message_page("请重新查询", "页面已过期，请重新输入身份证号码和手机号码查询。", 422,
                                [(f"/r/{event_id}/mine", "我的报名")])
        await attempt.succeeded()
        entry, _, token = owned
        t = await _ticket(request, write_session, entry.ticket_code)
        if not is_open(ctx.closes, ctx.closed_at, utcnow()):
            return _mine(ctx, t, token, error="报名已截止，不能撤回。", code="registration_closed", status=422)
        try:
            if data.sure != "1" and not await on_site(write_session, entry.id or 0):
                return _mine(ctx, t, token, error="请先勾选确认，再撤回报名。", code="not_confirmed", status=422)
            await withdraw(write_session, entry, by_contestant=True)
        except Refusal as exc:
            await write_session.rollback()
            return _mine(ctx, t, token, error=exc.message, code=exc.code, status=exc.status_code,
                         checked_in=exc.code == CHECKED_IN.code)
        await write_session.commit()
        page = message_page("报名已撤回", "您的报名已撤回，名额已释放。如需参赛，可重新报名。", 200,
                            [(f"/r/{event_id}", "重新报名")], ctx.spec.name, [expired_cookie(event_id)])
        return page
