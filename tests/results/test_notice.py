"""The notice period counts the State Council's working days: holidays skipped, make-up Saturdays and
Sundays counted (the 2026 schedule)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from results.notice import last_day_of, notice_period, notice_until
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


def test_one_wording_of_the_end_the_last_day_at_24_00() -> None:
    period = notice_period(at(2026, 12, 3))  # Thursday: 4, 7, 8, 9, 10 December
    assert period.last_day == date(2026, 12, 10) and period.ends_at.date() == date(2026, 12, 11)
    for given in (period.last_day, period.last_day.isoformat(), period.ends_at, period.ends_at.isoformat()):
        assert last_day_of(given) == date(2026, 12, 10)
        assert notice_until(given) == "公示至 2026-12-10 24:00 止"
    assert notice_until(period.ends_at, "en") == "notice period ends 2026-12-10 24:00"


async def test_the_publish_page_and_the_public_page_name_the_same_end(client: Any, db: Any) -> None:
    """Both used to differ by a day: the publish page showed the close (00:00 of the next day) as its date."""
    from tests.results.test_publication import marked, settle
    from tests.support.helpers import login_headers

    contest = await marked(db)
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    published = await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={}, headers=chief)
    assert published.status_code == 201
    wording = notice_until(published.json()["notice_ends_at"])
    view = (await client.get(f"/api/public/events/{contest.event_id}/results")).json()["items"][0]["view"]
    assert wording == notice_until(view["notice"]["last_day"])
    publish_page = (await client.get(f"/console/events/{contest.event_id}/publish", headers=chief)).text
    public_page = (await client.get(f"/results/{contest.event_id}")).text
    assert wording in publish_page and wording in public_page
    next_day = published.json()["notice_ends_at"][:10]
    assert next_day not in publish_page and next_day not in public_page
