"""The composition root: `create_app(settings)` wires database, routes, templates, channels and errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from functools import partial
from pathlib import Path
from typing import Any

from litestar import Litestar, MediaType, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlmodel.ext.asyncio.session import AsyncSession

import certificates
import judging
import kiosk
import registration
import results
from certificates import print_jobs
from certificates.routes import CERTIFICATE_ROUTES
from contestday import health
from contestday.accounts import limits
from contestday.accounts.routes import AccountController
from contestday.backup_schedule import PeriodicBackups
from contestday.db.engine import create_engine, create_sessionmaker, create_writer, reading
from contestday.logs import configure_logging
from contestday.openapi import OPENAPI_ASSETS, document_refusals, openapi_config
from contestday.settings import Settings, check_data_dir
from contestday.venue.routes import VenueCheckPages, VenuePublic
from contestday.web import uploads
from contestday.web.admission import admission_middleware, stop_render_processes
from contestday.web.channels import channels_plugin, live_backend
from contestday.web.errors import Refusal
from contestday.web.http import error_body
from contestday.web.i18n import jinja_gettext, preferred_language
from contestday.web.jobs import Jobs
from contestday.web.outage import outage_refusal
from contestday.web.page_process import PageProcess
from contestday.web.request_bounds import largest_id, request_bounds_middleware
from judging import audit
from judging.admin_pages import JudgeAdminPages
from judging.pages import TabletPages
from judging.paper_routes import PaperController
from judging.routes import JudgeLinkController
from judging.sealed_routes import SealedController
from judging.ws import judge_socket
from kiosk.routes import KIOSK_ROUTES
from registration.checkin.routes import CheckinController, KioskPhotoController
from registration.entries.admin_pages import RegistrationAdminPages
from registration.entries.public_pages import MinePages, PosterPages, PublicPages
from registration.entries.routes import RegistrationController
from registration.events.pages import EventPages
from registration.events.routes import CatalogController, EventController
from registration.staff.pages import STAFF_PAGES
from registration.staff.start import StartPage
from results import export_jobs
from results.appeal_routes import APPEAL_ROUTES
from results.console.routes import CONSOLE_ROUTES
from results.notice import notice_until
from results.publication_routes import PUBLICATION_ROUTES
from results.recheck_routes import RecheckController
from results.theory_routes import THEORY_ROUTES
from results.time_routes import TIME_ROUTES

__all__ = ["create_app"]

log = logging.getLogger("contestday.http")

# Each context keeps its templates in `<package>/templates/<context>/…` (names never clash) and its static
# files in `<package>/static/`, served under /static/ and /static/<package>/.
# The kernel's templates (base.html, error.html, the sign-in pages) and app.css sit with the kernel; the
# composition root's own (home.html) beside app.py.
ROOT = Path(__file__).parent
TEMPLATE_DIRS = [ROOT / "templates", ROOT / "web" / "templates", ROOT / "accounts" / "templates",
                 *(Path(package.__file__ or "").parent / "templates"
                   for package in (registration, kiosk, judging, results, certificates)),
                 Path(results.__file__).parent / "console" / "templates", ROOT / "venue" / "templates"]
STATIC_DIRS = [ROOT / "web" / "static", Path(registration.__file__ or "").parent / "static",
               ROOT / "venue" / "static"]
KIOSK_STATIC = Path(kiosk.__file__).parent / "static"
JUDGING_STATIC = Path(judging.__file__).parent / "static"
CONSOLE_STATIC = Path(results.__file__).parent / "console" / "static"  # served beside the tablet's, as before


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/schema") or path == "/health":
        return False
    return "text/html" in request.headers.get("accept", "")


def _exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, RequestEntityTooLarge):  # a typed body read past its route's limit: name the limit
        limit = request.route_handler.resolve_request_max_body_size() or uploads.FORM_LIMIT
        exc = uploads.too_large("上传的内容", "the upload", limit)
    outage = outage_refusal(exc)  # the database gone (503) or unable to store (507/503): logged as such, not as a bug
    if outage is not None:
        exc = outage
    status, body = error_body(exc)
    headers = getattr(exc, "headers", None) or None  # e.g. Retry-After of a 429
    if status >= 500 and outage is None:
        log.exception("unhandled error", extra={"route": request.scope.get("path_template", "?")})
    if _wants_html(request):
        if status == 401:
            return Redirect(path=f"/login?next={request.url.path}")
        return Template("error.html", context={"status": status, "error": body, "lang": preferred_language(request),
                                               "principal": request.state.get("principal")}, status_code=status,
                        headers=headers)
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def _request_log_middleware(app: ASGIApp) -> ASGIApp:
    """One structured line per request: the route template, never the concrete path (it can hold
    ticket codes or names), the status and the time taken."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            log.info("request", extra={
                "method": scope.get("method"), "route": scope.get("path_template") or "(unmatched)",
                "status": status["code"], "ms": round((time.perf_counter() - started) * 1000, 1)})

    return middleware


async def _start_pages(pages: PageProcess, app: Litestar) -> None:
    pages.start()
    await pages.wait_ready()


