"""Tables of the event set-up: event, award policy, item, group, criterion (contracts §2)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from contestday.db.types import Cents, DecimalText, UTCDateTime, utcnow
from scoring.event_file import CriterionSpec

__all__ = ["AwardPolicyRow", "Criterion", "Event", "Item", "ItemGroup"]


def _fk(target: str) -> Any:
    return Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False, index=True)


class Event(SQLModel, table=True):
    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    starts_on: date
    one_item_per_person: bool = True
    unit_quota_per_group: int | None = None
    unit_quota_mode: str = Field(default="warn", max_length=16)
    registration_closes: datetime | None = Field(default=None, sa_type=UTCDateTime)
    organiser: str | None = Field(default=None, max_length=200)
    registration_closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # closed by hand
    identities: list[str] = Field(default_factory=list, sa_type=JSON)
    group_identities: dict[str, list[str]] = Field(default_factory=dict, sa_type=JSON)
    photo_required: bool = False
    residence_declaration: str | None = Field(default=None, max_length=200)
    student_major_required: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AwardPolicyRow(SQLModel, table=True):
    __tablename__ = "award_policy"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"),
                                           nullable=False, unique=True))
    rule: str = Field(max_length=64)
    ratio: Decimal = Field(sa_type=DecimalText)
    threshold: int | None = None
    count: str = Field(default="people", max_length=16)


class Item(SQLModel, table=True):
    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event.id"))
    position: int
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    team_size: int = 1
    exam_level: int | None = None  # None for a 专项职业能力证书 (certificate "special_ability")
    pass_mark: Decimal = Field(sa_type=Cents)
    theory_weight: Decimal = Field(sa_type=DecimalText)
    tie_break: list[str] = Field(default_factory=list, sa_type=JSON)
    promotion_top: int
    host_unit: str | None = Field(default=None, max_length=200)
    catalog_code: str | None = Field(default=None, max_length=64)
    certificate: str = Field(default="skill_level", max_length=16)


class ItemGroup(SQLModel, table=True):
    __tablename__ = "item_group"
    __table_args__ = (UniqueConstraint("item_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    position: int
    name: str = Field(max_length=64)


class Criterion(SQLModel, table=True):
    __tablename__ = "criterion"
    __table_args__ = (UniqueConstraint("item_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    position: int
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    max: Decimal = Field(sa_type=Cents)
    kind: str = Field(max_length=16)
    aggregate: str | None = Field(default=None, max_length=16)
    trim_min_judges: int | None = None
    max_spread: Decimal | None = Field(default=None, sa_type=Cents)
    scale: str | None = Field(default=None, max_length=8)  # "0-3": judgement marks 0, 1, 2, 3

    def spec(self) -> CriterionSpec:
        return CriterionSpec(self.code, self.name, self.max, self.kind, self.aggregate, self.trim_min_judges,
                             self.max_spread, self.scale)
