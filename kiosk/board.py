"""The results board for a big screen (public, read-only): `/board/{event_id}` rotates through the published
items, paging through one too long for the screen (kiosk/static/board.js cuts the pages from the real layout;
`?dwell=<seconds>` fixes each page's time, for tests); `/ws/board/{event_id}` sends a snapshot of every
item's latest public view on connect (and on `{"type": "hello"}`, which the page sends after a reconnect),
then each new publication or withdrawal as it is committed, with its version, so the screen changes within
a second of the chief judge's publish and never shows an older version over a newer one. Only published
snapshots ever reach it (results.publication)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, WebSocket, get, websocket
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from contestday.web.errors import Refusal
from contestday.web.outage import closing_when_database_down
from contestday.web.sessions import DbSession
from judging.ws import receive_messages
from results.publication_routes import board_channel, public_results

__all__ = ["BOARD_ROUTES"]


class BoardPage(Controller):
    include_in_schema = False

    @get("/board/{event_id:int}")
    async def board(self, event_id: FromPath[int], db_session: DbSession) -> Template:
        data = await public_results(db_session, event_id)  # 404 for an unknown event
        return Template("kiosk/board.html", context={"event_id": event_id, "event": data["event"]},
                        headers={"Cache-Control": "no-cache"})


@websocket("/ws/board/{event_id:int}")
async def board_socket(socket: WebSocket[Any, Any, Any], event_id: FromPath[int],
                       channels: NamedDependency[ChannelsPlugin]) -> None:
    async with closing_when_database_down(socket):  # 1013: the board reconnects and asks again
        await _serve_board(socket, event_id, channels)


async def _serve_board(socket: WebSocket[Any, Any, Any], event_id: int, channels: ChannelsPlugin) -> None:
    # No Origin check (registration/ws_origin.py), unlike /ws/judge and /ws/console: the board needs no sign-in
    # and sends only published results, so another site's page learns nothing it could not read anyway
    state = socket.app.state
    inflight: dict[int, asyncio.Task[dict[str, Any]]] = state.setdefault("board_snapshots", {})

    async def build() -> dict[str, Any]:
        try:
            async with state.read_session() as session:
                return {"type": "snapshot", **await public_results(session, event_id)}
        finally:
            inflight.pop(event_id, None)

    async def snapshot() -> dict[str, Any]:
        """Every board connecting while one snapshot is being read shares it: a hall of screens reconnecting
        at once (a network blip) costs a few reads, not one each."""
        task = inflight.get(event_id)
        if task is None:
            task = inflight[event_id] = asyncio.get_running_loop().create_task(build())
        return await asyncio.shield(task)

    try:
        first = await snapshot()
    except Refusal:
        await socket.accept()
        await socket.close(code=4404, reason="no such event")
        return
    await socket.accept()
    async with channels.start_subscription([board_channel(event_id)]) as subscriber, \
            subscriber.run_in_background(socket.send_text):
        await socket.send_json(first)
        async for message in receive_messages(socket):
            if message.get("type") == "hello":
                await socket.send_json(await snapshot())


BOARD_ROUTES = (BoardPage, board_socket)
