"""The pages' side of a Redis outage (issue #16), in headless Chromium on a server with a Redis of the test's
own: a `{"type": "resync"}` arriving on their channels — what each instance sends once Redis is back — makes
the tablet, the chief judge's console and the results board ask for a new snapshot, and the tablet shows the
judge nothing (no banner, still online)."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest
from redis import Redis

from contestday.settings import Settings
from tests.browser.test_console_browser import JUDGES, _run, chief_console, seated_with_chief
from tests.browser.test_tablet_browser import TABLET
from tests.browser.test_tablet_robustness_browser import _judge_id
from tests.conftest import served
from tests.support import redis_server as redis_support
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.browser
redis_server = redis_support.redis_server  # the fixture


async def _nothing(db: Any, contest: Any) -> None:
    return None


def _frames(page: Any, sent: list[str], received: list[str]) -> None:
    def watch(ws: Any) -> None:
        ws.on("framesent", lambda payload: sent.append(str(payload)))
        ws.on("framereceived", lambda payload: received.append(str(payload)))

    page.on("websocket", watch)


def _types(frames: list[str]) -> list[str]:
    out = []
    for frame in frames:
        try:
            out.append(json.loads(frame).get("type"))
        except ValueError:
            out.append("?")
    return out


def test_a_resync_makes_each_page_reread_its_snapshot(settings: Settings, db: Any, redis_server: RedisServer,
                                                      browser: Any) -> None:  # browser last: it holds a loop
    contest = _run(seated_with_chief(settings, 2, JUDGES[:1], _nothing))
    judge_id = _run(_judge_id(db))
    pages: dict[str, tuple[Any, list[str], list[str]]] = {}
    with served(dataclasses.replace(settings, redis_url=redis_server.url)) as base:
        context = browser.new_context(**TABLET)
        tablet = context.new_page()
        pages["tablet"] = (tablet, [], [])
        _frames(tablet, *pages["tablet"][1:])
        tablet.goto(f"{base}/j/{contest.links['王裁判']}")
        tablet.wait_for_selector("#net[data-state=online]")

        console_frames: tuple[list[str], list[str]] = ([], [])
        console, errors = chief_console(browser, base, contest.event_id,
                                        watch=lambda page: _frames(page, *console_frames))
        pages["console"] = (console, *console_frames)
        board = browser.new_page()
        pages["board"] = (board, [], [])
        _frames(board, *pages["board"][1:])
        board.goto(f"{base}/board/{contest.event_id}")

        deadline = time.monotonic() + 15
        while not all("snapshot" in _types(r) for _p, _s, r in pages.values()):
            assert time.monotonic() < deadline, {k: _types(r) for k, (_p, _s, r) in pages.items()}
            tablet.wait_for_timeout(100)
        tablet.wait_for_timeout(300)  # every subscription reached Redis
        before = {name: (len(sent), len(received)) for name, (_p, sent, received) in pages.items()}
        client = Redis.from_url(redis_server.url)
        for channel in (f"judge:{judge_id}", f"console:{contest.event_id}", f"board:{contest.event_id}"):
            assert client.publish(channel, '{"type": "resync"}') == 1
        client.close()

        def asked_and_answered(name: str) -> bool:
            _page, sent, received = pages[name]
            return "hello" in _types(sent[before[name][0]:]) and "snapshot" in _types(received[before[name][1]:])

        deadline = time.monotonic() + 10
        while not all(asked_and_answered(name) for name in pages):
            assert time.monotonic() < deadline, {k: (_types(s), _types(r)) for k, (_p, s, r) in pages.items()}
            tablet.wait_for_timeout(100)
        assert tablet.locator("#banner").is_hidden() or tablet.inner_text("#banner").strip() == ""
        assert tablet.get_attribute("#net", "data-state") == "online"
        assert errors == []
        context.close()
