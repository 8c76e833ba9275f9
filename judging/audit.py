"""The hash-chained audit log of score events: append (in the caller's transaction), verify, replay.

Each row's hash is SHA-256 over the previous hash and the row's fields in a fixed order, so editing,
removing or reordering a row breaks every link after it. `audit_head` (one row per event) is updated in the
same transaction as the append: concurrent writers queue on that row, so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from judging.models import AuditHead, ScoreEvent
from registration.base import utcnow
from registration.writer import Prepared, insert_or_ignore, table

__all__ = [
    "GENESIS", "BrokenLink", "Link", "append", "append_link", "link_hash", "replay", "replay_matches",
    "verify_chain", "verify_event",
]

GENESIS = "0" * 64
_FIELDS = ("seq", "kind", "item_id", "entry_id", "criterion_id", "judge_id", "old_value", "new_value", "old_version",
           "new_version", "actor", "device", "reason")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def link_hash(prev_hash: str, row: ScoreEvent | dict[str, Any], at: datetime) -> str:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    payload = [prev_hash, *[get(f) for f in _FIELDS], at.isoformat(timespec="microseconds")]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Link:
    seq: int
    hash: str


_HEAD, _EVENTS = table(AuditHead), table(ScoreEvent)
_READ_HEAD = Prepared(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.event_id == bindparam("event_id"))
                      .with_for_update())
_INSERT_LINK = Prepared(insert(_EVENTS))
_MOVE_HEAD = Prepared(update(_HEAD).where(_HEAD.c.event_id == bindparam("head_event"))
                      .values(seq=bindparam("seq"), hash=bindparam("new_hash")))


def append_link(conn: Connection, event_id: int, kind: str, *, actor: str, device: str = "", reason: str = "",
                item_id: int | None = None, entry_id: int | None = None, criterion_id: int | None = None,
                judge_id: int | None = None, old: tuple[Decimal | None, int | None] = (None, None),
                new: tuple[Decimal | None, int | None] = (None, None)) -> Link:
    """Add one link in the connection's transaction. Locks the event's chain head (FOR UPDATE on PostgreSQL;
    SQLite has one writer) until the transaction ends, so the chain never forks."""
    head = _READ_HEAD.execute(conn, {"event_id": event_id}).first()
    if head is None:
        insert_or_ignore(conn, AuditHead).execute(conn, {"event_id": event_id, "seq": 0, "hash": GENESIS})
        head = _READ_HEAD.execute(conn, {"event_id": event_id}).first()
        assert head is not None
    seq, prev = head
    at = utcnow()  # stored and hashed at microsecond precision
    row = {"event_id": event_id, "seq": seq + 1, "kind": kind, "item_id": item_id, "entry_id": entry_id,
           "criterion_id": criterion_id, "judge_id": judge_id, "old_value": _text(old[0]), "new_value": _text(new[0]),
           "old_version": old[1], "new_version": new[1], "actor": actor[:80], "device": device[:80],
           "reason": reason[:500], "at": at, "prev_hash": prev}
    row["hash"] = link_hash(prev, row, at)
    _INSERT_LINK.execute(conn, row)
    _MOVE_HEAD.execute(conn, {"head_event": event_id, "seq": row["seq"], "new_hash": row["hash"]})
    return Link(row["seq"], row["hash"])


async def append(session: AsyncSession, event_id: int, kind: str, **fields: Any) -> Link:
    """`append_link` in a session's transaction (the caller commits)."""
    return await session.run_sync(lambda s: append_link(s.connection(), event_id, kind, **fields))


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: str


def verify_chain(rows: Iterable[ScoreEvent]) -> tuple[int, BrokenLink | None]:
    """(links checked, the first broken link or None). Rows in seq order."""
    prev, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        if row.seq != expected_seq:
            return count, BrokenLink(expected_seq, f"第 {expected_seq} 条缺失（下一条是第 {row.seq} 条）/ link missing")
        if row.prev_hash != prev:
            return count, BrokenLink(row.seq, "前一条的哈希不符 / previous hash does not match")
        if link_hash(prev, row, row.at) != row.hash:
            return count, BrokenLink(row.seq, "内容与哈希不符（被改动）/ content does not match its hash")
        prev, expected_seq, count = row.hash, expected_seq + 1, count + 1
    return count, None


async def verify_event(session: AsyncSession, event_id: int) -> tuple[int, BrokenLink | None]:
    rows = (await session.exec(select(ScoreEvent).where(ScoreEvent.event_id == event_id)
                               .order_by(col(ScoreEvent.seq)))).all()
    count, broken = verify_chain(rows)
    head = (await session.exec(select(AuditHead).where(AuditHead.event_id == event_id))).first()
    if broken is None and head is not None and (head.seq, head.hash) != (rows[-1].seq if rows else 0,
                                                                        rows[-1].hash if rows else GENESIS):
        broken = BrokenLink(head.seq, "链尾记录与日志不符（末尾被删除？）/ the head does not match the last link")
    return count, broken


def replay(rows: Iterable[ScoreEvent]) -> dict[tuple[int, int, int], tuple[str | None, int]]:
    """Scores rebuilt from the log: (entry, criterion, judge) → (value, version)."""
    scores: dict[tuple[int, int, int], tuple[str | None, int]] = {}
    for row in rows:
        if row.kind in ("set", "paper") and row.entry_id and row.criterion_id and row.judge_id:
            scores[(row.entry_id, row.criterion_id, row.judge_id)] = (row.new_value, row.new_version or 0)
    return scores


async def replay_matches(session: AsyncSession, event_id: int) -> list[str]:
    """Differences between the scores rebuilt from the log and the stored ones (empty: they agree)."""
    from judging.models import Score

    rows = (await session.exec(select(ScoreEvent).where(ScoreEvent.event_id == event_id)
                               .order_by(col(ScoreEvent.seq)))).all()
    rebuilt = replay(rows)
    stored = {(s.entry_id, s.criterion_id, s.judge_id): (_text(s.value), s.version)
              for s in (await session.exec(select(Score).where(Score.event_id == event_id))).all()}
    return [f"{key}: log {rebuilt.get(key)} / table {stored.get(key)}"
            for key in sorted(set(rebuilt) | set(stored)) if rebuilt.get(key) != stored.get(key)]
