"""Tables of judging. Invariants in the schema:

- one mark per entry × criterion × judge: UNIQUE on `score`, with a version bumped on every change (an edit
  against a stale version is refused);
- every tablet operation applied once: UNIQUE(judge_id, op_id) on `applied_op`, which keeps the reply so a
  replayed operation gets the same answer;
- the audit log is append-only and hash-chained per event: UNIQUE(event_id, seq); `audit_head` holds the last
  link and is updated in the same transaction, which serialises appends; links from `keyed_from` on carry an
  HMAC under a key kept outside the database (judging/audit.py);
- one judge per person per event: UNIQUE(event_id, person_hash) on `judge_identity`, which keeps a judge's ID
  number apart from `judge` (that holds the masked form only) so the number never sits in an index: the keyed
  hash is unique, the number itself is stored encrypted (shown whole on the judge's own edit page only);
- one ruling per item × entry × deduction: UNIQUE on `deduction_ruling` (裁定扣分, #18: the chief judge's value
  for a deduction the judges disagree on; a second ruling replaces the first, both in the audit log).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from contestday.db.types import Cents, UTCDateTime, utcnow

__all__ = [
    "AppliedOp", "AuditHead", "CriterionLock", "DeductionRuling", "ExaminerCard", "ItemStage", "Judge", "JudgeIdentity",
    "PanelMember", "RemarkRequest", "RevealLog", "Score", "ScoreEvent", "SheetSubmission",
]


def _fk(target: str, *, index: bool = True, nullable: bool = False) -> Any:
    return Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=nullable, index=index)


class Judge(SQLModel, table=True):
    """A judge (裁判/考评员) of an event; signs in through a personal link bound to `user_id`."""

    __tablename__ = "judge"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event.id"))
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="SET NULL"),
                                                               unique=True, nullable=True))
    name: str = Field(max_length=64)
    unit: str = Field(default="", max_length=200)
    unit_key: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=32)
    id_masked: str | None = Field(default=None, max_length=32)
    link_version: int = 1  # bumped to revoke the personal link
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ExaminerCard(SQLModel, table=True):
    """考评员证: valid three years (seed 003)."""

    __tablename__ = "examiner_card"

    id: int | None = Field(default=None, primary_key=True)
    judge_id: int = Field(sa_column=_fk("judge.id"))
    occupation: str = Field(max_length=100)
    level: int | None = None
    number: str = Field(max_length=64)
    valid_until: date


class PanelMember(SQLModel, table=True):
    """A judge's place on an item's panel: chief judge, judge (of some criteria, or all), encryption judge."""

    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("item_id", "judge_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    judge_id: int = Field(sa_column=_fk("judge.id"))
    role: str = Field(max_length=24)  # chief_judge | judge | encryption_judge
    criteria: list[str] = Field(default_factory=list, sa_type=JSON)  # empty: every criterion


class Score(SQLModel, table=True):
    __tablename__ = "score"
    __table_args__ = (UniqueConstraint("entry_id", "criterion_id", "judge_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event.id", index=False))
    item_id: int = Field(sa_column=_fk("item.id"))
    entry_id: int = Field(sa_column=_fk("entry.id"))
    criterion_id: int = Field(sa_column=_fk("criterion.id", index=False))
    judge_id: int = Field(sa_column=_fk("judge.id"))
    value: Decimal | None = Field(default=None, sa_type=Cents)  # None: cleared
    version: int = 1
    source: str = Field(default="tablet", max_length=16)  # tablet | paper | import
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppliedOp(SQLModel, table=True):
    __tablename__ = "applied_op"
    __table_args__ = (UniqueConstraint("judge_id", "op_id"),)

    id: int | None = Field(default=None, primary_key=True)
    judge_id: int = Field(sa_column=_fk("judge.id", index=False))
    op_id: str = Field(max_length=64)
    reply: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SheetSubmission(SQLModel, table=True):
    """A judge's signed sheet for an item: marks are final for the judge until the chief judge reopens it."""

    __tablename__ = "sheet_submission"
    __table_args__ = (UniqueConstraint("item_id", "judge_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    judge_id: int = Field(sa_column=_fk("judge.id"))
    signature: str = Field(max_length=64)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CriterionLock(SQLModel, table=True):
    __tablename__ = "criterion_lock"
    __table_args__ = (UniqueConstraint("item_id", "criterion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    criterion_id: int = Field(sa_column=_fk("criterion.id", index=False))
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RemarkRequest(SQLModel, table=True):
    """The chief judge asks a judge to look at a mark again; the message reaches the tablet. It stays open (and
    holds back publication) until resolved: the judge changes that mark (`changed`, or `paper`/`import` when
    the mark comes from there), keeps it (`kept`), or the chief judge closes it (`closed`, with a note)."""

    __tablename__ = "remark_request"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    judge_id: int = Field(sa_column=_fk("judge.id"))
    seat: str = Field(max_length=16)
    criterion: str = Field(max_length=32)
    message: str = Field(max_length=500)
    by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=80)
    resolution: str | None = Field(default=None, max_length=16)  # changed | kept | closed | paper | import
    resolution_note: str = Field(default="", max_length=500)


class ScoreEvent(SQLModel, table=True):
    """The audit log: every score event with old and new value, actor, device, reason and time, each row's
    hash covering the previous row's hash (so a changed or removed row breaks the chain). `hash` is the
    link's HMAC-SHA256 from the head's `keyed_from` on, an unkeyed SHA-256 before it."""

    __tablename__ = "score_event"
    __table_args__ = (UniqueConstraint("event_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=_fk("event.id", index=False))
    seq: int
    kind: str = Field(max_length=24)  # set | submit | reopen | lock | unlock | remark | resolve | paper | ruling
    item_id: int | None = None
    entry_id: int | None = None
    criterion_id: int | None = None
    judge_id: int | None = None
    old_value: str | None = Field(default=None, max_length=16)
    new_value: str | None = Field(default=None, max_length=16)
    old_version: int | None = None
    new_version: int | None = None
    actor: str = Field(max_length=80)
    device: str = Field(default="", max_length=80)
    reason: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    __tablename__ = "audit_head"

    event_id: int = Field(sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), primary_key=True))
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)
    # links before this seq were written unkeyed (before migration 0013), the others under the key
    keyed_from: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    key_id: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})  # the key's fingerprint


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


class ItemStage(SQLModel, table=True):
    """Where an item stands after the contest: scores locked (judging/sealed.py `lock_scores`, from the chief
    judge's console), layers of the sealed mapping revealed (0, 1, 2; `reveal`, by the encryption judge)."""

    __tablename__ = "item_stage"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False,
                                          unique=True))
    scores_locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    scores_locked_by: str | None = Field(default=None, max_length=80)
    revealed_layer: int = 0  # 1: seat → draw number known; 2: draw number → entry known


class RevealLog(SQLModel, table=True):
    """Every reveal of a layer of the sealed mapping: who, when."""

    __tablename__ = "reveal_log"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=_fk("item.id"))
    layer: int
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
