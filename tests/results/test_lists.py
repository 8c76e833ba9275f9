"""The lists, from the published snapshot: 获奖名单 with domain.md's columns, 晋升名单, the full results with
every criterion, the qualified list with whole ID numbers (organisers only), the 巴渝青年技能之星 candidates
by age, and the archive score sheets; XLSX with text cells, PDF with the Chinese font embedded."""

from __future__ import annotations

import io
import re
from typing import Any

import polars as pl
from sqlmodel import select

from registration.entries.models import EntryMember
from tests.results.test_publication import marked, settle
from tests.support.helpers import finished_job, login_headers

URL = "/api/events/{event}/items/LED/lists/{name}"


def frame(data: bytes) -> pl.DataFrame:
    return pl.read_excel(io.BytesIO(data), infer_schema_length=0)


async def test_lists_follow_the_published_results(client: Any, db: Any) -> None:
    contest = await marked(db)
    organiser = await login_headers(client, db, "org", "organiser")
    chief = await login_headers(client, db, "chief", "chief_judge")
    early = await client.get(URL.format(event=contest.event_id, name="awards.xlsx"), headers=chief)
    assert early.status_code == 409 and early.json()["code"] == "not_published"
    await settle(db, contest)
    assert (await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={},
                              headers=chief)).status_code == 201

    async def get(name: str, who: dict[str, str] = chief, **params: str) -> Any:
        return await client.get(URL.format(event=contest.event_id, name=name), headers=who, params=params)

    awards = frame((await get("awards.xlsx")).content)
    assert awards.columns == ["序号", "赛项", "组别", "奖项", "姓名", "单位", "指导教师", "晋升等级"]
    assert awards["奖项"].to_list()[:3] == ["一等奖", "二等奖", "二等奖"] and awards.height == 6
    results = frame((await get("results.xlsx")).content)
    assert any(c.startswith("操作规范") or "（" in c for c in results.columns[5:8]) and results.height == 6
    promotions = frame((await get("promotions.xlsx")).content)
    assert set(promotions["证书等级"].to_list()) <= {"三级/高级工"}
    assert (await get("qualified.xlsx")).status_code == 403  # whole ID numbers: the organiser's only
    qualified = frame((await get("qualified.xlsx", organiser)).content)
    async with db() as session:
        members = (await session.exec(select(EntryMember))).all()
    numbers = set(qualified["身份证号"].to_list())
    assert numbers and all(len(n) == 18 and "*" not in n for n in numbers)
    births = {m.name: m.birth_date for m in members}
    winner = awards["姓名"][0]
    born = births[winner]
    # the cut-off is 1 January of year − age (seed 004): in the year of the 30th birthday, under 30 is out
    young = frame((await get("stars.xlsx", age="30", year=str(born.year + 30))).content)
    old = frame((await get("stars.xlsx", age="30", year=str(born.year + 31))).content)
    assert young["姓名"].to_list() == [winner] and old.height == 0
    for name in ("awards.pdf", "results.pdf", "sheets.pdf", "stars.pdf"):
        pdf = await get(name)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and b"FontFile2" in pdf.content, name
    # the score sheets as a spreadsheet too, linked from the publish page (they were in the archive ZIP only, as PDF,
    # so no page gave the marks to check the results with `contestday results compute`): every judge's mark by name
    page = (await client.get(f"/console/events/{contest.event_id}/publish", headers=chief)).text
    assert f"/api/events/{contest.event_id}/items/LED/lists/sheets.xlsx" in page
    sheets = frame((await get("sheets.xlsx")).content)
    assert sheets.columns == ["赛位", "姓名", "评分项", "各裁判评分", "该项得分"] and sheets.height == 6 * 3
    given = [cell for cell in sheets["各裁判评分"].to_list() if cell]  # a deduction nobody gave stays blank
    assert given and all(re.fullmatch(r"\S+ \d+\.\d\d(；\S+ \d+\.\d\d)*", cell) for cell in given), given
    assert (await get("nothing.xlsx")).json()["code"] == "unknown_list"
    assert (await get("stars.xlsx", age="x")).json()["code"] == "invalid_query"


async def test_every_list_in_one_zip_with_progress(client: Any, db: Any) -> None:
    import zipfile

    contest = await marked(db)
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    organiser = await login_headers(client, db, "org", "organiser")
    await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={}, headers=chief)
    base = f"/console/events/{contest.event_id}/exports"
    assert (await client.post(base, headers=chief)).status_code == 403  # whole ID numbers inside
    started = await client.post(base, headers=organiser, follow_redirects=False)
    assert started.status_code == 303
    page = started.headers["location"]
    view = await finished_job(client, page, organiser)
    assert view["state"] == "done" and view["done"] == view["total"] == 11 and view["percent"] == 100
    shown = await client.get(page, headers=organiser)
    assert "已完成：11 份" in shown.text and "archive.zip" in shown.text
    archive = zipfile.ZipFile(io.BytesIO((await client.get(f"{page}/archive.zip", headers=organiser)).content))
    names = archive.namelist()
    assert len(names) == 11 and "LED/LED显示屏应用获奖名单.xlsx" in names and "LED/LED显示屏应用评分表存档.pdf" in names
    assert (await client.get(f"{base}/nope", headers=organiser)).status_code == 404
