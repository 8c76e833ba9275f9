"""Exact decimal helpers: parse score text, round half up (四舍五入) to 2 places, hundredths.

Everything in scoring and results is exact: a mark is either a `Decimal` or an integer number of
hundredths ("cents"). Binary floats never appear, because 8.245 as a float is 8.2449999… and would
round down.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

__all__ = [
    "CENT",
    "decimal_places",
    "div_round2",
    "fmt2",
    "from_cents",
    "half_up_div",
    "parse_number",
    "round2",
    "to_cents",
]

CENT = Decimal("0.01")
# Plain decimal notation only: no exponent, no NaN/Infinity, no "1_000" (all of which Decimal() takes).
# \d also takes full-width digits (８５.５), which Chinese input methods produce and Decimal() reads.
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


def parse_number(text: str) -> Decimal | None:
    """The decimal written in `text` (surrounding blanks ignored), or None when it is not a plain number."""
    text = text.strip()
    if not _NUMBER_RE.match(text):
        return None
    return Decimal(text)


def decimal_places(value: Decimal) -> int:
    """Significant decimal places: 8.50 has 1, 8.25 has 2, 10 has 0 (trailing zeros do not count)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def round2(value: Decimal) -> Decimal:
    """Round half up to 2 decimals (8.245 -> 8.25, 8.244 -> 8.24)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def div_round2(numerator: Decimal, denominator: Decimal) -> tuple[Decimal, Decimal]:
    """(exact-enough quotient, quotient rounded half up to 2 decimals).

    60 significant digits: a quotient of small decimals that is not a terminating decimal can never
    look like an exact .xx5 at that precision, so rounding the 60-digit value is rounding the true one.
    """
    with localcontext() as ctx:
        ctx.prec = 60
        quotient = numerator / denominator
        return quotient, round2(quotient)


def to_cents(value: Decimal) -> int:
    """Hundredths of a value with at most 2 decimals (raises on more, so nothing is lost silently)."""
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{value} has more than 2 decimals")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def half_up_div(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) half up, in integers; both non-negative, denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


def fmt2(value: Decimal) -> str:
    """Exactly 2 decimals, as the results files print every score."""
    return f"{round2(value):.2f}"
