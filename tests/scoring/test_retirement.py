"""scoring.retirement and the age check: expected values copied from the official tables of the 2025
reform (retirement age as years + months, and the retirement month), not computed from the module's formula."""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import pairwise

import pytest

from scoring.identity import check_age
from scoring.retirement import Gender, retirement, retirement_age_months, retirement_date

# (gender, female base, birth year-month, (age years, months), retirement year-month)
TABLE = [
    ("male", None, (1960, 1), (60, 0), (2020, 1)),
    ("male", None, (1964, 12), (60, 0), (2024, 12)),  # last month on the old age
    ("male", None, (1965, 1), (60, 1), (2025, 2)),  # first delayed month
    ("male", None, (1965, 2), (60, 1), (2025, 3)),
    ("male", None, (1965, 3), (60, 1), (2025, 4)),
    ("male", None, (1965, 4), (60, 1), (2025, 5)),
    ("male", None, (1965, 5), (60, 2), (2025, 7)),  # second step: a month of retirements skipped
    ("male", None, (1965, 8), (60, 2), (2025, 10)),
    ("male", None, (1965, 9), (60, 3), (2025, 12)),
    ("male", None, (1976, 8), (62, 11), (2039, 7)),
    ("male", None, (1976, 9), (63, 0), (2039, 9)),  # cap reached
    ("male", None, (1976, 12), (63, 0), (2039, 12)),
    ("male", None, (1980, 1), (63, 0), (2043, 1)),
    ("male", None, (1980, 6), (63, 0), (2043, 6)),
    ("female", 55, (1969, 12), (55, 0), (2024, 12)),
    ("female", 55, (1970, 1), (55, 1), (2025, 2)),
    ("female", 55, (1970, 4), (55, 1), (2025, 5)),
    ("female", 55, (1970, 5), (55, 2), (2025, 7)),
    ("female", 55, (1981, 8), (57, 11), (2039, 7)),
    ("female", 55, (1981, 9), (58, 0), (2039, 9)),  # cap reached
    ("female", 55, (1990, 3), (58, 0), (2048, 3)),
    ("female", 50, (1970, 6), (50, 0), (2020, 6)),
    ("female", 50, (1974, 12), (50, 0), (2024, 12)),
    ("female", 50, (1975, 1), (50, 1), (2025, 2)),
    ("female", 50, (1975, 2), (50, 1), (2025, 3)),
    ("female", 50, (1975, 3), (50, 2), (2025, 5)),
    ("female", 50, (1975, 4), (50, 2), (2025, 6)),
    ("female", 50, (1984, 9), (54, 11), (2039, 8)),
    ("female", 50, (1984, 10), (54, 11), (2039, 9)),
    ("female", 50, (1984, 11), (55, 0), (2039, 11)),  # cap reached
    ("female", 50, (1984, 12), (55, 0), (2039, 12)),
    ("female", 50, (1995, 7), (55, 0), (2050, 7)),
]


@pytest.mark.parametrize(("gender", "base", "born", "age", "retires"), TABLE)
def test_official_table(gender: Gender, base: int | None, born: tuple[int, int], age: tuple[int, int],
                        retires: tuple[int, int]) -> None:
    birth = date(*born, 15)
    r = retirement(birth, gender, base)
    assert r.age == age
    assert retirement_age_months(birth, gender, base) == age[0] * 12 + age[1]
    assert retirement_date(birth, gender, base) == date(*retires, 15)
    assert not r.base_assumed


def _months(start: tuple[int, int], end: tuple[int, int]) -> list[date]:
    return [date(y, m, 1) for y in range(start[0], end[0] + 1) for m in range(1, 13)
            if start <= (y, m) <= end]


@pytest.mark.parametrize(("gender", "base", "base_years", "first", "per_step", "cap", "capped_from"), [
    ("male", None, 60, (1965, 1), 4, 36, (1976, 9)),
    ("female", 55, 55, (1970, 1), 4, 36, (1981, 9)),
    ("female", 50, 50, (1975, 1), 2, 60, (1984, 11)),
])  # fmt: skip
def test_month_by_month_every_step_has_its_number_of_birth_months(
        gender: Gender, base: int | None, base_years: int, first: tuple[int, int], per_step: int, cap: int,
        capped_from: tuple[int, int]) -> None:
    births = _months((first[0] - 3, 1), (capped_from[0] + 3, 12))
    delays = [retirement_age_months(b, gender, base) - base_years * 12 for b in births]
    # Before the first delayed month: the old age; from the cap month on: the cap.
    assert all(d == 0 for b, d in zip(births, delays, strict=True) if (b.year, b.month) < first)
    assert all(d == cap for b, d in zip(births, delays, strict=True) if (b.year, b.month) >= capped_from)
    # In between, every delay 1 … cap-1 covers exactly `per_step` consecutive birth months.
    counts = Counter(delays)
    assert all(counts[d] == per_step for d in range(1, cap)), counts
    assert delays == sorted(delays)
    # And the retirement month never goes backwards nor repeats: each birth month retires in its own month.
    months = [(d.year, d.month) for d in (retirement_date(b, gender, base) for b in births)]
    assert all(a < b for a, b in pairwise(months))


