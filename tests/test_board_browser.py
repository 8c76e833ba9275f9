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

from contestday.db import create_engine, create_sessionmaker
from contestday.settings import Settings
from registration.accounts import service as accounts
from tests.test_console_browser import _run
from tests.test_pages_browser import _shot
from tests.test_publication import marked, settle

pytestmark = pytest.mark.browser


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
