"""#18 point 3: "Deductions marked by several judges are averaged silently: one judge deducts 5 and another 0 →
−2.50; the other leaving it blank → −5.00; no warning either way. Treat a deduction like a measurement: the
judges who mark it must agree, or the chief judge settles it on the console (a finding that blocks the lock)."

Contracts §2: a criterion is a `measurement` ("one score per entry; several judges entering it must agree") or a
`deduction` ("points taken off the practical, never below 0"); §3: "A deduction with no rows counts 0". So a
deduction is one agreed figure like a measurement: judges' marks that differ are `deduction_disagreement` (an
error) in the pure checks, the offline command (exit 2) and on the console, where an assigned judge's blank is
that judge's "nothing to take off" (0) once anyone has marked the cell, until the judges agree or the chief judge
records 裁定扣分.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from sqlalchemy import text

from judging.analysis import Panel, cell_findings
from judging.service import apply_op
from scoring.checks import check_deduction, check_item_marks
from scoring.event_file import CriterionSpec, parse_event_document
from scoring.fast import score_frames
from scoring.marking import MarkingError, aggregate, evaluate_entry
from tests.judging.test_judging_ws import connect, op, recv
from tests.results.test_cli_results_compute import append, compute, files, rows_of  # noqa: F401 (files: a fixture)
from tests.support.helpers import login_headers
from tests.support.judging_setup import Contest, judge_cookie, seated_contest
from tests.support.results_cases import event_doc, item_doc

D = Decimal
S = CriterionSpec("S", "安全违规扣分", D(10), "deduction")
EVENT = parse_event_document(event_doc([item_doc("X", [
    {"code": "A", "name": "a", "max": 40, "kind": "measurement"},
    {"code": "B", "name": "b", "max": 60, "kind": "judgement", "aggregate": "mean"},
    {"code": "S", "name": "s", "max": 10, "kind": "deduction"}])]))
ITEM = EVENT.items[0]


# ---- the pure layer ----

def test_a_deduction_the_judges_differ_on_is_an_error_not_a_mean() -> None:
    """"one judge deducts 5 and another 0 → −2.50": now a finding, like a measurement's disagreement."""
    (finding,) = check_deduction(S, [("J1", D(5)), ("J2", D(0))])
    assert (finding.code, finding.severity, finding.judges, finding.values) == (
        "deduction_disagreement", "error", ("J1", "J2"), (D(5), D(0)))
    assert "扣分不一致" in finding.zh and "裁判长" in finding.zh
    assert check_deduction(S, [("J1", D(5)), ("J2", D("5.00"))]) == []  # agreeing marks give that value
    assert [f.code for f in check_item_marks(ITEM, {"A": [("J1", D(30))], "B": [("J1", D(40))],
                                                     "S": [("J1", D(5)), ("J2", D(0))]})] == ["deduction_disagreement"]
    with pytest.raises(MarkingError) as info:
        aggregate(S, [D(5), D(0)])
    assert info.value.code == "deduction_disagreement"
    agreed = aggregate(S, [D(5), D(5)])
    assert (agreed.method, agreed.score) == ("agreed", D("5.00"))
    score = evaluate_entry(ITEM, {"A": [D(30)], "B": [D(40)], "S": [D(5), D(5)]}, None)
    assert score.deducted == D(5) and score.practical == D(65)  # 30 + 40 − 5, not − 2.50


def test_the_fast_path_flags_the_disagreement_and_takes_off_the_agreed_value() -> None:
    entries = pl.DataFrame({"entry": ["E1", "E2"], "item": ["X", "X"], "theory_c": [None, None]},
                           schema={"entry": pl.String, "item": pl.String, "theory_c": pl.Int64})
    rows = [("E1", "A", 3000), ("E1", "B", 4000), ("E1", "S", 500), ("E1", "S", 0),
            ("E2", "A", 3000), ("E2", "B", 4000), ("E2", "S", 500), ("E2", "S", 500)]
    scores = pl.DataFrame({"entry": [r[0] for r in rows], "criterion": [r[1] for r in rows],
                           "score_c": [r[2] for r in rows]})
    out = score_frames(EVENT.items, entries, scores).entries
    assert out["n_disagree"].to_list() == [1, 0]
    assert out["deducted_c"].to_list()[1] == 500 and out["practical_c"].to_list()[1] == 6500


