"""Pages wait their turn, tablets never do; drawings run in the render process (contestday.web.admission)."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest

from contestday.web import admission
from tests.support.helpers import assert_child_ends_with_killed_server


def _pid() -> int:
    return os.getpid()


def _fails(text: str) -> None:
    raise ValueError(text)


async def test_at_most_page_slots_requests_run_at_once_and_websockets_health_and_static_never_wait() -> None:
    running, peak, release = [0], [0], asyncio.Event()
    passed: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/page":
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            await release.wait()
            running[0] -= 1
        else:
            passed.append(scope["path"])

    guarded = admission.admission_middleware(app)
    pages = [asyncio.create_task(guarded({"type": "http", "path": "/page"}, None, None)) for _ in range(30)]
    await asyncio.sleep(0.05)
    assert running[0] == admission.PAGE_SLOTS == 8  # the other 22 wait their turn
    # while every slot is taken, a tablet's socket, a probe and a page's script go straight through
    await asyncio.wait_for(asyncio.gather(
        guarded({"type": "websocket", "path": "/ws/judge"}, None, None),
        guarded({"type": "http", "path": "/health"}, None, None),
        guarded({"type": "http", "path": "/static/app.css"}, None, None)), timeout=1)
    assert passed == ["/ws/judge", "/health", "/static/app.css"]
    release.set()
    await asyncio.wait_for(asyncio.gather(*pages), timeout=5)
    assert peak[0] == 8 and running[0] == 0  # every waiting request was handled in the end


async def test_a_slot_is_given_back_when_a_request_fails() -> None:
    running, release = [0], asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/broken":
            raise RuntimeError("broken handler")
        running[0] += 1
        await release.wait()

    guarded = admission.admission_middleware(app)
    for _ in range(admission.PAGE_SLOTS + 2):
        with pytest.raises(RuntimeError):
            await guarded({"type": "http", "path": "/broken"}, None, None)
    pages = [asyncio.create_task(guarded({"type": "http", "path": "/page"}, None, None))
             for _ in range(admission.PAGE_SLOTS)]
    await asyncio.sleep(0.05)
    assert running[0] == admission.PAGE_SLOTS  # every slot free again: none kept by a failed request
    release.set()
    await asyncio.gather(*pages)


async def test_drawings_run_in_another_process_that_is_replaced_when_it_dies() -> None:
    first = await admission.render_off_loop(_pid)
    assert first != os.getpid()
    with pytest.raises(ValueError, match="bad layout"):  # a drawing's error reaches the caller
        await admission.render_off_loop(_fails, "bad layout")
    assert await admission.render_off_loop(_pid) == first  # the same process, kept between drawings
    os.kill(first, signal.SIGKILL)  # killed (out of memory, an operator): the next drawing still comes
    await asyncio.sleep(0.2)
    second = await asyncio.wait_for(admission.render_off_loop(_pid), timeout=60)
    assert second not in (first, os.getpid())
    admission.stop_render_processes()


def _pages(backlog: list[float]) -> tuple[Any, list[int], asyncio.Event]:
    """A page app behind the gate, with the writer's backlog (seconds its oldest job has waited) set by the
    test."""
    running, release = [0], asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        running[0] += 1
        try:
            await release.wait()
        finally:
            running[0] -= 1

    return admission.admission_middleware(app, backlog=lambda: backlog[0]), running, release


async def test_while_marks_queue_no_page_starts_but_one_every_floor_and_all_once_the_writer_catches_up() -> None:
    backlog = [1.0]  # the oldest mark has waited a second for the writer
    guarded, running, release = _pages(backlog)
    pages = [asyncio.create_task(guarded({"type": "http", "path": "/page"}, None, None)) for _ in range(5)]
    await asyncio.sleep(0.02)
    assert running[0] == 1  # the floor: one page, as none was running
    release.set()
    await asyncio.sleep(0.02)
    release.clear()
    await asyncio.sleep(0.02)
    assert running[0] == 0  # the next one waits for its floor, FLOOR_S after the last start
    await asyncio.sleep(admission.FLOOR_S)
    assert running[0] == 1
    # a websocket (a tablet's marks) never waits behind them
    passed: list[str] = []

    async def socket_app(scope: Any, receive: Any, send: Any) -> None:
        passed.append(scope["path"])

    await asyncio.wait_for(admission.admission_middleware(socket_app, backlog=lambda: backlog[0])(
        {"type": "websocket", "path": "/ws/judge"}, None, None), timeout=1)
    assert passed == ["/ws/judge"]
    backlog[0] = 0.0  # the writer caught up: every slot again
    await asyncio.sleep(0.02)
    assert running[0] == 4  # the floor's second page and the three left, at once
    release.set()
    await asyncio.wait_for(asyncio.gather(*pages), timeout=5)


async def test_a_page_given_up_while_waiting_gives_its_place_back() -> None:
    backlog = [1.0]
    guarded, running, release = _pages(backlog)
    first = asyncio.create_task(guarded({"type": "http", "path": "/page"}, None, None))
    await asyncio.sleep(0.01)
    gone = asyncio.create_task(guarded({"type": "http", "path": "/page"}, None, None))
    last = asyncio.create_task(guarded({"type": "http", "path": "/page"}, None, None))
    await asyncio.sleep(0.01)
    gone.cancel()  # the client closed the connection while waiting its turn
    await asyncio.sleep(0.01)
    backlog[0] = 0.0
    release.set()
    await asyncio.wait_for(asyncio.gather(first, last), timeout=5)
    assert gone.cancelled() and running[0] == 0


def test_a_render_process_ends_when_the_server_is_killed(tmp_path: Any) -> None:
    """A pool's worker otherwise waits for work forever, orphaned (found after test runs and benchmarks)."""
    assert_child_ends_with_killed_server("""
        import asyncio, os, time
        from contestday.web.admission import render_off_loop
        if __name__ == "__main__":
            print(asyncio.run(render_off_loop(os.getpid)), flush=True)
            time.sleep(120)
    """, tmp_path)
