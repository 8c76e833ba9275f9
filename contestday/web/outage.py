"""What a request or a socket says while the database is out of reach (contestday/db/outage.py tells which errors
mean that): a page or an API call a 503 `database_unavailable` with `Retry-After`, instead of a 500 with a
traceback per request; a websocket closes with 1013 "try again later", on which every page reconnects by
itself (the tablet keeps the operation it had sent queued: no ack came)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from litestar import WebSocket

from contestday.db.outage import database_unavailable
from contestday.web.errors import Refusal

__all__ = ["RETRY_AFTER_S", "TRY_AGAIN_LATER", "closing_when_database_down", "database_down", "outage_refusal"]

RETRY_AFTER_S = 5
TRY_AGAIN_LATER = 1013  # the websocket close code for "the server cannot serve this now, come back"

log = logging.getLogger("contestday.outage")


def database_down() -> Refusal:
    refusal = Refusal(503, "database_unavailable", "数据库暂时无法连接，请稍后重试（已保存的数据不受影响）",
                      "the database cannot be reached for now: try again shortly (nothing stored is lost)")
    refusal.headers = {"Retry-After": str(RETRY_AFTER_S)}
    return refusal


def outage_refusal(exc: BaseException) -> Refusal | None:
    """The 503 refusal for an error that says the database is gone, else None (the error stays what it is)."""
    if not database_unavailable(exc):
        return None
    log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    return database_down()


@contextlib.asynccontextmanager
async def closing_when_database_down(socket: WebSocket[Any, Any, Any]) -> AsyncIterator[None]:
    """Around a websocket handler: a lost database closes the socket with 1013 (accepting it first if need be,
    so the browser sees the code), any other error goes on as it was."""
    try:
        yield
    except Exception as exc:
        if outage_refusal(exc) is None:
            raise
        with contextlib.suppress(Exception):  # the client may be gone as well
            if socket.connection_state == "init":
                await socket.accept()
            await socket.close(code=TRY_AGAIN_LATER, reason="database unavailable")
