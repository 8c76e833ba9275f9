"""scoring.identity: ID numbers built here with our own copy of the GB 11643-1999 check algorithm."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.identity import (
    InvalidIdNumber,
    age_on,
    check_character,
    mask_id_number,
    normalise_id_number,
    parse_id_number,
)

TODAY = date(2025, 6, 1)
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")


def make_id(first17: str) -> str:
    """Independent of the module under test, so a wrong weight or table there fails here."""
    return first17 + "10X98765432"[sum(w * int(c) for w, c in zip(_W, first17, strict=True)) % 11]


def make_id_ending_x(first14: str) -> str:
    """The first sequence number whose check character is X (one in eleven are)."""
    return next(n for s in range(1000) if (n := make_id(f"{first14}{s:03d}")).endswith("X"))


def refusal(raw: str, today: date = TODAY) -> InvalidIdNumber:
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(raw, today=today)
    return info.value


def test_the_standards_own_examples() -> None:
    assert make_id("11010519491231002") == "11010519491231002X"  # GB 11643-1999 example
    assert check_character("11010519491231002") == "X"
    p = parse_id_number("11010519491231002X", today=TODAY)
    assert (p.kind, p.birth_date, p.gender, p.region_code, p.warnings) == (
        "resident", date(1949, 12, 31), "female", "110105", ())
    # The standard's other example has a correct check digit but a birth in 1880: before 1900.
    assert refusal("440524188001010014").code == "bad_birth_date"


@pytest.mark.parametrize(("first17", "kind", "born", "gender"), [
    ("50010319850615123", "resident", date(1985, 6, 15), "male"),  # Chongqing before 1997: stdnum refuses
    ("50015720010203002", "resident", date(2001, 2, 3), "female"),  # 两江新区: id-validator refuses
    ("50023519700101001", "resident", date(1970, 1, 1), "male"),
    ("81000019900707004", "hk_permit", date(1990, 7, 7), "female"),
    ("82000019921231005", "mo_permit", date(1992, 12, 31), "male"),
    ("83000019880808006", "tw_permit", date(1988, 8, 8), "female"),
    ("95084019750301007", "foreign_permanent", date(1975, 3, 1), "male"),  # 9, 50 重庆, 840 USA
])  # fmt: skip
def test_valid_numbers_of_every_kind(first17: str, kind: str, born: date, gender: str) -> None:
    number = make_id(first17)
    p = parse_id_number(number, today=TODAY)
    assert (p.number, p.kind, p.birth_date, p.gender, p.warnings) == (number, kind, born, gender, ())
    assert p.region_code == number[:6]


def test_full_width_digits_lower_case_x_spaces_and_dashes_are_normalised() -> None:
    number = make_id_ending_x("50010319850615")
    typed = number.translate(_FULL_WIDTH)  # what a Chinese IME in full-width mode produces
    assert typed.endswith("ｘ") and typed != number
    spaced = f" {number[:6]} {number[6:14]}-{number[14:].lower()} "
    for raw in (typed, number.lower(), spaced, f"{number[:6]}－{number[6:]}", f"{number[:6]}\u3000{number[6:]}"):
        assert normalise_id_number(raw) == number
        assert parse_id_number(raw, today=TODAY).number == number
    assert normalise_id_number(number) == number  # idempotent


@pytest.mark.parametrize(("raw", "code"), [
    ("", "empty"), ("   ", "empty"), ("- -", "empty"),
    ("500103850615123", "legacy_15_digit"),
    ("５００１０３８５０６１５１２３", "legacy_15_digit"),
    ("5001031985061512", "wrong_length"), ("50010319850615123", "wrong_length"),
    ("5001031985061512361", "wrong_length"),
    ("50010319850615123A", "bad_characters"), ("张三", "bad_characters"), ("5001031985061512X6", "bad_characters"),
    ("X00103198506151236", "bad_characters"), ("50010319850615123½", "bad_characters"),
])  # fmt: skip
def test_every_shape_refusal(raw: str, code: str) -> None:
    exc = refusal(raw)
    assert exc.code == code and exc.zh and exc.en


def test_legacy_15_digit_message() -> None:
    exc = refusal("500103850615123")
    assert exc.zh == "15 位旧身份证号已停用，请填写 18 位身份证号码"
    assert "15-digit" in exc.en and "18-digit" in exc.en


def test_wrong_length_says_how_long() -> None:
    assert "17" in refusal("50010319850615123").zh


def test_bad_check_digit() -> None:
    number = make_id("50010319850615123")
    wrong = "0" if number[-1] != "0" else "1"
    assert refusal(number[:-1] + wrong).code == "bad_check_digit"


@pytest.mark.parametrize(("birth", "why"), [
    ("19850230", "not a real date"), ("19851301", "not a real date"), ("19850001", "not a real date"),
    ("19850100", "not a real date"), ("19000229", "not a real date"), ("20230229", "not a real date"),
    ("18991231", "before 1900"), ("20250602", "future"),
])  # fmt: skip
def test_bad_birth_dates(birth: str, why: str) -> None:
    exc = refusal(make_id(f"500103{birth}123"), today=date(2025, 6, 1))
    assert exc.code == "bad_birth_date" and why in exc.en and birth[:4] in exc.zh


def test_birth_date_bounds_are_inclusive() -> None:
    assert parse_id_number(make_id("50010319000101123"), today=TODAY).birth_date == date(1900, 1, 1)
    assert parse_id_number(make_id("50010320250601123"), today=TODAY).birth_date == TODAY
    assert refusal(make_id("50010320250601123"), today=date(2025, 5, 31)).code == "bad_birth_date"


@pytest.mark.parametrize(("birth", "valid"), [
    ("20000229", True), ("20040229", True), ("19960229", True),  # 2000: a leap century
    ("19000229", False), ("20050229", False), ("19990229", False),
])  # fmt: skip
def test_29_february_only_in_leap_years(birth: str, valid: bool) -> None:
    number = make_id(f"500103{birth}123")
    if valid:
        assert parse_id_number(number, today=TODAY).birth_date == date(int(birth[:4]), 2, 29)
    else:
        assert refusal(number).code == "bad_birth_date"


@pytest.mark.parametrize("digit", range(10))
def test_gender_by_parity_of_digit_17(digit: int) -> None:
    p = parse_id_number(make_id(f"5001031985061512{digit}"), today=TODAY)
    assert p.gender == ("male" if digit % 2 else "female")


@pytest.mark.parametrize(("first17", "kind"), [
    ("19010119850615123", "resident"),  # no province 19
    ("00000019850615123", "resident"),
    ("71000019850615123", "resident"),  # 71 is a known (Taiwan) code: no warning expected, checked below
    ("81000119850615123", "hk_permit"),  # a permit's code is exactly 810000
    ("99984019850615123", "foreign_permanent"),  # issuing province 99
])  # fmt: skip
def test_unknown_region_is_a_warning_never_a_refusal(first17: str, kind: str) -> None:
    p = parse_id_number(make_id(first17), today=TODAY)
    assert p.kind == kind
    if first17.startswith("71"):
        assert p.warnings == ()
    else:
        assert [w.code for w in p.warnings] == ["unknown_region"]
        assert first17[:6] in p.warnings[0].zh and "not refused" in p.warnings[0].en


def test_masking() -> None:
    assert mask_id_number("500103198506151234") == "5001**********1234"
    assert mask_id_number(" ５００１０３１９８５０６１５１２３ｘ") == "5001**********123X"
    assert mask_id_number("12345678") == "********"  # nothing to show safely
    assert mask_id_number("") == ""


@pytest.mark.parametrize(("birth", "on", "age"), [
    (date(2009, 5, 20), date(2025, 5, 19), 15), (date(2009, 5, 20), date(2025, 5, 20), 16),
    (date(2008, 2, 29), date(2024, 2, 28), 15), (date(2008, 2, 29), date(2024, 2, 29), 16),
    (date(2008, 2, 29), date(2025, 2, 28), 16), (date(2008, 2, 29), date(2025, 3, 1), 17),  # 1 Mar in a common year
    (date(1985, 12, 31), date(1986, 1, 1), 0), (date(1985, 6, 15), date(1985, 6, 15), 0),
])  # fmt: skip
def test_age_on(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


def test_age_on_refuses_a_date_before_birth() -> None:
    with pytest.raises(ValueError):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


def test_the_modules_are_pure() -> None:
    code = ("import sys, scoring.identity, scoring.retirement; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'litestar', 'sqlmodel', 'sqlalchemy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


_born = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
_region = st.text("0123456789", min_size=6, max_size=6)
_seq = st.text("0123456789", min_size=3, max_size=3)


def _first17(region: str, born: date, seq: str) -> str:
    return f"{region}{born:%Y%m%d}{seq}"


@given(region=_region, born=_born, seq=_seq)
def test_property_valid_numbers_round_trip(region: str, born: date, seq: str) -> None:
    number = make_id(_first17(region, born, seq))
    p = parse_id_number(number, today=TODAY)
    assert (p.number, p.birth_date, p.region_code) == (number, born, region)
    assert p.gender == ("male" if int(seq[2]) % 2 else "female")
    assert parse_id_number(number.translate(_FULL_WIDTH), today=TODAY) == p


@given(region=_region, born=_born, seq=_seq, position=st.integers(0, 17), data=st.data())
def test_property_any_single_changed_character_fails_the_check(
        region: str, born: date, seq: str, position: int, data: st.DataObject) -> None:
    number = make_id(_first17(region, born, seq))
    alphabet = "0123456789X" if position == 17 else "0123456789"
    new = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + new + number[position + 1:]
    # The check character is verified before the birth date, so even a change that breaks the date is caught here.
    assert refusal(changed).code == "bad_check_digit"
