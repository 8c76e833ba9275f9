"""The organiser's registration pages in headless Chromium: sign in, read the overview, open the review
queue, approve one entry. The review queue's screenshot is kept for the README
(docs/screenshots/registration-review.png, refreshed with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from contestday.settings import Settings
from tests.browser.test_pages_browser import _add_organiser, _shot, _sign_in
from tests.conftest import ADMIN_TOKEN
from tests.registration.test_registration_api import person, reg_event

pytestmark = pytest.mark.browser

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "registration-review.png"


def _post(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _seed(base: str) -> int:
    """An event with ordinary entries, a likely duplicate and an employee whose qualification is to check."""
    event_id = int(_post(f"{base}/api/events", reg_event(unit_quota_mode="warn"), ADMIN_TOKEN)["id"])
    url = f"{base}/api/events/{event_id}/registrations"
    for unit in ("重庆市工业高级技工学校", "重庆电子科技职业大学", "重庆城市管理职业学院"):
        _post(url, person(unit=unit))
    _post(url, person(name="王小红", phone="13700137000", unit="重庆电子科技职业大学"))
    _post(url, person(name="王小红", phone="13700137000", unit="重庆电子科技职业大学", item="WPS"))
    _post(url, person(name="赵建国", group="职工组", identity="employee", unit="重庆长安汽车股份有限公司"))
    return event_id


def test_organiser_reviews_registrations(settings: Settings, live_server: str, browser: Any, tmp_path: Path) -> None:
    _add_organiser(settings)
    event_id = _seed(live_server)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live_server)

    base = f"{live_server}/admin/events/{event_id}/registrations"
    page.goto(f"{base}/")
    assert page.locator("h1").inner_text() == "报名概览"
    assert page.locator(".reg-status .badge").inner_text() == "报名中"
    assert page.locator("text=不足 50 人（队）").count() >= 1
    assert page.locator(".tabs .count").inner_text() == "2"
    _shot(page, tmp_path / "overview.png")

    page.click(".tabs >> text=审核")
    page.wait_for_url(f"{base}/review")
    cases = page.locator(".review-case")
    assert cases.count() == 2
    assert page.locator("table.side-by-side").is_visible()  # the likely duplicate next to the existing entry
    employee = cases.filter(has_text="赵建国")
    employee.locator("button.approve").click()
    page.wait_for_url(f"{base}/review?done=approve*")  # the form's #entry-N fragment may stay
    assert page.locator(".notice.ok").inner_text() == "已通过审核"
    assert page.locator(".review-case").count() == 1 and page.locator(".tabs .count").inner_text() == "1"
    _shot(page, DOCS_SHOT if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "review.png")

    # rejecting without a reason is refused next to the case, and nothing changes
    page.locator(".review-case button.secondary").click()
    assert page.locator(".review-case .field-error").inner_text() == "驳回须填写理由"
    assert page.locator(".review-case").count() == 1
    _shot(page, tmp_path / "review-refused.png")
    assert errors == []
