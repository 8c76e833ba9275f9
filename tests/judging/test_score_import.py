"""Scores from paper: a workbook of marks (赛位, 裁判, 评分项, 分数) goes through the tablet's rules, all or
nothing, into the scores and the audit log."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
from sqlalchemy import text

from judging.audit import replay_matches, verify_event
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest


def workbook(rows: list[tuple[str, str, str, str]]) -> bytes:
    out = io.BytesIO()
    pl.DataFrame(rows, schema=["赛位", "裁判", "评分项", "分数"], orient="row").write_excel(out)
    return out.getvalue()


async def test_a_scores_workbook_is_all_or_nothing_through_the_tablet_rules(client: Any, db: Any) -> None:
    contest = await seated_contest(db, n=3)
    chief = await login_headers(client, db, "chief", "chief_judge")
    url = f"/api/console/events/{contest.event_id}/items/LED/scores/import"
    good = [(seat, "王裁判", crit, value) for seat in contest.seats for crit, value in (("A", "30"), ("B", "35.5"))]
    empty = next(f"A{n:02d}" for n in range(1, 21) if f"A{n:02d}" not in contest.seats)
    bad = [*good, (contest.seats[0], "王裁判", "A", "99"), (empty, "王裁判", "A", "1"),
           (contest.seats[1], "无名氏", "A", "1")]
    refused = await client.post(url, files={"file": ("评分表.xlsx", workbook(bad))}, headers=chief)
    assert refused.status_code == 422 and refused.json()["code"] == "import_refused"
    assert [(e["row"], e["code"]) for e in refused.json()["errors"]] == [
        (8, "score_out_of_range"), (9, "empty_seat"), (10, "unknown_judge")]
    async with db() as session:
        assert (await session.exec(text("SELECT count(*) FROM score"))).one()[0] == 0  # nothing stored
    done = await client.post(url, files={"file": ("评分表.xlsx", workbook(good))}, headers=chief)
    assert done.status_code == 200 and done.json()["applied"] == 6
    again = await client.post(url, files={"file": ("评分表.csv", "赛位,裁判,评分项,分数\n"
                                                   f"{contest.seats[0]},王裁判,A,31\n".encode("gb18030"))},
                              headers=chief)
    assert again.status_code == 200  # a correction: the import overrides, and the log keeps the old value
    async with db() as session:
        scores = (await session.exec(text("SELECT value, version, source FROM score ORDER BY id"))).all()
        assert len(scores) == 6 and tuple(scores[0]) == (3100, 2, "import")
        links = (await session.exec(text("SELECT device, old_value, new_value FROM score_event "
                                         "ORDER BY seq DESC LIMIT 1"))).all()
        assert tuple(links[0]) == ("import:chief", "30.00", "31.00")
        assert await verify_event(session, contest.event_id) == (7, None)
        assert await replay_matches(session, contest.event_id) == []
    no_header = await client.post(url, files={"file": ("x.csv", b"a,b\n1,2\n")}, headers=chief)
    assert no_header.status_code == 422 and no_header.json()["code"] == "no_header"
    judge = await login_headers(client, db, "j", "judge")
    assert (await client.post(url, files={"file": ("评分表.xlsx", workbook(good))}, headers=judge)).status_code == 403
