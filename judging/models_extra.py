"""Tables judging adds after 0004: a judge's ID number, kept apart from `judge` (which holds the masked form
only) so the number never sits in an index: the keyed hash makes "one judge per person per event" a unique
constraint, and the number itself is stored encrypted (shown whole on the judge's own edit page only)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["JudgeIdentity"]


class JudgeIdentity(SQLModel, table=True):
    __tablename__ = "judge_identity"
    __table_args__ = (UniqueConstraint("event_id", "person_hash"),)

    judge_id: int = Field(sa_column=Column(Integer, ForeignKey("judge.id", ondelete="CASCADE"), primary_key=True))
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), nullable=False))
    person_hash: str = Field(max_length=64)  # HMAC of the normalised number (PersonalData.person_hash)
    id_number_enc: str = Field(max_length=400)
