"""Each role of `contestday demo` opens the sign-in link the demo prints, in Chromium, and lands on its own start
page (it used to land on the organiser's event list: a 403 for four of the five roles); every link on that page,
and on the organiser's event hub, opens for that role without a 403 or a 500. Pages still being built may 404:
the test prints which."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from contestday.accounts.security import ROLES
from contestday.demo import DEMO_USERS
from contestday.settings import Settings
from tests.browser.test_pages_browser import _shot

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("START_SHOTS", "/tmp/shots/D"))
DEMO_BASE = "http://127.0.0.1:8000"  # what `contestday demo --no-serve` prints links against
# what each role's start page must offer (paths with {e} for the demo event)
EXPECTED = {
    "organiser": ["/admin/events/{e}", "/admin/events"],
    "chief": ["/console/events/{e}", "/console/events/{e}/publish", "/console/events/{e}/appeals",
              "/console/events/{e}/items/SA01/recheck", "/console/events/{e}/items/SA01/ties"],
    "judge1": ["/judge"],
    "encrypt": ["/sealed/events/{e}"],
    "checkin": ["/kiosk/events/{e}/checkin"],
}


def demo_output(settings: Settings, tmp_path: Path) -> tuple[int, str]:
    """`contestday demo --no-serve` on the test's database, as a user runs it: (event id, what it printed)."""
    env = {**os.environ, "CONTESTDAY_DATABASE_URL": settings.database_url,
           "CONTESTDAY_DATA_DIR": str(settings.data_dir), "CONTESTDAY_SECRET_KEY": settings.secret_key}
    done = subprocess.run([sys.executable, "-m", "contestday.cli", "demo", "--no-serve"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    event_id = int(re.search(r"demo event #(\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    return event_id, done.stdout


def sign_in_links(printed: str) -> dict[str, str]:
    """The demo's printed sign-in link of each user: user → link."""
    return {m.group(1): m.group(2) for m in re.finditer(r"\s(\S+) / \S+\s+(http\S+/login/link/\S+)", printed)}


def _run_demo(settings: Settings, tmp_path: Path) -> tuple[int, dict[str, str]]:
    """(event id, user → link) of a demo run."""
    event_id, printed = demo_output(settings, tmp_path)
    links = sign_in_links(printed)
    assert set(links) == set(DEMO_USERS), printed
    return event_id, links


def _links_of(page: Any, base: str) -> list[str]:
    """Every link in the page's main part, as same-site paths (with their query), each once."""
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(a => a.getAttribute('href'))")
    paths: list[str] = []
    for href in hrefs:
        url = urlsplit(urljoin(base + "/", href))
        path = url.path + (f"?{url.query}" if url.query else "")
        if url.netloc == urlsplit(base).netloc and path not in paths:
            paths.append(path)
    return paths


def _check_links(context: Any, base: str, paths: list[str], who: str, missing: dict[str, list[str]]) -> None:
    for path in paths:
        response = context.request.get(base + path, headers={"Accept": "text/html"}, max_redirects=5)
        assert response.status not in (401, 403, 500), (who, path, response.status, response.text()[:300])
        assert response.status < 500, (who, path, response.status)
        if response.status == 404:
            missing.setdefault(who, []).append(path)


def test_each_demo_role_lands_on_its_start_page(settings: Settings, live_server: str, browser: Any,
                                                tmp_path: Path) -> None:
    event_id, links = _run_demo(settings, tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    missing: dict[str, list[str]] = {}
    for name in DEMO_USERS:
        context = browser.new_context(viewport={"width": 1024, "height": 900}, locale="zh-CN")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        response = page.goto(links[name].replace(DEMO_BASE, live_server))
        assert response is not None and response.status == 200, (name, page.url, response and response.status)
        assert page.url == f"{live_server}/start", (name, page.url)
        assert page.locator("h1").inner_text() == "我的工作台"
        who = page.locator(".start-who").inner_text()  # the demo's display names: 演示组委会, 演示裁判长, …
        assert "演示" in who and ROLES[DEMO_USERS[name][0]][0] in who, (name, who)
        paths = _links_of(page, live_server)
        for wanted in EXPECTED[name] + ["/results/{e}", "/board/{e}"]:
            assert wanted.format(e=event_id) in paths, (name, wanted, paths)
        page.eval_on_selector_all("details", "els => els.forEach(d => { d.open = true; })")  # shoot them open
        for width in (390, 1024, 1440):
            page.set_viewport_size({"width": width, "height": 900})
            _shot(page, SHOTS / f"start-{name}-{width}.png")
        _check_links(context, live_server, paths, name, missing)
        if name == "organiser":  # the hub the organiser's start page leads to
            page.goto(f"{live_server}/admin/events/{event_id}")
            assert page.locator("#hub h2").inner_text() == "赛事工作台"
            hub = [p for p in _links_of(page, live_server) if "/export." not in p]
            page.eval_on_selector_all("#hub details", "els => els.forEach(d => { d.open = true; })")
            for width in (390, 1024, 1440):
                page.set_viewport_size({"width": width, "height": 900})
                page.locator("#hub").screenshot(path=str(SHOTS / f"hub-{width}.png"))
            _check_links(context, live_server, hub, "organiser hub", missing)
        assert errors == [], (name, errors)
        context.close()
    print(f"\n404 (pages not built yet): {missing}")
