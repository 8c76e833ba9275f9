"""The chief judge's console (chief judge and organiser only): the page, its websocket and its actions.

The console's state and commands are beside this module (results/console/state.py, actions.py); it only wires
them to HTTP. The page's script and styles are served at /static/judging/console.js|css (the URLs they always had).

- `GET /console/events/{event_id}?item=CODE`: a server-rendered shell; results/console/static/console.js draws it.
- `/ws/console/{event_id}?item=CODE`: a snapshot on connect and on `{"type": "hello", "item"?}`, then every
  message of the event's console channel (stamped with the audit `seq`; the page asks again on a gap).
- `POST /api/console/events/{event_id}/items/{code}/…`: the actions (including `/rulings`, 裁定扣分), JSON in and
  out; the change is published after its commit. Their bodies are typed (`RemarkBody`, `CloseRemarkBody`,
  `DeductionRulingBody`, `ReasonBody`, the workbook's `ScoresUpload`) with loose fields on purpose: a value of
  the wrong kind reaches the handler or the action, which refuses it with its own code as when the bodies were
  read by hand. `/lock` and `/criteria/{criterion}/lock` take no body: the path says everything.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketException
from litestar.params import FromPath, JSONBody, MultipartBody
from litestar.response import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.accounts.service import SIGNED_OUT, account_channel
from contestday.web import uploads
from contestday.web.bodies import Loose
from contestday.web.channels import publish_json
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language
from contestday.web.outage import closing_when_database_down
from contestday.web.page_process import IN_PAGE_PROCESS
from contestday.web.sessions import DbSession, WriteSession
from contestday.web.ws_origin import refuse_foreign_origin
from judging import handin, score_import
from judging.ws import console_channel, publish_resolved, receive_messages
from registration.entries.roster import parse_upload
from registration.events.service import event_or_404
from results.console import actions
from results.console.state import item_or_404, snapshot_and_state
from results.console.text import CONSOLE_JS
from results.live import provisional_ranking

__all__ = ["CONSOLE_ROUTES", "CloseRemarkBody", "ConsoleApi", "ConsolePages", "DeductionRulingBody", "ReasonBody",
           "RemarkBody", "ScoresUpload", "console_socket", "console_view"]

Req = Request[Any, Any, Any]
ROLES = frozenset({"chief_judge", "organiser"})
_SIGNED_OUT = SIGNED_OUT.encode()  # as channel messages arrive: compared with every fanned-out change
GUARD = requires(*sorted(ROLES))

# --- bodies ---
# Any JSON value one level deep: a field of the wrong kind reaches the handler or the action, which refuses it
# with its own code (`missing_field`, `message_required`, `reason_required`, `invalid_value`…), as when the
# bodies were read by hand; each field's description says what it should be.
_REASON = Annotated[Loose, msgspec.Meta(
    description="原因（文本，必填，记入日志）/ the reason, text, required (logged)")]
_SEAT = Annotated[Loose, msgspec.Meta(description="赛位（文本）/ the seat, text")]
_CRITERION = Annotated[Loose, msgspec.Meta(description="评分项代码（文本）/ the criterion's code, text")]


class RemarkBody(msgspec.Struct):
    """Ask a judge to re-mark one mark: the judge (required), the seat, the criterion and the message."""

    judge_id: Annotated[Loose, msgspec.Meta(
        description="裁判编号（整数，必填）/ the judge's id, an integer (required)")] = None
    seat: _SEAT = ""
    criterion: _CRITERION = ""
    message: Annotated[Loose, msgspec.Meta(
        description="给裁判的说明（文本，必填）/ the message for the judge, text (required)")] = ""


class CloseRemarkBody(msgspec.Struct):
    """Close a re-mark request: the note (required, logged)."""

    note: Annotated[Loose, msgspec.Meta(
        description="说明（文本，必填，记入日志）/ the note, text, required (logged)")] = None


class DeductionRulingBody(msgspec.Struct):
    """裁定扣分: the seat, the deduction's criterion, the ruled value and the reason (required)."""

    seat: _SEAT = ""
    criterion: _CRITERION = ""
    value: Annotated[Loose, msgspec.Meta(
        description="裁定的扣分（数字或数字文本）/ the ruled deduction, a number or its text")] = ""
    reason: _REASON = None


class ReasonBody(msgspec.Struct):
    """Unlock a criterion or the item, or reopen a signed sheet: the reason (required, logged)."""

    reason: _REASON = None


@dataclass
class ScoresUpload:
    """A scores workbook (.xlsx or .csv) to import, all or nothing."""

    file: UploadFile | None = None


def _text(value: Loose) -> str | None:
    """A reason or note for the actions: text, or None (which they refuse with `reason_required`)."""
    return value if isinstance(value, str) else None


async def console_view(session: AsyncSession, event_id: int, item_code: str | None) -> dict[str, Any]:
    """The console's snapshot: the judging state of the item plus its provisional ranking."""
    snapshot, state = await snapshot_and_state(session, event_id, item_code)
    snapshot["ranking"] = await provisional_ranking(session, event_id, state.item.code, state)  # one read, not two
    snapshot["times"] = await handin.seat_times(session, state.item.id or 0)  # 交卷: seat → seconds used
    return snapshot



