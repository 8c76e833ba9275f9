"""The checks shared with live judging: structured findings, not exceptions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.checks import ERROR, WARNING, check_item_marks, check_measurement, check_score, check_spread
from scoring.event_file import CriterionSpec, EventFileError, parse_event_document, to_document
from tests.support.results_cases import event_doc, item_doc

D = Decimal
MEAS = CriterionSpec("A", "测量", D(40), "measurement")
JUDG = CriterionSpec("B", "评价", D(60), "judgement", "trimmed_mean", 5, D(10))


def test_score_above_max_below_zero_and_third_decimal() -> None:
    assert check_score(MEAS, D(40)) == [] and check_score(MEAS, D(0)) == []
    [above] = check_score(MEAS, D("40.01"), "J1")
    assert (above.code, above.severity, above.judges, above.values) == ("score_out_of_range", ERROR, ("J1",),
                                                                       (D("40.01"),))
    assert [f.code for f in check_score(MEAS, D(-1))] == ["score_out_of_range"]
    assert [f.code for f in check_score(MEAS, D("8.255"))] == ["too_many_decimals"]
    assert check_score(MEAS, D("8.250")) == []  # trailing zero: still 2 decimals


def test_measurement_judges_who_disagree() -> None:
    assert check_measurement(MEAS, [("J1", D("30.5")), ("J2", D("30.50"))]) == []
    [finding] = check_measurement(MEAS, [("J1", D("30.5")), ("J2", D("30"))])
    assert finding.code == "measurement_disagreement" and finding.judges == ("J1", "J2")
    assert check_measurement(JUDG, [("J1", D(1)), ("J2", D(9))]) == []  # only measurements must agree


def test_spread_over_max_spread_is_a_warning() -> None:
    assert check_spread(JUDG, [("J1", D(40)), ("J2", D(50))]) == []  # exactly 10 is allowed
    [finding] = check_spread(JUDG, [("J1", D(40)), ("J2", D("50.01")), ("J3", D(45))])
    assert (finding.code, finding.severity, finding.values[1]) == ("spread_exceeded", WARNING, D("50.01"))
    no_limit = CriterionSpec("C", "评价", D(60), "judgement", "mean", 5, None)
    assert check_spread(no_limit, [("J1", D(0)), ("J2", D(60))]) == []


def test_item_marks_collects_everything() -> None:
    item = parse_event_document(event_doc([item_doc("X", [
        {"code": "A", "name": "a", "max": 40, "kind": "measurement"},
        {"code": "B", "name": "b", "max": 60, "kind": "judgement", "max_spread": 5},
        {"code": "S", "name": "s", "max": 10, "kind": "deduction"}])])).items[0]
    found = check_item_marks(item, {"B": [("J1", D(10)), ("J2", D("60.5"))]})
    assert [(f.code, f.criterion) for f in found] == [
        ("missing_marks", "A"), ("score_out_of_range", "B"), ("spread_exceeded", "B")]
    assert check_item_marks(item, {"B": [("J1", D(10))]}, complete=False) == []
    assert found[0].as_dict()["message_en"] == "criterion A has no marks"


SCALE = [{"code": "A", "name": "测量", "max": 97, "kind": "measurement"},
         {"code": "J", "name": "工艺评价", "max": 3, "kind": "judgement", "scale": "0-3"}]


def test_the_0_3_scale_takes_whole_marks_and_round_trips() -> None:
    spec = parse_event_document(event_doc([item_doc(criteria=SCALE)]))
    judged = spec.items[0].criteria[1]
    assert judged.scale == "0-3"
    assert check_score(judged, D(2)) == [] and check_score(judged, D("3.00")) == []
    [half] = check_score(judged, D("1.5"))
    assert half.code == "not_on_scale" and "0、1、2、3" in half.zh
    assert check_score(judged, D(4))[0].code == "score_out_of_range"
    assert to_document(spec)["items"][0]["criteria"][1]["scale"] == "0-3"


def test_the_0_3_scale_is_for_judgement_with_max_3_only() -> None:
    wrong = [{**SCALE[0], "scale": "0-3"}, {**SCALE[1], "max": 10}]
    with pytest.raises(EventFileError) as caught:
        parse_event_document(event_doc([item_doc(criteria=wrong)]))
    paths = {e.path for e in caught.value.errors}
    assert {"items[0].criteria[0].scale", "items[0].criteria[1].max"} <= paths
