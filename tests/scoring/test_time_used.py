"""Time used, the pure half (scoring/time_used.py): seconds from the session's start to the hand-in less the
minutes given back, and the seconds an import may give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scoring.time_used import MAX_SECONDS, TimeProblem, parse_seconds, seconds_used

START = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)


def test_the_minutes_given_back_are_taken_off_and_never_below_zero() -> None:
    assert seconds_used(START, START + timedelta(minutes=90, seconds=30), 0) == 5430
    assert seconds_used(START, START + timedelta(minutes=90, seconds=30), 10) == 4830
    assert seconds_used(START, START + timedelta(minutes=5), 10) == 0


def test_a_hand_in_before_the_start_is_refused() -> None:
    with pytest.raises(TimeProblem) as refused:
        seconds_used(START, START - timedelta(seconds=1), 0)
    assert refused.value.code == "before_start" and "早于开赛时间" in refused.value.zh


@pytest.mark.parametrize(("raw", "seconds"), [(3600, 3600), ("3600", 3600), ("1:05:30", 3930), ("65:30", 3930),
                                              (" 0 ", 0), (MAX_SECONDS, MAX_SECONDS)])
def test_seconds_or_h_mm_ss_are_read(raw: object, seconds: int) -> None:
    assert parse_seconds(raw) == seconds


@pytest.mark.parametrize(("raw", "code"), [("", "invalid_time"), ("1:5:7:9", "invalid_time"), ("1:75", "invalid_time"),
                                           ("-5", "invalid_time"), ("1.5", "invalid_time"), (True, "invalid_time"),
                                           ("１２", "invalid_time"), (-1, "out_of_range"),
                                           (MAX_SECONDS + 1, "out_of_range"), ("25:00:00", "out_of_range")])
def test_anything_else_is_refused_with_its_code(raw: object, code: str) -> None:
    with pytest.raises(TimeProblem) as refused:
        parse_seconds(raw)
    assert refused.value.code == code and refused.value.zh and refused.value.en
