"""Issue #18 point 6: where the notices expect more, the publish page and the offline command warn.

Seed 002: "每个组别初始参赛选手原则上不少于50人（队）、决赛选手原则上不少于30人（队）" and "大赛按照竞赛项目分别设置
一等奖1名、二等奖2名、三等奖3名，另按获奖总人数不得超过决赛参赛选手数量的30%设置优胜奖"; seed 001: "分别设一等奖1名、
二等奖2名、三等奖3名；对参赛人数超过30人的竞赛项目（组别），按照不超过参赛选手人数 30%的比例设优胜奖". Below 30 in the
final, or below N = 20 where the six fixed prizes alone exceed 30 %, the organiser is told, but "原则上" leaves the
decision to them: publishing is still allowed.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from results.offline import compute_command
from results.warnings import result_warnings
from scoring.event_file import AwardPolicy
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_001 = AwardPolicy("merit_if_over_30")
SEED_002 = AwardPolicy("total_within_30pct")


@pytest.mark.parametrize("policy", [SEED_001, SEED_002])
def test_a_group_of_15_is_warned_with_its_numbers(policy: AwardPolicy) -> None:
    """"一等奖1名、二等奖2名、三等奖3名" in a group of 15: 6 of 15 = 40 %, over the notices' 30 %."""
    found = {w["code"]: w for w in result_warnings("LED 显示屏应用", 1, {"职工组": 15}, policy)}
    fixed = found["fixed_prizes_over_30pct"]
    assert fixed["group"] == "职工组" and (fixed["n"], fixed["fixed"]) == (15, 6)
    assert "参赛 15 人" in fixed["message"] and "1+2+3=6" in fixed["message"] and "40.0%" in fixed["message"]
    assert "over 30 %" in fixed["message_en"]
    few = found["few_finalists"]
    assert few["group"] is None and "决赛人数（队数）少于 30" in few["message"] and "共 15 人" in few["message"]


def test_a_group_of_40_and_of_20_is_not_warned() -> None:
    """N = 40 (and the edge N = 20, 6/20 = 30 %, "不超过" allows it): nothing to warn about."""
    assert result_warnings("LED", 1, {"": 40}, SEED_001) == []
    assert [w["code"] for w in result_warnings("LED", 1, {"学生组": 20, "职工组": 19}, SEED_002)] == [
        "fixed_prizes_over_30pct"]  # 39 in the final, but 职工组's 19 is too small for 6 fixed prizes


def test_an_item_of_25_has_few_finalists_and_teams_count_as_teams() -> None:
    """"决赛选手原则上不少于30人（队）": an item of 25 (in groups of 20 + 5) is warned; teams count by the team."""
    found = result_warnings("物联网安装调试员", 1, {"学生组": 20, "职工组": 5}, SEED_002)
    assert [(w["code"], w["group"]) for w in found] == [("few_finalists", None), ("fixed_prizes_over_30pct", "职工组")]
    assert found[0]["count"] == 25 and "共 25 人" in found[0]["message"]
    by_teams = AwardPolicy("total_within_30pct", count="teams")
    [team] = [w for w in result_warnings("双人赛", 2, {"": 25}, by_teams) if w["code"] == "few_finalists"]
    assert "共 25 队" in team["message"] and "25 teams" in team["message_en"]
    # counting people (the default), 25 two-person teams are 50 people: enough for the final
    assert [w["code"] for w in result_warnings("双人赛", 2, {"": 25}, SEED_002)] == []
    assert result_warnings("无人参赛", 1, {"": 0}, SEED_002) == []  # the blockers already say why


def _workbook(rows: list[tuple[str, str, str, str]]) -> bytes:
    out = io.BytesIO()
    pl.DataFrame(rows, schema=["赛位", "裁判", "评分项", "分数"], orient="row").write_excel(out)
    return out.getvalue()


async def test_the_publish_page_and_the_gate_show_the_warnings_without_blocking(client: Any, db: Any) -> None:
    """A final of 15 (seed 002 "不少于30人（队）", six fixed prizes over "30%"): both warnings on the page and in
    GET …/publication, and none of them among the blockers."""
    contest = await seated_contest(db, n=15)
    chief = await login_headers(client, db, "chief", "chief_judge")
    marks = [(seat, "王裁判", crit, str(20 + k)) for k, seat in enumerate(contest.seats) for crit in ("A", "B")]
    imported = await client.post(f"/api/console/events/{contest.event_id}/items/LED/scores/import",
                                 files={"file": ("评分表.xlsx", _workbook(marks))}, headers=chief)
    assert imported.status_code == 200, imported.text
    gate = (await client.get(f"/api/events/{contest.event_id}/items/LED/publication", headers=chief)).json()
    codes = [w["code"] for w in gate["warnings"]]
    assert codes == ["few_finalists", "fixed_prizes_over_30pct"], gate
    assert all({"code", "message", "message_en", "group"} <= set(w) for w in gate["warnings"])
    assert not {b["code"] for b in gate["blockers"]} & set(codes)
    page = await client.get(f"/console/events/{contest.event_id}/publish", headers=chief)
    assert page.status_code == 200, page.text
    led = page.text.split('id="item-LED"', 1)[1].split("</section>", 1)[0]
    assert 'data-code="few_finalists"' in led and 'data-code="fixed_prizes_over_30pct"' in led
    assert "决赛人数（队数）少于 30" in led and "1+2+3=6" in led and "请注意（不影响发布）" in led
    wps = page.text.split('id="item-WPS"', 1)[1].split("</section>", 1)[0]
    assert "few_finalists" not in wps  # nobody seated there: no warnings, only its blockers


def test_the_offline_command_prints_the_warnings_and_writes_the_same_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`contestday results compute` on the example (groups far below 30): the same warnings on stderr; the
    results file is still the committed one."""
    for name in ("event.json", "entries.csv", "scores.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    out = tmp_path / "results.csv"
    code = compute_command(tmp_path / "event.json", tmp_path / "entries.csv", tmp_path / "scores.csv", out, None)
    err = capsys.readouterr().err
    assert code == 0, err
    assert out.read_text(encoding="utf-8") == (EXAMPLES / "results.csv").read_text(encoding="utf-8")
    with out.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["position"]]
    students = len({r["entry"] for r in rows if r["item"] == "LED" and r["group"] == "学生组"})
    assert len({r["entry"] for r in rows if r["item"] == "LED"}) == 11 and students == 8
    assert "警告 warning: LED显示屏应用：决赛人数（队数）少于 30：共 11 人" in err
    assert "LED显示屏应用（学生组）：参赛 8 人，一、二、三等奖 1+2+3=6 名，占 75.0%，已超过 30%" in err
    # award_policy.count defaults to people: the 4 two-person teams are 8 人 (they would be 4 队 by teams)
    assert "工业机器人系统运维（双人团体）：决赛人数（队数）少于 30：共 8 人" in err
