"""The page process: the heaviest read-only pages are answered by a second process of the same app, so the
tablets' process keeps its interpreter for marks.

Everything in one server process shares one interpreter lock. bench/mixed_day.py measured that page readers
(20 organisers, 200 public viewers) pushed the tablets' ack p99 from tens of milliseconds to seconds even with
drawing off the loop and pages admitted only while the writer keeps up: rendering a list, building the
console's snapshot, ranking for the public results all take the lock the tablets' frames and the writer need.

A route handler marked `opt=IN_PAGE_PROCESS` (GET pages and downloads that only read the database) is
forwarded: the request (its ASGI scope's plain keys and body) goes over a Unix socket to the page process,
which runs the same app (`factory`, built by the composition root) at idle CPU priority and answers with
status, headers and body; this process sends that answer. The page process reads the same database (SQLite's
WAL lets another process read while this one writes; PostgreSQL has its own connections), so it sees every
commit. The server's start-up waits until it is ready. Nothing is lost if it is missing: after it died (it is
started again) or if it fails to answer, the request is answered here as before. It ends with the server:
stopped at shutdown, and it watches this process, so it never outlives it even when this one is killed.

Only routes whose answers depend on the database alone may be marked: not those that read this process's
memory (attempt limits without Redis, websocket presence) or that write."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import shutil
import struct
import tempfile
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ["IN_PAGE_PROCESS", "PageProcess", "forwarded"]

log = logging.getLogger("contestday.pages")

IN_PAGE_PROCESS: dict[str, Any] = {"page_process": True}  # a handler's `opt`: answered by the page process
READY_S = 60.0  # how long start-up waits for the page process before answering pages itself
RESTART_AFTER_S = 2.0  # a page process that died is started again at most this often
_SCOPE_KEYS = ("type", "asgi", "http_version", "method", "scheme", "path", "raw_path", "query_string",
               "root_path", "headers", "client", "server")
_LENGTH = struct.Struct("!I")


def forwarded(scope: Scope) -> bool:
    """A GET or HEAD to a handler marked `IN_PAGE_PROCESS` (known once the app has routed the request)."""
    handler = scope.get("route_handler")
    return (scope.get("method") in ("GET", "HEAD") and handler is not None
            and bool(getattr(handler, "opt", {}).get("page_process")))


def _frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    return pickle.loads(await reader.readexactly(length))


class _Unavailable(Exception):
    """The page process did not answer (not started yet, died, or its socket closed)."""


class _Link:
    """One connection to the page process, for one event loop; requests are numbered and answered in any
    order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.numbers = itertools.count()
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.closed = False
        self.task = asyncio.get_running_loop().create_task(self._answers())

    async def _answers(self) -> None:
        try:
            while True:
                number, answer = await _read_frame(self.reader)
                future = self.pending.pop(number, None)
                if future is not None and not future.done():
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, pickle.PickleError, EOFError):
            pass
        finally:
            self.close()

    def close(self) -> None:
        self.closed = True
        for future in self.pending.values():
            if not future.done():
                future.set_exception(_Unavailable())
        self.pending.clear()
        self.writer.close()

    async def call(self, request: Any) -> Any:
        if self.closed:
            raise _Unavailable()
        number = next(self.numbers)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[number] = future
        try:
            self.writer.write(_frame((number, request)))
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            self.pending.pop(number, None)
            self.close()
            raise _Unavailable() from exc
        try:
            return await future
        finally:
            self.pending.pop(number, None)


