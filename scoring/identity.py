"""Resident ID numbers (GB 11643-1999) and the permits that share their format, and the registration age
check (16 to the statutory retirement age, `scoring.retirement`): pure, stdlib only.

Covers the mainland resident ID, the HK/Macau/Taiwan residence permits (810000/820000/830000) and the 2023
foreigner permanent-residence card (18 digits starting with 9). All four use the same check character.

Refusals carry a stable reason code (for the API and tests) plus Chinese and English messages. The region
code is never a reason to refuse: it records where the number was first issued, codes are retired and
created (两江新区 500157 exists since 2010), and off-the-shelf validators that use a county list get this
wrong. We only warn when the province-level prefix is unknown.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from scoring.retirement import Gender, Retirement, retirement

__all__ = [
    "GENDER_NAMES",
    "MINIMUM_AGE",
    "PROVINCE_PREFIXES",
    "AgeCheck",
    "AgeStatus",
    "Gender",
    "IdKind",
    "IdNumber",
    "IdWarning",
    "InvalidIdNumber",
    "age_on",
    "check_age",
    "check_character",
    "mask_id_number",
    "normalise_id_number",
    "parse_id_number",
]

AgeStatus = Literal["ok", "too_young", "over_retirement"]
MINIMUM_AGE = 16  # 劳动法 §15: no employment under 16; the notices (seed 001, 002) say 16 or over
IdKind = Literal["resident", "hk_permit", "mo_permit", "tw_permit", "foreign_permanent"]
# The stored gender is the ID number's code; people read 男/女 (exports, lists, the organiser's pages).
GENDER_NAMES: dict[str, str] = {"male": "男", "female": "女"}

# Province-level prefixes of GB/T 2260, plus 81/82/83 (HK/Macau/Taiwan residence permits). 71 is Taiwan's
# code in GB/T 2260; Taiwan residents' permits use 83. Used for a warning only, never for a refusal.
PROVINCE_PREFIXES: dict[str, str] = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
    "21": "辽宁", "22": "吉林", "23": "黑龙江",
    "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
    "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
    "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
    "71": "台湾", "81": "香港", "82": "澳门", "83": "台湾",
}  # fmt: skip

_PERMITS: dict[str, IdKind] = {"81": "hk_permit", "82": "mo_permit", "83": "tw_permit"}
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
_EARLIEST_BIRTH = date(1900, 1, 1)
# Spaces and every dash a form or spreadsheet may put in (NFKC already maps U+FF0D and U+3000).
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)

_REFUSALS: dict[str, tuple[str, str]] = {
    "empty": ("请填写身份证号码", "Please enter the ID number."),
    "legacy_15_digit": ("15 位旧身份证号已停用，请填写 18 位身份证号码",
                        "The 15-digit ID number has been retired: please enter the 18-digit number."),
    "wrong_length": ("身份证号码应为 18 位（当前 {n} 位）", "An ID number has 18 characters (this one has {n})."),
    "bad_characters": ("身份证号码只能由数字组成，最后一位可以是 X",
                       "An ID number has digits only; the last character may be X."),
    "bad_check_digit": ("身份证号码校验位不符，请核对是否有输错的数字",
                        "The check character does not match: please look for a mistyped digit."),
    "bad_birth_date": ("身份证号码中的出生日期 {d} {zh}", "The birth date {d} in the ID number {en}."),
}  # fmt: skip


class InvalidIdNumber(ValueError):
    """A refused ID number. `code` is stable (API, tests); `zh` and `en` are for people."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(f"{code}: {en}")
        self.code, self.zh, self.en = code, zh, en


def _refuse(code: str, **fmt: object) -> InvalidIdNumber:
    zh, en = _REFUSALS[code]
    return InvalidIdNumber(code, zh.format(**fmt), en.format(**fmt))


