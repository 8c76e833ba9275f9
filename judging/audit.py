"""The keyed, hash-chained audit log of score events: append (in the caller's transaction), verify, replay.

Each link's MAC is HMAC-SHA256, with a key kept outside the database (settings: `data_dir/audit_key` or
`CONTESTDAY_AUDIT_KEY`), over the previous MAC, the event and the row's fields in a fixed order: editing,
removing or reordering a link breaks every link after it, and whoever can write the database but lacks the
key cannot recompute the links after an edit. Links written before the key existed (seq below the head's
`keyed_from`, set by migration 0013) keep their unkeyed SHA-256 and are verified as before. `audit_head` (one
row per event) is updated in the same transaction as the append: concurrent writers queue on that row, so
the chain never forks. Dropping the last links and moving the head back is invisible inside the database;
the anchors outside it catch it: the head recorded in each published snapshot and printed on its lists
(`check_event(..., anchors=...)`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from contestday.db.writer import Prepared, insert_or_ignore, table
from judging.models import AuditHead, ScoreEvent

__all__ = [
    "GENESIS", "Anchor", "BrokenLink", "ChainReport", "Link", "ProcessKey", "append", "append_link", "check_event",
    "key_id", "link_hash", "link_mac", "parse_anchor", "replay", "replay_matches", "use_key", "verify_chain",
    "verify_event",
]

GENESIS = "0" * 64
_FIELDS = ("seq", "kind", "item_id", "entry_id", "criterion_id", "judge_id", "old_value", "new_value", "old_version",
           "new_version", "actor", "device", "reason")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _payload(prev_hash: str, row: ScoreEvent | dict[str, Any], at: datetime) -> list[Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return [prev_hash, *[get(f) for f in _FIELDS], at.isoformat(timespec="microseconds")]


def _canonical(payload: list[Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def link_hash(prev_hash: str, row: ScoreEvent | dict[str, Any], at: datetime) -> str:
    """The unkeyed SHA-256 of the links written before the key (kept only to verify them)."""
    return hashlib.sha256(_canonical(_payload(prev_hash, row, at))).hexdigest()


def _keyed_payload(event_id: int, prev_mac: str, row: ScoreEvent | dict[str, Any], at: datetime) -> bytes:
    # the event is inside the MAC: a chain cannot be moved to another event
    return _canonical(["v2", event_id, *_payload(prev_mac, row, at)])


def link_mac(key: bytes, event_id: int, prev_mac: str, row: ScoreEvent | dict[str, Any], at: datetime) -> str:
    """HMAC-SHA256(key, previous MAC + the canonical row)."""
    return hmac.new(key, _keyed_payload(event_id, prev_mac, row, at), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A fingerprint that names the key without revealing it (to tell "wrong key" from "edited")."""
    return hmac.new(key, b"contestday audit key id", hashlib.sha256).hexdigest()[:16]


class _Key:
    """The process's key for new links (one instance per process), set from the settings when they load;
    the HMAC state keyed once, copied for each link."""

    mac: Any = None
    id: str = ""
    warned = False


def use_key(key: bytes) -> None:
    _Key.mac, _Key.id, _Key.warned = hmac.new(key, digestmod=hashlib.sha256), key_id(key), False


def _sign(event_id: int, prev_mac: str, row: dict[str, Any], at: datetime) -> str:
    if _Key.mac is None:
        raise RuntimeError("审计密钥未配置（load_settings 读取 data_dir/audit_key 或 CONTESTDAY_AUDIT_KEY）/ "
                           "no audit key: load the settings first")
    mac = _Key.mac.copy()
    mac.update(_keyed_payload(event_id, prev_mac, row, at))
    return str(mac.hexdigest())


@dataclass(frozen=True)
class Link:
    seq: int
    hash: str


_HEAD, _EVENTS = table(AuditHead), table(ScoreEvent)
_READ_HEAD = Prepared(select(_HEAD.c.seq, _HEAD.c.hash, _HEAD.c.key_id)
                      .where(_HEAD.c.event_id == bindparam("event_id")).with_for_update())
_INSERT_LINK = Prepared(insert(_EVENTS))
_MOVE_HEAD = Prepared(update(_HEAD).where(_HEAD.c.event_id == bindparam("head_event"))
                      .values(seq=bindparam("seq"), hash=bindparam("new_hash"), key_id=bindparam("head_key")))


