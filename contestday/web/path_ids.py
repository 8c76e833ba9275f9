"""Whole numbers in a path beyond what the database's id columns hold, refused before any query, on every route.

A route such as `/api/events/{event_id:int}` turns any run of digits into a Python int; one past the database's
integer range (SQLite's 64 bits, PostgreSQL's 32-bit `integer` columns) made the driver raise (`OverflowError`,
asyncpg's `DataError`) inside the first query: a 500. No row can have such an id, so the answer is the 404 of a
row not found, with its own stable code, whatever the route and whoever asks (before guards and bodies).

Wiring (composition root): `DefineMiddleware(path_ids_middleware, largest=largest_id(database_url))`.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from contestday.web.errors import Refusal

__all__ = ["SQLITE_LARGEST", "largest_id", "path_ids_middleware", "path_number_too_large"]

SQLITE_LARGEST = 2**63 - 1  # SQLite's INTEGER
POSTGRES_LARGEST = 2**31 - 1  # PostgreSQL's `integer`: every id column is sqlalchemy.Integer


def largest_id(database_url: str) -> int:
    """The largest id the database's id columns hold."""
    return SQLITE_LARGEST if database_url.startswith("sqlite") else POSTGRES_LARGEST


def path_number_too_large(name: str) -> Refusal:
    return Refusal(404, "id_out_of_range", f"{name}：编号超出范围，查无此项", f"{name}: no such id (out of range)",
                   field=name)


def path_ids_middleware(app: ASGIApp, largest: int = SQLITE_LARGEST) -> ASGIApp:
    """Refuse a request whose path holds a whole number outside [-largest-1, largest] (a websocket: close 4404)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in (scope.get("path_params") or {}).items():
            if isinstance(value, int) and not isinstance(value, bool) and not -largest - 1 <= value <= largest:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 4404})
                    return
                raise path_number_too_large(name)
        await app(scope, receive, send)

    return middleware
