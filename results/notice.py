"""The public notice period (公示期) of published results, in working days of the Chinese calendar.

Pure: dates in, dates out. The period starts the day after publication and ends at the close (24:00 Beijing
time) of its Nth working day, where working days are the State Council's: weekdays that are not public
holidays, plus the weekend days made working days (调休补班). `chinese-calendar` carries the official
schedule year by year; for a year it does not know yet, Monday to Friday are counted and the answer says so,
so a page can show the end as provisional instead of silently getting a holiday wrong.

`notice_until` is the one wording of the end everywhere it is shown (publish page, public page, board): the
last day of the period with "24:00 止", as notices are worded, never the next day's 00:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar

from scoring.event_file import CHINA_TZ

__all__ = ["DEFAULT_WORKING_DAYS", "NoticePeriod", "is_working_day", "last_day_of", "notice_period", "notice_until"]

DEFAULT_WORKING_DAYS = 5


def is_working_day(day: date) -> tuple[bool, bool]:
    """(working day?, known from the official schedule?)"""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:  # a year the library has no schedule for yet
        return day.weekday() < 5, False


@dataclass(frozen=True)
class NoticePeriod:
    published_at: datetime
    last_day: date  # the Nth working day
    ends_at: datetime  # the close of last_day, Beijing time (aware)
    working_days: int
    calendar_known: bool  # False: some day was counted Monday–Friday, the official schedule unknown


def notice_period(published_at: datetime, working_days: int = DEFAULT_WORKING_DAYS) -> NoticePeriod:
    """The notice period of results published at `published_at` (aware)."""
    if working_days < 1:
        raise ValueError("a notice period lasts at least one working day")
    day = published_at.astimezone(CHINA_TZ).date()
    counted, known = 0, True
    while counted < working_days:
        day += timedelta(days=1)
        working, official = is_working_day(day)
        known = known and official
        counted += working
    ends = datetime.combine(day + timedelta(days=1), time(0), CHINA_TZ)
    return NoticePeriod(published_at, day, ends, working_days, known)


def last_day_of(end: date | datetime | str) -> date:
    """The last day of a notice period from what a page holds: the last day itself (a date or
    "YYYY-MM-DD"), or the period's close (`ends_at`, an aware datetime or its ISO text), which is 00:00 of the
    following day, so it belongs to the day before."""
    if isinstance(end, str):
        end = date.fromisoformat(end) if len(end) == 10 else datetime.fromisoformat(end)
    if isinstance(end, datetime):
        return (end.astimezone(CHINA_TZ) - timedelta(microseconds=1)).date()
    return end


def notice_until(end: date | datetime | str, lang: str = "zh") -> str:
    """"公示至 2026-12-10 24:00 止" (English: "notice period ends 2026-12-10 24:00")."""
    day = last_day_of(end).isoformat()
    return f"notice period ends {day} 24:00" if lang == "en" else f"公示至 {day} 24:00 止"
