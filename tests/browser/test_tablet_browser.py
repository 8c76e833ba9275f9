"""The judge's tablet in headless Chromium at tablet size with touch: the personal link opens the page, marks
are acked (✓); with the network gone marks queue locally ("待发送 N", nothing in the database) and arrive when it
returns; the queue survives a reload; a stale edit shows the server's value and asks; a typed draft survives a
reload; signing the sheet makes it read-only; a lapsed session asks for the personal link. One screenshot is kept
for the README (docs/screenshots/tablet.png, refreshed with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from websockets.sync.client import connect as ws_connect

from judging.models import RemarkRequest
from tests.browser.test_pages_browser import _shot
from tests.support.judging_setup import Contest, judge_cookie, seated_contest

pytestmark = pytest.mark.browser

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "tablet.png"
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "is_mobile": False, "locale": "zh-CN",
          "device_scale_factor": 1}


def _run(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine on its own loop in a thread: Playwright's sync API owns the test thread."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as exc:  # re-raised in the test thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _marks(db: Any) -> dict[tuple[str, str], tuple[int | None, int]]:
    """(seat, criterion) → (value in hundredths, version), straight from the database."""
    async def read() -> dict[tuple[str, str], tuple[int | None, int]]:
        async with db() as session:
            rows = (await session.exec(text(  # type: ignore[call-overload]
                "SELECT sa.seat_label, c.code, s.value, s.version FROM score s "
                "JOIN seat_assignment sa ON sa.entry_id = s.entry_id JOIN criterion c ON c.id = s.criterion_id"))).all()
        return {(seat, code): (value, version) for seat, code, value, version in rows}

    return dict(_run(read))


def _wait_for(page: Any, check: Callable[[], bool], timeout: float = 15, what: str = "") -> None:
    """Poll (the database) while Playwright keeps dispatching: its sync API runs route handlers only inside
    its own calls, so wait with the page's timer, not time.sleep."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)


@pytest.fixture
def contest(settings: Any, db: Any) -> Contest:
    return _run(lambda: seated_contest(db, n=6))  # type: ignore[no-any-return]


@pytest.fixture
def tablet(settings: Any, live_server: str, contest: Contest, browser: Any) -> Iterator[tuple[Any, Any]]:
    context = browser.new_context(**TABLET)
    page = context.new_page()
    page.goto(f"{live_server}/j/{contest.links['王裁判']}")
    assert page.url.endswith("/judge")
    page.wait_for_selector("#net[data-state=online]")
    yield context, page
    context.close()


def _pending(page: Any) -> int:
    return int(page.get_attribute("#pending", "data-n"))


def _mark(page: Any, seat: str, criterion: str, value: str) -> None:
    """Tap the seat, type the mark on the keypad, and leave the field (which commits it)."""
    page.tap(f".t-seat[data-seat='{seat}']")
    field = page.locator(f".t-input[data-criterion='{criterion}']")
    field.tap()
    field.fill(value)
    field.press("Enter")


def _row(page: Any, criterion: str) -> Any:
    return page.locator(f".t-row[data-criterion='{criterion}']")


