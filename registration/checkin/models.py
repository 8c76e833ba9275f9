"""Tables of contest day. Invariants in the schema:

- one attendance row per entry (present or absent): UNIQUE(entry_id) — of two stations scanning one ticket
  at once exactly one inserts it;
- one answer per scan nonce: UNIQUE(event_id, nonce) on the scan log, which stores the answer for retries;
- one seat per entry, one entry per seat, one draw number per item: UNIQUE constraints on seat_assignment.
The seat → draw number → entry mapping is sealed by access rules (see judging/sealed.py, which holds the item's
stage: scores locked, layers revealed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from contestday.db.types import UTCDateTime, utcnow

__all__ = ["Attendance", "CheckinScan", "SeatAssignment", "SeatMove", "SeatSession"]


def _fk(target: str, *, index: bool = True, unique: bool = False) -> Any:
    return Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False, index=index and not unique,
                  unique=unique)


class SeatSession(SQLModel, table=True):
    """A session (场次) of an item with its seats: `prefix` + numbers, e.g. A01–A30."""

    __tablename__ = "seat_session"
    __table_args__ = (UniqueConstraint("item_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    position: int = 0
    name: str = Field(max_length=40)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    checkin_opens_at: datetime = Field(sa_type=UTCDateTime)
    checkin_closes_at: datetime = Field(sa_type=UTCDateTime)
    prefix: str = Field(default="A", max_length=8)
    first_number: int = 1
    seat_count: int
    digits: int = 2


class Attendance(SQLModel, table=True):
    __tablename__ = "attendance"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(sa_column=_fk("entry.id", unique=True))
    event_id: int = Field(sa_column=_fk("event.id"))
    status: str = Field(max_length=16)  # present | absent
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    station: str = Field(max_length=64)
    by: str | None = Field(default=None, max_length=80)


class CheckinScan(SQLModel, table=True):
    """Every scan, refused ones too. The answer is kept so a retry with the same nonce gets it again."""

    __tablename__ = "checkin_scan"
    __table_args__ = (UniqueConstraint("event_id", "nonce"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event.id", index=False))
    nonce: str = Field(max_length=80)
    station: str = Field(max_length=64)
    code_hint: str = Field(max_length=8)  # the first characters only: a ticket code is a bearer secret
    entry_id: int | None = None
    outcome: str = Field(max_length=40)
    status_code: int
    response: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SeatAssignment(SQLModel, table=True):
    """entry → draw number → seat. Judges only ever see the seat."""

    __tablename__ = "seat_assignment"
    __table_args__ = (UniqueConstraint("session_id", "seat_label"), UniqueConstraint("item_id", "draw_number"))

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(sa_column=_fk("entry.id", unique=True))
    item_id: int = Field(sa_column=_fk("item.id"))
    session_id: int = Field(sa_column=_fk("seat_session.id"))
    seat_label: str = Field(max_length=16)
    draw_number: int
    drawn_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    station: str = Field(max_length=64)


class SeatMove(SQLModel, table=True):
    """A contestant moved to another seat (equipment fault): who, why, and the minutes given back."""

    __tablename__ = "seat_move"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(sa_column=_fk("seat_assignment.id"))
    from_session_id: int
    from_label: str = Field(max_length=16)
    to_session_id: int
    to_label: str = Field(max_length=16)
    reason: str = Field(max_length=500)
    minutes_returned: int = 0
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

