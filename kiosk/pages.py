"""The check-in kiosk page (full screen, for check-in staff) and the encryption judge's sealed pages: the item
list with the layer-by-layer reveal, and the named seat lists. The kiosk page is a shell: kiosk/static/kiosk.js
talks to the check-in JSON API (registration/checkin/routes.py) with the session cookie and CSRF token."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from contestday.accounts.guards import current_principal, requires
from contestday.web.i18n import preferred_language
from contestday.web.sessions import DbSession
from kiosk import messages, queries
from kiosk import seat_lists as lists
from kiosk.admin import download
from scoring.event_file import CHINA_TZ

__all__ = ["KioskPages", "SealedPages"]

Req = Request[Any, Any, Any]


class KioskPages(Controller):
    path = "/kiosk/events/{event_id:int}"
    guards = [requires("checkin", "organiser")]
    include_in_schema = False

    @get("/checkin")
    async def checkin(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        event = await queries.event_or_404(db_session, event_id)
        lang = preferred_language(request)
        principal = await current_principal(request)
        station = request.query_params.get("station", "")[:64]
        # the script's messages, in the page's language, as a JSON data block
        text = json.dumps({key: messages.t(zh, lang) for key, zh in messages.KIOSK_JS.items()},
                          ensure_ascii=False).replace("</", "<\\/")  # safe inside <script>
        return Template("kiosk/checkin.html", context={
            "lang": lang, "principal": principal, "event": event, "station": station, "js_text": text,
            "csrf": principal.csrf_token if principal else ""})


class SealedPages(Controller):
    """Only the encryption judge: the sealed mapping never reaches anyone else's page."""

    path = "/sealed/events/{event_id:int}"
    guards = [requires("encryption_judge")]
    include_in_schema = False

    @get("/")
    async def overview(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        event = await queries.event_or_404(db_session, event_id)
        principal = await current_principal(request)
        mine = principal.items("encryption_judge", event_id) if principal else frozenset()
        return Template("kiosk/sealed.html", context={
            "lang": preferred_language(request), "principal": principal, "event": event,
            "items": [i for i in await queries.item_status(db_session, event_id) if mine is None or i.code in mine]})

    @get("/items/{code:str}/seats.html")
    async def html(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                   db_session: DbSession) -> Template:
        event = await queries.event_or_404(db_session, event_id)
        item = await queries.item_or_404(db_session, event_id, code)
        return Template("kiosk/seat_list.html", context={
            "lang": preferred_language(request), "event": event, "item": item, "named": True, "tz": CHINA_TZ,
            "blocks": await lists.named_blocks(db_session, item.id or 0),
            "xlsx": f"/sealed/events/{event_id}/items/{quote(code)}/seats.xlsx"},
            headers={"Cache-Control": "no-store"})

    @get("/items/{code:str}/seats.xlsx")
    async def xlsx(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> Response[bytes]:
        item = await queries.item_or_404(db_session, event_id, code)
        data = lists.xlsx(await lists.named_blocks(db_session, item.id or 0), True, f"{item.code} 加密对照表", CHINA_TZ)
        response = download(data, f"{item.name}-加密对照表.xlsx", f"sealed-seats-{item.code}.xlsx")
        response.headers["Cache-Control"] = "no-store"
        return response