@dataclass(frozen=True, slots=True)
class IdWarning:
    """Something a reviewer should look at; the number is accepted."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class IdNumber:
    number: str  # normalised: 18 ASCII characters, upper-case X
    kind: IdKind
    birth_date: date
    gender: Gender
    region_code: str  # digits 1–6 as written; for foreigner cards digits 2–3 are the issuing province
    warnings: tuple[IdWarning, ...] = ()


def normalise_id_number(raw: str) -> str:
    """Full-width digits and letters to ASCII (NFKC: Chinese IMEs type ０-９ and ｘ), drop spaces and dashes,
    upper-case the x. Idempotent."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def check_character(first17: str) -> str:
    """GB 11643-1999 check character of 17 ASCII digits (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need 17 ASCII digits")
    return _CHECK_CHARS[sum(w * int(c) for w, c in zip(_WEIGHTS, first17, strict=True)) % 11]


def _kind(number: str) -> IdKind:
    if number[0] == "9":
        return "foreign_permanent"
    return _PERMITS.get(number[:2], "resident")


def _region_warnings(number: str, kind: IdKind) -> tuple[IdWarning, ...]:
    region = number[:6]
    if kind == "foreign_permanent":
        known = number[1:3] in PROVINCE_PREFIXES
    elif kind == "resident":  # 81/82/83 never get here: they are permits
        known = number[:2] in PROVINCE_PREFIXES
    else:  # a residence permit's address code is the whole territory: exactly 810000/820000/830000
        known = region == number[:2] + "0000"
    if known:
        return ()
    return (IdWarning(
        "unknown_region",
        f"地区码 {region} 不在省级行政区划表中，请核对（不影响报名）",
        f"Region code {region} is not a known province-level code: please check it (the entry is not refused).",
    ),)  # fmt: skip


def _birth_date(number: str, today: date) -> date:
    digits = number[6:14]
    shown = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:  # 19850230, 20230229, month 13 …
        raise _refuse("bad_birth_date", d=shown, zh="不是真实的日期", en="is not a real date") from None
    if born < _EARLIEST_BIRTH:
        raise _refuse("bad_birth_date", d=shown, zh="早于 1900 年", en="is before 1900")
    if born > today:
        raise _refuse("bad_birth_date", d=shown, zh="晚于今天", en="is in the future")
    return born


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate and decompose an ID number, or raise `InvalidIdNumber`.

    Order of checks: empty, characters, the retired 15-digit form, length, check character, birth date.
    The check character comes before the birth date so that any single mistyped digit reports
    `bad_check_digit` (the MOD 11-2 weights catch every single-digit error). `today` is injectable for tests.
    """
    number = normalise_id_number(raw)
    if not number:
        raise _refuse("empty")
    if not number.isascii() or not all(c.isdigit() or c == "X" for c in number):
        raise _refuse("bad_characters")
    if len(number) == 15 and number.isdigit():
        # First-generation cards (no century, no check digit) stopped being valid on 2013-01-01.
        raise _refuse("legacy_15_digit")
    if len(number) != 18:
        raise _refuse("wrong_length", n=len(number))
    if not _SHAPE.fullmatch(number):  # an X anywhere but last
        raise _refuse("bad_characters")
    if check_character(number[:17]) != number[17]:
        raise _refuse("bad_check_digit")
    born = _birth_date(number, today or date.today())
    kind = _kind(number)
    return IdNumber(
        number=number,
        kind=kind,
        birth_date=born,
        gender="male" if int(number[16]) % 2 else "female",  # digit 17: odd for men, even for women
        region_code=number[:6],
        warnings=_region_warnings(number, kind),
    )


def mask_id_number(number: str) -> str:
    """First 4 and last 4 visible (5001**********1234): enough for a person to recognise their own number,
    not enough to reveal the birth date. Anything too short to mask that way is masked entirely."""
    n = normalise_id_number(number)
    if len(n) <= 8:
        return "*" * len(n)
    return n[:4] + "*" * (len(n) - 8) + n[-4:]


