"""Ranking worked examples: positions, shared ranks, tie-break chain, boundaries, promotion, teams."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from results.model import Placing
from results.ranking import apply_chief_order, place_group
from scoring.event_file import EventSpec, parse_event_document
from tests.support.results_cases import event_doc, fast_table, item_doc, make_inputs, reference_table

CRITERIA = [{"code": "A", "name": "测量", "max": 100, "kind": "measurement"},
            {"code": "B", "name": "评价", "max": 100, "kind": "judgement"}]


def event(rule: str = "merit_if_over_30", **item: Any) -> EventSpec:
    return parse_event_document(event_doc([item_doc("LED", CRITERIA, **item)], rule))


def run(ev: EventSpec, sheet: list[tuple[str, Any, Any, Any, Any]], status: dict[str, str] | None = None,
        ) -> list[dict[str, str]]:
    """sheet: (entry, A, B, time_used, theory); both paths must agree before anything is asserted."""
    status = status or {}
    people = [(e, "LED", "", theory, time_used, status.get(e, "present")) for e, _, _, time_used, theory in sheet]
    marks = [(e, "A", "J1", a) for e, a, _, _, _ in sheet] + [(e, "B", "J1", b) for e, _, b, _, _ in sheet]
    inputs = make_inputs(ev, people, marks)
    fast = fast_table(inputs).to_dicts()
    assert fast == reference_table(inputs).to_dicts()
    return fast


def col(rows: list[dict[str, str]], name: str) -> list[str]:
    return [r[name] for r in rows]


@pytest.mark.parametrize(("n", "rule", "awarded"), [
    (10, "merit_if_over_30", 6), (30, "merit_if_over_30", 6), (31, "merit_if_over_30", 15),
    (40, "merit_if_over_30", 18), (10, "total_within_30pct", 6), (30, "total_within_30pct", 9),
    (31, "total_within_30pct", 9), (40, "total_within_30pct", 12)])
def test_notice_examples_award_by_position(n: int, rule: str, awarded: int) -> None:
    rows = run(event(rule), [(f"E{k:02d}", 100 - k, 100 - k, None, None) for k in range(n)])
    assert col(rows, "entry") == [f"E{k:02d}" for k in range(n)]
    assert col(rows, "award")[:6] == ["一等奖", "二等奖", "二等奖", "三等奖", "三等奖", "三等奖"]
    assert sum(1 for r in rows if r["award"]) == awarded
    assert col(rows, "award")[6:awarded] == ["优胜奖"] * (awarded - 6)
    # top six of an individual final, qualified, with an award: one level up (4 -> 3)
    assert col(rows, "cert_level")[:7] == ["3"] * 6 + ["4"]
    assert col(rows, "promoted").count("true") == 6
    assert set(col(rows, "tie_unresolved")) == {"false"}


def test_shared_rank_1_2_2_4_and_entries_order_inside_the_tie() -> None:
    rows = run(event(), [("A", 90, 0, None, None), ("C", 80, 0, None, None), ("B", 80, 0, None, None),
                         ("D", 70, 0, None, None)])
    assert col(rows, "entry") == ["A", "C", "B", "D"]
    assert col(rows, "position") == ["1", "2", "3", "4"] and col(rows, "rank") == ["1", "2", "2", "4"]
    assert col(rows, "award") == ["一等奖", "二等奖", "二等奖", "三等奖"]
    assert set(col(rows, "tie_unresolved")) == {"false"}  # both 二等奖 and both promotable: no boundary


def test_tie_across_the_second_third_boundary_is_unresolved() -> None:
    rows = run(event(), [("A", 90, 0, None, None), ("B", 85, 0, None, None), ("C", 80, 0, None, None),
                         ("D", 80, 0, None, None), ("E", 70, 0, None, None)])
    assert col(rows, "rank") == ["1", "2", "3", "3", "5"]
    assert col(rows, "award")[2:4] == ["二等奖", "三等奖"]
    assert col(rows, "tie_unresolved") == ["false", "false", "true", "true", "false"]


def test_tie_across_the_promotion_boundary_only() -> None:
    # promotion_top 4: positions 4 and 5 are both 三等奖 but only 4 is promoted.
    rows = run(event(promotion_top=4), [(f"E{k}", 90 - k, 90 - k, None, None) for k in range(3)]
               + [("T1", 70, 70, None, None), ("T2", 70, 70, None, None), ("Z", 10, 10, None, None)])
    assert col(rows, "award")[3:5] == ["三等奖", "三等奖"]
    assert col(rows, "tie_unresolved") == ["false"] * 3 + ["true", "true", "false"]
    assert col(rows, "promoted")[3:5] == ["true", "false"]


def test_no_promotion_boundary_at_exam_level_1_and_level_stays_1() -> None:
    rows = run(event(exam_level=1, promotion_top=4), [(f"E{k}", 90 - k, 90 - k, None, None) for k in range(3)]
               + [("T1", 70, 70, None, None), ("T2", 70, 70, None, None)])
    assert set(col(rows, "cert_level")) == {"1"}
    assert set(col(rows, "promoted")) == {"false"}
    assert set(col(rows, "tie_unresolved")) == {"false"}


def test_tie_break_chain_practical_criterion_time_theory() -> None:
    ev = event(theory_weight=0.3, tie_break=["practical", "criterion:B", "time_used", "theory"])
    # every total is 70.00: 0.3 × theory + 0.7 × pct
    rows = run(ev, [
        ("low_practical", 30, 20, 100, "100"),   # pct 25.00, total 7.5 + ... = 0.3*100+0.7*25 = 47.5
        ("P1", 40, 60, 600, "60"),               # pct 50 -> 0.3*60 + 0.7*50 = 53
        ("P2", 60, 40, 600, "60"),               # same practical, B 40 < 60
        ("P3", 40, 60, 500, "60"),               # same practical and B, less time: before P1
        ("P4", 40, 60, None, "60"),              # no time: after any time
        ("P5", 40, 60, 600, "60"),               # equal to P1 on every key: shares its rank
    ])
    assert col(rows, "entry") == ["P3", "P1", "P5", "P4", "P2", "low_practical"]
    assert col(rows, "rank") == ["1", "2", "2", "4", "5", "6"]
    assert col(rows, "total")[:5] == ["53.00"] * 5


def test_unranked_entries_come_last_with_empty_columns() -> None:
    rows = run(event(), [("X", 10, 0, None, None), ("A", 90, 0, None, None), ("Y", 95, 0, None, None)],
               status={"X": "absent", "Y": "disqualified"})
    assert col(rows, "entry") == ["A", "X", "Y"]
    assert rows[1] == {"item": "LED", "group": "", "position": "", "rank": "", "entry": "X", "name": rows[1]["name"],
                       "unit": "unit", "theory": "", "practical": "", "practical_pct": "", "total": "",
                       "qualified": "false", "award": "", "cert_level": "", "promoted": "false",
                       "tie_unresolved": "false", "status": "absent"}
    assert rows[0]["award"] == "一等奖"  # N counts ranked entries only


def test_two_person_team_final() -> None:
    ev = parse_event_document(event_doc([item_doc("ROBOT", CRITERIA, team_size=2, exam_level=3, theory_weight=0.3,
                                                  groups=["职工组"])], "total_within_30pct"))
    people = []
    for t, theory in enumerate([("90", "85"), ("82", "77.5"), ("70", "71"), ("60", "65"), ("50", "50")]):
        people += [(f"T{t}", "ROBOT", "职工组", theory[0], 600, "present", f"甲{t}"),
                   (f"T{t}", "ROBOT", "职工组", theory[1], None, "present", f"乙{t}")]
    marks = [(f"T{t}", c, "J1", 90 - 5 * t) for t in range(5) for c in ("A", "B")]
    inputs = make_inputs(ev, people, marks)
    rows = fast_table(inputs).to_dicts()
    assert rows == reference_table(inputs).to_dicts()
    assert col(rows, "name") == [f"{who}{t}" for t in range(5) for who in ("甲", "乙")]  # members in ENTRIES order
    assert col(rows, "theory")[:4] == ["87.50", "87.50", "79.75", "79.75"]  # the team's mean on both rows
    assert col(rows, "total")[0] == "89.25"  # 0.3 × 87.50 + 0.7 × 90.00 = 26.25 + 63
    # top three teams promoted one level (3 -> 2); the fourth holds 三等奖 but stays at 3
    assert col(rows, "cert_level") == ["2"] * 6 + ["3", "3", "3", "3"]
    assert col(rows, "promoted") == ["true"] * 6 + ["false"] * 4
    # N = 5 teams: the fixed tiers give 1, 2 and the 2 that are left (never more than there are)
    assert col(rows, "award") == ["一等奖"] * 2 + ["二等奖"] * 4 + ["三等奖"] * 4


def test_unqualified_award_holder_has_no_certificate() -> None:
    rows = run(event(pass_mark=60), [("A", 90, 90, None, None), ("B", 50, 60, None, None)])
    assert rows[1]["award"] == "二等奖" and rows[1]["qualified"] == "false"
    assert rows[1]["cert_level"] == "" and rows[1]["promoted"] == "false"


def _group() -> tuple[EventSpec, list[Placing], dict[str, bool]]:
    ev = event()
    placings = place_group(ev.items[0], ev.award_policy,
                           [("A", 0, True), ("B", 1, True), ("C", 2, True), ("D", 2, True), ("E", 3, True)])
    return ev, placings, {p.entry: True for p in placings}


def test_place_group_marks_the_straddling_block() -> None:
    _, placings, _ = _group()
    assert [(p.position, p.rank, p.award, p.tie_unresolved) for p in placings] == [
        (1, 1, "一等奖", False), (2, 2, "二等奖", False), (3, 3, "二等奖", True), (4, 3, "三等奖", True),
        (5, 5, "三等奖", False)]


def test_chief_judge_order_resolves_the_block() -> None:
    ev, placings, qualified = _group()
    after = apply_chief_order(ev.items[0], ev.award_policy, placings, qualified, ["D", "C"])
    assert [(p.entry, p.position, p.rank, p.award, p.tie_unresolved) for p in after] == [
        ("A", 1, 1, "一等奖", False), ("B", 2, 2, "二等奖", False), ("D", 3, 3, "二等奖", False),
        ("C", 4, 4, "三等奖", False), ("E", 5, 5, "三等奖", False)]


@pytest.mark.parametrize("order", [["C"], ["C", "E"], ["C", "D", "D"], ["X", "C"]])
def test_chief_judge_order_must_be_exactly_one_block(order: list[str]) -> None:
    ev, placings, qualified = _group()
    with pytest.raises(ValueError):
        apply_chief_order(ev.items[0], ev.award_policy, placings, qualified, order)


def test_decimal_ratio_of_rows() -> None:
    # 8.24 and 8.25 from two judges: mean 8.245 -> 8.25 shows up in practical and total.
    ev = event()
    inputs = make_inputs(ev, [("E", "LED", "", None, None, "present")],
                         [("E", "A", "J1", "0"), ("E", "B", "J1", "8.24"), ("E", "B", "J2", "8.25")])
    rows = fast_table(inputs).to_dicts()
    assert rows == reference_table(inputs).to_dicts()
    assert (rows[0]["practical"], rows[0]["practical_pct"], rows[0]["total"]) == ("8.25", "4.13", "4.13")
    assert Decimal(rows[0]["practical_pct"]) == Decimal("4.13")  # 8.25 / 200 × 100 = 4.125 -> 4.13
