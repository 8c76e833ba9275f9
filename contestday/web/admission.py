"""What may run at once, and where, so that pages never starve the judges' tablets.

One event loop serves the tablets' websockets and every page. bench/mixed_day.py measured what page readers
did to the tablets (ack p99 ~700× its figure alone, marks acknowledged falling behind the rate offered), for
two reasons, each with its remedy here:

- PDF and XLSX drawing is pure Python. On a worker thread it still holds the interpreter's lock, and every
  thread that gives the lock up for a moment (the database writer between two statements, the loop between
  two frames) waits up to a switch interval to get it back: the writer's batches slowed down until marks
  queued. `render_off_loop` draws in a separate process instead (spawned once and kept, at a lower CPU
  priority, `RENDER_PROCESSES` of them): the drawing then takes no lock the server needs. The function and
  its arguments must pickle (module-level functions over plain rows, never ORM objects); a render process
  that died is replaced and the drawing tried once more.
- Hundreds of page requests in flight each take a slice of every turn of the loop before it comes back to a
  tablet's frame. `admission_middleware` handles at most `PAGE_SLOTS` HTTP requests at once; the others wait
  their turn in arrival order, costing nothing while they wait. Websockets (tablets, console, boards) never
  wait, nor do `/health` and `/static/` (a probe and a page's own script must not queue behind pages).

`SWITCH_INTERVAL` (set by `contestday serve`) shortens how long a thread holding the lock keeps it when the
loop asks for it."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

from litestar.types import ASGIApp, Receive, Scope, Send

from contestday.web.page_process import PageProcess, forwarded

__all__ = ["BUSY_AFTER_S", "FLOOR_S", "PAGE_SLOTS", "RENDER_PROCESSES", "SWITCH_INTERVAL", "PageGate",
           "admission_middleware", "draw_in_this_process", "render_off_loop", "stop_render_processes"]

T = TypeVar("T")

PAGE_SLOTS = 8  # HTTP requests handled at once; each spends most of its time waiting on the database
RENDER_PROCESSES = 1  # drawings at once: one core's share at the most, the other stays the server's
SWITCH_INTERVAL = 0.0005  # seconds (Python's default is 0.005)
BUSY_AFTER_S = 0.005  # a job that has waited this long for the writer: marks are queueing, no page starts
FLOOR_S = 0.250  # while marks queue, a page still starts this often (when none is running): pages slow, never stop
RECHECK_S = 0.002  # how often waiting pages look again while marks queue
_UNQUEUED = ("/health", "/static/")


class PageGate:
    """Who may start, on one event loop: at most `slots` requests at once, in arrival order; while
    `backlog()` (seconds the writer's oldest unanswered job has waited) is `BUSY_AFTER_S` or more, no
    request starts, except one every `FLOOR_S` when none is running. A request waiting its turn costs
    nothing but its place in the line; one timer (not one per request) looks again while marks queue."""

    def __init__(self, slots: int = PAGE_SLOTS, backlog: Callable[[], float] | None = None) -> None:
        self.slots, self.backlog = slots, backlog
        self.running = 0
        self.started = 0  # requests let in, for tests and benchmarks
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._last_start = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def _may_start(self) -> bool:
        if self.running >= self.slots:
            return False
        if self.backlog is None or self.backlog() < BUSY_AFTER_S:
            return True
        return self.running == 0 and time.monotonic() - self._last_start >= FLOOR_S

    def _start(self) -> None:
        self.running += 1
        self.started += 1
        self._last_start = time.monotonic()

    async def acquire(self) -> None:
        if not self._waiting and self._may_start():
            self._start()
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        self._look_again()
        try:
            await turn
        except asyncio.CancelledError:  # the client went away while waiting
            if turn.done() and not turn.cancelled():  # let in just then: give the place back
                self.release()
            raise

    def release(self) -> None:
        self.running -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        while self._waiting and self._may_start():
            turn = self._waiting.popleft()
            if turn.done():  # cancelled while waiting
                continue
            self._start()
            turn.set_result(None)
        while self._waiting and self._waiting[0].done():
            self._waiting.popleft()
        if self._waiting:
            self._look_again()

    def _look_again(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(RECHECK_S, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self._dispatch()


def admission_middleware(app: ASGIApp, backlog: Callable[[], float] | None = None,
                         pages: PageProcess | None = None) -> ASGIApp:
    """Pages through a `PageGate` per event loop (tests run many loops); `backlog` is the writer's
    (`Backlog.oldest_wait`), `pages` the page process that answers the routes marked for it (both wired by
    the composition root)."""
    gates: dict[asyncio.AbstractEventLoop, PageGate] = {}

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_UNQUEUED):
            await app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        gate = gates.get(loop)
        if gate is None:
            for other in [other for other in gates if other.is_closed()]:
                del gates[other]
            gate = gates[loop] = PageGate(PAGE_SLOTS, backlog)
        await gate.acquire()
        try:
            if pages is not None and forwarded(scope):
                await pages.handle(scope, receive, send, app)
            else:
                await app(scope, receive, send)
        finally:
            gate.release()

    return middleware


# --- the render process -----------------------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_draw_here = False  # in the page process: it is the lower-priority process already, drawings stay in it


def draw_in_this_process() -> None:
    """Called by the page process: `render_off_loop` draws on a worker thread of this process."""
    global _draw_here
    _draw_here = True


def _render_process_start() -> None:
    """In each render process: a lower CPU priority, and it ends when the server does (even killed: a pool's
    worker otherwise waits for work forever, orphaned)."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(10)
    server = os.getppid()

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="contestday-render-watch", daemon=True).start()


def _render_pool(broken: ProcessPoolExecutor | None = None) -> ProcessPoolExecutor:
    """The render processes, started on first use (spawned: forking a process with threads is unsafe);
    `broken` names a pool that failed, replaced unless another caller replaced it already."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool is broken:
            if broken is not None:
                broken.shutdown(wait=False, cancel_futures=True)
            _pool = ProcessPoolExecutor(RENDER_PROCESSES, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_render_process_start)
        return _pool


async def render_off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` (a PDF or XLSX drawing) in the render process; its exceptions reach the caller."""
    if _draw_here:
        return await asyncio.to_thread(partial(fn, *args, **kwargs))
    loop = asyncio.get_running_loop()
    pool = _render_pool()
    try:
        return await loop.run_in_executor(pool, partial(fn, *args, **kwargs))
    except BrokenProcessPool:  # the process died (killed, out of memory): a new one, and once more
        return await loop.run_in_executor(_render_pool(broken=pool), partial(fn, *args, **kwargs))


def stop_render_processes() -> None:
    """At shutdown: the render processes end with the server."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