def append_link(conn: Connection, event_id: int, kind: str, *, actor: str, device: str = "", reason: str = "",
                item_id: int | None = None, entry_id: int | None = None, criterion_id: int | None = None,
                judge_id: int | None = None, old: tuple[Decimal | None, int | None] = (None, None),
                new: tuple[Decimal | None, int | None] = (None, None)) -> Link:
    """Add one link in the connection's transaction. Locks the event's chain head (FOR UPDATE on PostgreSQL;
    SQLite has one writer) until the transaction ends, so the chain never forks."""
    head = _READ_HEAD.execute(conn, {"event_id": event_id}).first()
    if head is None:
        insert_or_ignore(conn, AuditHead).execute(conn, {"event_id": event_id, "seq": 0, "hash": GENESIS,
                                                         "keyed_from": 1, "key_id": _Key.id})
        head = _READ_HEAD.execute(conn, {"event_id": event_id}).first()
        assert head is not None
    seq, prev, head_key = head
    if head_key and head_key != _Key.id and not _Key.warned:
        # never refuse a mark on contest day for this; say loudly that the chain will not verify from here
        _Key.warned = True
        logging.getLogger("contestday.audit").error(
            "审计链上一条由另一把密钥写入（指纹 %s，本实例 %s）：各实例须使用同一 CONTESTDAY_AUDIT_KEY / the last "
            "audit link was written under another key: every instance needs the same audit key", head_key, _Key.id)
    at = utcnow()  # stored and hashed at microsecond precision
    row = {"event_id": event_id, "seq": seq + 1, "kind": kind, "item_id": item_id, "entry_id": entry_id,
           "criterion_id": criterion_id, "judge_id": judge_id, "old_value": _text(old[0]), "new_value": _text(new[0]),
           "old_version": old[1], "new_version": new[1], "actor": actor[:80], "device": device[:80],
           "reason": reason[:500], "at": at, "prev_hash": prev}
    row["hash"] = _sign(event_id, prev, row, at)
    _INSERT_LINK.execute(conn, row)
    _MOVE_HEAD.execute(conn, {"head_event": event_id, "seq": row["seq"], "new_hash": row["hash"],
                              "head_key": _Key.id})
    return Link(row["seq"], row["hash"])


async def append(session: AsyncSession, event_id: int, kind: str, **fields: Any) -> Link:
    """`append_link` in a session's transaction (the caller commits)."""
    return await session.run_sync(lambda s: append_link(s.connection(), event_id, kind, **fields))


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: str


@dataclass(frozen=True)
class Anchor:
    """A chain head recorded outside the chain: (seq, MAC or its printed prefix) and where it was found."""

    seq: int
    mac: str
    source: str


def parse_anchor(text: str) -> Anchor:
    """`SEQ:MAC` as printed on a results list (the MAC may be cut to its first 8+ hex digits)."""
    seq, _, mac = text.strip().partition(":")
    mac = mac.strip().rstrip("…").rstrip(".").lower()
    if not seq.strip().isdigit() or len(mac) < 8 or any(c not in "0123456789abcdef" for c in mac):
        raise ValueError(f"锚点应为 第几条:校验码（至少 8 位十六进制）/ an anchor is SEQ:MAC (8+ hex digits): {text!r}")
    return Anchor(int(seq), mac, "命令行 / command line")


@dataclass(frozen=True)
class ChainReport:
    count: int  # links checked good before the first break
    broken: BrokenLink | None
    keyed_from: int  # first seq under the key (links below it are from before the key)
    last_seq: int
    anchors: int = 0  # anchors checked
    key_id: str = ""  # fingerprint of the key the head was last written with


ProcessKey = Literal["process"]


