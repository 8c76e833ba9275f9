"""The results board in headless Chromium at a big screen's size: it waits for results, shows a publication
within a second of the chief judge's publish (pushed, no reload), and a withdrawal as well."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.pool import NullPool

from contestday.accounts import service as accounts
from contestday.db.engine import create_engine, create_sessionmaker
from contestday.settings import Settings
from tests.browser.test_console_browser import _run
from tests.browser.test_pages_browser import _shot
from tests.results.test_publication import marked, settle

pytestmark = pytest.mark.browser

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "board.png"


async def _ready(settings: Settings) -> tuple[int, str, str]:
    engine = create_engine(settings.database_url, poolclass=NullPool)
    db = create_sessionmaker(engine)
    try:
        contest = await marked(db)
        await settle(db, contest)
        async with db() as session:
            chief = await accounts.add_user(session, "chief", "pw-12345678", ["chief_judge"])
            token, csrf = await accounts.start_session(session, chief)
            await session.commit()
        return contest.event_id, token, csrf
    finally:
        await engine.dispose()


def test_the_board_shows_a_publication_within_a_second(settings: Settings, live_server: str, browser: Any,
                                                       tmp_path: Path) -> None:
    event_id, token, csrf = _run(_ready(settings))
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/board/{event_id}")
    page.wait_for_selector("text=实时更新中")
    assert "成绩尚未发布" in page.inner_text("#board")
    chief = httpx.Client(base_url=live_server, cookies={"contestday_session": token})
    published = chief.post(f"/api/events/{event_id}/items/LED/publication", json={},
                           headers={"X-CSRF-Token": csrf})
    assert published.status_code == 201, published.text
    started = time.monotonic()
    page.wait_for_selector("section.item[data-version='1']", timeout=1000)
    assert time.monotonic() - started < 1.0
    board = page.inner_text("#board")
    assert "一等奖" in board and "公示至" in board and "第 1 版" in board
    _shot(page, Path(os.environ.get("BOARD_SHOT_DIR", str(tmp_path))) / "board.png")
    chief.post(f"/api/events/{event_id}/items/LED/publication/withdraw", json={"reason": "登分有误"},
               headers={"X-CSRF-Token": csrf})
    page.wait_for_selector("section.item[data-version='2']", timeout=1000)
    assert "已撤回" in page.inner_text("#board") and "一等奖" not in page.inner_text("#board")
    assert errors == []


# A long item: a few students and a 40-strong 职工组 whose 一等奖 sits on its first row, some with unit names
# long enough to wrap, so rows differ in height and no fixed count of rows per page would be right.
LONG_GROUPS = (("学生组", 5), ("职工组", 40))
SIZES = ((1280, 720), (1024, 768), (1920, 1080))
WRAPPING_UNIT = "重庆市巫山县职业教育中心（巫山县职业技术学校）智能制造与信息技术系实训基地"


def _long_body(event: str) -> dict[str, Any]:
    from contestday.demo_people import COMPANIES, GIVEN, SCHOOLS, SURNAMES

    groups, k = [], 0
    for group, n in LONG_GROUPS:
        rows = []
        for rank in range(1, n + 1):
            # more than 45 surnames: every name distinct
            name = SURNAMES[k] + GIVEN[(k * 7) % len(GIVEN)] + (GIVEN[(k * 11 + 5) % len(GIVEN)] if k % 3 else "")
            unit = WRAPPING_UNIT if rank % 9 == 4 else (SCHOOLS if group == "学生组" else COMPANIES)[k % 14]
            award = "一等奖" if rank == 1 else "二等奖" if rank <= 3 else "三等奖" if rank <= 6 else ""
            rows.append({"position": rank, "rank": rank, "seat": f"B{k + 1:02d}", "award": award, "names": [name],
                         "unit": unit, "instructors": [], "practical": None, "total": f"{96 - rank * 0.75:.2f}",
                         "qualified": True, "cert_level": 3 if rank <= 2 else None,
                         "cert_level_name": "三级/高级工" if rank <= 2 else "", "promoted": rank <= 2, "criteria": {}})
            k += 1
        groups.append({"group": group, "rows": rows, "absent": 0})
    return {"event": event, "item": "WPS", "item_name": "WPS办公软件应用", "version": 1, "criteria": [],
            "published_at": "2026-12-20T16:00:00+08:00", "basis": "total", "groups": groups,
            "notice": {"working_days": 5, "last_day": "2026-12-25", "ends_at": "2026-12-26T00:00:00+08:00",
                       "calendar_known": True}}


async def _ready_long(settings: Settings) -> tuple[int, str, str, dict[str, list[str]]]:
    """The seeded contest (LED marked and settled, not yet published) plus WPS published with LONG_GROUPS.
    WPS's snapshot is stored as a publication directly: the board reads nothing but published snapshots,
    and 45 contestants through registration, check-in, marking and the gate would only slow this test."""
    from sqlmodel import select

    from registration.events.models import Event, Item
    from results.publication import Publication

    event_id, token, csrf = await _ready(settings)
    engine = create_engine(settings.database_url, poolclass=NullPool)
    db = create_sessionmaker(engine)
    try:
        async with db() as session:
            event = await session.get(Event, event_id)
            item = (await session.exec(select(Item).where(Item.event_id == event_id, Item.code == "WPS"))).one()
            assert event is not None and item.id is not None
            body = _long_body(event.name)
            session.add(Publication(event_id=event_id, item_id=item.id, version=1, state="published", body=body,
                                    hash="0" * 64, by="裁判长"))
            await session.commit()
    finally:
        await engine.dispose()
    return event_id, token, csrf, {g["group"]: [r["names"][0] for r in g["rows"]] for g in body["groups"]}


# Records every page the board puts up (the final state of each change: a page is cut and drawn in one
# task, and the observer runs after it), with anything whose box leaves the viewport.
RECORDER = """
window.__pages = [];
new MutationObserver(function () {
  var s = document.querySelector("section.item[data-page]");
  if (!s) { return; }
  var key = [s.dataset.item, s.dataset.version, s.dataset.page, s.dataset.pages].join("|");
  var last = window.__pages[window.__pages.length - 1];
  if (last && last.key === key) { return; }
  var vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
  var over = Array.from(s.querySelectorAll("tr, h2, h3, .page, .meta, .foot, .withdrawn")).filter(function (b) {
    var r = b.getBoundingClientRect();
    return r.top < 0 || r.left < 0 || r.bottom > vh + 0.5 || r.right > vw + 0.5;
  }).map(function (b) { return b.textContent; });
  var heights = Array.from(s.querySelectorAll("tbody tr")).map(function (tr) {
    return tr.getBoundingClientRect().height;
  });
  window.__pages.push({key: key, item: s.dataset.item, version: s.dataset.version, page: +s.dataset.page,
    pages: +s.dataset.pages, label: s.querySelector(".page").textContent,
    foot: s.querySelector(".foot").textContent, free: vh - s.querySelector(".foot").getBoundingClientRect().bottom,
    tallest: Math.max.apply(null, heights.concat([0])),
    groups: Array.from(s.querySelectorAll(".group")).map(function (g) {
      return {group: g.dataset.group, head: (g.querySelector("h3") || {}).textContent || "",
              rows: Array.from(g.querySelectorAll("tbody tr")).map(function (tr) {
                return (tr.cells[1] || tr.cells[0]).textContent;
              })};
    }),
    over: over});
}).observe(document, {childList: true, subtree: true});
"""


def _rotation(page: Any, since: int, items: set[str], timeout: float = 40.0) -> list[dict[str, Any]]:
    """The pages recorded from index `since` until every page of every item in `items` has been up at least
    once and the rotation has come back to where it started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = page.evaluate("window.__pages")[since:]
        if seen:
            first = seen[0]["key"]
            for end in range(1, len(seen)):
                span = seen[:end]
                whole = all({p["page"] for p in span if p["item"] == code} ==
                            set(range(1, max([p["pages"] for p in span if p["item"] == code] or [0]) + 1)) != set()
                            for code in items)
                if whole and seen[end]["key"] == first:
                    return span
        time.sleep(0.2)
    raise AssertionError(f"no full rotation within {timeout} s: {[p['key'] for p in page.evaluate('window.__pages')]}")


