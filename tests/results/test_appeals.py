"""Appeals: a contestant files with the ticket code inside the window (2 h after the item ends, i.e. its
scores locked), the organiser records paper appeals, arbitration rules; an upheld ruling that changes the
results publishes version 2; results are final once the notice period is over with no appeal open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import select

from contestday.db.types import utcnow
from registration.entries.models import Entry
from results.appeals import is_final
from results.publication_routes import public_results
from tests.results.test_publication import marked, settle
from tests.support.helpers import login_headers


async def _published(client: Any, db: Any) -> tuple[Any, dict[str, str], list[str]]:
    contest = await marked(db)
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    assert (await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={},
                              headers=chief)).status_code == 201
    async with db() as session:
        codes = [e.ticket_code for e in (await session.exec(select(Entry).where(Entry.item_id == contest.item_id)))]
    return contest, chief, codes


async def test_contestant_appeals_inside_the_window_only(client: Any, db: Any) -> None:
    contest, _chief, codes = await _published(client, db)
    url = f"/api/events/{contest.event_id}/appeals"
    filed = await client.post(url, json={"ticket_code": codes[0].lower(), "text": "B 项评分与现场不符"})
    assert filed.status_code == 201 and filed.json()["state"] == "open"
    unknown = await client.post(url, json={"ticket_code": "X" * 26, "text": "…"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_ticket"
    assert (await client.post(url, json={"ticket_code": codes[1], "text": " "})).json()["code"] == "missing_field"
    async with db() as session:  # the item ended (scores locked) three hours ago
        await session.exec(text("UPDATE item_stage SET scores_locked_at = :t").bindparams(
            t=(utcnow() - timedelta(hours=3)).replace(tzinfo=None)))
        await session.commit()
    late = await client.post(url, json={"ticket_code": codes[1], "text": "迟交的申诉"})
    assert late.status_code == 422 and late.json()["code"] == "appeal_window_closed"
    page = await client.post(f"/appeal/{contest.event_id}", data={"ticket_code": codes[2], "text": "迟交"})
    assert page.status_code == 422 and "申诉时限已过" in page.text


async def test_the_appeal_form_page_files_one(client: Any, db: Any) -> None:
    contest, _chief, codes = await _published(client, db)
    form = await client.get(f"/appeal/{contest.event_id}")
    assert form.status_code == 200 and 'name="ticket_code"' in form.text
    done = await client.post(f"/appeal/{contest.event_id}", data={"ticket_code": codes[0], "text": "请复核 A 项"})
    assert done.status_code == 201 and "申诉已提交" in done.text
    missing = await client.post(f"/appeal/{contest.event_id}", data={"ticket_code": "", "text": "x"})
    assert missing.status_code == 422 and "请填写参赛凭证号" in missing.text


async def test_an_upheld_ruling_that_changes_results_publishes_version_2(client: Any, db: Any) -> None:
    contest, chief, codes = await _published(client, db)
    organiser = await login_headers(client, db, "org", "organiser")
    base = f"/api/events/{contest.event_id}/appeals"
    paper = await client.post(f"{base}/paper", headers=organiser,
                              json={"item": "LED", "text": "书面申诉：计时有误", "filed_by": "某单位领队"})
    assert paper.status_code == 201 and paper.json()["source"] == "paper"
    mine = await client.post(base, json={"ticket_code": codes[0], "text": "A 项漏计"})
    appeal_id = mine.json()["id"]
    assert (await client.post(f"{base}/{appeal_id}/ruling", json={"ruling": "upheld", "text": "x"},
                              headers=chief)).status_code == 403  # arbitration is the organiser's
    dismissed = await client.post(f"{base}/{paper.json()['id']}/ruling",
                                  json={"ruling": "dismissed", "text": "计时记录无误"}, headers=organiser)
    assert dismissed.json()["state"] == "dismissed" and dismissed.json()["version"] is None
    upheld = await client.post(f"{base}/{appeal_id}/ruling",
                               json={"ruling": "upheld", "text": "A 项补计 2 分", "changes_results": True},
                               headers=organiser)
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["state"] == "upheld" and upheld.json()["version"] == 2
    again = await client.post(f"{base}/{appeal_id}/ruling", json={"ruling": "dismissed", "text": "x"},
                              headers=organiser)
    assert again.status_code == 409 and again.json()["code"] == "already_ruled"
    view = (await client.get(f"/api/public/events/{contest.event_id}/results")).json()["items"][0]["view"]
    assert view["version"] == 2
    listed = (await client.get(base, headers=chief)).json()
    assert [a["state"] for a in listed] == ["dismissed", "upheld"]


async def test_final_after_the_notice_period_with_no_open_appeal(client: Any, db: Any) -> None:
    contest, _chief, codes = await _published(client, db)
    later = utcnow() + timedelta(days=30)
    async with db() as session:
        assert not await is_final(session, contest.item_id)  # in its notice period
        assert await is_final(session, contest.item_id, later)
        assert (await public_results(session, contest.event_id, later))["items"][0]["final"]
    assert (await client.post(f"/api/events/{contest.event_id}/appeals",
                              json={"ticket_code": codes[0], "text": "异议"})).status_code == 201
    async with db() as session:
        assert not await is_final(session, contest.item_id, later)  # an appeal is open
