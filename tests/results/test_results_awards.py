"""Award rules: the notices' worked examples (N = 10, 30, 31, 40) under both rules, and the registry."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from results.awards import RULES, award_counts, award_for_position, awards_by_position
from scoring.event_file import AWARD_RULES, AwardPolicy

MERIT = AwardPolicy("merit_if_over_30", Decimal("0.30"), 30)
WITHIN = AwardPolicy("total_within_30pct", Decimal("0.30"), None)


def test_registry_names_equal_the_event_file_rules() -> None:
    assert set(RULES) == set(AWARD_RULES)


@pytest.mark.parametrize(("n", "merit"), [(10, 0), (30, 0), (31, 9), (40, 12)])
def test_merit_if_over_30(n: int, merit: int) -> None:
    # Seed 001: merit awards only where more than 30 entries are ranked, floor(30 % × N) of them.
    assert award_counts(MERIT, n).as_tuple() == (1, 2, 3, merit)


@pytest.mark.parametrize(("n", "merit"), [(10, 0), (30, 3), (31, 3), (40, 6)])
def test_total_within_30pct(n: int, merit: int) -> None:
    # Seed 002: all award winners together within 30 %: 9 of 30, 9 of 31, 12 of 40.
    counts = award_counts(WITHIN, n)
    assert counts.as_tuple() == (1, 2, 3, merit)
    if n >= 20:
        assert counts.total == int(Decimal("0.3") * n)


@pytest.mark.parametrize(("n", "expected"), [(0, (0, 0, 0, 0)), (1, (1, 0, 0, 0)), (2, (1, 1, 0, 0)),
                                             (4, (1, 2, 1, 0)), (6, (1, 2, 3, 0))])
def test_fixed_tiers_never_exceed_the_entries(n: int, expected: tuple[int, ...]) -> None:
    assert award_counts(MERIT, n).as_tuple() == expected
    assert award_counts(WITHIN, n).as_tuple() == expected


def test_ratio_is_floored_exactly_not_in_floats() -> None:
    # 0.29 × 100 is 28.999999999999996 in binary floats; the rule must give 29.
    policy = AwardPolicy("total_within_30pct", Decimal("0.29"), None)
    assert award_counts(policy, 100).total == 29
    merit = AwardPolicy("merit_if_over_30", Decimal("0.29"), 30)
    assert award_counts(merit, 100).merit == 29


def test_threshold_is_a_parameter() -> None:
    policy = AwardPolicy("merit_if_over_30", Decimal("0.30"), 10)
    assert award_counts(policy, 10).merit == 0
    assert award_counts(policy, 11).merit == 3


def test_awards_go_by_position() -> None:
    counts = award_counts(MERIT, 31)
    names = awards_by_position(counts)
    assert names[:7] == ["一等奖", "二等奖", "二等奖", "三等奖", "三等奖", "三等奖", "优胜奖"]
    assert len(names) == 15 and names[-1] == "优胜奖"
    assert award_for_position(counts, 15) == "优胜奖"
    assert award_for_position(counts, 16) == ""


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown award rule"):
        award_counts(AwardPolicy("top_half"), 10)


@given(st.integers(0, 2000), st.sampled_from(["0.01", "0.1", "0.29", "0.3", "0.5", "1"]), st.integers(0, 100))
def test_counts_stay_within_the_rule(n: int, ratio: str, threshold: int) -> None:
    bound = int(Decimal(ratio) * n)
    merit = award_counts(AwardPolicy("merit_if_over_30", Decimal(ratio), threshold), n)
    within = award_counts(AwardPolicy("total_within_30pct", Decimal(ratio), None), n)
    fixed = min(n, 6)
    for counts in (merit, within):
        assert counts.total <= n
        assert counts.first + counts.second + counts.third == fixed
    assert merit.merit == (min(bound, n - fixed) if n > threshold else 0)
    assert within.total == max(fixed, min(bound, n))