def test_marks_are_acked_queued_offline_replayed_and_survive_a_reload(
        tablet: tuple[Any, Any], contest: Contest, db: Any, live_server: str, tmp_path: Path) -> None:
    context, page = tablet
    seats = sorted(contest.seats)
    assert page.locator(".t-seat").all_inner_texts()[0].startswith(seats[0])
    assert page.locator(".t-seat").count() == 6
    box = page.locator(".t-seat").first.bounding_box()
    assert box["width"] >= 48 and box["height"] >= 48  # touch-sized
    assert page.get_attribute(".t-input[data-criterion='A']", "inputmode") == "decimal"

    _mark(page, seats[0], "A", "35.5")
    page.wait_for_selector(".t-row[data-criterion='A'] .t-status[data-state=saved]")
    assert "✓" in _row(page, "A").inner_text() and "1" in _row(page, "A").locator(".t-status").inner_text()
    assert _marks(db)[(seats[0], "A")] == (3550, 1)

    # client-side checks: nothing is sent for a mark over the maximum or with 3 decimals
    _mark(page, seats[0], "B", "60.01")
    assert "60.00" in _row(page, "B").locator(".t-error").inner_text()
    _mark(page, seats[0], "B", "1.234")
    assert "2 位小数" in _row(page, "B").locator(".t-error").inner_text()
    assert _pending(page) == 0 and (seats[0], "B") not in _marks(db)
    _mark(page, seats[0], "B", "")

    # the network goes; Playwright's offline mode leaves an open websocket alone, so the page's socket is dropped
    context.set_offline(True)
    page.evaluate("window.__tablet.dropSocket()")
    page.wait_for_selector("#net[data-state=offline]")
    assert "离线" in page.inner_text("#net")
    _mark(page, seats[1], "A", "30")
    _mark(page, seats[1], "B", "50.25")
    _mark(page, seats[1], "A", "31")  # the same mark again while offline: based on the queued edit's version
    page.wait_for_function("document.querySelector('#pending').dataset.n === '3'")
    assert "待发送 3 条" in page.inner_text("#net")
    assert _row(page, "A").get_attribute("data-state") == "waiting" and "待发送" in _row(page, "A").inner_text()
    page.wait_for_timeout(1500)  # a reconnect attempt or two while offline: still nothing reaches the server
    assert not {k for k in _marks(db) if k[0] == seats[1]}
    queued = json.loads(page.evaluate(
        "localStorage.getItem(document.body.dataset.store + '.queue')"))
    assert [(op["criterion"], op["value"], op["base_version"]) for op in queued] == [
        ("A", "30.00", 0), ("B", "50.25", 0), ("A", "31.00", 1)]
    assert len({op["op_id"] for op in queued}) == 3

    context.set_offline(False)
    _wait_for(page, lambda: _marks(db).get((seats[1], "A")) == (3100, 2) and (seats[1], "B") in _marks(db),
              what="the replayed marks")
    page.wait_for_function("document.querySelector('#pending').dataset.n === '0'")
    page.wait_for_selector("#net[data-state=online]")
    assert _marks(db)[(seats[1], "B")] == (5025, 1)

    # offline again, a mark queued, then the page reloaded: the socket is blocked (a reload needs HTTP, which
    # Playwright's offline mode would refuse too), the queue comes back from local storage and is sent later
    blocked = {"on": True}

    def socket_route(ws: Any) -> None:
        if blocked["on"]:
            ws.close()
        else:
            ws.connect_to_server()

    page.route_web_socket("**/ws/judge", socket_route)
    page.evaluate("window.__tablet.dropSocket()")
    page.wait_for_selector("#net[data-state=offline]")
    _mark(page, seats[2], "A", "12.5")
    page.wait_for_function("document.querySelector('#pending').dataset.n === '1'")
    page.reload()
    page.wait_for_selector("#net[data-state=offline]")
    assert _pending(page) == 1 and "待发送 1 条" in page.inner_text("#net")
    page.tap(f".t-seat[data-seat='{seats[2]}']")
    assert page.input_value(".t-input[data-criterion='A']") == "12.50"
    assert (seats[2], "A") not in _marks(db)
    blocked["on"] = False
    _shot(page, tmp_path / "tablet-offline.png", full_page=False)
    page.evaluate("window.__tablet.reconnect()")
    _wait_for(page, lambda: _marks(db).get((seats[2], "A")) == (1250, 1), what="queued mark after reload")
    page.wait_for_function("document.querySelector('#pending').dataset.n === '0'")


def _other_tablet_sets(live_server: str, contest: Contest, seat: str, value: str, base_version: int) -> dict[str, Any]:
    """The same judge on a second tablet (a plain websocket client) changes a mark."""
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    url = live_server.replace("http://", "ws://") + "/ws/judge"
    with ws_connect(url, additional_headers={"Cookie": cookie}, open_timeout=10) as sock:
        assert json.loads(sock.recv(timeout=10))["type"] == "snapshot"
        sock.send(json.dumps({"type": "op", "op_id": f"second-{value}", "kind": "set_score", "item": "LED",
                              "seat": seat, "criterion": "A", "value": value, "base_version": base_version}))
        return dict(json.loads(sock.recv(timeout=10)))


