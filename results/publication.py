"""Publishing an item's results: the gate, immutable versioned snapshots, and what the public may see.

- **The gate** (results/gate.py) lists every blocker (`blockers`): scores not locked; marks missing (or a
  criterion no panel judge marks), measurement judges who disagree, deduction judges who disagree with no
  ruling (`deduction_disagreement`, settled by 裁定扣分), panels whose spread is over the tolerance,
  or any other error the console shows; a re-mark asked and not done; the re-check (复核) not done (or a full
  re-check demanded); the seat mapping not fully revealed (decrypted); a tie on an award or promotion boundary
  (`tie_unresolved`). `publish` refuses while any is left, with the list.
- **A publication** is a frozen snapshot: the ranking computed by the results engine (through
  `results.live`, the same function as the console's provisional ranking and `contestday results
  compute`), joined to names and units only now that the mapping is revealed. It is stored whole with its
  SHA-256 and a version number per item (UNIQUE(item_id, version): two chief judges publishing at once
  cannot both make version 2). Withdrawing (撤回) and publishing again each need a reason and make a new
  version; nothing is overwritten.
- **The notice period** (公示期) starts at publication: N working days (results.notice), shown publicly.
- **An anchor of the audit chain**: each snapshot records the event's chain head (seq + MAC) at publication
  (`audit`, inside the snapshot's SHA-256) and the printed lists show it, so a chain cut short or
  rewritten afterwards no longer contains it (`contestday audit verify` checks every one).

The public sees only `public_view` of the latest version, never the tables behind it: before the first
publication there is nothing to leak. The snapshot's shape is `results.snapshot.PublishedSnapshot`: built as
one, stored as its JSON, read back with `decode_snapshot`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import JSON, Column, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import UTCDateTime, utcnow
from contestday.web.errors import Refusal
from judging import audit
from judging.models import AuditHead
from judging.sealed import full_mapping
from registration.entries.models import EntryMember
from registration.events.models import Event, Item
from registration.events.service import load_event
from results.console.state import item_or_404
from results.gate import item_gate, load_facts
from results.live import TieOrder, apply_tie_orders, provisional_ranking
from results.notice import DEFAULT_WORKING_DAYS, notice_period
from results.snapshot import (
    AuditAnchor,
    CriterionHead,
    Notice,
    PublishedGroup,
    PublishedRow,
    PublishedSnapshot,
    decode_anchor,
    snapshot_body,
    snapshot_digest,
)
from scoring.event_file import CHINA_TZ
from scoring.skill_levels import LEVEL_NAMES

__all__ = ["Publication", "Seated", "anchor_line", "audit_anchors", "blockers", "current", "decide_tie",
           "public_view", "publish", "seated_members", "snapshot_of", "withdraw"]

# seat → (its row of the decrypted mapping, the entry's members in team order)
Seated = dict[str, tuple[dict[str, Any], list[EntryMember]]]


class Publication(SQLModel, table=True):
    """One version of an item's published results (or of their withdrawal: `state` withdrawn, no body)."""

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), nullable=False,
                                           index=True))
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False))
    version: int
    state: str = Field(max_length=16)  # published | withdrawn
    body: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    hash: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    by: str = Field(max_length=80)
    reason: str = Field(default="", max_length=500)
    notice_ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def blockers(session: AsyncSession, event_id: int, item_code: str) -> list[dict[str, Any]]:
    """Everything that stands between this item and publication (empty: it may be published)."""
    return (await _gate(session, event_id, item_code))[0]


