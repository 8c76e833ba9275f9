"""Time used (用时): how long a contestant took, in whole seconds, for the `time_used` tie-break (shorter first).

The clock starts at the seat session's start (the seat plan) and stops when the contestant hands in (交卷);
minutes given back after an equipment fault (`minutes_returned` of a seat move) are taken off. Pure: the
recording and the reading live in judging/handin.py.
"""

from __future__ import annotations

from datetime import datetime

__all__ = ["MAX_SECONDS", "TimeProblem", "parse_seconds", "seconds_used"]

MAX_SECONDS = 24 * 3600  # a contest session is hours, never a day


class TimeProblem(ValueError):
    def __init__(self, code: str, zh: str, en: str):
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


def seconds_used(starts_at: datetime, handed_in_at: datetime, minutes_returned: int) -> int:
    """Whole seconds from the start to the hand-in, less the minutes given back (never below 0)."""
    if handed_in_at < starts_at:
        raise TimeProblem("before_start", f"交卷时间 {handed_in_at:%H:%M:%S} 早于开赛时间 {starts_at:%H:%M:%S}",
                          f"handed in at {handed_in_at:%H:%M:%S}, before the start at {starts_at:%H:%M:%S}")
    used = int((handed_in_at - starts_at).total_seconds()) - 60 * max(0, minutes_returned)
    return max(0, used)


def parse_seconds(raw: object) -> int:
    """A time used as given in an import: whole seconds (3600, "3600") or h:mm:ss / mm:ss ("1:05:30", "65:30")."""
    if isinstance(raw, bool):
        raise TimeProblem("invalid_time", "用时应为秒数或 时:分:秒", "time used must be seconds or h:mm:ss")
    if isinstance(raw, int):
        seconds = raw
    else:
        text = str(raw if raw is not None else "").strip()
        parts = text.split(":")
        if not text or len(parts) > 3 or not all(p.isdigit() and p.isascii() for p in parts) \
                or any(len(p) > 2 for p in parts[1:]) or any(int(p) > 59 for p in parts[1:]):
            raise TimeProblem("invalid_time", f"用时“{text[:20]}”应为秒数或 时:分:秒",
                              f"time used {text[:20]!r} must be seconds or h:mm:ss")
        seconds = 0
        for part in parts:
            seconds = seconds * 60 + int(part)
    if not 0 <= seconds <= MAX_SECONDS:
        raise TimeProblem("out_of_range", f"用时 {seconds} 秒超出 0–{MAX_SECONDS} 秒",
                          f"time used {seconds} s is outside 0…{MAX_SECONDS} s")
    return seconds
