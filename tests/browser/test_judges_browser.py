"""The organiser's judge pages in headless Chromium: add a judge and an examiner card, seat judges on an
item's panel and see the warnings (card expired on the contest day, same unit as a contestant), revoke a
personal link. The registry's screenshot is kept for the README (docs/screenshots/judges.png, refreshed
with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from contestday.settings import Settings
from tests.browser.test_pages_browser import _add_organiser, _shot, _sign_in
from tests.browser.test_registration_admin_browser import _post
from tests.conftest import ADMIN_TOKEN
from tests.registration.test_registration_api import person, reg_event

pytestmark = pytest.mark.browser

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "judges.png"


def _add_judge(page: Any, base: str, name: str, unit: str, phone: str, id_number: str = "") -> None:
    page.goto(f"{base}/judges")
    form = page.locator("#add form")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=unit]").fill(unit)
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=id_number]").fill(id_number)
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/judges/*?done=added")


def _add_card(page: Any, occupation: str, number: str, valid_until: str) -> None:
    form = page.locator("form.card-form")
    form.locator("input[name=occupation]").fill(occupation)
    form.locator("input[name=number]").fill(number)
    form.locator("input[name=valid_until]").fill(valid_until)  # type=date takes ISO
    form.locator("select[name=level]").select_option("3")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**?done=card_added*")


def _assign(page: Any, base: str, name: str, role: str, criteria: tuple[str, ...] = ()) -> None:
    page.goto(f"{base}/items/LED/panel")
    form = page.locator("form.assign-form")
    form.locator("select[name=judge_id]").select_option(label=page.locator(
        f"form.assign-form option:has-text('{name}')").inner_text())
    form.locator("select[name=role]").select_option(role)
    for code in criteria:
        form.locator(f"input[name=criteria][value={code}]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/panel?done=assigned")


def test_organiser_builds_a_panel(settings: Settings, live_server: str, browser: Any, tmp_path: Path) -> None:
    _add_organiser(settings)
    event_id = int(_post(f"{live_server}/api/events", reg_event(unit_quota_mode="warn"), ADMIN_TOKEN)["id"])
    for unit in ("重庆电子科技职业大学", "重庆市工业高级技工学校"):
        _post(f"{live_server}/api/events/{event_id}/registrations", person(unit=unit))
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live_server)
    base = f"{live_server}/admin/events/{event_id}"

    _add_judge(page, base, "陈建华", "重庆市职业技能鉴定指导中心", "13900001111", "11010519491231002X")
    assert page.locator("input[name=id_number]").input_value() == "11010519491231002X"  # own page: whole
    _add_card(page, "LED显示屏应用", "KP-2024-0107", "2027-06-30")
    assert page.locator("table.exam-cards .badge.ok").inner_text() == "比赛日有效"
    _add_judge(page, base, "刘文静", "重庆电子科技职业大学", "13900002222")  # a contestant's unit
    _add_card(page, "LED显示屏应用", "KP-2023-0412", "2026-12-19")  # the day before the contest (12-20)
    assert page.locator("table.exam-cards .badge.bad").inner_text() == "比赛日已过期"
    _add_judge(page, base, "王海", "重庆城市管理职业学院", "13900003333")
    _add_card(page, "电工", "KP-2025-0033", "2028-03-31")
    _add_judge(page, base, "赵敏", "重庆市人力资源和社会保障局", "13900004444")

    _assign(page, base, "陈建华", "chief_judge")
    _assign(page, base, "刘文静", "judge", ("A", "B"))
    _assign(page, base, "王海", "judge", ("B", "S"))
    _assign(page, base, "赵敏", "encryption_judge")
    panel = page.locator("table.panel")
    assert panel.locator("tr.role-chief_judge").count() == 1
    liu = panel.locator("tr", has_text="刘文静")
    assert liu.locator("[data-code=same_unit]").is_visible()
    assert liu.locator("[data-code=card_expired]").is_visible()
    assert panel.locator("tr", has_text="王海").locator("[data-code=card_other_occupation]").is_visible()
    assert panel.locator("tr", has_text="陈建华").locator(".judge-warning").count() == 0
    assert page.locator(".panel-warnings").count() == 0  # chief, encryption judge, every criterion covered
    _shot(page, tmp_path / "panel.png")

    page.goto(f"{base}/judges")
    assert page.locator("table.judges td.id-masked", has_text="1101**********002X").is_visible()
    assert page.locator("text=11010519491231002X").count() == 0  # masked on every page but the judge's own
    assert page.locator("table.judges tr", has_text="刘文静").locator("[data-code=same_unit]").is_visible()
    _shot(page, DOCS_SHOT if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path / "judges.png")

    # revoke: the page shows a new link
    page.locator("table.judges a.person", has_text="王海").click()
    old = page.locator("input.link-url").input_value()
    assert page.locator(".qr-box svg").is_visible()
    page.locator("details.confirm summary").click()
    page.locator("button.revoke").click()
    page.wait_for_url("**?done=revoked*")
    assert page.locator("input.link-url").input_value() != old
    _shot(page, tmp_path / "judge.png")
    assert errors == []