async def _gate(session: AsyncSession, event_id: int, item_code: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(the blockers, the provisional ranking they were judged on): publishing freezes that same ranking."""
    item = await item_or_404(session, event_id, item_code)
    found, ranking = await item_gate(session, event_id, item, await load_facts(session, event_id, [item.id or 0]))
    assert ranking is not None  # rank_all: always computed
    return found, ranking


async def current(session: AsyncSession, item_id: int) -> Publication | None:
    return (await session.exec(select(Publication).where(Publication.item_id == item_id)
                               .order_by(col(Publication.version).desc()).limit(1))).first()


async def seated_members(session: AsyncSession, item_id: int) -> Seated:
    """seat → (its row of the decrypted mapping: registration_id, names, unit, …; the entry's members in team
    order). For everything built on published results: the snapshot, the lists, the certificates."""
    mapping = {m["registration_id"]: m for m in await full_mapping(session, item_id)}
    found: Seated = {m["seat"]: (m, []) for m in mapping.values()}
    for member in (await session.exec(select(EntryMember).where(col(EntryMember.entry_id).in_(list(mapping)))
                                      .order_by(col(EntryMember.position)))).all():
        found[mapping[member.entry_id]["seat"]][1].append(member)
    return found


def _score(text: str | None) -> Decimal | None:
    """A score of the ranking ("87.50") as the exact decimal the snapshot holds (it encodes as that text)."""
    return None if text is None else Decimal(text)


def _row(r: dict[str, Any], who: dict[str, Any], members: list[EntryMember]) -> PublishedRow:
    instructors = tuple(dict.fromkeys(i["name"] for m in members for i in m.instructors if i.get("name")))
    return PublishedRow(
        position=r["position"], rank=r["rank"], seat=r["seat"], award=r["award"] or "", names=tuple(who["names"]),
        unit=who["unit"], instructors=instructors,
        theory=msgspec.UNSET if r.get("theory") is None else Decimal(r["theory"]),
        practical=_score(r["practical"]), total=_score(r["total"]),
        qualified=r["qualified"], cert_level=r["cert_level"],
        cert_level_name=LEVEL_NAMES.get(r["cert_level"] or 0, ""), promoted=r["promoted"],
        criteria={code: _score(v) for code, v in r["criteria"].items()})


def snapshot_of(event: Event, item: Item, ranking: dict[str, Any], seated: Seated, version: int, at: datetime,
                working_days: int, anchor: AuditAnchor | None = None) -> PublishedSnapshot:
    """The published snapshot of `ranking` (the gate's): by group, with names, units and instructors (never an
    ID number). Pure: `_snapshot` reads what it needs."""
    period = notice_period(at, working_days)
    groups = tuple(PublishedGroup(group=g["group"], rows=tuple(_row(r, *seated[r["seat"]]) for r in g["rows"]),
                                  absent=g["absent"]) for g in ranking["groups"])
    # the certificate kind travels with the snapshot: the lists, the public page and the board follow it
    return PublishedSnapshot(
        event=event.name, item=item.code, item_name=item.name, version=version, certificate=item.certificate,
        criteria=tuple(CriterionHead(code=c["code"], name=c["name"], max=Decimal(c["max"]))
                       for c in ranking["criteria"]),
        published_at=at.astimezone(CHINA_TZ).isoformat(), basis=ranking["basis"], groups=groups,
        notice=Notice(working_days=working_days, last_day=period.last_day.isoformat(),
                      ends_at=period.ends_at.isoformat(), calendar_known=period.calendar_known),
        audit=anchor)


async def _snapshot(session: AsyncSession, event: Event, item: Item, ranking: dict[str, Any], version: int,
                    at: datetime, working_days: int) -> PublishedSnapshot:
    """The published snapshot, anchored to the event's audit chain head as it stands now."""
    seated = await seated_members(session, item.id or 0)
    head = (await session.exec(select(AuditHead.seq, AuditHead.hash).where(AuditHead.event_id == event.id))).first()
    anchor = AuditAnchor(seq=head[0] if head else 0, mac=head[1] if head else audit.GENESIS)
    return snapshot_of(event, item, ranking, seated, version, at, working_days, anchor)


async def _next_version(session: AsyncSession, item_id: int) -> int:
    latest = await current(session, item_id)
    return (latest.version if latest else 0) + 1


async def _store(session: AsyncSession, row: Publication) -> Publication:
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Refusal(409, "publication_conflict", "另一位裁判长刚刚发布或撤回了该赛项，请刷新后重试",
                       "someone else just published or withdrew this item: reload and try again") from None
    return row


async def publish(session: AsyncSession, event_id: int, item_code: str, by: str, reason: str = "",
                  working_days: int = DEFAULT_WORKING_DAYS, now: datetime | None = None) -> Publication:
    """Publish the item's results as a new version; refused (409 `publish_blocked`, every blocker listed)
    while anything blocks, and without a reason when it is not the first publication. Commits."""
    item = await item_or_404(session, event_id, item_code)
    event = await session.get(Event, event_id)
    assert event is not None and item.id is not None
    found, ranking = await _gate(session, event_id, item.code)
    if found:
        raise Refusal(409, "publish_blocked", f"尚不能发布：{len(found)} 项未完成（{found[0]['message']}…）",
                       f"cannot publish yet: {len(found)} blocker(s)", blockers=found)
    version = await _next_version(session, item.id)
    if version > 1 and not reason.strip():
        raise Refusal(422, "reason_required", "再次发布须填写原因", "publishing again needs a reason")
    at = now or utcnow()
    snapshot = await _snapshot(session, event, item, ranking, version, at, working_days)
    body = snapshot_body(snapshot)
    return await _store(session, Publication(
        event_id=event_id, item_id=item.id, version=version, state="published", body=body,
        hash=snapshot_digest(body), at=at, by=by[:80], reason=reason.strip()[:500],
        notice_ends_at=datetime.fromisoformat(snapshot.notice.ends_at)))


async def withdraw(session: AsyncSession, event_id: int, item_code: str, by: str, reason: str,
                   now: datetime | None = None) -> Publication:
    """Withdraw the published results (a new version with no body); needs a reason. Commits."""
    item = await item_or_404(session, event_id, item_code)
    assert item.id is not None
    if not reason.strip():
        raise Refusal(422, "reason_required", "撤回须填写原因", "withdrawing needs a reason")
    latest = await current(session, item.id)
    if latest is None or latest.state != "published":
        raise Refusal(409, "not_published", "该赛项成绩未发布", "this item's results are not published")
    return await _store(session, Publication(event_id=event_id, item_id=item.id, version=latest.version + 1,
                                             state="withdrawn", at=now or utcnow(), by=by[:80],
                                             reason=reason.strip()[:500]))


async def decide_tie(session: AsyncSession, event_id: int, item_code: str, group: str, seats: list[str],
                     reason: str, by: str) -> TieOrder:
    """Record the chief judge's order for one tied block (every seat of it, first to last) with a reason;
    refused unless it is exactly a tied block of the group now. Logged in the audit chain. Commits."""
    item = await item_or_404(session, event_id, item_code)
    if not reason.strip():
        raise Refusal(422, "reason_required", "裁定并列名次须填写理由", "ordering a tie needs a reason")
    ranking = await provisional_ranking(session, event_id, item.code)
    rows = next((g["rows"] for g in ranking["groups"] if g["group"] == group), None)
    if rows is None:
        raise Refusal(404, "unknown_group", f"该赛项没有组别“{group}”", f"no group {group!r} in this item")
    loaded = await load_event(session, event_id)
    assert loaded is not None
    spec = loaded[1]
    item_spec = spec.item(item.code)
    assert item_spec is not None
    after = apply_tie_orders(item_spec, spec.award_policy, rows, [seats])
    if not any(r.get("decided") for r in after):
        raise Refusal(422, "not_a_tied_block", "所列赛位不是一个完整的并列组，请按名次列出该并列组的全部赛位",
                       "the seats are not exactly one tied block: list every seat of the block, in order",
                       tied=[r["seat"] for r in rows if r["tie_unresolved"]])
    row = TieOrder(item_id=item.id or 0, group_name=group, seats=list(seats), reason=reason.strip()[:500],
                   by=by[:80])
    session.add(row)
    await audit.append(session, event_id, "tie", actor=by, item_id=item.id,
                       reason=f"{group or '—'} 并列裁定 {' > '.join(seats)}：{reason.strip()[:300]}")
    await session.commit()
    return row


def anchor_line(snapshot: PublishedSnapshot) -> str:
    """The chain head a snapshot recorded, as printed on its lists (empty for snapshots from before)."""
    anchor = snapshot.audit
    if anchor is None or not anchor.seq:
        return ""
    return f"审计链 第 {anchor.seq} 条 · 校验 {anchor.mac[:16]}…"


async def audit_anchors(session: AsyncSession, event_id: int) -> list[audit.Anchor]:
    """Every chain head recorded by a publication of the event, withdrawn versions' snapshots included."""
    rows = (await session.exec(select(Publication).where(Publication.event_id == event_id)
                               .order_by(col(Publication.id)))).all()
    anchors = [(r, decode_anchor(r.body)) for r in rows if r.body]
    return [audit.Anchor(anchor.seq, anchor.mac,
                         f"发布（赛项 #{r.item_id} 第 {r.version} 版）/ publication v{r.version}")
            for r, anchor in anchors if anchor is not None]


def public_view(row: Publication | None) -> dict[str, Any] | None:
    """What the public pages and the board show of the latest version (None: never published): the stored
    snapshot as it is, so the public read exactly the JSON its `hash` was computed over."""
    if row is None:
        return None
    if row.state != "published" or row.body is None:
        return {"state": "withdrawn", "version": row.version, "reason": row.reason,
                "at": row.at.astimezone(CHINA_TZ).isoformat()}
    return {"state": "published", **row.body, "hash": row.hash}
