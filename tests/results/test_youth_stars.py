"""巴渝青年技能之星 direct nominations (seed 004, the notice of 2023-11-24): "年龄在40周岁以下（1983年1月1日以后
出生）" is a cut-off by birth date — born on or after 1 January of the nomination year − 40 — and only
"2022～2023年“巴渝工匠”杯市级行业职业技能竞赛一等奖选手，直接纳入“巴渝青年技能之星”命名培养": district and
enterprise contests get no such list (the stars list, the publish page, the ZIP of every list)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import polars as pl
import pytest
from sqlmodel import select

from registration.entries.models import EntryMember
from registration.events.models import Event
from tests.results.test_publication import marked, settle
from tests.support.helpers import finished_job, login_headers

URL = "/api/events/{event}/items/LED/lists/{name}"


async def published(client: Any, db: Any, kind: str = "city_industry") -> tuple[Any, dict[str, str]]:
    contest = await marked(db)
    if kind != "city_industry":
        async with db() as session:
            event = (await session.exec(select(Event).where(Event.id == contest.event_id))).one()
            event.kind = kind
            session.add(event)
            await session.commit()
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    assert (await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={},
                              headers=chief)).status_code == 201
    return contest, chief


async def born_on(db: Any, name: str, day: date) -> None:
    async with db() as session:
        member = (await session.exec(select(EntryMember).where(EntryMember.name == name))).one()
        member.birth_date = day
        session.add(member)
        await session.commit()


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return pl.read_excel(io.BytesIO(response.content), infer_schema_length=0)["姓名"].to_list()


async def test_born_on_1983_01_01_is_in_for_2023(client: Any, db: Any) -> None:
    """"40周岁以下（1983年1月1日以后出生）": for 2023, born 1983-01-01 is in (though 40 on publication day),
    born 1982-12-31 is out."""
    contest, chief = await published(client, db)

    async def stars(**params: str) -> Any:
        return await client.get(URL.format(event=contest.event_id, name="stars.xlsx"), headers=chief, params=params)

    awards = await client.get(URL.format(event=contest.event_id, name="awards.xlsx"), headers=chief)
    winner = pl.read_excel(io.BytesIO(awards.content), infer_schema_length=0)["姓名"][0]
    await born_on(db, winner, date(1983, 1, 1))
    assert names(await stars(year="2023")) == [winner]
    assert names(await stars(year="2023", age="40")) == [winner]
    assert names(await stars(on="2023-12-29")) == [winner]  # an older client's date: its year
    pdf = await client.get(URL.format(event=contest.event_id, name="stars.pdf"), headers=chief,
                           params={"year": "2023"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    await born_on(db, winner, date(1982, 12, 31))
    assert names(await stars(year="2023")) == []
    # by default the nomination year is the publication's: 1 January of that year − 40
    year = date.today().year
    await born_on(db, winner, date(year - 40, 1, 1))
    assert names(await stars()) == [winner]
    await born_on(db, winner, date(year - 41, 12, 31))
    assert names(await stars()) == []
    for bad in ({"year": "x"}, {"age": "0"}, {"on": "2023-13-01"}):
        assert (await stars(**bad)).json()["code"] == "invalid_query"


@pytest.mark.parametrize("kind", ["district", "enterprise_college"])
async def test_district_and_enterprise_contests_offer_no_stars(client: Any, db: Any, kind: str) -> None:
    """Only "“巴渝工匠”杯市级行业职业技能竞赛一等奖选手" go straight in: a district or enterprise contest refuses
    the list and does not offer it on the publish page; its other lists stay."""
    contest, chief = await published(client, db, kind)
    refused = await client.get(URL.format(event=contest.event_id, name="stars.xlsx"), headers=chief)
    body = refused.json()
    assert refused.status_code == 409 and body["code"] == "stars_not_offered", body
    assert body["message"] == "巴渝青年技能之星直接推荐仅适用于市级行业职业技能竞赛"
    assert (await client.get(URL.format(event=contest.event_id, name="awards.xlsx"),
                             headers=chief)).status_code == 200
    page = await client.get(f"/console/events/{contest.event_id}/publish", headers=chief)
    assert page.status_code == 200 and "awards.xlsx" in page.text and "stars.xlsx" not in page.text


async def test_city_industry_publish_page_offers_stars(client: Any, db: Any) -> None:
    """A 市级行业职业技能竞赛 offers the 巴渝青年技能之星推荐名单 beside its other lists."""
    city, chief = await published(client, db)
    page = await client.get(f"/console/events/{city.event_id}/publish", headers=chief)
    assert "巴渝青年技能之星推荐名单" in page.text and "stars.xlsx" in page.text


async def test_district_archive_leaves_out_stars(client: Any, db: Any) -> None:
    """The ZIP of every list follows the same rule: a district contest's archive has no stars list and still
    completes (9 files: 5 lists as XLSX and PDF, the score sheets as PDF only)."""
    import zipfile

    contest, _chief = await published(client, db, "district")
    organiser = await login_headers(client, db, "org", "organiser")
    started = await client.post(f"/console/events/{contest.event_id}/exports", headers=organiser,
                                follow_redirects=False)
    page = started.headers["location"]
    view = await finished_job(client, page, organiser)
    assert view["state"] == "done" and view["total"] == 9, view
    archive = zipfile.ZipFile(io.BytesIO((await client.get(f"{page}/archive.zip", headers=organiser)).content))
    assert not any("巴渝青年技能之星" in n for n in archive.namelist()) and len(archive.namelist()) == 9
