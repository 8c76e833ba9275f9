"""Organiser pages for events (server-rendered; plain JavaScript only improves them)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from registration.accounts.guards import current_principal, requires
from registration.events import service
from registration.web import DbSession, preferred_language

__all__ = ["EventPages"]


class EventPages(Controller):
    path = "/admin"
    guards = [requires("organiser")]
    include_in_schema = False

    @get("/events")
    async def event_list(self, request: Request[Any, Any, Any], db_session: DbSession) -> Template:
        return Template("events/list.html", context={
            "lang": preferred_language(request), "principal": await current_principal(request),
            "events": await service.list_events(db_session)})