def _check_pages(shown: list[dict[str, Any]], expected: dict[str, list[str]], size: tuple[int, int]) -> int:
    """Every row of every group on some page, once, in order; right labels; nothing off the screen."""
    wps = [p for p in shown if p["item"] == "WPS"]
    n = wps[0]["pages"]
    assert [p["page"] for p in wps] == list(range(1, n + 1)) and n >= 2, (size, [p["key"] for p in wps])
    got: dict[str, list[str]] = {g: [] for g in expected}
    for p in wps:
        assert p["label"] == f"第 {p['page']} / {n} 页", (size, p["label"])
        assert p["over"] == [], (size, p["page"], p["over"])
        assert p["groups"], (size, p)
        for g in p["groups"]:
            continued = bool(got[g["group"]])
            assert g["head"] == g["group"] + ("（续）" if continued else ""), (size, p["page"], g["head"])
            assert g["rows"], (size, p["page"], g)
            got[g["group"]] += g["rows"]
        last = p["groups"][-1]
        if len(got[last["group"]]) < len(expected[last["group"]]):
            assert p["foot"] == f"{last['group']}未完，续见下页", (size, p["page"], p["foot"])
        if p["page"] < n:  # a page is cut where the screen ends, not after a fixed count
            assert p["free"] < 3 * p["tallest"] + 80, (size, p["page"], p["free"], p["tallest"])
    assert got == expected, size
    for p in shown:
        assert p["over"] == [], (size, p["key"], p["over"])
    return n


