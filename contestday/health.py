"""`GET /health` (database reachable, migrations current, data directory writable with free space, Redis
answering when one is configured) and the home page."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.response import Template
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from contestday.accounts.guards import current_principal
from contestday.db.engine import reading
from contestday.db.migrate import current_revision, head_revision
from contestday.db.outage import DatabaseUnreachable
from contestday.settings import data_dir_state
from contestday.web.i18n import preferred_language
from contestday.web.redis_channels import ResilientRedisBackend
from contestday.web.sessions import DbSession
from registration.events.service import list_events

__all__ = ["DATABASE_TIMEOUT_S", "REDIS_TIMEOUT_S", "DatabaseState", "database_state", "health", "home"]

_HEAD = head_revision()
DATABASE_TIMEOUT_S = 2.0  # a vanished database host must not hold the answer for a TCP timeout
REDIS_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class DatabaseState:
    """Whether the database answered, at which migration (and the one this program needs), and the error's
    class name when it did not."""

    reachable: bool
    revision: str | None = None
    detail: str = ""
    head: str | None = _HEAD

    @property
    def current(self) -> bool:
        return self.reachable and self.revision == self.head


async def database_state(engine: AsyncEngine, timeout: float | None = None) -> DatabaseState:
    """`SELECT 1` and the migration revision, in a read-only transaction (never waits for a writer); a
    database that has not answered within `timeout` seconds counts as unreachable (`TimeoutError`)."""
    engine = reading(engine)
    try:
        async with asyncio.timeout(timeout):
            for attempt in (1, 2):
                try:
                    async with engine.connect() as connection:
                        await connection.execute(text("SELECT 1"))
                    break
                except DBAPIError as lost:
                    # a pooled connection that died unseen (the pool pings only idle ones): the pool has dropped
                    # it and its siblings, so a second try connects afresh and names the real cause
                    if attempt == 2 or not lost.connection_invalidated:
                        raise
            revision = await current_revision(engine)
    except Exception as exc:  # the point is to report it, not to fail with a 500
        # a lost server: name the driver's error (ConnectionRefusedError, TimeoutError…)
        named = exc.__cause__ if isinstance(exc, DatabaseUnreachable) and exc.__cause__ is not None else exc
        return DatabaseState(False, detail=type(named).__name__)
    return DatabaseState(True, revision)


async def redis_state(live: Any) -> str | None:
    """None without Redis (in-process live updates); `ok`; `unreachable` (no PONG within a second); or
    `reconnecting` (Redis answers, but this instance has not yet subscribed again after losing it)."""
    if not isinstance(live, ResilientRedisBackend):
        return None
    if not await live.ping(REDIS_TIMEOUT_S):
        return "unreachable"
    return "ok" if live.up else "reconnecting"


@get("/health", summary="健康检查 / health", tags=["operations"])
async def health(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Each component by name: `database` ok | unreachable, `schema` current | outdated, `data_dir` ok |
    read_only | full (with `free_mib`), and with Redis configured `redis` ok | unreachable | reconnecting; 503
    when any is not ok. Answers within about two seconds whatever is gone. `instance` names the process
    that answered, as its background jobs' rows do (contestday/web/jobs.py)."""
    state = request.app.state
    data_dir, database, redis = await asyncio.gather(
        asyncio.to_thread(data_dir_state, state.settings.data_dir),  # writes a probe
        database_state(state.engine, DATABASE_TIMEOUT_S), redis_state(state.get("live")))
    body: dict[str, Any] = {"status": "ok", "database": "ok", "schema": "current", "head": _HEAD,
                            "data_dir": data_dir.state, "free_mib": data_dir.free_mib,
                            "instance": state.jobs.instance}
    if data_dir.state != "ok":
        body.update(status="error")
    if redis is not None:
        body["redis"] = redis
        if redis != "ok":
            body.update(status="error")
    if not database.reachable:
        body.update(status="error", database="unreachable", detail=database.detail)
    else:
        body["revision"] = database.revision
        if not database.current:
            body.update(status="error", schema="outdated")
    return Response(body, status_code=503 if body["status"] != "ok" else 200, media_type=MediaType.JSON)


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any], db_session: DbSession) -> Template:
    """Where each signed-in role goes next, per event; the public sees only sign-in."""
    principal = await current_principal(request)
    events = await list_events(db_session, principal.events(principal.roles)) if principal is not None else []
    return Template("home.html", context={"lang": preferred_language(request), "principal": principal,
                                          "events": events})
