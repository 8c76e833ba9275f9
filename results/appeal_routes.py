"""Appeals over HTTP: the contestants' form (`/appeal/{event_id}`, public, with the ticket code) and its JSON
twin, the organiser's paper appeals, the list, and arbitration's ruling (results/appeals.py); arbitration's
page is results/appeal_pages.py.

The bodies are typed (`ContestantAppealBody`, `PaperAppealBody`, `AppealRulingBody`, the form's `AppealForm`) with
loose fields on purpose: a required field that is absent, empty or not text gets `missing_field` with `field`, as
when the bodies were read by hand.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Template

from contestday.accounts import limits
from contestday.accounts.guards import actor_name, requires
from contestday.web.bodies import Loose, required_text
from contestday.web.errors import Refusal
from contestday.web.sessions import DbSession, WriteSession
from registration.events.models import Item
from registration.events.service import event_or_404
from results.appeal_pages import AppealAdminPage
from results.appeals import appeal_view, file_appeal, list_appeals, rule
from results.publication_routes import announce

__all__ = ["APPEAL_ROUTES", "AppealForm", "AppealRulingBody", "ContestantAppealBody", "PaperAppealBody"]

Req = Request[Any, Any, Any]

# --- bodies ---
# Any JSON value one level deep: the handler refuses a required field that is not non-empty text itself, with
# `missing_field` and `field`, in the order the fields are listed; each field's description says what it should be.
_TEXT = Annotated[Loose, msgspec.Meta(description="申诉事项和理由（文本，必填）/ the grounds, text (required)")]


class ContestantAppealBody(msgspec.Struct):
    """A contestant's appeal: the ticket code (参赛凭证号) and the grounds, both required."""

    ticket_code: Annotated[Loose, msgspec.Meta(
        description="参赛凭证号（文本，必填）/ the ticket code, text (required)")] = None
    text: _TEXT = None


class PaperAppealBody(msgspec.Struct):
    """A paper appeal recorded by the organiser: the item's code, the grounds and who filed it, all required."""

    item: Annotated[Loose, msgspec.Meta(description="赛项代码（文本，必填）/ the item's code, text (required)")] = None
    text: _TEXT = None
    filed_by: Annotated[Loose, msgspec.Meta(
        description="申诉人：姓名、单位或身份（文本，必填）/ who filed it: name, unit or role, text (required)")] = None


class AppealRulingBody(msgspec.Struct):
    """Arbitration's ruling (upheld | dismissed) and its reasons, both required; whether it changes the results."""

    ruling: Annotated[Loose, msgspec.Meta(
        description="裁定：upheld 或 dismissed（必填）/ the ruling: upheld or dismissed (required)")] = None
    text: Annotated[Loose, msgspec.Meta(description="裁定理由（文本，必填）/ the reasons, text (required)")] = None
    changes_results: Annotated[Loose, msgspec.Meta(
        description="申诉成立且改变成绩时为 true（重新发布）/ true when upheld and the results change (republish)",
    )] = None


@dataclass
class AppealForm:
    """The contestants' appeal form: the ticket code and the grounds."""

    ticket_code: str = ""
    text: str = ""



class AppealApi(Controller):
    path = "/api/events/{event_id:int}/appeals"
    tags = ["results"]

    @post("/", status_code=201, summary="选手申诉（凭参赛凭证号）/ a contestant's appeal, with the ticket code")
    async def contestant(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                         data: JSONBody[ContestantAppealBody]) -> dict[str, Any]:
        ticket_code, text = required_text(data, "ticket_code", "text")
        await event_or_404(write_session, event_id)
        attempt = await limits.attempt(request, limits.APPEAL)  # a wrong ticket code counts per address
        try:
            row = await file_appeal(write_session, event_id, text=text, ticket_code=ticket_code,
                                    hours=request.app.state.settings.appeal_hours)
        except Refusal as exc:
            if exc.code != "unknown_ticket":
                await attempt.succeeded()
            raise
        await attempt.succeeded()
        return {"id": row.id, "state": row.state, "filed_at": row.filed_at.isoformat()}

    @post("/paper", status_code=201, guards=[requires("organiser")],
          summary="登记书面申诉 / record a paper appeal")
    async def paper(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                    data: JSONBody[PaperAppealBody]) -> dict[str, Any]:
        item, text, filed_by = required_text(data, "item", "text", "filed_by")
        row = await file_appeal(write_session, event_id, text=text, item_code=item, by=filed_by,
                                hours=request.app.state.settings.appeal_hours)
        return appeal_view(row)

    @get("/", guards=[requires("organiser", "chief_judge")], summary="申诉列表 / the appeals")
    async def listing(self, event_id: FromPath[int], db_session: DbSession) -> list[dict[str, Any]]:
        return await list_appeals(db_session, event_id)

    @post("/{appeal_id:int}/ruling", status_code=200, guards=[requires("organiser")],
          summary="仲裁裁定 / arbitration's ruling")
    async def ruling(self, request: Req, event_id: FromPath[int], appeal_id: FromPath[int],
                     write_session: WriteSession, data: JSONBody[AppealRulingBody]) -> dict[str, Any]:
        ruling, text = required_text(data, "ruling", "text")
        row, published = await rule(write_session, event_id, appeal_id, ruling, text, bool(data.changes_results),
                                    await actor_name(request))
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
    async def submit(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                     data: URLEncodedBody[AppealForm]) -> Template:
        name = (await event_or_404(write_session, event_id)).name  # a plain value: a rollback expires the row
        values = dataclasses.asdict(data)
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