def test_console_counts_an_assigned_judges_blank_as_no_deduction() -> None:
    """"the other leaving it blank → −5.00": a judge the panel expects on S who left it blank said 0."""
    names = {1: "王", 2: "张", 3: "赵"}
    panel = Panel({1: (), 2: (), 3: ("A", "B")}, {})  # 赵 is not assigned S: never expected there

    def codes(marks: dict[tuple[str, str], list[tuple[int, Decimal]]], ruled: Any = ()) -> list[Any]:
        return [(f["code"], f["values"], f.get("blank")) for f in
                cell_findings([S], {"01": ""}, marks, panel, names, ruled)]

    assert codes({("01", "S"): [(1, D(5))]}) == [("deduction_disagreement", ["5.00", "0.00"], [2])]
    assert codes({("01", "S"): [(1, D(5)), (2, D(0))]}) == [("deduction_disagreement", ["5.00", "0.00"], [])]
    assert codes({("01", "S"): [(1, D(5)), (2, D(5))]}) == []  # 赵's blank is not a mark on S
    assert codes({("01", "S"): [(1, D(0))]}) == []  # 0 and a blank agree: nothing off
    assert codes({}) == []  # nobody marked it: no rows count 0 (contracts §3)
    assert codes({("01", "S"): [(1, D(5))]}, ruled={("01", "S")}) == []  # the chief judge has ruled


# ---- the offline command ----

