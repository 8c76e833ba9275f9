"""Valid resident ID numbers for tests, made with the GB 11643-1999 check character."""

from __future__ import annotations

import itertools
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_counter = itertools.count(1)


def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def make_id(birth: date = date(1995, 6, 15), *, region: str = "500103", male: bool = True,
            seq: int | None = None) -> str:
    n = next(_counter) if seq is None else seq
    order = (n * 2 + (1 if male else 0)) % 1000  # odd 17th digit = male
    if male and order % 2 == 0:
        order += 1
    if not male and order % 2 == 1:
        order -= 1
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + check_char(first17)
