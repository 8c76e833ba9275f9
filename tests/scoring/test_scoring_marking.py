"""Steps 1–5 of contracts §3 on one entry, in Decimal (the reference)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.event_file import CriterionSpec, parse_event_document
from scoring.marking import MarkingError, aggregate, evaluate_entry, team_theory
from tests.support.results_cases import event_doc, item_doc

D = Decimal


def judgement(aggregate_: str, trim: int = 5) -> CriterionSpec:
    return CriterionSpec("B", "评价", D(60), "judgement", aggregate_, trim, None)


def marks(*values: str) -> list[Decimal]:
    return [D(v) for v in values]


def test_mean_of_8_24_and_8_25_is_8_25_not_8_24() -> None:
    result = aggregate(judgement("mean"), marks("8.24", "8.25"))
    assert result.exact == D("8.245") and result.score == D("8.25")


def test_median_odd_and_even() -> None:
    assert aggregate(judgement("median"), marks("9", "1", "5")).score == D("5.00")
    even = aggregate(judgement("median"), marks("1", "8.24", "8.25", "40"))
    assert even.used == (D("8.24"), D("8.25")) and even.score == D("8.25")


def test_trimmed_mean_drops_one_highest_and_one_lowest_with_enough_judges() -> None:
    result = aggregate(judgement("trimmed_mean", 5), marks("50", "52", "51.5", "49", "58"))
    assert result.dropped == (D(49), D(58))
    assert result.score == D("51.17")  # (50 + 52 + 51.5) / 3 = 51.1666…


def test_trimmed_mean_with_too_few_judges_is_the_mean() -> None:
    result = aggregate(judgement("trimmed_mean", 5), marks("50", "52", "51.5", "58"))
    assert result.method == "mean" and result.dropped == () and result.score == D("52.88")  # 211.5 / 4


def test_trim_min_judges_is_configurable() -> None:
    result = aggregate(judgement("trimmed_mean", 3), marks("1", "2", "9"))
    assert result.dropped == (D(1), D(9)) and result.score == D("2.00")


def test_measurement_must_agree() -> None:
    spec = CriterionSpec("A", "测量", D(40), "measurement")
    assert aggregate(spec, marks("30.5", "30.50")).score == D("30.50")
    with pytest.raises(MarkingError) as info:
        aggregate(spec, marks("30.5", "30"))
    assert info.value.code == "measurement_disagreement"


def test_missing_marks_error_but_a_missing_deduction_counts_zero() -> None:
    with pytest.raises(MarkingError):
        aggregate(CriterionSpec("A", "测量", D(40), "measurement"), [])
    assert aggregate(CriterionSpec("S", "扣分", D(10), "deduction"), []).score == D(0)


def test_team_theory_is_the_rounded_mean() -> None:
    assert team_theory([D("82"), D("77.5")]) == D("79.75")
    assert team_theory([D("80.01"), D("80")]) == D("80.01")  # 80.005 rounds half up
    assert team_theory([None, None]) is None


ITEM = parse_event_document(event_doc([item_doc("LED", [
    {"code": "A", "name": "a", "max": 40, "kind": "measurement"},
    {"code": "B", "name": "b", "max": 60, "kind": "judgement", "aggregate": "mean"},
    {"code": "S", "name": "s", "max": 10, "kind": "deduction"},
], theory_weight=0.3, pass_mark=60)])).items[0]


def test_evaluate_entry_rounds_at_each_step() -> None:
    score = evaluate_entry(ITEM, {"A": marks("30"), "B": marks("8.24", "8.25"), "S": marks("2")}, D("71"))
    assert score.practical == D("36.25")  # 30 + 8.25 − 2
    assert score.practical_pct == D("36.25")  # /100 × 100
    assert score.total_exact == D("0.3") * 71 + D("0.7") * D("36.25")  # 21.3 + 25.375 = 46.675
    assert score.total == D("46.68")
    assert not score.qualified


def test_practical_is_never_below_zero() -> None:
    score = evaluate_entry(ITEM, {"A": marks("1"), "B": marks("2"), "S": marks("10")}, D("50"))
    assert score.practical == D(0) and score.practical_pct == D(0) and score.total == D("15.00")


def test_qualified_at_exactly_the_pass_mark() -> None:
    score = evaluate_entry(ITEM, {"A": marks("20"), "B": marks("40")}, D(0))
    assert score.practical_pct == D(60) and score.qualified


def test_practical_pct_rounds_half_up() -> None:
    item = parse_event_document(event_doc([item_doc("X", [
        {"code": "A", "name": "a", "max": 80, "kind": "measurement"}])])).items[0]
    score = evaluate_entry(item, {"A": marks("48.9")}, None)
    assert score.practical_pct == D("61.13")  # 61.125


def test_theory_required_when_weighted() -> None:
    with pytest.raises(MarkingError):
        evaluate_entry(ITEM, {"A": marks("20"), "B": marks("40")}, None)