def create_app(settings: Settings, *, as_page_process: bool = False) -> Litestar:
    """The app; `as_page_process`: the same app inside the page process (contestday/web/page_process.py),
    which answers what the server forwards to it: no request log of its own (the server logs each request
    once) and no page process of its own. A data directory that cannot be written or is full raises
    SettingsError."""
    if not as_page_process:  # the server checked it a moment ago
        check_data_dir(settings.data_dir)
    configure_logging(settings.log_level)
    if settings.audit_key is not None:
        audit.use_key(settings.audit_key)  # this process's key for new audit links (one instance per process)
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)

    # SQLite has one writer at a time and every transaction begins IMMEDIATE; queue the requests of this
    # process on a lock instead of letting SQLite's busy handler put them to sleep and poll.
    write_lock = asyncio.Lock() if settings.is_sqlite else contextlib.nullcontext()

    @contextlib.asynccontextmanager
    async def open_session() -> AsyncGenerator[AsyncSession, None]:
        """A session for code outside a request handler's dependencies (websocket handlers), on the same
        writer queue."""
        async with write_lock, sessionmaker() as session:
            yield session

    read_sessionmaker = create_sessionmaker(reading(engine))

    @contextlib.asynccontextmanager
    async def read_session() -> AsyncGenerator[AsyncSession, None]:
        """A session that only reads: no write lock, and on SQLite a deferred transaction that never waits
        for the writer (WAL readers see the last commit)."""
        async with read_sessionmaker() as session:
            yield session

    async def provide_read_session(state: State) -> AsyncGenerator[AsyncSession, None]:
        """`db_session`: what every handler gets unless it asks to write (no write lock, cannot write)."""
        async with state.read_session() as session:
            yield session

    async def provide_write_session(state: State) -> AsyncGenerator[AsyncSession, None]:
        """`write_session`: asked for by handlers that write; holds the process's write lock (SQLite)."""
        async with state.open_session() as session:
            yield session

    writer = create_writer(settings.database_url, engine)
    pages = (PageProcess(partial(create_app, settings, as_page_process=True))
             if settings.page_process and not as_page_process else None)
    reader = create_writer(settings.database_url, engine, read_only=True)
    backups = PeriodicBackups(settings, interval=0 if as_page_process else None)  # CONTESTDAY_BACKUP_MINUTES
    # the kinds of background job: each feature's runner, by the name stored in the job's row (the page process
    # only reads the jobs: it takes none)
    jobs = Jobs(writer, settings.data_dir, settings.export_keep_hours,
                {export_jobs.KIND: export_jobs.run_export, print_jobs.KIND: print_jobs.run_print},
                run=not as_page_process)

    async def dispose_engine(app: Litestar) -> None:
        await limits.close(app)
        await writer.stop()
        await reader.stop()
        await engine.dispose()

    def template_callback(engine_: JinjaTemplateEngine) -> None:
        engine_.engine.globals["_"] = jinja_gettext
        engine_.engine.globals["notice_until"] = notice_until  # one wording of the notice period's end

    live = live_backend(settings.redis_url)  # /health asks it whether Redis answers
    channels = channels_plugin(backend=live)
    app = Litestar(
        route_handlers=[
            health.health, health.home,
            AccountController, StartPage, EventController, CatalogController, EventPages, RegistrationController,
            CheckinController, SealedController, KioskPhotoController, judge_socket,
            JudgeLinkController, PaperController, RecheckController, TabletPages, JudgeAdminPages,
            PublicPages, MinePages, PosterPages,
            RegistrationAdminPages, *STAFF_PAGES, VenueCheckPages, VenuePublic,
            *KIOSK_ROUTES,
            *CONSOLE_ROUTES,
            *THEORY_ROUTES,
            *TIME_ROUTES,
            *PUBLICATION_ROUTES,
            *APPEAL_ROUTES,
            *CERTIFICATE_ROUTES,
            *OPENAPI_ASSETS,
            create_static_files_router(path="/static", directories=list(STATIC_DIRS)),
            create_static_files_router(path="/static/kiosk", directories=[KIOSK_STATIC], name="kiosk-static"),
            create_static_files_router(path="/static/judging", directories=[JUDGING_STATIC, CONSOLE_STATIC],
                                      name="judging-static"),
        ],
        dependencies={"db_session": Provide(provide_read_session), "write_session": Provide(provide_write_session)},
        state=State({"settings": settings, "engine": engine, "sessionmaker": sessionmaker,
                     "open_session": open_session, "read_session": read_session, "writer": writer,
                     "reader": reader, "pages": pages, "backups": backups, "jobs": jobs, "live": live}),
        exception_handlers={HTTPException: _exception_handler, NotAuthorizedException: _exception_handler,
                            Refusal: _exception_handler, Exception: _exception_handler},
        template_config=TemplateConfig(directory=list(TEMPLATE_DIRS), engine=JinjaTemplateEngine,
                                       engine_callback=template_callback),
        openapi_config=openapi_config(),
        plugins=[channels],
        middleware=[*([] if as_page_process else [_request_log_middleware]),
                    # a path number no id column holds: 404 before any query (not the driver's overflow, a 500)
                    DefineMiddleware(request_bounds_middleware, largest=largest_id(settings.database_url)),
                    # pages wait while marks queue for the writer; the heaviest go to the page process
                    DefineMiddleware(admission_middleware, backlog=writer.backlog.oldest_wait, pages=pages)],
        on_startup=[lambda app: writer.start(), lambda app: reader.start(),
                    *([partial(_start_pages, pages)] if pages is not None else []), backups.start, jobs.start],
        on_shutdown=[jobs.stop, backups.stop, dispose_engine, lambda app: stop_render_processes(),
                     *([lambda app: pages.stop()] if pages is not None else [])],
    )
    document_refusals(app)
    return app
