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

from contestday.db.outage import database_unavailable, storage_failure
from contestday.web.errors import Refusal

__all__ = ["RETRY_AFTER_S", "TRY_AGAIN_LATER", "closing_when_database_down", "database_down", "outage_refusal",
           "storage_refusal"]

RETRY_AFTER_S = 5
TRY_AGAIN_LATER = 1013  # the websocket close code for "the server cannot serve this now, come back"

log = logging.getLogger("contestday.outage")


def database_down() -> Refusal:
    refusal = Refusal(503, "database_unavailable", "数据库暂时无法连接，请稍后重试（已保存的数据不受影响）",
                      "the database cannot be reached for now: try again shortly (nothing stored is lost)")
    refusal.headers = {"Retry-After": str(RETRY_AFTER_S)}
    return refusal


_STORAGE = {
    "full": (507, "database_full", "存储空间已满，新的数据无法保存（已保存的数据不受影响）：请管理员清理磁盘后重试",
             "the disk is full: nothing new can be saved (nothing stored is lost); free some space and try again"),
    "read_only": (503, "database_read_only", "数据库当前只读，新的数据无法保存（已保存的数据不受影响）：请联系管理员",
                  "the database is read-only: nothing new can be saved (nothing stored is lost); call the operator"),
}


def storage_refusal(exc: BaseException) -> Refusal | None:
    """The refusal for a write the database could not store (a full disk: 507 `database_full`; a read-only
    database: 503 `database_read_only`), else None. Logged as an error: someone has to act."""
    failure = storage_failure(exc)
    if failure is None:
        return None
    log.error("database cannot store (%s): %s: %s", failure, type(exc).__name__,
              str(exc).splitlines()[0] if str(exc) else "")
    status, code, zh, en = _STORAGE[failure]
    refusal = Refusal(status, code, zh, en)
    refusal.headers = {"Retry-After": str(RETRY_AFTER_S)}
    return refusal


def outage_refusal(exc: BaseException) -> Refusal | None:
    """The refusal for an error that says the database is gone (503 `database_unavailable`) or cannot store
    (`storage_refusal`), else None (the error stays what it is)."""
    if not database_unavailable(exc):
        return storage_refusal(exc)
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