class ConsolePages(Controller):
    path = "/console/events/{event_id:int}"
    guards = [GUARD]
    include_in_schema = False

    @get("/", opt=IN_PAGE_PROCESS)
    async def console(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        event = await event_or_404(db_session, event_id)
        item = await item_or_404(db_session, event_id, request.query_params.get("item") or None)
        lang = preferred_language(request)
        text = json.dumps({k: gettext(zh, lang) for k, zh in CONSOLE_JS.items()},
                          ensure_ascii=False).replace("</", "<\\/")  # safe inside <script>
        return Template("console/console.html", context={
            "lang": lang, "principal": await current_principal(request), "event": event, "item": item,
            "js_text": text}, headers={"Cache-Control": "no-store"})




class ConsoleApi(Controller):
    path = "/api/console/events/{event_id:int}/items/{code:str}"
    guards = [GUARD]
    tags = ["console"]

    @get("/", summary="裁判长控制台快照 / console snapshot of an item", opt=IN_PAGE_PROCESS)
    async def snapshot(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        return await console_view(db_session, event_id, code)

    async def _done(self, request: Req, event_id: int, outcome: actions.Outcome) -> dict[str, Any]:
        channels: ChannelsPlugin = request.app.plugins.get(ChannelsPlugin)
        actions.publish(channels, event_id, outcome)  # the action has committed
        return outcome.console

    @post("/scores/import", status_code=200, summary="导入纸质评分表 / import a scores workbook (all or nothing)",
          request_max_body_size=uploads.FORM_LIMIT)
    async def import_scores(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                            write_session: WriteSession, data: MultipartBody[ScoresUpload]) -> dict[str, Any]:
        """A body over FORM_LIMIT is refused before this runs (413 `upload_too_large`, naming the limit)."""
        marks = await parse_upload(data.file, score_import.read_marks, "评分表", "a scores file")
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
                     write_session: WriteSession, data: JSONBody[RemarkBody]) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        judge_id = data.judge_id
        if not isinstance(judge_id, int):
            raise Refusal(422, "missing_field", "judge_id：必填", "judge_id is required", field="judge_id")
        outcome = await actions.request_remark(
            write_session, item, judge_id=judge_id, seat=str(data.seat), criterion=str(data.criterion),
            message=str(data.message), by=await actor_name(request))
        return await self._done(request, event_id, outcome)

    @post("/remarks/{remark_id:int}/close", status_code=200,
          summary="关闭复评请求（须填说明）/ close a re-mark request, with a note")
    async def close_remark(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                           remark_id: FromPath[int], write_session: WriteSession,
                           data: JSONBody[CloseRemarkBody]) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.close_remark(write_session, item, remark_id, await actor_name(request),
                                             _text(data.note))
        return await self._done(request, event_id, outcome)

    @post("/rulings", status_code=200, summary="裁定扣分（须填原因）/ rule on a deduction the judges disagree on")
    async def rule_deduction(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                             write_session: WriteSession, data: JSONBody[DeductionRulingBody]) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.rule_deduction(
            write_session, item, seat=str(data.seat), criterion=str(data.criterion), value=data.value,
            reason=_text(data.reason), by=await actor_name(request))
        return await self._done(request, event_id, outcome)

    @post("/criteria/{criterion:str}/lock", status_code=200, summary="锁定评分项 / lock a criterion")
    async def lock_criterion(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                             criterion: FromPath[str], write_session: WriteSession) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.lock_criterion(write_session, item, criterion, await actor_name(request))
        return await self._done(request, event_id, outcome)

    @post("/criteria/{criterion:str}/unlock", status_code=200, summary="解锁评分项（须填原因）/ unlock, with a reason")
    async def unlock_criterion(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                               criterion: FromPath[str], write_session: WriteSession,
                               data: JSONBody[ReasonBody]) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        who = await actor_name(request)
        outcome = await actions.unlock_criterion(write_session, item, criterion, who, _text(data.reason))
        return await self._done(request, event_id, outcome)

    @post("/lock", status_code=200, summary="锁定赛项成绩（解密的前提）/ lock the item's scores")
    async def lock_item(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                        write_session: WriteSession) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.lock_item(write_session, item, await actor_name(request))
        return await self._done(request, event_id, outcome)

    @post("/unlock", status_code=200, summary="解锁赛项成绩（须填原因）/ unlock the item, with a reason")
    async def unlock_item(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                          write_session: WriteSession, data: JSONBody[ReasonBody]) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.unlock_item(write_session, item, await actor_name(request), _text(data.reason))
        return await self._done(request, event_id, outcome)

    @post("/seats/{seat:str}/hand-in", status_code=200, summary="交卷（记录用时；首次为准）/ the contestant at a seat "
                                                               "hands in (the first stands)")
    async def hand_in(self, request: Req, event_id: FromPath[int], code: FromPath[str], seat: FromPath[str],
                      write_session: WriteSession) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        done = await handin.hand_in(write_session, event_id, item.id or 0, seat, await actor_name(request))
        seq = done.pop("seq", None)
        if seq is not None:  # committed: the consoles hear it in the audit order
            publish_json(request.app.plugins.get(ChannelsPlugin), handin.handed_in_message(item.code, done, seq),
                         console_channel(event_id))
        return {"item": item.code} | done

    @post("/sheets/{judge_id:int}/reopen", status_code=200, summary="退回评分表（须填原因）/ reopen a signed sheet")
    async def reopen(self, request: Req, event_id: FromPath[int], code: FromPath[str], judge_id: FromPath[int],
                     write_session: WriteSession, data: JSONBody[ReasonBody]) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        outcome = await actions.reopen_sheet(write_session, item, judge_id, await actor_name(request),
                                             _text(data.reason))
        return await self._done(request, event_id, outcome)


@websocket("/ws/console/{event_id:int}")
async def console_socket(socket: WebSocket[Any, Any, Any], event_id: FromPath[int],
                         channels: NamedDependency[ChannelsPlugin]) -> None:
    async with closing_when_database_down(socket):  # 1013: the console reconnects and reads a new snapshot
        await _serve_console(socket, event_id, channels)


async def _serve_console(socket: WebSocket[Any, Any, Any], event_id: int, channels: ChannelsPlugin) -> None:
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
