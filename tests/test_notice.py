"""The notice period counts the State Council's working days: holidays skipped, make-up Saturdays and
Sundays counted (the 2026 schedule)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from results.notice import notice_period
from scoring.event_file import CHINA_TZ


def at(y: int, m: int, d: int, hh: int = 16) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=CHINA_TZ)


def test_an_ordinary_week() -> None:
    period = notice_period(at(2026, 6, 1))  # Monday
    assert period.last_day == date(2026, 6, 8) and period.calendar_known  # Tue–Fri, then Monday
    assert period.ends_at == datetime(2026, 6, 9, 0, 0, tzinfo=CHINA_TZ)


def test_across_the_spring_festival_2026_with_its_make_up_saturdays() -> None:
    # published Friday 13 February: Saturday 14 is a make-up working day (1), 15–23 February are the
    # holiday and its weekend, then 24, 25, 26 (2–4) and 27 February (5)
    assert notice_period(at(2026, 2, 13)).last_day == date(2026, 2, 27)
    # published Thursday 12 February: 13 (1), Saturday 14 (2), then 24, 25, 26 (3–5)
    assert notice_period(at(2026, 2, 12)).last_day == date(2026, 2, 26)


def test_across_national_day_2026_with_its_make_up_days() -> None:
    # published Friday 18 September: Sunday 20 September is a make-up working day
    assert notice_period(at(2026, 9, 18)).last_day == date(2026, 9, 24)  # 20, 21, 22, 23, 24
    # published Wednesday 30 September: 1–7 October off, then Thursday 8 (1), Friday 9 (2), the make-up
    # Saturday 10 (3), Monday 12 (4), Tuesday 13 October (5)
    assert notice_period(at(2026, 9, 30)).last_day == date(2026, 10, 13)


def test_late_evening_publication_counts_from_the_beijing_date() -> None:
    utc_evening = datetime(2026, 6, 1, 17, 0, tzinfo=CHINA_TZ).astimezone(CHINA_TZ)
    late = datetime(2026, 6, 1, 23, 30, tzinfo=CHINA_TZ)
    assert notice_period(late).last_day == notice_period(utc_evening).last_day == date(2026, 6, 8)


def test_a_year_without_an_official_schedule_counts_weekdays_and_says_so() -> None:
    period = notice_period(at(2031, 3, 3), 3)  # Monday
    assert period.last_day == date(2031, 3, 6) and not period.calendar_known


def test_at_least_one_working_day() -> None:
    with pytest.raises(ValueError):
        notice_period(at(2026, 6, 1), 0)