@pytest.mark.parametrize(("birth", "gender", "base", "expected"), [
    (date(1965, 1, 31), "male", None, date(2025, 2, 28)),  # no 31 Feb: the last day of the retirement month
    (date(1965, 3, 31), "male", None, date(2025, 4, 30)),
    (date(1964, 2, 29), "male", None, date(2024, 2, 29)),  # leap to leap
    (date(1972, 2, 29), "female", 50, date(2022, 2, 28)),  # stays in February, unlike age_on's 1 Mar
    (date(1976, 9, 30), "male", None, date(2039, 9, 30)),
    (date(1975, 1, 1), "female", 50, date(2025, 2, 1)),
])  # fmt: skip
def test_retirement_day_is_the_birthday_in_the_retirement_month_clamped(
        birth: date, gender: Gender, base: int | None, expected: date) -> None:
    assert retirement_date(birth, gender, base) == expected


def test_unknown_female_base_uses_55_and_says_so() -> None:
    r = retirement(date(1974, 6, 10), "female")
    assert r.base_assumed and r.base_years == 55 and r.age == (56, 2) and r.date == date(2030, 8, 10)
    assert r.age_months == retirement(date(1974, 6, 10), "female", 55).age_months


def test_men_ignore_the_female_base_and_bad_bases_are_refused() -> None:
    assert retirement(date(1970, 1, 1), "male", 50) == retirement(date(1970, 1, 1), "male")
    with pytest.raises(ValueError):
        retirement(date(1970, 1, 1), "female", 45)


# --- the registration age check ---


def test_age_16_boundary() -> None:
    birth = date(2009, 5, 20)
    before = check_age(birth, "male", date(2025, 5, 19))
    assert (before.status, before.age, before.ok) == ("too_young", 15, False) and "16" in before.zh
    on = check_age(birth, "male", date(2025, 5, 20))
    assert (on.status, on.age, on.ok, on.needs_review) == ("ok", 16, True, False)


def test_age_16_boundary_for_a_29_february_birth() -> None:
    birth = date(2008, 2, 29)
    assert check_age(birth, "female", date(2024, 2, 28)).status == "too_young"
    assert check_age(birth, "female", date(2024, 2, 29)).status == "ok"  # 2024 is a leap year


def test_born_after_the_cut_off_is_too_young() -> None:
    c = check_age(date(2026, 1, 1), "male", date(2025, 6, 1))
    assert (c.status, c.age) == ("too_young", None)


def test_retirement_boundary_day_before_and_on() -> None:
    birth = date(1965, 1, 31)  # 60y1m, reached 2025-02-28
    assert check_age(birth, "male", date(2025, 2, 27)).status == "ok"
    on = check_age(birth, "male", date(2025, 2, 28))  # "法定退休年龄以内" includes the day itself
    assert on.ok and [r.code for r in on.reviews] == ["retires_on_contest_day"]
    over = check_age(birth, "male", date(2025, 3, 1))
    assert over.status == "over_retirement" and not over.ok
    assert "60 周岁 1 个月" in over.zh and "2025-02-28" in over.en


def test_needs_review_when_only_the_50_base_retires_her() -> None:
    birth, on = date(1974, 6, 10), date(2025, 3, 1)  # base 50: retired 2024-06-10; base 55: 2030-08-10
    unknown = check_age(birth, "female", on)
    assert (unknown.status, unknown.needs_review, unknown.ok) == ("ok", True, True)
    assert check_age(birth, "female", on, 50).status == "over_retirement"
    known55 = check_age(birth, "female", on, 55)
    assert (known55.status, known55.needs_review) == ("ok", False)
    # From the day after she reaches 50 (base 50 unchanged for 1974 births); on the day itself she is within
    # the age on either base, so only the day is reviewed.
    assert check_age(birth, "female", date(2024, 6, 11)).needs_review
    day = check_age(birth, "female", date(2024, 6, 10))
    assert not day.needs_review and [r.code for r in day.reviews] == ["retires_on_contest_day"]
    assert not check_age(birth, "female", date(2024, 6, 9)).needs_review


def test_over_on_both_bases_is_over_without_review() -> None:
    c = check_age(date(1960, 1, 1), "female", date(2025, 3, 1))
    assert (c.status, c.needs_review) == ("over_retirement", False)