class PageProcess:
    """The page process as this (the tablets') process sees it: `start`, `handle` a forwarded request,
    `stop`. `factory` (picklable: a module-level function or a partial of one) builds the app in the page
    process."""

    def __init__(self, factory: Callable[[], ASGIApp]) -> None:
        self.factory = factory
        self._dir = tempfile.mkdtemp(prefix="contestday-pages-")
        self.path = os.path.join(self._dir, "pages.sock")
        self._process: BaseProcess | None = None
        self._started_at = float("-inf")
        self._links: dict[asyncio.AbstractEventLoop, _Link] = {}
        self.answered = 0  # requests the page process answered, for tests and benchmarks
        self.here = 0  # forwarded requests answered here instead (page process missing)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Spawn the page process (not forked: this process has threads); it answers once its app started."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(target=_serve_pages, args=(self.factory, self.path, os.getpid()),
                                        name="contestday-pages")
        self._process.start()
        self._started_at = time.monotonic()

    async def wait_ready(self, timeout: float = READY_S) -> bool:
        """At start-up: until the page process answers (its socket is in place), so the first pages are not
        drawn here; False (pages answered here meanwhile) if it ended or took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        while self._process is not None and self._process.is_alive():
            if os.path.exists(self.path):
                return True
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.05)
        log.warning("page process not ready: pages are answered by the server itself meanwhile")
        return False

    def stop(self) -> None:
        for link in self._links.values():
            link.close()
        self._links.clear()
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(1)
        shutil.rmtree(self._dir, ignore_errors=True)

    async def _link(self) -> _Link | None:
        loop = asyncio.get_running_loop()
        link = self._links.get(loop)
        if link is not None and not link.closed:
            return link
        if self._process is None:
            return None
        if not self._process.is_alive():
            if time.monotonic() - self._started_at >= RESTART_AFTER_S:
                log.warning("page process ended (exit code %s): starting it again", self._process.exitcode)
                self._process.join(0)
                self.start()
            return None
        try:
            reader, writer = await asyncio.open_unix_connection(self.path, limit=2**20)
        except OSError:  # still starting
            return None
        for other in [other for other in self._links if other.is_closed()]:
            del self._links[other]
        link = self._links[loop] = _Link(reader, writer)
        return link

    async def handle(self, scope: Scope, receive: Receive, send: Send, here: ASGIApp) -> None:
        """Answer a forwarded request through the page process, else with `here` (this process's app)."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        link = await self._link()
        if link is not None:
            try:
                plain = {key: value for key, value in scope.items() if key in _SCOPE_KEYS}
                status, headers, data = await link.call((plain, bytes(body)))
            except _Unavailable:
                pass
            else:
                self.answered += 1
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": data, "more_body": False})
                return
        self.here += 1
        await here(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The request's body again (already read for forwarding), then whatever the client sends next."""
    given = False

    async def again() -> Any:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


# --- in the page process ----------------------------------------------------------------------------------

def _idle_priority() -> None:
    """Only the CPU time nothing else wants (Linux SCHED_IDLE), else the lowest niceness: the tablets' process,
    its database and the machine's other work always come first; pages take what is left."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        with contextlib.suppress(AttributeError, OSError):
            os.nice(19)


def _serve_pages(factory: Callable[[], ASGIApp], path: str, parent: int) -> None:
    _idle_priority()
    asyncio.run(_pages_main(factory, path, parent))


async def _pages_main(factory: Callable[[], ASGIApp], path: str, parent: int) -> None:
    from contestday.web.admission import draw_in_this_process

    draw_in_this_process()
    app = factory()
    lifespan = _Lifespan(app)
    await lifespan.startup()
    tasks: set[asyncio.Task[None]] = set()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                number, (scope, body) = await _read_frame(reader)
                task = asyncio.create_task(_answer(app, number, scope, body, writer))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            writer.close()

    # bound under another name and moved into place: the tablets' process connects only to a ready server
    staging = f"{path}.{os.getpid()}"
    server = await asyncio.start_unix_server(connection, path=staging, limit=2**20)
    os.replace(staging, path)
    try:
        while os.getppid() == parent:  # the server ended (even killed): so does this process
            await asyncio.sleep(0.5)
    finally:
        server.close()
        await lifespan.shutdown()


async def _answer(app: ASGIApp, number: int, scope: dict[str, Any], body: bytes,
                  writer: asyncio.StreamWriter) -> None:
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def connected() -> Any:  # the client stays connected until the answer is whole
        await asyncio.Event().wait()

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    scope = {**scope, "state": {}}
    try:
        await app(scope, _replay(body, connected), send)  # type: ignore[arg-type]
        answer = (start["status"], start.get("headers", []), b"".join(chunks))
    except Exception:
        log.exception("page process: request failed")
        answer = (500, [(b"content-type", b"text/plain; charset=utf-8")], "服务器内部错误 / internal error".encode())
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(_frame((number, answer)))
        await writer.drain()


class _Lifespan:
    """The ASGI lifespan of the page process's app: its start-up (writer, reader) and shutdown."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _send(self, message: Any) -> None:
        await self.outbox.put(message)

    async def startup(self) -> None:
        scope: Any = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.inbox.get, self._send))  # type: ignore[arg-type]
        await self.inbox.put({"type": "lifespan.startup"})
        answer = await self.outbox.get()
        if answer["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"page process: start-up failed: {answer.get('message', '')}")

    async def shutdown(self) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.outbox.get(), timeout=10)
