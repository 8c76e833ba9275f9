"""The published results as typed structures (#13 point 4): what `results.publication` freezes and stores with
its SHA-256, and what the certificates, the lists and the audit check read, by attribute.

The structures mirror the stored JSON field for field and in its order (`kw_only`, so a field with a default
may stand where the JSON has it): a snapshot is stored and hashed once and never rewritten, so one built here
must encode (`snapshot_body`) to the very dict the code built before (the same stored JSON, the same
`snapshot_digest`), and every snapshot stored so far must still decode. Keys added after the first
publications have defaults: a row's `seat`, `criteria` and `cert_level_name`; the snapshot's `criteria`,
`certificate` (None: published before certificate kinds, the item's own kind applies) and `audit` (None:
published before the chain was anchored).

Scores are exact decimals stored as their text ("87.50", never a float): `Decimal` here, and `str(score)` is
the stored text again. Timestamps stay the ISO text stored, since the hash covers that text exactly.

The public pages and the board get the stored JSON itself (`results.publication.public_view`), not a
re-encoding: what the public sees is what the published hash was computed over.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import msgspec

from contestday.web.errors import Refusal

__all__ = ["AuditAnchor", "CriterionHead", "Notice", "PublishedGroup", "PublishedRow", "PublishedSnapshot",
           "SnapshotError", "decode_anchor", "decode_snapshot", "snapshot_body", "snapshot_digest"]


class AuditAnchor(msgspec.Struct, frozen=True, kw_only=True):
    """The event's audit chain head when the snapshot was published (`contestday audit verify` checks it)."""

    seq: int
    mac: str


class CriterionHead(msgspec.Struct, frozen=True, kw_only=True):
    """One criterion of the item, as the lists head their columns: `max` is its maximum mark."""

    code: str
    name: str
    max: Decimal


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """The notice period (公示期) the publication started; dates as the ISO text stored."""

    working_days: int
    last_day: str
    ends_at: str
    calendar_known: bool


class PublishedRow(msgspec.Struct, frozen=True, kw_only=True):
    """One ranked entry (a person or a team) of a group: names and unit as published, never an ID number."""

    position: int
    rank: int
    seat: str = ""  # not in the very first snapshots
    award: str  # "" without an award
    names: tuple[str, ...]
    unit: str
    instructors: tuple[str, ...]
    # an item that weighs theory (#14); UNSET (not stored at all, so earlier snapshots keep their bytes and hash):
    # it does not, or published before #14
    theory: Decimal | msgspec.UnsetType = msgspec.UNSET
    practical: Decimal | None
    total: Decimal | None
    qualified: bool
    cert_level: int | None  # None: no certificate level (not qualified, or a level-less item)
    cert_level_name: str = ""
    promoted: bool
    criteria: dict[str, Decimal | None] = {}  # criterion code → the entry's score on it


class PublishedGroup(msgspec.Struct, frozen=True, kw_only=True):
    group: str
    rows: tuple[PublishedRow, ...]
    absent: int


class PublishedSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One published version of an item's results, as stored (`Publication.body`)."""

    event: str
    item: str
    item_name: str
    version: int
    certificate: str | None = None  # the item's certificate kind when published; None: from before kinds
    criteria: tuple[CriterionHead, ...] = ()
    published_at: str  # ISO, Beijing time
    basis: str  # what ranks: "practical" or "total"
    groups: tuple[PublishedGroup, ...]
    notice: Notice
    audit: AuditAnchor | None = None


class SnapshotError(Refusal):
    """A stored snapshot that does not decode: refused with a stable code naming what is wrong, rather than a
    KeyError deep inside a list or a certificate run."""

    def __init__(self, detail: str):
        super().__init__(500, "snapshot_unreadable", f"已发布的成绩快照无法读取（{detail}）",
                         f"the stored results snapshot does not decode: {detail}", detail=detail)


def decode_snapshot(raw: dict[str, Any] | bytes | str) -> PublishedSnapshot:
    """The stored snapshot (the JSON column's dict, or its JSON text) as a `PublishedSnapshot`; a malformed
    one raises `SnapshotError`."""
    try:
        if isinstance(raw, bytes | str):
            return msgspec.json.decode(raw, type=PublishedSnapshot)
        return msgspec.convert(raw, PublishedSnapshot)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise SnapshotError(str(exc)) from None


def decode_anchor(raw: dict[str, Any]) -> AuditAnchor | None:
    """The chain head a stored snapshot recorded (None: from before anchors), read alone: the audit check
    still reads every anchor when some other part of a snapshot is damaged."""
    anchor = raw.get("audit")
    if not isinstance(anchor, dict):
        return None
    try:
        return msgspec.convert(anchor, AuditAnchor, strict=False)
    except msgspec.ValidationError as exc:
        raise SnapshotError(f"audit: {exc}") from None


def snapshot_body(snapshot: PublishedSnapshot) -> dict[str, Any]:
    """The snapshot as the JSON column stores it: plain dicts and lists in field order, scores as text."""
    body: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(snapshot))
    return body


def snapshot_digest(body: dict[str, Any]) -> str:
    """The SHA-256 stored beside a snapshot, over its canonical JSON (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()
