"""Statutory retirement age under the 2025 reform: pure, stdlib only (the age check is in `identity`).

Source: 全国人大常委会《关于实施渐进式延迟法定退休年龄的决定》(2024-09-13), in force 2025-01-01, and the
annex tables of 《国务院关于渐进式延迟法定退休年龄的办法》 (one for men, one per female base).

| base | first delayed birth month | step                    | cap (reached for)       |
|------|---------------------------|-------------------------|-------------------------|
| 男 60 | 1965-01                  | +1 month per 4 months   | +36 → 63 (1976-09 on)   |
| 女 55 | 1970-01                  | +1 month per 4 months   | +36 → 58 (1981-09 on)   |
| 女 50 | 1975-01                  | +1 month per 2 months   | +60 → 55 (1984-11 on)   |

Cap months checked against the official tables: men born 1976-05..08 retire at 62y11m (2039-04..07) and
1976-09..12 at 63 (2039-09..12); women-55 1981-05..08 at 57y11m, 1981-09 on at 58; women-50 1984-09..10 at
54y11m (2039-08..09), 1984-11..12 at 55 (2039-11..12). Earlier births keep the old age.

Only the statutory age is modelled: voluntary flexible early or deferred retirement (弹性提前/延迟退休, up to
three years either way, never below the old age) is for the reviewers, not this check.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = ["FEMALE_BASES", "Gender", "Retirement", "retirement", "retirement_age_months", "retirement_date"]

Gender = Literal["male", "female"]
FEMALE_BASES = (50, 55)  # 女工人 50, 女干部 55: set by her post, not her birth


@dataclass(frozen=True, slots=True)
class _Schedule:
    base_years: int
    first_year: int  # births from January of this year are delayed
    months_per_step: int  # every this many birth months add one month
    cap_months: int


_MEN = _Schedule(60, 1965, 4, 36)
_WOMEN: dict[int, _Schedule] = {55: _Schedule(55, 1970, 4, 36), 50: _Schedule(50, 1975, 2, 60)}


@dataclass(frozen=True, slots=True)
class Retirement:
    """When a person reaches the statutory retirement age.

    `date` is the day the age is reached: the birth date moved forward by `age_months`, i.e. the birthday's
    day in the retirement month, or the last day of that month when it has no such day (born 31 Jan,
    retiring in a February: the 28th/29th). The month is fixed by the official tables, so it never rolls
    over into the next month; that is why a 29 Feb birth retiring in a non-leap February gets 28 Feb, while
    `age_on` counts its ordinary birthdays from 1 Mar. On and after `date` the person has reached the age.

    `base_assumed` is True when a woman's base was unknown and 55 (the later, lenient bound) was used:
    the caller should send the entry to review.
    """

    age_months: int
    date: date
    base_years: int
    base_assumed: bool = False

    @property
    def age(self) -> tuple[int, int]:
        """(years, months), as the official tables print it: 62岁11个月 → (62, 11)."""
        return divmod(self.age_months, 12)


def _schedule(gender: Gender, female_base: int | None) -> tuple[_Schedule, bool]:
    # Typed int rather than Literal[50, 55] because it comes straight from forms and the database.
    if gender == "male":
        return _MEN, False  # female_base is meaningless for men and ignored
    if female_base is None:
        return _WOMEN[55], True
    if female_base not in _WOMEN:
        raise ValueError(f"female_base must be 50, 55 or None, not {female_base!r}")
    return _WOMEN[female_base], False


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def retirement(birth: date, gender: Gender, female_base: int | None = None) -> Retirement:
    """Statutory retirement age and day; see `Retirement` for the exact day returned."""
    s, assumed = _schedule(gender, female_base)
    index = (birth.year - s.first_year) * 12 + birth.month - 1  # birth months since the first delayed one
    delay = 0 if index < 0 else min(index // s.months_per_step + 1, s.cap_months)
    months = s.base_years * 12 + delay
    return Retirement(months, _add_months(birth, months), s.base_years, assumed)


def retirement_age_months(birth: date, gender: Gender, female_base: int | None = None) -> int:
    """Retirement age in months (63 years = 756). A woman of unknown base is computed on base 55."""
    return retirement(birth, gender, female_base).age_months


def retirement_date(birth: date, gender: Gender, female_base: int | None = None) -> date:
    """The day the retirement age is reached (see `Retirement`). Use `retirement()` for the review flag."""
    return retirement(birth, gender, female_base).date
