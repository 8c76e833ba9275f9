"""The chief judge's console (chief judge and organiser only): the page, its websocket and its actions.

Why here and not in `judging`: the console shows the provisional ranking, which runs the results engine, and
judging sits below results (contestday → kiosk | certificates → results → judging → …). The judging state and
actions stay in judging (judging/console.py, judging/console_actions.py); this module only wires them to HTTP.

- `GET /console/events/{event_id}?item=CODE`: a server-rendered shell; judging/static/console.js draws it.
- `/ws/console/{event_id}?item=CODE`: a snapshot on connect and on `{"type": "hello", "item"?}`, then every
  message of the event's console channel (stamped with the audit `seq`; the page asks again on a gap).
- `POST /api/console/events/{event_id}/items/{code}/…`: the actions (including `/rulings`, 裁定扣分), JSON in and
  out; the change is published after its commit.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from litestar import Controller, Request, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketException
from litestar.params import FromPath
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.accounts.service import SIGNED_OUT, account_channel
from contestday.web import uploads
from contestday.web.bodies import json_object
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language
from contestday.web.sessions import DbSession, WriteSession
from contestday.web.ws_origin import refuse_foreign_origin
from judging import console_actions as actions
from judging import score_import
from judging.console import console_snapshot, item_or_404
from judging.console_text import CONSOLE_JS
from judging.ws import console_channel, publish_resolved, receive_messages
from registration.entries.roster import RosterError
from registration.events.service import event_or_404
from results.live import provisional_ranking

__all__ = ["CONSOLE_ROUTES", "ConsoleApi", "ConsolePages", "console_socket", "console_view"]

Req = Request[Any, Any, Any]
ROLES = frozenset({"chief_judge", "organiser"})
_SIGNED_OUT = SIGNED_OUT.encode()  # as channel messages arrive: compared with every fanned-out change
GUARD = requires(*sorted(ROLES))


async def console_view(session: AsyncSession, event_id: int, item_code: str | None) -> dict[str, Any]:
    """The console's snapshot: the judging state of the item plus its provisional ranking."""
    snapshot = await console_snapshot(session, event_id, item_code)
    snapshot["ranking"] = await provisional_ranking(session, event_id, snapshot["item"]["code"])
    return snapshot