def test_offline_command_refuses_deduction_judges_who_disagree(files: Path) -> None:  # noqa: F811
    """Exit 2 naming the file, entry and criterion, writing nothing (contracts §3: "2 with a clear message
    naming the file, row and column on bad input, writing nothing")."""
    row = append(files / "scores.csv", "S03", "S", "J2", "0")  # S03: J1 took 2 off, J2 nothing
    code, _out, err = compute(files)
    assert code == 2 and not (files / "results.csv").exists()
    assert f"scores.csv 第 {row} 行" in err and "S03" in err and "扣分项 S" in err and "deduction S" in err
    rows = rows_of(files / "scores.csv")
    rows[-1][3] = "2"  # the judges agree: 2 off, as before
    with (files / "scores.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    code, _out, err = compute(files)
    assert code == 0, err
    assert (files / "results.csv").read_text(encoding="utf-8") == (
        Path(__file__).resolve().parents[2] / "examples" / "results.csv").read_text(encoding="utf-8")


# ---- the server: tablets, console, lock, results ----

JUDGES = (("王裁判", "评审中心"), ("张裁判", "评审中心二"))


@pytest.fixture
async def contest(db: Any) -> Contest:
    return await seated_contest(db, n=3, judges=JUDGES)


async def _mark(db: Any, name: str, seat: str, criterion: str, value: str | None, op_id: str, base: int = 0) -> None:
    from sqlmodel import select

    from judging.models import Judge
    async with db() as session:
        judge = (await session.exec(select(Judge).where(Judge.name == name))).one()
        applied = await apply_op(session, judge, op(op_id, seat, value, base, criterion))
    assert applied.reply["type"] == "ack", applied.reply


async def _fill(db: Any, contest: Contest) -> None:
    """Every seat marked on A and B by both judges (A 30, B 40): only S is left to decide."""
    for k, seat in enumerate(contest.seats):
        for name in ("王裁判", "张裁判"):
            await _mark(db, name, seat, "A", "30", f"{name}-A-{k}")
            await _mark(db, name, seat, "B", "40", f"{name}-B-{k}")


async def _ruling_audit(db: Any) -> list[tuple[Any, ...]]:
    async with db() as session:
        rows = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT old_value, new_value, reason FROM score_event WHERE kind = 'ruling' ORDER BY seq"))).all()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("other", ["0", None], ids=["five_and_zero", "five_and_blank"])
async def test_chief_judge_rules_and_results_use_the_ruling(settings: Any, live_server: str, client: Any, db: Any,
                                                            contest: Contest, other: str | None) -> None:
    """5 and 0 (or 5 and a blank) on S: the console shows the finding with the seat, the lock is refused, the
    publish gate lists it; 裁定扣分 5 settles it: the lock works and results take 5 off (not 2.50)."""
    chief = await login_headers(client, db, "chief", "chief_judge")
    base = f"/api/console/events/{contest.event_id}/items/LED"
    seat = contest.seats[0]
    await _fill(db, contest)
    tablet = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(tablet)
    await tablet.send(json.dumps(op("w-s", seat, "5", criterion="S")))  # on the tablet
    assert (await recv(tablet))["type"] == "ack"
    await tablet.close()
    if other is not None:
        await _mark(db, "张裁判", seat, "S", other, "z-s")
    async with httpx.AsyncClient(base_url=live_server, headers=chief) as http:
        snap = (await http.get(base)).json()
        found = [f for f in snap["findings"] if f["code"] == "deduction_disagreement"]
        assert [(f["seat"], f["criterion"], f["values"], f["severity"]) for f in found] == [
            (seat, "S", ["5.00", "0.00"], "error")]
        assert ("未填" in found[0]["message"]) == (other is None)
        assert [p["seat"] for p in snap["ranking"]["pending"]] == [seat]  # never ranked on a mean
        assert "扣分不一致" in snap["ranking"]["pending"][0]["text"]
        refused = await http.post(f"{base}/lock")
        assert refused.status_code == 409 and refused.json()["code"] == "unresolved_findings"
        assert refused.json()["codes"] == ["deduction_disagreement"]
        gate = (await http.get(f"/api/events/{contest.event_id}/items/LED/publication")).json()
        blocker = next(b for b in gate["blockers"] if b["code"] == "deduction_disagreement")
        assert blocker["cells"] == [f"{seat}/S"] and "裁定扣分" in blocker["message"]

        for body, status, code in (
                ({"seat": seat, "criterion": "S", "value": "5"}, 422, "reason_required"),
                ({"seat": seat, "criterion": "S", "value": "11", "reason": "r"}, 422, "score_out_of_range"),
                ({"seat": seat, "criterion": "S", "value": "x", "reason": "r"}, 422, "invalid_value"),
                ({"seat": seat, "criterion": "B", "value": "5", "reason": "r"}, 422, "not_a_deduction"),
                ({"seat": contest.seats[1], "criterion": "S", "value": "5", "reason": "r"}, 409, "no_disagreement")):
            answer = await http.post(f"{base}/rulings", json=body)
            assert (answer.status_code, answer.json()["code"]) == (status, code), body
        first = await http.post(f"{base}/rulings", json={"seat": seat, "criterion": "S", "value": "4",
                                                         "reason": "录像复核：一处违规"})
        assert first.status_code == 200, first.text
        again = await http.post(f"{base}/rulings", json={"seat": seat, "criterion": "S", "value": "5",
                                                         "reason": "录像复核：违规两处，扣 5 分"})
        assert again.status_code == 200 and again.json()["value"] == "5.00"
        snap = (await http.get(base)).json()
        assert not [f for f in snap["findings"] if f["code"] == "deduction_disagreement"]
        assert [(r["seat"], r["criterion"], r["value"]) for r in snap["rulings"]] == [(seat, "S", "5.00")]
        row = next(r for g in snap["ranking"]["groups"] for r in g["rows"] if r["seat"] == seat)
        assert row["criteria"]["S"] == "5.00" and row["practical"] == "65.00"  # 30 + 40 − 5, not − 2.50
        assert snap["ranking"]["complete"]
        locked = await http.post(f"{base}/lock")
        assert locked.status_code == 200, locked.text
        late = await http.post(f"{base}/rulings", json={"seat": seat, "criterion": "S", "value": "3", "reason": "r"})
        assert (late.status_code, late.json()["code"]) == (409, "already_locked")
    async with db() as session:
        count = (await session.exec(text("SELECT count(*) FROM deduction_ruling"))).one()  # type: ignore[call-overload]
    assert count[0] == 1  # the second ruling replaced the first
    assert await _ruling_audit(db) == [(None, "4.00", f"{seat}: 录像复核：一处违规"),
                                       ("4.00", "5.00", f"{seat}: 录像复核：违规两处，扣 5 分")]


async def test_a_judge_changing_the_mark_to_agree_clears_it(client: Any, db: Any, contest: Contest) -> None:
    """Re-marking resolves it too: 5 and a blank, then the second judge enters 5 → no finding, 5 off, lock."""
    chief = await login_headers(client, db, "chief", "chief_judge")
    base = f"/api/console/events/{contest.event_id}/items/LED"
    seat = contest.seats[0]
    await _fill(db, contest)
    await _mark(db, "王裁判", seat, "S", "5", "w-s")
    await _mark(db, "张裁判", seat, "S", "0", "z-s")
    assert (await client.post(f"{base}/lock", headers=chief)).status_code == 409
    await _mark(db, "张裁判", seat, "S", "5", "z-s2", base=1)
    snap = (await client.get(base, headers=chief)).json()
    assert not [f for f in snap["findings"] if f["severity"] == "error"] and snap["rulings"] == []
    row = next(r for g in snap["ranking"]["groups"] for r in g["rows"] if r["seat"] == seat)
    assert row["criteria"]["S"] == "5.00" and row["practical"] == "65.00"
    assert (await client.post(f"{base}/lock", headers=chief)).status_code == 200


# ---- the console page: 裁定扣分 ----

async def _seed_browser(settings: Any) -> Contest:
    from tests.browser.test_console_browser import seated_with_chief

    async def fill(db: Any, contest: Contest) -> None:
        await _fill(db, contest)
        await _mark(db, "王裁判", contest.seats[0], "S", "5", "w-s")  # 张裁判 leaves S blank
    return await seated_with_chief(settings, 3, JUDGES, fill)


@pytest.mark.browser
def test_console_rules_on_a_deduction_from_the_page(settings: Any, live_server: str, browser: Any) -> None:
    """The finding shows with its seat and a 裁定扣分 button; the chief judge enters 5 and a reason; the
    finding goes, the cells say ruled, the provisional ranking takes 5 off, and the item locks."""
    from tests.browser.test_console_browser import _run, chief_console
    from tests.browser.test_pages_browser import _shot

    contest = _run(_seed_browser(settings))
    seat = contest.seats[0]
    shots = Path("/tmp/shots/deduction")
    shots.mkdir(parents=True, exist_ok=True)
    page, errors = chief_console(browser, live_server, contest.event_id)
    page.wait_for_selector("#net[data-state=online]")
    finding = page.locator("#findings li.deduction_disagreement")
    assert finding.count() == 1 and seat in finding.inner_text() and "扣分不一致" in finding.inner_text()
    assert page.locator("#matrix td.disagree").count() == 2  # both judges' S cells at that seat
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 1000})
        _shot(page, shots / f"finding-{width}.png")
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.click("#item-lock-button")  # refused while the deduction is unsettled
    page.wait_for_selector("#toast.bad")
    assert "不能锁定" in page.inner_text("#toast")
    finding.locator("button.c-rule").click()
    assert page.locator("#dialog-value-row").is_visible() and "裁定扣分" in page.inner_text("#dialog-title")
    page.fill("#dialog-text", "录像复核：违规两处")
    page.click("#dialog-ok")
    assert "请填写扣分" in page.inner_text("#dialog-error")  # the figure is required
    page.fill("#dialog-value", "5")
    _shot(page, shots / "dialog-1440.png", full_page=False)
    page.click("#dialog-ok")
    page.wait_for_selector("#findings li.ruled")
    assert "已裁定扣分 5.00：录像复核：违规两处（赵裁判长）" in page.inner_text("#findings li.ruled")
    assert page.locator("#findings li.deduction_disagreement").count() == 0
    assert page.locator("#matrix td.ruled").count() == 2
    page.wait_for_function("document.getElementById('ranking').innerText.includes('65.00')", timeout=3000)
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 1000})
        _shot(page, shots / f"ruled-{width}.png")
    page.click("#item-lock-button")
    page.wait_for_selector("#item-lock.on", timeout=3000)
    assert errors == []
    page.close()