def test_a_stale_edit_shows_the_current_value_and_asks(tablet: tuple[Any, Any], contest: Contest, db: Any,
                                                       live_server: str, tmp_path: Path) -> None:
    _context, page = tablet
    seat = sorted(contest.seats)[0]
    _mark(page, seat, "A", "20")
    page.wait_for_selector(".t-row[data-criterion='A'] .t-status[data-state=saved]")
    assert _other_tablet_sets(live_server, contest, seat, "25.75", 1)["version"] == 2
    _mark(page, seat, "A", "21")  # based on version 1: refused as stale, never applied over the other edit
    conflict = page.wait_for_selector(".t-row[data-criterion='A'] .t-conflict:not([hidden])")
    assert "25.75" in conflict.inner_text() and "21.00" in conflict.inner_text()
    assert _marks(db)[(seat, "A")] == (2575, 2)
    assert page.input_value(".t-input[data-criterion='A']") == "25.75"
    assert page.get_attribute(f".t-seat[data-seat='{seat}']", "data-state") == "problem"
    _shot(page, tmp_path / "tablet-conflict.png", full_page=False)
    page.tap(".t-row[data-criterion='A'] [data-action=mine]")  # the judge decides: their value, on version 2
    page.wait_for_selector(".t-row[data-criterion='A'] .t-status[data-state=saved]")
    assert _marks(db)[(seat, "A")] == (2100, 3)
    assert page.locator(".t-row[data-criterion='A'] .t-conflict").is_hidden()


def test_draft_survives_a_reload_remarks_show_and_the_signed_sheet_is_read_only(
        tablet: tuple[Any, Any], contest: Contest, db: Any, live_server: str, tmp_path: Path) -> None:
    _context, page = tablet
    seats = sorted(contest.seats)
    for n, seat in enumerate(seats[:4]):
        _mark(page, seat, "A", f"{30 + n}.5")
        _mark(page, seat, "B", f"{45 + n}")
    _mark(page, seats[0], "S", "2")
    page.wait_for_function("document.querySelector('#pending').dataset.n === '0'")
    assert "本人录入合计：73.50" in page.inner_text(".t-seat-total")  # 30.5 + 45 − 2 (a deduction)

    async def remark() -> None:
        async with db() as session:
            judge_id = (await session.exec(text("SELECT id FROM judge WHERE name = '王裁判'"))).one()[0]  # type: ignore[call-overload]
            session.add(RemarkRequest(item_id=contest.item_id, judge_id=judge_id, seat=seats[1], criterion="B",
                                      message="工艺评分偏低，请复核", by="裁判长"))
            await session.commit()

    _run(remark)
    page.tap(f".t-seat[data-seat='{seats[4]}']")
    field = page.locator(".t-input[data-criterion='A']")
    field.tap()
    field.type("33.2")  # typed, not committed (no blur, no Enter), then the page reloads
    page.reload()
    page.wait_for_selector("#net[data-state=online]")
    assert page.input_value(".t-input[data-criterion='A']") == "33.2"
    assert "草稿" in _row(page, "A").inner_text()
    assert (seats[4], "A") not in _marks(db)
    remarks = page.inner_text("#remarks")  # shown on (re)connect, prominent, with seat and criterion
    assert "裁判长要求复核" in remarks and seats[1] in remarks and "B 工艺与规范" in remarks and "请复核" in remarks
    page.tap(f".t-seat[data-seat='{seats[4]}']")
    page.locator(".t-input[data-criterion='A']").tap()
    page.locator(".t-input[data-criterion='B']").tap()  # leaving the field commits the draft
    page.wait_for_selector(".t-row[data-criterion='A'] .t-status[data-state=saved]")
    page.tap("#remarks .t-remark")
    assert page.get_attribute(f".t-seat[data-seat='{seats[1]}']", "aria-pressed") == "true"
    assert "请复核" in _row(page, "B").locator(".t-row-remark").inner_text()
    deduction = page.locator(".t-input[data-criterion='S']")
    deduction.tap()
    deduction.type("1")  # still in the field: a draft
    assert "草稿" in _row(page, "S").inner_text()
    shot = DOCS_SHOT if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "tablet.png"
    _shot(page, shot, full_page=False)
    deduction.fill("99")
    deduction.press("Enter")  # over the maximum: stays a draft with the reason, nothing sent
    assert "10.00" in _row(page, "S").locator(".t-error").inner_text() and _pending(page) == 0

    page.tap("#submit-open")
    assert "还有" in page.inner_text("#submit-missing")  # seats 5 and 6 are not marked: warned, not refused
    page.tap("#submit-confirm")
    assert page.is_visible("#signature-error")  # no signature, no submission
    page.fill("#signature", "王裁判")
    page.tap("#submit-confirm")
    assert f"{seats[1]} S" in page.inner_text("#signature-error")  # an invalid draft stops the signature
    _shot(page, tmp_path / "tablet-sign.png", full_page=False)
    page.tap("#submit-cancel")
    deduction.fill("1")
    deduction.press("Enter")
    page.wait_for_selector(".t-row[data-criterion='S'] .t-status[data-state=saved]")
    page.tap("#submit-open")
    page.fill("#signature", "王裁判")
    page.tap("#submit-confirm")
    page.wait_for_selector("#sheet-state:not([hidden])")
    page.wait_for_function("document.querySelector('#pending').dataset.n === '0'")
    assert "已签字提交" in page.inner_text("#sheet-state")
    assert page.get_attribute(".t-input[data-criterion='A']", "readonly") is not None
    assert page.is_hidden("#submit-open")
    _shot(page, tmp_path / "tablet-signed.png", full_page=False)

    async def signed() -> list[Any]:
        async with db() as session:
            return list((await session.exec(text("SELECT signature FROM sheet_submission"))).all())  # type: ignore[call-overload]

    assert [tuple(r) for r in _run(signed)] == [("王裁判",)]
    page.reload()  # read-only from the snapshot too
    page.wait_for_selector("#net[data-state=online]")
    assert page.get_attribute(".t-input[data-criterion='A']", "readonly") is not None


