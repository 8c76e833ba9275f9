"""Tables judging adds after 0004: a judge's ID number, kept apart from `judge` (which holds the masked form
only) so the number never sits in an index: the keyed hash makes "one judge per person per event" a unique
constraint, and the number itself is stored encrypted (shown whole on the judge's own edit page only).

`deduction_ruling` (#18): the chief judge's value for a deduction the judges disagree on (裁定扣分), one per item ×
entry × criterion (a second ruling replaces the first, both in the audit log)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from contestday.db.types import Cents, UTCDateTime, utcnow

__all__ = ["DeductionRuling", "JudgeIdentity"]


class JudgeIdentity(SQLModel, table=True):
    __tablename__ = "judge_identity"
    __table_args__ = (UniqueConstraint("event_id", "person_hash"),)

    judge_id: int = Field(sa_column=Column(Integer, ForeignKey("judge.id", ondelete="CASCADE"), primary_key=True))
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), nullable=False))
    person_hash: str = Field(max_length=64)  # HMAC of the normalised number (PersonalData.person_hash)
    id_number_enc: str = Field(max_length=400)


class DeductionRuling(SQLModel, table=True):
    """裁定扣分: what results take off for one entry and deduction, in place of the judges' differing marks."""

    __tablename__ = "deduction_ruling"
    __table_args__ = (UniqueConstraint("item_id", "entry_id", "criterion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False))
    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("entry.id", ondelete="CASCADE"), nullable=False))
    criterion_id: int = Field(sa_column=Column(Integer, ForeignKey("criterion.id", ondelete="CASCADE"),
                                               nullable=False))
    value: Decimal = Field(sa_type=Cents)
    reason: str = Field(max_length=500)
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
