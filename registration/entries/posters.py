"""The organiser's registration poster: an A4 PDF with the event, its items and the QR code of the form
`{public address}/r/{event_id}`, and the QR code alone as a PNG (for slides, chat groups, notices). Both are refused
(409 `public_url_loopback`) while the public address is one phones cannot reach (contestday/web/public_address.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from contestday.accounts.guards import requires
from contestday.web.public_address import printable_address
from contestday.web.sessions import DbSession
from registration.entries.context import load_context
from registration.entries.pdf import PosterItem, poster_pdf
from registration.entries.qr import qr_png
from scoring.event_file import CHINA_TZ

__all__ = ["PosterPages"]

Req = Request[Any, Any, Any]


async def form_url(request: Req, event_id: int, session: DbSession) -> str:
    return f"{await printable_address(request, session)}/r/{event_id}"


class PosterPages(Controller):
    path = "/admin/events/{event_id:int}"
    guards = [requires("organiser")]
    tags = ["registration"]

    @get("/poster.pdf", summary="报名海报 PDF / registration poster (A4, QR of the form)")
    async def poster(self, event_id: FromPath[int], request: Req, db_session: DbSession) -> Response[bytes]:
        ctx = await load_context(db_session, event_id, request.app.state.settings.secret_key)
        spec = ctx.spec
        deadline = f"{ctx.closes.astimezone(CHINA_TZ):%Y年%m月%d日 %H:%M}" if ctx.closes else None
        items = [PosterItem(i.code, i.name, i.groups, i.team_size) for i in spec.items]
        url = await form_url(request, event_id, db_session)
        body = poster_pdf(spec.name, url, items, deadline=deadline, organiser=spec.organiser)
        return Response(body, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="poster-{event_id}.pdf"'})

    @get("/qr.png", summary="报名二维码 PNG / the form's QR code")
    async def qr(self, event_id: FromPath[int], request: Req, db_session: DbSession) -> Response[bytes]:
        await load_context(db_session, event_id, request.app.state.settings.secret_key)  # 404 for no event
        return Response(qr_png(await form_url(request, event_id, db_session)), media_type="image/png",
                        headers={"Content-Disposition": f'inline; filename="qr-{event_id}.png"'})