class ConsolePages(Controller):
    path = "/console/events/{event_id:int}"
    guards = [GUARD]
    include_in_schema = False

    @get("/")
    async def console(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        event = await event_or_404(db_session, event_id)
        item = await item_or_404(db_session, event_id, request.query_params.get("item") or None)
        lang = preferred_language(request)
        text = json.dumps({k: gettext(zh, lang) for k, zh in CONSOLE_JS.items()},
                          ensure_ascii=False).replace("</", "<\\/")  # safe inside <script>
        return Template("judging/console.html", context={
            "lang": lang, "principal": await current_principal(request), "event": event, "item": item,
            "js_text": text}, headers={"Cache-Control": "no-store"})




class ConsoleApi(Controller):
    path = "/api/console/events/{event_id:int}/items/{code:str}"
    guards = [GUARD]
    tags = ["console"]

    @get("/", summary="裁判长控制台快照 / console snapshot of an item")
    async def snapshot(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        return await console_view(db_session, event_id, code)

    async def _done(self, request: Req, event_id: int, outcome: actions.Outcome) -> dict[str, Any]:
        channels: ChannelsPlugin = request.app.plugins.get(ChannelsPlugin)
        actions.publish(channels, event_id, outcome)  # the action has committed
        return outcome.console

    @post("/scores/import", status_code=200, summary="导入纸质评分表 / import a scores workbook (all or nothing)",
          request_max_body_size=uploads.FORM_LIMIT)
    async def import_scores(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                            write_session: WriteSession) -> dict[str, Any]:
        upload = (await uploads.read_form(request)).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Refusal(422, "missing_file", "请选择评分表文件（.xlsx 或 .csv）",
                           "choose a scores file (.xlsx or .csv)")
        try:  # parsed before the first query: on SQLite that opens the write transaction, held till the end
            marks = await uploads.off_loop(score_import.read_marks, await upload.read(), upload.filename)
        except RosterError as exc:
            raise Refusal(422, exc.code, exc.zh, exc.en) from None
        item = await item_or_404(write_session, event_id, code)
        try:
            # in this request's session (it holds the transaction already): the same rules and statements
            applied, resolved = await score_import.import_scores(write_session, event_id, item.code, marks,
                                                                 await actor_name(request))
        except score_import.ImportRefused as exc:
            raise Refusal(422, "import_refused", f"评分表有 {len(exc.errors)} 行不能导入，未导入任何分数",
                           f"{len(exc.errors)} row(s) refused: nothing was imported", errors=exc.errors) from None
        channels: ChannelsPlugin = request.app.plugins.get(ChannelsPlugin)
        channels.publish(json.dumps({"type": "refresh", "item": item.code}), [console_channel(event_id)])
        publish_resolved(channels, event_id, resolved)
        return {"item": item.code, "applied": applied, "resolved": len(resolved)}

    @post("/remarks", status_code=200, summary="请裁判复评 / ask a judge to re-mark")
    async def remark(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                     write_session: WriteSession) -> dict[str, Any]:
        body = await json_object(request)
        item = await item_or_404(write_session, event_id, code)
        judge_id = body.get("judge_id")
        if not isinstance(judge_id, int):
            raise Refusal(422, "missing_field", "judge_id：必填", "judge_id is required", field="judge_id")
        outcome = await actions.request_remark(
            write_session, item, judge_id=judge_id, seat=str(body.get("seat", "")),
            criterion=str(body.get("criterion", "")), message=str(body.get("message", "")),
            by=await actor_name(request))
        return await self._done(request, event_id, outcome)

    @post("/remarks/{remark_id:int}/close", status_code=200,
          summary="关闭复评请求（须填说明）/ close a re-mark request, with a note")
    async def close_remark(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                           remark_id: FromPath[int], write_session: WriteSession) -> dict[str, Any]:
        body = await json_object(request)
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.close_remark(write_session, item, remark_id, await actor_name(request),
                                             body.get("note"))
        return await self._done(request, event_id, outcome)

    @post("/rulings", status_code=200, summary="裁定扣分（须填原因）/ rule on a deduction the judges disagree on")
    async def rule_deduction(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                             write_session: WriteSession) -> dict[str, Any]:
        body = await json_object(request)
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.rule_deduction(
            write_session, item, seat=str(body.get("seat", "")), criterion=str(body.get("criterion", "")),
            value=body.get("value", ""), reason=body.get("reason"), by=await actor_name(request))
        return await self._done(request, event_id, outcome)

    @post("/criteria/{criterion:str}/lock", status_code=200, summary="锁定评分项 / lock a criterion")
    async def lock_criterion(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                             criterion: FromPath[str], write_session: WriteSession) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.lock_criterion(write_session, item, criterion, await actor_name(request))
        return await self._done(request, event_id, outcome)

    @post("/criteria/{criterion:str}/unlock", status_code=200, summary="解锁评分项（须填原因）/ unlock, with a reason")
    async def unlock_criterion(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                               criterion: FromPath[str], write_session: WriteSession) -> dict[str, Any]:
        body = await json_object(request)
        item = await item_or_404(write_session, event_id, code)
        who = await actor_name(request)
        outcome = await actions.unlock_criterion(write_session, item, criterion, who, body.get("reason"))
        return await self._done(request, event_id, outcome)

    @post("/lock", status_code=200, summary="锁定赛项成绩（解密的前提）/ lock the item's scores")
    async def lock_item(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                        write_session: WriteSession) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.lock_item(write_session, item, await actor_name(request))
        return await self._done(request, event_id, outcome)

    @post("/unlock", status_code=200, summary="解锁赛项成绩（须填原因）/ unlock the item, with a reason")
    async def unlock_item(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                          write_session: WriteSession) -> dict[str, Any]:
        body = await json_object(request)
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.unlock_item(write_session, item, await actor_name(request), body.get("reason"))
        return await self._done(request, event_id, outcome)

    @post("/sheets/{judge_id:int}/reopen", status_code=200, summary="退回评分表（须填原因）/ reopen a signed sheet")
    async def reopen(self, request: Req, event_id: FromPath[int], code: FromPath[str], judge_id: FromPath[int],
                     write_session: WriteSession) -> dict[str, Any]:
        body = await json_object(request)
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.reopen_sheet(write_session, item, judge_id, await actor_name(request),
                                             body.get("reason"))
        return await self._done(request, event_id, outcome)


@websocket("/ws/console/{event_id:int}")
async def console_socket(socket: WebSocket[Any, Any, Any], event_id: FromPath[int],
                         channels: NamedDependency[ChannelsPlugin]) -> None:
    read_session = socket.app.state.read_session  # the console only reads: never the write lock, nor ranking under it
    if await refuse_foreign_origin(socket):  # the cookie would let another site's page read the console
        return
    try:
        principal = await current_principal(socket)
    except WebSocketException:  # a bad bearer token
        principal = None
    # accept, then close with the code: a browser sees 4401/4403 (a refused handshake is only "1006")
    await socket.accept()
    if principal is None or not principal.holds(ROLES, event_id, socket.query_params.get("item") or None):
        await socket.close(code=4401 if principal is None else 4403,
                           reason="not signed in" if principal is None else "chief judge or organiser only")
        return
    item_code: str | None = socket.query_params.get("item") or None
    # Subscribe before the first snapshot: whatever commits meanwhile waits in the queue and follows it.
    heard = [console_channel(event_id)] + ([account_channel(principal.user_id)] if principal.user_id else [])

    async def forward(event: bytes) -> None:
        if event == _SIGNED_OUT:  # the account was disabled, reset or lost a role meanwhile
            with contextlib.suppress(Exception):
                await socket.close(code=4403, reason="signed out")
        else:
            await socket.send_text(event)

    async with channels.start_subscription(heard) as subscriber:
        try:
            async with read_session() as session:
                first = await console_view(session, event_id, item_code)
        except Refusal as exc:
            await socket.close(code=4404, reason=exc.code)
            return
        item_code = first["item"]["code"]
        await socket.send_json(first)
        async with subscriber.run_in_background(forward):
            async for message in receive_messages(socket):
                if message.get("type") == "hello":
                    wanted = message.get("item") or item_code
                    try:
                        async with read_session() as session:
                            snapshot = await console_view(session, event_id, str(wanted))
                    except Refusal as exc:
                        await socket.send_json({"type": "error", **exc.body()})
                        continue
                    item_code = snapshot["item"]["code"]
                    await socket.send_json(snapshot)
                else:
                    await socket.send_json({"type": "error", "code": "unknown_message", "message": "未知消息"})


CONSOLE_ROUTES = (ConsolePages, ConsoleApi, console_socket)
