"""What no row can match, refused before any query, on every route: whole numbers in a path beyond the database's
id columns, and NUL characters in the path or the query.

A route such as `/api/events/{event_id:int}` turns any run of digits into a Python int; one past the database's
integer range (SQLite's 64 bits, PostgreSQL's 32-bit `integer` columns) made the driver raise (`OverflowError`,
asyncpg's `DataError`) inside the first query: a 500. No row can have such an id, so the answer is the 404 of a
row not found, with its own stable code, whatever the route and whoever asks (before guards and bodies).
PostgreSQL's text cannot hold U+0000 (asyncpg: "invalid byte sequence for encoding UTF8: 0x00", a 500 on the
check-in search): a NUL in the path or query is a 400 `invalid_text` on both databases. In a body it reaches the
database only on PostgreSQL, where `contestday.web.http.error_body` maps the same error to the same refusal.

Wiring (composition root): `DefineMiddleware(request_bounds_middleware, largest=largest_id(database_url))`.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send, WebSocketCloseEvent

from contestday.web.errors import Refusal

__all__ = ["SQLITE_LARGEST", "largest_id", "nul_in_text", "path_number_too_large", "request_bounds_middleware"]

SQLITE_LARGEST = 2**63 - 1  # SQLite's INTEGER
POSTGRES_LARGEST = 2**31 - 1  # PostgreSQL's `integer`: every id column is sqlalchemy.Integer


def largest_id(database_url: str) -> int:
    """The largest id the database's id columns hold."""
    return SQLITE_LARGEST if database_url.startswith("sqlite") else POSTGRES_LARGEST


def path_number_too_large(name: str) -> Refusal:
    return Refusal(404, "id_out_of_range", f"{name}：编号超出范围，查无此项", f"{name}: no such id (out of range)",
                   field=name)


def nul_in_text() -> Refusal:
    return Refusal(400, "invalid_text", "内容含有空字符（U+0000），无法保存或查询",
                   "the text holds a NUL character (U+0000)")


def request_bounds_middleware(app: ASGIApp, largest: int = SQLITE_LARGEST) -> ASGIApp:
    """Refuse a request whose path holds a whole number outside [-largest-1, largest] (a websocket: close 4404),
    or whose path or query holds a NUL (close 4400)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        refusal: Refusal | None = None
        query = scope.get("query_string") or b""
        if "\x00" in scope.get("path", "") or b"\x00" in query or b"%00" in query:
            refusal = nul_in_text()
        else:
            for name, value in (scope.get("path_params") or {}).items():
                if isinstance(value, int) and not isinstance(value, bool) and not -largest - 1 <= value <= largest:
                    refusal = path_number_too_large(name)
                    break
        if refusal is None:
            await app(scope, receive, send)
        elif scope["type"] == "websocket":
            close: WebSocketCloseEvent = {"type": "websocket.close", "code": 4000 + refusal.status_code, "reason": ""}
            await send(close)
        else:
            raise refusal

    return middleware
