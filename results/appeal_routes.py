"""Appeals over HTTP: the contestants' form (`/appeal/{event_id}`, public, with the ticket code) and its JSON
twin, the organiser's paper appeals, the list, and arbitration's ruling (results/appeals.py); arbitration's
page is results/appeal_pages.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from contestday.accounts import limits
from contestday.accounts.guards import actor_name, requires
from contestday.web.bodies import json_object
from contestday.web.errors import Refusal
from contestday.web.sessions import DbSession, WriteSession
from registration.events.models import Item
from registration.events.service import event_or_404
from results.appeal_pages import AppealAdminPage
from results.appeals import appeal_view, file_appeal, list_appeals, rule
from results.publication_routes import announce

__all__ = ["APPEAL_ROUTES"]

Req = Request[Any, Any, Any]



class AppealApi(Controller):
    path = "/api/events/{event_id:int}/appeals"
    tags = ["results"]

    @post("/", status_code=201, summary="选手申诉（凭参赛凭证号）/ a contestant's appeal, with the ticket code")
    async def contestant(self, request: Req, event_id: FromPath[int], write_session: WriteSession) -> dict[str, Any]:
        body = await json_object(request, "ticket_code", "text")
        await event_or_404(write_session, event_id)
        attempt = await limits.attempt(request, limits.APPEAL)  # a wrong ticket code counts per address
        try:
            row = await file_appeal(write_session, event_id, text=body["text"], ticket_code=body["ticket_code"],
                                    hours=request.app.state.settings.appeal_hours)
        except Refusal as exc:
            if exc.code != "unknown_ticket":
                await attempt.succeeded()
            raise
        await attempt.succeeded()
        return {"id": row.id, "state": row.state, "filed_at": row.filed_at.isoformat()}

    @post("/paper", status_code=201, guards=[requires("organiser")],
          summary="登记书面申诉 / record a paper appeal")
    async def paper(self, request: Req, event_id: FromPath[int], write_session: WriteSession) -> dict[str, Any]:
        body = await json_object(request, "item", "text", "filed_by")
        row = await file_appeal(write_session, event_id, text=body["text"], item_code=body["item"],
                                by=body["filed_by"], hours=request.app.state.settings.appeal_hours)
        return appeal_view(row)

    @get("/", guards=[requires("organiser", "chief_judge")], summary="申诉列表 / the appeals")
    async def listing(self, event_id: FromPath[int], db_session: DbSession) -> list[dict[str, Any]]:
        return await list_appeals(db_session, event_id)

    @post("/{appeal_id:int}/ruling", status_code=200, guards=[requires("organiser")],
          summary="仲裁裁定 / arbitration's ruling")
    async def ruling(self, request: Req, event_id: FromPath[int], appeal_id: FromPath[int],
                     write_session: WriteSession) -> dict[str, Any]:
        body = await json_object(request, "ruling", "text")
        row, published = await rule(write_session, event_id, appeal_id, body["ruling"], body["text"],
                                    bool(body.get("changes_results")), await actor_name(request))
        if published is not None:
            item = await write_session.get(Item, published.item_id)
            assert item is not None
            announce(request, event_id, item, published)
        return appeal_view(row)


class AppealPage(Controller):
    """The contestants' appeal form: works without JavaScript, in WeChat's browser."""

    path = "/appeal/{event_id:int}"
    include_in_schema = False

    @get("/")
    async def form(self, event_id: FromPath[int], db_session: DbSession) -> Template:
        event = await event_or_404(db_session, event_id)
        return Template("results/appeal.html", context={"event_name": event.name, "values": {}})

    @post("/", status_code=200)
    async def submit(self, request: Req, event_id: FromPath[int], write_session: WriteSession) -> Template:
        name = (await event_or_404(write_session, event_id)).name  # a plain value: a rollback expires the row
        form = await request.form()
        values = {k: str(form.get(k) or "") for k in ("ticket_code", "text")}
        attempt: limits.Attempt | None = None
        try:
            if not values["ticket_code"].strip():
                raise Refusal(422, "missing_field", "请填写参赛凭证号", "the ticket code is required")
            attempt = await limits.attempt(request, limits.APPEAL)  # a wrong ticket code counts per address
            row = await file_appeal(write_session, event_id, text=values["text"], ticket_code=values["ticket_code"],
                                    hours=request.app.state.settings.appeal_hours)
        except Refusal as exc:
            await write_session.rollback()
            if attempt is not None and exc.code != "unknown_ticket":
                await attempt.succeeded()
            return Template("results/appeal.html", status_code=exc.status_code, headers=exc.headers or {},
                            context={"event_name": name, "values": values, "error": exc.message})
        assert attempt is not None
        await attempt.succeeded()
        return Template("results/appeal.html", status_code=201,
                        context={"event_name": name, "values": {}, "filed": row.id})


APPEAL_ROUTES = (AppealApi, AppealPage, AppealAdminPage)
