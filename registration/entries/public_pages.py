"""The contestants' pages (public): the QR code's form `/r/{event}` and the ticket `/t/{code}` (and its
PDF); "my registration" lives in mine.py, the organiser's poster in posters.py. Thin: the form is read by
public_form, checked by read_request and the registration service; photos are stored by photos."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, MultipartBody
from litestar.response import Redirect, Template

from contestday.db.types import utcnow
from contestday.web import uploads
from contestday.web.errors import Refusal
from contestday.web.public_address import public_address, refuse_loopback
from contestday.web.sessions import DbSession, WriteSession
from registration.entries.mine import MinePages, RegistrationForm, read_form_as_sent
from registration.entries.pdf import ticket_pdf
from registration.entries.posters import PosterPages
from registration.entries.public_data import load_ticket
from registration.entries.public_views import (
    check_form,
    closed_page,
    context_or_none,
    form_page,
    message_page,
    refusal,
    save_photos,
)
from registration.entries.qr import qr_svg
from registration.entries.request import RequestError
from registration.entries.service import is_open, register

__all__ = ["MAX_FORM_BYTES", "MinePages", "PosterPages", "PublicPages"]

Req = Request[Any, Any, Any]
MAX_FORM_BYTES = 11 * 1024 * 1024 + 512 * 1024  # two 5 MB photos and the fields; litestar's default is 10 MB
NO_EVENT = ("找不到该赛事", "报名链接有误或赛事已删除，请重新扫描报名二维码。")


def _printable(request: Req, address: Any) -> bool:
    try:
        refuse_loopback(address, request.app.state.settings)
    except Refusal:
        return False
    return True


class PublicPages(Controller):
    include_in_schema = False

    @get("/r/{event_id:int}")
    async def form(self, event_id: FromPath[int], request: Req, db_session: DbSession) -> Template:
        ctx = await context_or_none(db_session, request, event_id)
        if ctx is None:
            return message_page(*NO_EVENT, 404)
        if not is_open(ctx.closes, ctx.closed_at, utcnow()):
            return closed_page(ctx)
        return form_page(ctx, {})

    @post("/r/{event_id:int}", request_max_body_size=MAX_FORM_BYTES, before_request=read_form_as_sent)
    async def submit(self, event_id: FromPath[int], request: Req, write_session: WriteSession,
                     data: MultipartBody[RegistrationForm]) -> Response[Any]:
        ctx = await context_or_none(write_session, request, event_id)
        if ctx is None:
            return message_page(*NO_EVENT, 404)
        if not is_open(ctx.closes, ctx.closed_at, utcnow()):
            return closed_page(ctx, 422)
        form = await data.read()
        item = ctx.spec.item(form.values.get("item", ""))
        try:
            # decoding photos takes a good part of a second: off the event loop
            req, photos = await uploads.off_loop(check_form, ctx, form) if form.photos else check_form(ctx, form)
            outcome = await register(write_session, ctx, req, source="form")
        except (RequestError, Refusal) as exc:
            status, errors = refusal(exc, bool(item and item.team_size > 1))
            return form_page(ctx, form.values, errors, status=status)
        entry_id, code = outcome.entry_id, outcome.ticket_code
        assert entry_id is not None
        saved = await save_photos(write_session, request, entry_id, photos)
        return Redirect(f"/t/{code}", status_code=303,
                        query_params={"new": "1", **({} if saved else {"photo": "failed"})})

    @get("/t/{code:str}")
    async def ticket(self, code: FromPath[str], request: Req, db_session: DbSession) -> Response[Any]:
        pdf = code.lower().endswith(".pdf")
        address = await public_address(request, db_session)
        t = await load_ticket(db_session, code[:-4] if pdf else code, address.url)
        if t is None or (pdf and t.state != "active"):
            return message_page("找不到该参赛凭证", "凭证号有误，或报名已撤回。请核对凭证号，"
                                "或在报名页“我的报名”中查询。", 404)
        printable = _printable(request, address)
        if pdf and not printable:  # its QR would carry an address no phone reaches: the page's own QR still works
            return message_page("暂时不能下载凭证 PDF", "主办方还没有设置手机能访问的服务地址，PDF 上的二维码无法使用。"
                                "请截屏保存凭证页，检录时出示凭证页上的二维码或凭证号。", 409,
                                [(f"/t/{t.code}", "返回参赛凭证")], t.event_name)
        if pdf:
            body = ticket_pdf(code=t.code, code_display=t.code_display, url=t.url, event_name=t.event_name,
                              rows=t.rows(), state_label=t.state_label)
            return Response(body, media_type="application/pdf", headers={
                "Content-Disposition": f'inline; filename="ticket-{t.code}.pdf"', "Cache-Control": "no-store"})
        query = request.query_params
        notice = ""
        if query.get("new"):
            review = "资料需人工审核，请留意审核结果。" if t.state_label == "待审核" else ""
            notice = "报名已提交，请保存本页。" + review
        warning = ""
        if query.get("photo") == "failed":  # the registration stands; the photo can be sent again
            warning = "报名已成功，但照片保存失败，请稍后在“我的报名”中修改并重新上传照片。"
        return Template("public/ticket.html", context={
            "t": t, "qr_svg": qr_svg(t.url), "notice": notice, "warning": warning, "event_name": t.event_name,
            "pdf_ok": printable},
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