def test_without_a_judge_session_the_page_asks_for_the_personal_link(
        settings: Any, live_server: str, contest: Contest, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(**TABLET)
    page = context.new_page()
    response = page.goto(f"{live_server}/judge")
    assert response.status == 401 and "/login" not in page.url
    assert "请重新打开您的个人评分链接" in page.inner_text("h1")
    _shot(page, tmp_path / "tablet-link.png", full_page=False)
    page.goto(f"{live_server}/j/{contest.links['王裁判']}")
    page.wait_for_selector("#net[data-state=online]")
    context.clear_cookies()  # the session is gone (expired, revoked): the socket is refused with 4401
    page.evaluate("window.__tablet.dropSocket()")
    page.wait_for_selector("#expired:not([hidden])", timeout=10_000)
    assert "个人链接" in page.inner_text("#expired")
    _shot(page, tmp_path / "tablet-expired.png", full_page=False)
    page.wait_for_timeout(2500)  # no reconnecting forever: the page waits for the link
    assert page.evaluate("window.__tablet.state().net") == "offline"
    context.close()


def test_two_missed_pongs_drop_the_socket_and_the_page_reconnects(
        settings: Any, live_server: str, contest: Contest, browser: Any) -> None:
    context = browser.new_context(**TABLET)
    page = context.new_page()
    sockets: list[Any] = []
    swallow = {"pings": False}

    def route(ws: Any) -> None:  # a line that silently loses the pings (so no pong ever comes back)
        server = ws.connect_to_server()
        sockets.append(ws)
        ws.on_message(lambda m: None if swallow["pings"] and '"ping"' in str(m) else server.send(m))

    page.route_web_socket("**/ws/judge", route)
    page.clock.install()
    page.goto(f"{live_server}/j/{contest.links['王裁判']}")
    page.wait_for_selector("#net[data-state=online]")
    swallow["pings"] = True
    page.clock.run_for(15_500)  # one ping unanswered: still connected
    assert len(sockets) == 1 and page.evaluate("window.__tablet.state().net") == "online"
    page.clock.run_for(15_500)  # the second one: the page gives up on this socket and opens a new one
    page.clock.run_for(2_000)
    _wait_for(page, lambda: len(sockets) == 2, what="a new socket")
    page.wait_for_selector("#net[data-state=online]")
    context.close()
