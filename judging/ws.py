"""The tablet websocket `/ws/judge` (protocol in judging/PROTOCOL.md).

Authenticated by the session cookie the judge's personal link set; refused with close code 4401 (not signed
in) or 4403 (not a judge). Each operation is applied once and acked after its commit; the change then fans
out to the console channel of the event, stamped with the audit sequence number."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect, WebSocketException

from judging.remarks import tablet_copy
from judging.service import JudgeRef, apply_op
from judging.snapshot import judge_for_user, tablet_snapshot
from registration.accounts.guards import current_principal
from registration.web import ApiError

__all__ = ["console_channel", "judge_channel", "judge_socket", "publish_resolved", "receive_messages"]

log = logging.getLogger("contestday.judging")


def console_channel(event_id: int) -> str:
    return f"console:{event_id}"


def judge_channel(judge_id: int) -> str:
    return f"judge:{judge_id}"


class _Publisher(Protocol):
    def publish(self, data: str, channels: list[str]) -> None: ...


def publish_resolved(channels: _Publisher, event_id: int, resolved: Iterable[dict[str, Any]]) -> None:
    """Re-mark requests resolved by a committed change: the console hears the whole message, the judge's tablets
    (every device of that judge) which request to take down."""
    for message in resolved:
        channels.publish(json.dumps(message, ensure_ascii=False), [console_channel(event_id)])
        channels.publish(json.dumps(tablet_copy(message), ensure_ascii=False), [judge_channel(message["judge_id"])])


async def receive_messages(socket: WebSocket[Any, Any, Any]) -> AsyncIterator[dict[str, Any]]:
    """The messages a client sends, as dicts, until it disconnects. Heartbeats are answered here and malformed
    messages refused here, so handlers see only what they act on."""
    while True:
        try:
            message = await socket.receive_json()
        except WebSocketDisconnect:
            return
        except (ValueError, json.JSONDecodeError):
            message = None
        if not isinstance(message, dict):
            await socket.send_json({"type": "error", "code": "bad_message", "message": "消息格式不正确"})
        elif message.get("type") == "ping":
            await socket.send_json({"type": "pong", "t": message.get("t")})
        else:
            yield message


@websocket("/ws/judge")
async def judge_socket(socket: WebSocket[Any, Any, Any], channels: NamedDependency[ChannelsPlugin]) -> None:
    read_session, writer = socket.app.state.read_session, socket.app.state.writer
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
    except ApiError:
        await socket.accept()
        await socket.close(code=4403, reason="not a judge")
        return
    device = (socket.headers.get("user-agent") or "")[:80]
    ref = JudgeRef.of(judge)
    await socket.accept()
    await socket.send_json(snapshot)
    async with channels.start_subscription([judge_channel(judge.id or 0)]) as subscriber, \
            subscriber.run_in_background(socket.send_text):
        async for message in receive_messages(socket):
            kind = message.get("type")
            if kind == "hello":
                async with read_session() as session:
                    await socket.send_json(await tablet_snapshot(session, judge))
            elif kind == "op":
                applied = await apply_op(writer, ref, message, device)
                if applied.changed is not None:  # after the commit, never before
                    channels.publish(json.dumps(applied.changed, ensure_ascii=False),
                                     [console_channel(judge.event_id)])
                publish_resolved(channels, judge.event_id, applied.resolved)
                await socket.send_json(applied.reply)
            else:
                await socket.send_json({"type": "error", "code": "unknown_message", "message": "未知消息"})
