"""The seat plan as an HTML form: rows of fields (`s{n}_name`, …) to the payload `read_plan` validates, and
its refusal back to the form row and field. Times are typed in Beijing time (datetime-local has no zone)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from contestday.web.errors import Refusal
from registration.checkin.models import SeatSession
from scoring.event_file import CHINA_TZ

__all__ = ["BLANK_ROWS", "FIELDS", "form_rows", "plan_rows", "to_payload", "where"]

# form field → read_plan key
FIELDS = {"name": "name", "starts_at": "starts_at", "seat_count": "seat_count", "prefix": "prefix",
          "before": "checkin_before_min", "after": "checkin_after_min"}
BLANK_ROWS = 2  # empty rows under the existing sessions: enough to add a session without JavaScript
MAX_ROWS = 50
PREFIXES = "ABCDEFGHJKMNPQRSTUVWXYZ"  # no I, L, O: they read as 1 and 0 on a printed seat card


def plan_rows(sessions: Sequence[SeatSession]) -> list[dict[str, str]]:
    """The stored sessions as form rows (minutes before/after derived from the check-in window)."""
    rows = []
    for s in sessions:
        rows.append({"name": s.name, "starts_at": s.starts_at.astimezone(CHINA_TZ).strftime("%Y-%m-%dT%H:%M"),
                     "seat_count": str(s.seat_count), "prefix": s.prefix,
                     "before": str(int((s.starts_at - s.checkin_opens_at).total_seconds() // 60)),
                     "after": str(int((s.checkin_closes_at - s.starts_at).total_seconds() // 60))})
    return rows


def form_rows(form: Mapping[str, Any]) -> list[dict[str, str]]:
    """The submitted rows, without the empty ones at the end (the page adds fresh blank rows)."""
    rows = []
    for n in range(MAX_ROWS):
        if f"s{n}_name" not in form and f"s{n}_seat_count" not in form:
            break
        rows.append({key: str(form.get(f"s{n}_{key}") or "").strip() for key in FIELDS})
    while rows and not any(rows[-1].values()):
        rows.pop()
    return rows


def _number(text: str) -> int | str:
    # read_plan refuses anything but an int, with the message the form shows; keep bad input as text for it
    return int(text) if text.isdigit() else text


def to_payload(rows: Sequence[dict[str, str]]) -> tuple[dict[str, Any], list[int]]:
    """(payload for read_plan, the form row of each session in it). Rows left empty are skipped."""
    sessions: list[dict[str, Any]] = []
    kept: list[int] = []
    for n, row in enumerate(rows):
        if not (row["name"] or row["starts_at"] or row["seat_count"]):
            continue
        # a blank prefix: A for the first session, B for the second…, so sessions never share seat numbers
        raw: dict[str, Any] = {"name": row["name"], "seat_count": _number(row["seat_count"]),
                               "prefix": row["prefix"] or PREFIXES[len(sessions) % len(PREFIXES)]}
        try:
            starts = datetime.fromisoformat(row["starts_at"])
            raw["starts_at"] = (starts if starts.tzinfo else starts.replace(tzinfo=CHINA_TZ)).isoformat()
        except ValueError:
            raw["starts_at"] = row["starts_at"]
        for key in ("before", "after"):
            if row[key]:
                raw[FIELDS[key]] = _number(row[key])
        sessions.append(raw)
        kept.append(n)
    return {"sessions": sessions}, kept


def where(exc: Refusal, kept: Sequence[int]) -> str:
    """The form field (`s{n}_{key}`, or "" for the plan as a whole) a read_plan refusal belongs to."""
    path = str(exc.extra_fields.get("field", ""))
    if not path.startswith("sessions["):
        return ""
    index, _, key = path[len("sessions["):].partition("].")
    number = kept[int(index)] if index.isdigit() and int(index) < len(kept) else 0
    form_key = next((f for f, k in FIELDS.items() if k == key), "name")
    return f"s{number}_{form_key}"