def test_the_board_pages_through_a_long_item_at_every_screen_size(settings: Settings, live_server: str,
                                                                  browser: Any, tmp_path: Path) -> None:
    event_id, token, csrf, expected = _run(_ready_long(settings))
    shots = Path(os.environ.get("BOARD_SHOT_DIR", str(tmp_path)))
    errors: list[str] = []
    counts = {}
    for width, height in SIZES:
        page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.add_init_script(RECORDER)
        page.goto(f"{live_server}/board/{event_id}?dwell=0.4")
        page.wait_for_selector("section.item[data-item='WPS']")
        counts[(width, height)] = _check_pages(_rotation(page, 0, {"WPS"}), expected, (width, height))
        if (width, height) == (1920, 1080):
            break
        page.close()
    assert counts[(1280, 720)] > counts[(1920, 1080)], counts  # a smaller screen: more, shorter pages

    # A publication over the socket: up within a second, then the rotation goes on through every page.
    chief = httpx.Client(base_url=live_server, cookies={"contestday_session": token})
    mark = len(page.evaluate("window.__pages"))
    published = chief.post(f"/api/events/{event_id}/items/LED/publication", json={},
                           headers={"X-CSRF-Token": csrf})
    assert published.status_code == 201, published.text
    page.wait_for_selector("section.item[data-item='LED'][data-version='1']", timeout=1000)
    keys = [p["key"] for p in page.evaluate("window.__pages")]
    after = _rotation(page, keys.index("LED|1|1|1", mark), {"LED", "WPS"})
    assert after[0]["item"] == "LED" and after[0]["label"] == "第 1 / 1 页"
    assert [p["item"] for p in after] == ["LED"] + ["WPS"] * counts[(1920, 1080)]
    _check_pages(after, expected, (1920, 1080))

    # The screen changes size (a kiosk going full screen, another monitor): the item is cut again to fit.
    small = counts[(1280, 720)]
    mark = len(page.evaluate("window.__pages"))
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_selector(f"section.item[data-item='WPS'][data-page='1'][data-pages='{small}']")
    keys = [p["key"] for p in page.evaluate("window.__pages")]
    resized = _rotation(page, keys.index(f"WPS|1|1|{small}", mark), {"LED", "WPS"})
    assert _check_pages(resized, expected, (1280, 720)) == small
    page.close()
    assert errors == []

    # What the screens look like, one page at a time (a real dwell long enough to take a picture).
    for width, height in SIZES:
        page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
        page.goto(f"{live_server}/board/{event_id}?dwell=2.5")
        page.wait_for_selector("section.item[data-item='WPS'][data-page='1']")
        _shot(page, shots / f"board-{width}-p1.png", full_page=False)
        if (width, height) == (1920, 1080) and os.environ.get("UPDATE_SCREENSHOTS"):
            _shot(page, DOCS_SHOT, full_page=False)
        page.wait_for_selector("section.item[data-item='WPS'][data-page='2']")
        _shot(page, shots / f"board-{width}-p2.png", full_page=False)
        page.close()
