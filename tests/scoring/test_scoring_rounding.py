from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.rounding import decimal_places, fmt2, from_cents, half_up_div, parse_number, round2, to_cents

D = Decimal


@pytest.mark.parametrize(("text", "value"), [("8", D(8)), (" 8.25 ", D("8.25")), ("+1.5", D("1.5")),
                                             (".5", D("0.5")), ("-2", D(-2)), ("10.", D(10)),
                                             ("８.５", D("8.5"))])  # full-width, as Chinese IMEs type
def test_parse_number_accepts_plain_decimals(text: str, value: Decimal) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1e2", "NaN", "Infinity", "1_000", "8,5", "1.2.3", "--1"])
def test_parse_number_refuses_anything_else(text: str) -> None:
    assert parse_number(text) is None


def test_round_half_up_not_half_even_not_float() -> None:
    assert round2(D("8.245")) == D("8.25")  # float(8.245) is 8.2449999… and round() gives 8.24
    assert round2(D("8.244999")) == D("8.24")
    assert round2(D("0.125")) == D("0.13")  # half-even would give 0.12
    assert round(8.245, 2) == 8.24  # the trap this module exists for


def test_decimal_places_ignores_trailing_zeros() -> None:
    assert [decimal_places(D(t)) for t in ("10", "8.50", "8.25", "8.255", "8.2500")] == [0, 1, 2, 3, 2]


def test_cents_round_trip_and_refuse_a_third_decimal() -> None:
    assert to_cents(D("85.5")) == 8550 and from_cents(8550) == D("85.50")
    with pytest.raises(ValueError):
        to_cents(D("1.005"))


def test_fmt2_always_two_decimals() -> None:
    assert [fmt2(D(v)) for v in ("0", "7", "85.5", "99.999")] == ["0.00", "7.00", "85.50", "100.00"]


@given(st.integers(0, 10**9), st.integers(1, 10**6))
def test_integer_half_up_division_equals_decimal(a: int, b: int) -> None:
    assert half_up_div(a, b) == int((D(a) / D(b)).quantize(D(1), rounding=ROUND_HALF_UP))
