"""Tables of registration. The invariants live in the schema:

- one active entry per person per event: UNIQUE(event_id, person_key) on `entry_member`, where
  `person_key` is a keyed hash (HMAC) of the normalised ID number while the entry is active (NULL once
  withdrawn or rejected, so the person may enter again; NULLs never collide);
- the unit quota per group: UNIQUE(event_id, item_id, group_name, unit_key, slot) on `quota_slot`, with
  slots numbered 1…quota;
- one ticket per entry: UNIQUE(ticket_code).
The ID number itself is stored only encrypted (Fernet, key derived from the secret key) and masked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from contestday.db.types import UTCDateTime, utcnow

__all__ = ["Entry", "EntryFlag", "EntryInstructor", "EntryMember", "QuotaSlot"]


def _fk(target: str, *, index: bool = True) -> Any:
    return Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False, index=index)


class Entry(SQLModel, table=True):
    """An entry of one person (or one team) in one item and group of an event."""

    __tablename__ = "entry"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event.id"))
    item_id: int = Field(sa_column=_fk("item.id"))
    group_name: str = Field(default="", max_length=64)
    unit: str = Field(max_length=200)
    unit_key: str = Field(max_length=200, index=True)
    state: str = Field(default="active", max_length=16)  # active | withdrawn | rejected
    review: str = Field(default="none", max_length=16)  # none | pending | approved | rejected
    review_reason: str | None = Field(default=None, max_length=500)
    reviewed_by: str | None = Field(default=None, max_length=80)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ticket_code: str = Field(max_length=40, unique=True)
    source: str = Field(default="form", max_length=16)  # form | roster | organiser
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EntryMember(SQLModel, table=True):
    """A person of an entry (two for a two-person team)."""

    __tablename__ = "entry_member"
    __table_args__ = (
        UniqueConstraint("event_id", "person_key"),
        Index("ix_entry_member_event_name", "event_id", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(sa_column=_fk("entry.id"))
    event_id: int = Field(sa_column=_fk("event.id", index=False))
    position: int = 0
    person_key: str | None = Field(default=None, max_length=64)  # HMAC of the ID number while active
    person_hash: str = Field(max_length=64, index=True)  # the same HMAC, kept after withdrawal (history)
    id_number_enc: str = Field(max_length=400)
    id_masked: str = Field(max_length=32)
    id_kind: str = Field(max_length=24)
    name: str = Field(max_length=64)
    gender: str = Field(max_length=8)
    birth_date: date
    phone: str = Field(max_length=32)
    identity: str = Field(max_length=16)  # scoring.event_file.IDENTITIES
    education: str | None = Field(default=None, max_length=32)
    skill_level: int | None = None
    certificate_number: str | None = Field(default=None, max_length=64)
    years_in_occupation: int | None = None
    female_base: int | None = None  # 50 | 55: a woman's retirement base depends on her post
    instructors: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    photo: str | None = Field(default=None, max_length=200)  # file name under DATA_DIR/photos
    major: str | None = Field(default=None, max_length=100)  # a student's 专业 (seed 002: 相关专业学生)
    residence_declared: bool = False  # ticked the event's residence_declaration (seed 002: 在渝工作、学习或居住)


class EntryFlag(SQLModel, table=True):
    """Something a reviewer must look at (the entry is accepted but waits in the review queue)."""

    __tablename__ = "entry_flag"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(sa_column=_fk("entry.id"))
    code: str = Field(max_length=40)
    message: str = Field(max_length=500)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QuotaSlot(SQLModel, table=True):
    """One of a unit's `unit_quota_per_group` places in an item and group (enforce mode)."""

    __tablename__ = "quota_slot"
    __table_args__ = (UniqueConstraint("event_id", "item_id", "group_name", "unit_key", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event.id", index=False))
    item_id: int = Field(sa_column=_fk("item.id"))
    group_name: str = Field(max_length=64)
    unit_key: str = Field(max_length=200)
    slot: int
    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("entry.id", ondelete="CASCADE"), nullable=False,
                                           unique=True))


class EntryInstructor(SQLModel, table=True):
    """An instructor named on an entry, indexed by item, name and phone so the rule "an employee contestant
    may not instruct a student contestant in the same item" is one indexed look-up, whichever registers
    first. (`EntryMember.instructors` keeps the list as entered, for display and exports.)"""

    __tablename__ = "entry_instructor"
    __table_args__ = (Index("ix_entry_instructor_item_person", "item_id", "name", "phone"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(sa_column=_fk("entry.id"))
    item_id: int = Field(sa_column=_fk("item.id", index=False))
    name: str = Field(max_length=64)
    phone: str = Field(max_length=32)