def verify_chain(rows: Iterable[ScoreEvent], key: bytes | ProcessKey | None = "process", keyed_from: int = 1,
                 event_id: int | None = None) -> tuple[int, BrokenLink | None]:
    """(links checked, the first broken link or None). Rows in seq order, of one event. Links at or after
    `keyed_from` must carry the keyed MAC under `key` (default the process's; None: no key, so keyed links
    cannot be verified)."""
    prev, expected_seq, count = GENESIS, 1, 0
    signer = _Key.mac if key == "process" else None if key is None else hmac.new(key, digestmod=hashlib.sha256)
    for row in rows:
        if row.seq != expected_seq:
            return count, BrokenLink(expected_seq, f"第 {expected_seq} 条缺失（下一条是第 {row.seq} 条）/ link missing")
        if row.prev_hash != prev:
            return count, BrokenLink(row.seq, "前一条的哈希不符 / previous hash does not match")
        if row.seq < keyed_from:
            good = link_hash(prev, row, row.at) == row.hash
        elif signer is None:
            return count, BrokenLink(row.seq, "缺少审计密钥，无法校验带密钥的记录 / no audit key to verify keyed links")
        else:
            mac = signer.copy()
            mac.update(_keyed_payload(row.event_id if event_id is None else event_id, prev, row, row.at))
            good = hmac.compare_digest(mac.hexdigest(), row.hash)
        if not good:
            return count, BrokenLink(row.seq, "内容与哈希不符（被改动，或密钥不对）/ content does not match its hash "
                                              "(edited, or not this key)")
        prev, expected_seq, count = row.hash, expected_seq + 1, count + 1
    return count, None


async def check_event(session: AsyncSession, event_id: int, key: bytes | ProcessKey | None = "process",
                      anchors: Iterable[Anchor] = ()) -> ChainReport:
    """The whole check of an event's chain: every link (keyed part under `key`), the head against the last
    link, and every anchor recorded outside the chain still in it with the same MAC. A chain cut short with
    its head moved back passes the first two; only an anchor past its end finds it."""
    rows = (await session.exec(select(ScoreEvent).where(ScoreEvent.event_id == event_id)
                               .order_by(col(ScoreEvent.seq)))).all()
    head = (await session.exec(select(AuditHead).where(AuditHead.event_id == event_id))).first()
    keyed_from = head.keyed_from if head is not None else 1
    count, broken = verify_chain(rows, key, keyed_from, event_id)
    last = (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS)
    if broken is None and head is None and rows:
        broken = BrokenLink(last[0], "链尾记录缺失 / the chain's head record is missing")
    elif broken is None and head is not None and (head.seq, head.hash) != last:
        broken = BrokenLink(head.seq, "链尾记录与日志不符（末尾被删除？）/ the head does not match the last link")
    elif broken is None and head is not None and head.key_id and keyed_from > last[0]:
        # a head stamped by a keyed write, yet no keyed link left: the keyed part was declared old or cut off
        broken = BrokenLink(last[0], "链尾记录表明写入过带密钥的记录，链中却一条也没有 / the head was written "
                                     "under a key, but no keyed link is left")
    by_seq = {r.seq: r.hash for r in rows}
    checked = 0
    for anchor in sorted(anchors, key=lambda a: a.seq):
        if anchor.seq == 0:
            continue
        checked += 1
        found = by_seq.get(anchor.seq)
        if found is None:
            first_gone = last[0] + 1 if anchor.seq > last[0] else anchor.seq
            problem = BrokenLink(first_gone, f"{anchor.source} 记录了第 {anchor.seq} 条，链中已没有"
                                             f"（链止于第 {last[0]} 条：末尾被删除）/ anchored link {anchor.seq} is "
                                             f"gone (the chain ends at {last[0]}: links were removed)")
        elif not found.startswith(anchor.mac):
            problem = BrokenLink(anchor.seq, f"{anchor.source} 记录的第 {anchor.seq} 条校验码 {anchor.mac[:16]}… "
                                             f"与链中 {found[:16]}… 不符（链被重写）/ anchored link {anchor.seq} "
                                             f"has another MAC now (the chain was rewritten)")
        else:
            continue
        if broken is None or problem.seq < broken.seq:
            broken = problem
    return ChainReport(count if broken is None else min(count, broken.seq - 1), broken, keyed_from, last[0],
                       checked, head.key_id if head is not None else "")


async def verify_event(session: AsyncSession, event_id: int) -> tuple[int, BrokenLink | None]:
    """(links checked, first break) under the process's key, without outside anchors."""
    report = await check_event(session, event_id)
    return report.count, report.broken


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
