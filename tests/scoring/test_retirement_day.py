"""Issue #18 point 7: the retirement day itself is within the age.

Seed 001: "全市年满 16 周岁，法定退休年龄以内……均可报名参赛"; seed 002: "年满16周岁以上且在法定退休年龄以内".
民法典 §1259: "以内" includes the number, so a person whose statutory retirement day is the contest day
(`starts_on`, the day the check compares against) is accepted, flagged `retires_on_contest_day` for the
organiser's review queue; the day after is refused `age_out_of_range`. Runs on SQLite, and on PostgreSQL
with CONTESTDAY_TEST_DATABASE_URL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from scoring.identity import check_age
from scoring.retirement import retirement_date
from tests.registration.test_registration_api import Client, make_event, person, post
from tests.support.idgen import make_id

CONTEST_DAY = date(2026, 12, 20)  # reg_event's starts_on
# Men born 1966-07 retire at 60y5m (2025 reform tables); women on the 50 base born 1976-04 at 50y8m.
ON_THE_DAY, DAY_AFTER, DAY_BEFORE = date(1966, 7, 20), date(1966, 7, 19), date(1966, 7, 21)


def employee(birth: date, male: bool = True, **extra: Any) -> dict[str, Any]:
    return person(group="职工组", identity="employee", unit="某公司", skill_level=4,
                  id_number=make_id(birth, male=male), **extra)


async def flags_of(db: Any, entry_id: int) -> dict[str, str]:
    async with db() as session:
        rows = await session.exec(text(  # type: ignore[call-overload]
            f"SELECT code, message FROM entry_flag WHERE entry_id = {int(entry_id)}"))
        return {r[0]: r[1] for r in rows}


def test_the_tables_put_these_retirement_days_where_the_tests_need_them() -> None:
    assert retirement_date(ON_THE_DAY, "male") == CONTEST_DAY
    assert retirement_date(DAY_AFTER, "male") == date(2026, 12, 19)
    assert retirement_date(date(1976, 4, 20), "female", 50) == CONTEST_DAY


def test_check_age_accepts_the_day_itself_with_the_review_and_refuses_the_day_after() -> None:
    """"法定退休年龄以内" includes the retirement day (民法典 §1259)."""
    on = check_age(ON_THE_DAY, "male", CONTEST_DAY)
    assert on.ok and [r.code for r in on.reviews] == ["retires_on_contest_day"]
    assert "比赛当天 2026-12-20 达到法定退休年龄（60 周岁 5 个月）" in on.reviews[0].zh
    assert check_age(DAY_AFTER, "male", CONTEST_DAY).status == "over_retirement"
    before = check_age(DAY_BEFORE, "male", CONTEST_DAY)
    assert before.ok and before.reviews == ()


async def test_retirement_day_on_the_contest_day_is_accepted_for_review(db: Any, admin: Client,
                                                                       client: Client) -> None:
    """"法定退休年龄以内" includes the day itself: 201, `review: pending`, flag `retires_on_contest_day`,
    shown in the organiser's review queue as 比赛当天达到退休年龄."""
    event_id = await make_event(admin)
    response = await post(client, event_id, employee(ON_THE_DAY))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["review"] == "pending"
    assert set(await flags_of(db, body["registration_id"])) == {"retires_on_contest_day"}
    queue = await admin.get(f"/admin/events/{event_id}/registrations/review")
    assert queue.status_code == 200 and "比赛当天达到退休年龄" in queue.text and "法定退休年龄以内" in queue.text


async def test_retirement_day_the_day_before_the_contest_is_refused(db: Any, admin: Client, client: Client) -> None:
    """Retired the day before the contest day: no longer "法定退休年龄以内", 422 `age_out_of_range`."""
    event_id = await make_event(admin)
    response = await post(client, event_id, employee(DAY_AFTER))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "age_out_of_range" and "2026-12-19" in response.json()["message"]


async def test_retirement_day_after_the_contest_is_accepted_without_a_flag(db: Any, admin: Client,
                                                                          client: Client) -> None:
    """Retiring the day after the contest day: plainly "法定退休年龄以内", no review."""
    event_id = await make_event(admin)
    response = await post(client, event_id, employee(DAY_BEFORE))
    assert response.status_code == 201, response.text
    assert response.json()["review"] == "none"
    assert await flags_of(db, response.json()["registration_id"]) == {}


@pytest.mark.parametrize(("female_base", "birth", "status", "codes"), [
    (50, date(1976, 4, 20), 201, {"retires_on_contest_day"}),  # base 50 retires her on the day
    (50, date(1976, 4, 19), 422, None),
    (None, date(1976, 4, 20), 201, {"retires_on_contest_day"}),  # either base: within the age, the day reviewed
    (None, date(1976, 4, 19), 201, {"retirement_base_unknown"}),  # only base 55 keeps her in
])
async def test_women_on_the_50_base(db: Any, admin: Client, client: Client, female_base: int | None, birth: date,
                                    status: int, codes: set[str] | None) -> None:
    """"法定退休年龄以内" for a woman worker (base 50), and for a woman whose base is not yet known."""
    event_id = await make_event(admin)
    response = await post(client, event_id, employee(birth, male=False, female_base=female_base))
    assert response.status_code == status, response.text
    if codes is None:
        assert response.json()["code"] == "age_out_of_range"
    else:
        assert set(await flags_of(db, response.json()["registration_id"])) == codes
