"""The tablet websocket `/ws/judge` (protocol in judging/PROTOCOL.md).

Authenticated by the session cookie the judge's personal link set; refused with close code 4401 (not signed
in) or 4403 (not a judge, another site's page, or the link revoked). Each operation is applied once and acked
after its commit; the change then fans out to the console channel of the event, stamped with the audit sequence
number. Every message a client sends gets an answer, a malformed one a refusal: a socket that died on a
message would meet it again first on every reconnect, and the tablet's queue would never drain."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect, WebSocketException

from contestday.accounts.guards import current_principal
from contestday.accounts.service import SIGNED_OUT, account_channel
from contestday.web.channels import Publisher, publish_json
from contestday.web.errors import Refusal
from contestday.web.outage import closing_when_database_down
from contestday.web.ws_origin import refuse_foreign_origin
from judging.remarks import tablet_copy
from judging.service import JudgeRef, apply_op
from judging.snapshot import judge_for_user, tablet_snapshot

__all__ = ["MAX_MESSAGE", "console_channel", "judge_channel", "judge_socket", "publish_resolved", "publish_revoked",
           "receive_messages"]

MAX_MESSAGE = 64 * 1024  # characters: an operation is a few hundred; anything bigger is refused unread
_REVOKED = json.dumps({"type": "revoked"}).encode()
_SIGNED_OUT = SIGNED_OUT.encode()

log = logging.getLogger("contestday.judging")


def console_channel(event_id: int) -> str:
    return f"console:{event_id}"


def judge_channel(judge_id: int) -> str:
    return f"judge:{judge_id}"


def publish_resolved(channels: Publisher, event_id: int, resolved: Iterable[dict[str, Any]]) -> None:
    """Re-mark requests resolved by a committed change: the console hears the whole message, the judge's tablets
    (every device of that judge) which request to take down."""
    for message in resolved:
        publish_json(channels, message, console_channel(event_id))
        publish_json(channels, tablet_copy(message), judge_channel(message["judge_id"]))


def publish_revoked(channels: Publisher, judge_id: int) -> None:
    """After the commit that revoked a judge's link: every open tablet socket of that judge, on every instance,
    closes with 4403."""
    channels.publish(_REVOKED.decode(), [judge_channel(judge_id)])


def _decode(data: str) -> tuple[Any, Any]:
    """(the JSON value of a text frame, None) — or, when it is not strict JSON (too big, malformed, nested too
    deep, NaN, a lone surrogate), (None, the op_id it names if one can still be read)."""
    if not data or len(data) > MAX_MESSAGE:
        return None, None
    try:
        return msgspec.json.decode(data), None  # strict: NaN and Infinity are not numbers here
    except (msgspec.DecodeError, RecursionError, UnicodeError):
        pass
    try:  # the lenient reader, only to name the op in the refusal: the tablet then drops it from its queue
        loose = json.loads(data)
    except (ValueError, RecursionError):
        return None, None
    op_id = loose.get("op_id") if isinstance(loose, dict) else None
    return None, op_id if isinstance(op_id, str) and len(op_id) <= 1024 else None


async def receive_messages(socket: WebSocket[Any, Any, Any]) -> AsyncIterator[dict[str, Any]]:
    """The messages a client sends, as dicts, until it disconnects. Heartbeats are answered here and malformed
    messages refused here (a `nack` naming the op_id when one can be read, else an `error`), so handlers see
    only what they act on."""
    while True:
        try:
            message, op_id = _decode(await socket.receive_data("text"))  # a binary frame reads as ""
        except WebSocketDisconnect:
            return
        if not isinstance(message, dict):
            await socket.send_json({"type": "error" if op_id is None else "nack", "op_id": op_id,
                                    "code": "invalid_op", "message": "消息格式不正确，已丢弃",
                                    "message_en": "malformed message: dropped"})
        elif message.get("type") == "ping":
            await socket.send_json({"type": "pong", "t": message.get("t")})
        else:
            yield message


@websocket("/ws/judge")
async def judge_socket(socket: WebSocket[Any, Any, Any], channels: NamedDependency[ChannelsPlugin]) -> None:
    # the database gone (at connect, or an op that could not be committed): close with 1013, no ack sent; the
    # tablet reconnects, and once a snapshot comes replays its queue (each op_id applied once)
    async with closing_when_database_down(socket):
        await _serve_judge(socket, channels)


async def _serve_judge(socket: WebSocket[Any, Any, Any], channels: ChannelsPlugin) -> None:
    read_session, writer = socket.app.state.read_session, socket.app.state.writer
    if await refuse_foreign_origin(socket):
        return
    try:
        principal = await current_principal(socket)
    except WebSocketException:  # a bad bearer token
        principal = None
    if principal is None:
        # accept, then close with the code: a browser sees 4401 (a refused handshake is only "1006")
        await socket.accept()
        await socket.close(code=4401, reason="not signed in")
        return
    try:
        async with read_session() as session:
            judge = await judge_for_user(session, principal.user_id)
            snapshot = await tablet_snapshot(session, judge)
    except Refusal:
        await socket.accept()
        await socket.close(code=4403, reason="not a judge")
        return
    device = (socket.headers.get("user-agent") or "")[:80]
    ref = JudgeRef.of(judge)  # with the link version the socket opened under: apply_op refuses once it moves
    revoked = asyncio.Event()

    async def revoke(reason: str = "link revoked") -> None:
        revoked.set()
        with contextlib.suppress(Exception):  # closed meanwhile by the client
            await socket.close(code=4403, reason=reason)

    async def forward(event: bytes) -> None:
        if event == _REVOKED:
            await revoke()
        elif event == _SIGNED_OUT:  # the account was disabled or reset
            await revoke("signed out")
        elif not revoked.is_set():
            await socket.send_text(event)

    await socket.accept()
    await socket.send_json(snapshot)
    try:
        heard = [judge_channel(judge.id or 0)] + ([account_channel(principal.user_id)] if principal.user_id else [])
        async with channels.start_subscription(heard) as subscriber, \
                subscriber.run_in_background(forward):
            async for message in receive_messages(socket):
                if revoked.is_set():
                    break
                kind = message.get("type")
                if kind == "hello":
                    async with read_session() as session:
                        await socket.send_json(await tablet_snapshot(session, judge))
                elif kind == "op":
                    applied = await apply_op(writer, ref, message, device)
                    if applied.revoked:  # this socket missed the message: close it now, the op stays queued
                        await revoke()
                        break
                    if applied.changed is not None:  # after the commit, never before
                        channels.publish(json.dumps(applied.changed, ensure_ascii=False),
                                         [console_channel(judge.event_id)])
                    publish_resolved(channels, judge.event_id, applied.resolved)
                    await socket.send_json(applied.reply)
                else:
                    await socket.send_json({"type": "error", "code": "unknown_message", "message": "未知消息",
                                            "message_en": "unknown message"})
    except Exception:
        if not revoked.is_set():
            raise
        # closed by the revocation while a reply was on its way: nothing more to say to this socket