def age_on(birth: date, on: date) -> int:
    """Age in completed years on `on`; a person is a year older on the birthday itself.

    Someone born on 29 Feb turns a year older on 1 Mar in non-leap years (28 Feb is still "before the
    birthday"), which is what the tuple comparison below gives.
    """
    if on < birth:
        raise ValueError(f"{on} is before the birth date {birth}")
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@dataclass(frozen=True, slots=True)
class AgeCheck:
    status: AgeStatus
    age: int | None  # completed years on the cut-off date; None when born after it
    retirement: Retirement
    needs_review: bool  # a woman of unknown base who would be retired on the 50 base
    zh: str
    en: str
    # What the reviewers must look at in an accepted (`ok`) entry: stable codes `retirement_base_unknown`,
    # `retires_on_contest_day`. The registration turns each into a flag of the review queue.
    reviews: tuple[IdWarning, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"


_BASE_UNKNOWN = IdWarning("retirement_base_unknown", "女职工退休年龄基准（50/55 岁）需核实",
                          "Female retirement base (50/55) to check.")


def _age_text(ret: Retirement) -> tuple[str, str]:
    years, months = ret.age
    return (f"{years} 周岁" + (f" {months} 个月" if months else ""),
            f"{years} years" + (f" {months} months" if months else ""))


def _on_the_day(ret: Retirement, base_note: bool) -> IdWarning:
    zh_age, en_age = _age_text(ret)
    zh_base, en_base = ("按 50 周岁基准（女工人）", " on the 50 base (female worker)") if base_note else ("", "")
    return IdWarning(
        "retires_on_contest_day",
        f"{zh_base}于比赛当天 {ret.date} 达到法定退休年龄（{zh_age}）：“法定退休年龄以内”含当天，予以受理，需核实",
        f"Reaches the statutory retirement age ({en_age}){en_base} on the contest day {ret.date}: within the "
        "age (the day itself counts), accepted for review.",
    )


def check_age(birth: date, gender: Gender, on: date, female_base: int | None = None) -> AgeCheck:
    """Registration age rule on the cut-off date `on`: 16 or over, and within the statutory retirement age.

    "法定退休年龄以内" includes the retirement day itself (民法典 §1259: "以内" includes the number), so a
    person whose retirement day is `on` is `ok` with the `retires_on_contest_day` review; the day after is
    `over_retirement`. A woman of unknown base is judged on base 55; if the 50 base would already have her
    retired before `on`, the result is still `ok` with the `retirement_base_unknown` review (the reviewers ask
    her post); if the 50 base has her retire on `on` itself, she is eligible on either base, and only the day
    is reviewed. If even base 55 has her retired, she is `over_retirement` whatever her post.
    """
    ret = retirement(birth, gender, female_base)
    age = age_on(birth, on) if on >= birth else None
    if age is None or age < MINIMUM_AGE:
        return AgeCheck("too_young", age, ret, False, f"截止 {on} 未满 {MINIMUM_AGE} 周岁",
                        f"Under {MINIMUM_AGE} on {on}.")  # fmt: skip
    if on > ret.date:
        zh_age, en_age = _age_text(ret)
        return AgeCheck("over_retirement", age, ret, False,
                        f"已于 {ret.date} 达到法定退休年龄（{zh_age}）",
                        f"Reached the statutory retirement age ({en_age}) on {ret.date}.")  # fmt: skip
    reviews: list[IdWarning] = []
    if on == ret.date:
        reviews.append(_on_the_day(ret, False))
    if ret.base_assumed:
        on_50 = retirement(birth, "female", 50)
        if on > on_50.date:
            reviews.append(_BASE_UNKNOWN)
        elif on == on_50.date:
            reviews.append(_on_the_day(on_50, True))
    base_review = _BASE_UNKNOWN in reviews
    if base_review:
        zh, en = ("按 55 周岁基准未到退休年龄，按 50 周岁基准（女工人）已到：请审核岗位",
                  "Under the retirement age on the 55 base but over it on the 50 base (female worker): "
                  "review her post.")
    elif reviews:
        zh, en = reviews[0].zh, reviews[0].en
    else:
        zh, en = "年龄符合要求", "Age requirement met."
    return AgeCheck("ok", age, ret, base_review, zh, en, tuple(reviews))
