"""The theory import page in headless Chromium, reached from the publish page's `theory_missing` blocker: a
sheet with wrong rows shows the report row by row, a dry run shows what would be imported, the import waits,
the importer's own confirmation is refused, a second person (another browser, another account) confirms it
and the blocker is gone. Screenshots at 390, 1024 and 1440 px wide under tmp_path (nothing wider than the
viewport)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.pool import NullPool

from contestday.accounts import service as accounts
from contestday.db.engine import create_engine, create_sessionmaker
from contestday.settings import Settings
from tests.browser.test_console_browser import _run
from tests.browser.test_recheck_browser import _shots
from tests.registration.test_registration_admin import xlsx
from tests.results.test_theory_page import HEADER, people
from tests.support.judging_setup import Contest, seated_contest

pytestmark = pytest.mark.browser


async def _seed(settings: Settings) -> tuple[Contest, list[dict[str, str]]]:
    engine = create_engine(settings.database_url, poolclass=NullPool)
    db = create_sessionmaker(engine)
    try:
        contest = await seated_contest(db, n=4, theory_weight="0.3")
        async with db() as session:
            await accounts.add_user(session, "chief", "pw-12345678", ["chief_judge"], display_name="赵裁判长")
            await accounts.add_user(session, "org", "pw-12345678", ["organiser"], display_name="钱组织")
            await session.commit()
        return contest, await people(db, contest)
    finally:
        await engine.dispose()


def _sign_in(page: Any, base: str, path: str, name: str) -> None:
    page.goto(f"{base}{path}")
    assert "/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", "pw-12345678")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{base}{path}")


def _upload(page: Any, sheet: Path, dry_run: bool = False) -> None:
    page.set_input_files("#upload-form input[name=file]", str(sheet))
    page.set_checked("#upload-form input[name=dry_run]", dry_run)
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()


def test_upload_see_the_report_and_confirm_as_the_second_person(settings: Settings, live_server: str,
                                                                browser: Any, tmp_path: Path) -> None:
    contest, everyone = _run(_seed(settings))
    a, b, c, d = everyone
    bad = tmp_path / "理论成绩-有误.xlsx"
    bad.write_bytes(xlsx([[a["ticket"], "别人", "", "88", ""], [b["ticket"], b["name"], "", "101", ""],
                          [c["ticket"], c["name"], "", "75.5", ""], [c["ticket"], c["name"], "", "76", ""],
                          ["", "", int("500103199506151234"), "60", ""]], header=HEADER))
    good = tmp_path / "理论成绩.xlsx"
    good.write_bytes(xlsx([[a["ticket"], a["name"], "", "88", ""], [b["ticket"], b["name"], "", "92.25", ""],
                           [c["ticket"], c["name"], "", "75.5", ""], [d["ticket"], d["name"], "", "", "病假"]],
                          header=HEADER))
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    publish = f"/console/events/{contest.event_id}/publish"
    theory = f"/console/events/{contest.event_id}/items/LED/theory"
    _sign_in(page, live_server, publish, "chief")
    blocker = page.locator('#item-LED li[data-code="theory_missing"]')
    assert "4 名参赛选手缺理论成绩" in blocker.inner_text()
    blocker.locator("a", has_text="导入理论成绩").click()
    page.wait_for_url(f"**{theory}")
    assert "有 4 名到场选手缺理论成绩" in page.inner_text("#theory-state")
    _shots(page, tmp_path, "theory-empty")

    _upload(page, bad)
    assert "未导入任何成绩" in page.inner_text("[role=alert]") and "theory_refused" in page.inner_text("[role=alert]")
    rows = page.locator("#report tbody tr")
    assert [rows.nth(k).get_attribute("data-row") for k in range(rows.count())] == ["2", "3", "5", "6"]
    report = page.inner_text("#report")
    for code in ("name_mismatch", "out_of_range", "duplicate_row", "numeric_cell"):
        assert code in report
    assert "与报名信息" in report and "0–100" in report
    _shots(page, tmp_path, "theory-refused")

    _upload(page, good, dry_run=True)
    assert "检查结果（未导入）" in page.inner_text("#report") and "可以导入 4 行" in page.inner_text("#report")
    assert page.locator("#pending").count() == 0
    _shots(page, tmp_path, "theory-dry-run")
    _upload(page, good)
    page.wait_for_url("**done=staged**")
    assert "等待另一人确认" in page.inner_text("[role=status]")
    assert page.locator("#pending tbody tr").count() == 4 and "须由另一人" in page.inner_text("#pending")
    _shots(page, tmp_path, "theory-pending")
    page.click("#confirm-form button")
    assert "理论成绩须由导入人以外的另一人确认" in page.inner_text("[role=alert]")
    assert "four_eyes" in page.inner_text("[role=alert]") and page.locator("#pending").count() == 1

    other = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(other, live_server, theory, "org")
    assert "须由另一人" not in other.inner_text("#pending") and "赵裁判长" in other.inner_text("#pending")
    other.click("#confirm-form button")
    other.wait_for_url("**done=confirmed**")
    assert "已确认：4 人的理论成绩已计入" in other.inner_text("[role=status]")
    assert "到场选手均已有确认的理论成绩" in other.inner_text("#theory-state")
    other.click("#scores summary")
    assert "92.25" in other.inner_text("#scores") and "病假" in other.inner_text("#scores")
    _shots(other, tmp_path, "theory-confirmed")
    page.goto(f"{live_server}{publish}")
    assert page.locator('#item-LED li[data-code="theory_missing"]').count() == 0
    assert errors == []
