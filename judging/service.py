"""Tablet operations over a session: each applied once (by its client id), acked only after the commit.

`apply_op` returns the reply to send: an ack `{"type": "ack", "op_id", …, "version"}` or a refusal
`{"type": "nack", "op_id", "code", "message", "message_en", ["current"]}`; both are stored with the op id, so
a replayed operation gets exactly the same reply and is never applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from judging import audit
from judging.models import AppliedOp, CriterionLock, Judge, PanelMember, Score, SheetSubmission
from registration.base import utcnow
from registration.checkin.models import Attendance, ItemStage, SeatAssignment
from registration.entries.models import Entry
from registration.events.models import Criterion, Item
from scoring.checks import check_score
from scoring.event_file import CriterionSpec

__all__ = ["Applied", "apply_op", "judge_scores"]

MAX_OP_ID = 64


@dataclass(frozen=True)
class Applied:
    reply: dict[str, Any]
    changed: dict[str, Any] | None  # what to fan out after the commit (None: nothing changed)


def _nack(op_id: str, code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"type": "nack", "op_id": op_id, "code": code, "message": zh, "message_en": en, **extra}


async def _item_and_panel(session: AsyncSession, judge: Judge, code: str) -> tuple[Item, PanelMember] | str:
    item = (await session.exec(select(Item).where(Item.event_id == judge.event_id, Item.code == code))).first()
    if item is None:
        return "unknown_item"
    member = (await session.exec(select(PanelMember).where(PanelMember.item_id == item.id,
                                                           PanelMember.judge_id == judge.id,
                                                           PanelMember.role.in_(("judge", "chief_judge")))  # type: ignore[attr-defined]
                                 )).first()
    return (item, member) if member is not None else "not_on_panel"


async def _set_score(session: AsyncSession, judge: Judge, op: dict[str, Any], device: str) -> Applied:
    op_id = op["op_id"]
    found = await _item_and_panel(session, judge, str(op.get("item", "")))
    if isinstance(found, str):
        return Applied(_nack(op_id, found, "您不在该赛项的裁判组中", "you are not on this item's panel"), None)
    item, member = found
    code = str(op.get("criterion", ""))
    criterion = (await session.exec(select(Criterion).where(Criterion.item_id == item.id,
                                                            Criterion.code == code))).first()
    if criterion is None or (member.criteria and code not in member.criteria):
        return Applied(_nack(op_id, "not_your_criterion", f"您不负责评分项 {code}", f"criterion {code} is not yours"),
                       None)
    stage = (await session.exec(select(ItemStage).where(ItemStage.item_id == item.id))).first()
    locked = (await session.exec(select(CriterionLock).where(CriterionLock.item_id == item.id,
                                                             CriterionLock.criterion_id == criterion.id))).first()
    if locked is not None or (stage is not None and stage.scores_locked_at is not None):
        return Applied(_nack(op_id, "locked", "成绩已锁定，不能修改", "scores are locked"), None)
    if (await session.exec(select(SheetSubmission).where(SheetSubmission.item_id == item.id,
                                                         SheetSubmission.judge_id == judge.id))).first():
        return Applied(_nack(op_id, "sheet_submitted", "评分表已签字提交；如需修改请联系裁判长",
                             "sheet signed and submitted: ask the chief judge to reopen it"), None)
    seat = str(op.get("seat", ""))
    row = (await session.exec(
        select(SeatAssignment, Entry).join(Entry, Entry.id == SeatAssignment.entry_id)  # type: ignore[arg-type]
        .join(Attendance, Attendance.entry_id == Entry.id)  # type: ignore[arg-type]
        .where(SeatAssignment.item_id == item.id, SeatAssignment.seat_label == seat,
               Attendance.status == "present"))).first()
    if row is None:
        return Applied(_nack(op_id, "empty_seat", f"赛位 {seat} 没有选手", f"nobody sits at {seat}"), None)
    entry = row[1]
    if judge.unit_key and judge.unit_key == entry.unit_key:
        # enforced here, at scoring time, whatever the panel assignment said
        return Applied(_nack(op_id, "conflict_of_interest", "回避：该选手与您同单位，不能评分",
                             "conflict of interest: this contestant is from your unit"), None)
    spec = CriterionSpec(criterion.code, criterion.name, criterion.max, criterion.kind, criterion.aggregate,
                         criterion.trim_min_judges, criterion.max_spread)
    raw = op.get("value")
    value: Decimal | None
    if raw is None or raw == "":
        value = None
    else:
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            return Applied(_nack(op_id, "invalid_score", "分数格式不正确", "not a number"), None)
        findings = check_score(spec, value)
        if findings:
            return Applied(_nack(op_id, findings[0].code, findings[0].zh, findings[0].en), None)
    # FOR UPDATE: on PostgreSQL two tablets editing one mark queue here, so the second sees the first's version
    current = (await session.exec(select(Score).where(Score.entry_id == entry.id, Score.criterion_id == criterion.id,
                                                      Score.judge_id == judge.id).with_for_update())).first()
    base = op.get("base_version", 0)
    have = current.version if current else 0
    if base != have:
        return Applied(_nack(op_id, "stale_version", "该分数已在别处修改，已显示当前值",
                             "changed elsewhere: here is the current value",
                             current={"value": _fmt(current.value if current else None), "version": have}), None)
    old_value = current.value if current else None
    if current is None:
        current = Score(event_id=judge.event_id, item_id=item.id or 0, entry_id=entry.id or 0,
                        criterion_id=criterion.id or 0, judge_id=judge.id or 0, value=value, version=1)
    else:
        current.value, current.version, current.updated_at = value, current.version + 1, utcnow()
    session.add(current)
    link = await audit.append(session, judge.event_id, "set", actor=judge.name, device=device, item_id=item.id,
                       entry_id=entry.id, criterion_id=criterion.id, judge_id=judge.id,
                       old=(old_value, have or None), new=(value, current.version))
    reply = {"type": "ack", "op_id": op_id, "item": item.code, "seat": seat, "criterion": code,
             "value": _fmt(value), "version": current.version}
    changed = {"type": "score", "seq": link.seq, "item": item.code, "seat": seat, "criterion": code,
               "judge_id": judge.id, "value": _fmt(value), "version": current.version}
    return Applied(reply, changed)


async def _submit_sheet(session: AsyncSession, judge: Judge, op: dict[str, Any], device: str) -> Applied:
    op_id = op["op_id"]
    found = await _item_and_panel(session, judge, str(op.get("item", "")))
    if isinstance(found, str):
        return Applied(_nack(op_id, found, "您不在该赛项的裁判组中", "you are not on this item's panel"), None)
    item, _member = found
    signature = str(op.get("signature") or judge.name)[:64]
    try:
        async with session.begin_nested():
            session.add(SheetSubmission(item_id=item.id or 0, judge_id=judge.id or 0, signature=signature))
    except IntegrityError:
        return Applied({"type": "ack", "op_id": op_id, "item": item.code, "submitted": True}, None)
    link = await audit.append(session, judge.event_id, "submit", actor=judge.name, device=device, item_id=item.id,
                              judge_id=judge.id, reason=f"签字：{signature}")
    return Applied({"type": "ack", "op_id": op_id, "item": item.code, "submitted": True},
                   {"type": "submitted", "seq": link.seq, "item": item.code, "judge_id": judge.id})


def _fmt(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


_KINDS = {"set_score": _set_score, "submit_sheet": _submit_sheet}


async def apply_op(session: AsyncSession, judge: Judge, op: dict[str, Any], device: str = "") -> Applied:
    """Apply one tablet operation exactly once and commit; replays return the stored reply."""
    op_id = op.get("op_id")
    if not isinstance(op_id, str) or not 0 < len(op_id) <= MAX_OP_ID:
        return Applied(_nack(str(op_id)[:MAX_OP_ID], "invalid_op", "操作缺少编号", "an operation needs an op_id"), None)
    stored = (await session.exec(select(AppliedOp).where(AppliedOp.judge_id == judge.id,
                                                         AppliedOp.op_id == op_id))).first()
    if stored is not None:
        return Applied(stored.reply, None)
    handler = _KINDS.get(str(op.get("kind")))
    if handler is None:
        applied = Applied(_nack(op_id, "unknown_op", "未知操作", f"unknown operation {op.get('kind')!r}"), None)
    else:
        applied = await handler(session, judge, op, device)
    session.add(AppliedOp(judge_id=judge.id or 0, op_id=op_id, reply=applied.reply))
    try:
        await session.commit()
    except IntegrityError:
        # the same op id raced in on another connection, or a concurrent first mark of this score
        await session.rollback()
        stored = (await session.exec(select(AppliedOp).where(AppliedOp.judge_id == judge.id,
                                                             AppliedOp.op_id == op_id))).first()
        if stored is not None:
            return Applied(stored.reply, None)
        return await apply_op(session, judge, op, device)  # the score was created meanwhile: now a stale edit
    return applied


async def judge_scores(session: AsyncSession, judge: Judge) -> list[dict[str, Any]]:
    """The judge's own marks only (never another judge's), by item, seat and criterion, with versions."""
    rows = (await session.exec(
        select(Score, Item.code, Criterion.code, SeatAssignment.seat_label)
        .join(Item, Item.id == Score.item_id)  # type: ignore[arg-type]
        .join(Criterion, Criterion.id == Score.criterion_id)  # type: ignore[arg-type]
        .join(SeatAssignment, SeatAssignment.entry_id == Score.entry_id)  # type: ignore[arg-type]
        .where(Score.judge_id == judge.id))).all()
    return [{"item": item, "seat": seat, "criterion": crit, "value": _fmt(s.value), "version": s.version}
            for s, item, crit, seat in rows]
