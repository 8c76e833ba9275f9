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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ["PAGE_SLOTS", "RENDER_PROCESSES", "SWITCH_INTERVAL", "admission_middleware", "render_off_loop"]

T = TypeVar("T")

PAGE_SLOTS = 8  # HTTP requests handled at once; each spends most of its time waiting on the database
RENDER_PROCESSES = 1  # drawings at once: one core's share at the most, the other stays the server's
SWITCH_INTERVAL = 0.0005  # seconds (Python's default is 0.005)
_UNQUEUED = ("/health", "/static/")

_slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None


def _page_slots() -> asyncio.Semaphore:
    global _slots
    loop = asyncio.get_running_loop()
    if _slots is None or _slots[0] is not loop:  # a semaphore belongs to one loop (tests start many)
        _slots = (loop, asyncio.Semaphore(PAGE_SLOTS))
    return _slots[1]


def admission_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_UNQUEUED):
            await app(scope, receive, send)
            return
        async with _page_slots():
            await app(scope, receive, send)

    return middleware


# --- the render process -----------------------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.nice(10)


def _render_pool(broken: ProcessPoolExecutor | None = None) -> ProcessPoolExecutor:
    """The render processes, started on first use (spawned: forking a process with threads is unsafe);
    `broken` names a pool that failed, replaced unless another caller replaced it already."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool is broken:
            if broken is not None:
                broken.shutdown(wait=False, cancel_futures=True)
            _pool = ProcessPoolExecutor(RENDER_PROCESSES, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_lower_priority)
        return _pool


async def render_off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` (a PDF or XLSX drawing) in the render process; its exceptions reach the caller."""
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
