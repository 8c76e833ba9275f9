"""Reading fields of a decoded JSON/TOML document with every problem collected, each with its field path and a
reason in Chinese and English (pure, stdlib only). The event-file parser is built on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["CHINA_TZ", "FieldError", "FieldReader", "read_date", "read_datetime"]

CHINA_TZ = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class FieldError:
    path: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.zh, "message_en": self.en}


class FieldReader:
    """Gathers errors while reading; every reader returns None on a bad value."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.warnings: list[FieldError] = []

    def err(self, path: str, zh: str, en: str) -> None:
        self.errors.append(FieldError(path.removeprefix("."), zh, en))

    def warn(self, path: str, zh: str, en: str) -> None:
        self.warnings.append(FieldError(path, zh, en))

    def mapping(self, obj: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(obj, Mapping):
            self.err(path, "应为对象", "must be an object")
            return None
        return obj

    def unknown_keys(self, obj: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in obj:
            if key not in allowed:
                self.err(f"{path}.{key}", "未知字段（拼写错误？）", "unknown field (a typo?)")

    def text(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.err(f"{path}.{key}", "必填", "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.err(f"{path}.{key}", "应为非空文本", "must be non-empty text")
            return None
        return value.strip()

    def integer(self, obj: Mapping[str, Any], key: str, path: str, lo: int, hi: int,
                default: int | None = None) -> int | None:
        value = obj.get(key, default)
        if value is None:
            if default is None and key in obj:
                return None
            if default is None:
                self.err(f"{path}.{key}", "必填", "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.err(f"{path}.{key}", "应为整数", "must be an integer")
            return None
        if not lo <= value <= hi:
            self.err(f"{path}.{key}", f"应在 {lo} 到 {hi} 之间", f"must be between {lo} and {hi}")
            return None
        return value

    def decimal(self, obj: Mapping[str, Any], key: str, path: str, lo: Decimal, hi: Decimal | None,
                default: Decimal | None = None, *, lo_open: bool = False, places: int = 2,
                required: bool = True) -> Decimal | None:
        if key not in obj or obj[key] is None:
            if default is None and required:
                self.err(f"{path}.{key}", "必填", "is required")
            return default
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            self.err(f"{path}.{key}", "应为数字", "must be a number")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.err(f"{path}.{key}", "应为数字", "must be a number")
            return None
        if not number.is_finite():
            self.err(f"{path}.{key}", "应为有限数字", "must be a finite number")
            return None
        too_low = number <= lo if lo_open else number < lo
        if too_low or (hi is not None and number > hi):
            lo_txt = f"大于 {lo}" if lo_open else f"不小于 {lo}"
            lo_en = f"above {lo}" if lo_open else f"at least {lo}"
            hi_txt, hi_en = (f"且不大于 {hi}", f" and at most {hi}") if hi is not None else ("", "")
            self.err(f"{path}.{key}", f"应{lo_txt}{hi_txt}（现为 {number}）",
                     f"must be {lo_en}{hi_en} (is {number})")
            return None
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            self.err(f"{path}.{key}", f"最多 {places} 位小数", f"at most {places} decimals")
            return None
        return number

    def boolean(self, obj: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = obj.get(key, default)
        if not isinstance(value, bool):
            self.err(f"{path}.{key}", "应为 true 或 false", "must be true or false")
            return default
        return value

    def choice(self, obj: Mapping[str, Any], key: str, path: str, choices: Mapping[str, Any] | Sequence[str],
               default: str | None = None) -> str | None:
        value = obj.get(key, default)
        if value is None:
            self.err(f"{path}.{key}", "必填", "is required")
            return None
        if value not in choices:
            listed = "、".join(choices)
            self.err(f"{path}.{key}", f"未知取值“{value}”，可选：{listed}",
                     f"unknown value {value!r}; one of: {', '.join(choices)}")
            return None
        return str(value)

    def list_of(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> list[Any] | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.err(f"{path}.{key}", "必填", "is required")
            return None
        if not isinstance(value, list):
            self.err(f"{path}.{key}", "应为列表", "must be a list")
            return None
        return value


def read_date(c: FieldReader, obj: Mapping[str, Any], key: str, path: str) -> date | None:
    value = obj.get(key)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value
    if value is None:
        c.err(f"{path}.{key}", "必填", "is required")
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        c.err(f"{path}.{key}", "应为日期，如 2026-10-20", "must be a date such as 2026-10-20")
        return None


def read_datetime(c: FieldReader, obj: Mapping[str, Any], key: str, path: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            c.err(f"{path}.{key}", "应为日期时间，如 2026-10-10T18:00:00+08:00",
                  "must be a date-time such as 2026-10-10T18:00:00+08:00")
            return None
    # A time without a zone is Beijing time: that is what organisers mean.
    return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)


