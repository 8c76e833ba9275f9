"""Tablet operations: each applied once (by its client id), acked only after the commit.

`apply_op` returns the reply to send: an ack `{"type": "ack", "op_id", …, "version"}` or a refusal
`{"type": "nack", "op_id", "code", "message", "message_en", ["current"]}`; both are stored with the op id, so
a replayed operation gets exactly the same reply and is never applied twice.

An operation is one job of prepared Core statements (contestday/db/writer.py): on the app's writer (SQLite:
grouped into one commit with the others waiting; PostgreSQL: its own transaction), or inside a session.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, literal, or_, select, update
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from contestday.db.writer import Prepared, Retry, Writer, insert_or_ignore, row_values, run_job, table
from judging import audit, handin, remarks
from judging.models import (
    AppliedOp,
    CriterionLock,
    ItemStage,
    Judge,
    PanelMember,
    RemarkRequest,
    Score,
    SheetSubmission,
)
from registration.checkin.models import Attendance, SeatAssignment
from registration.entries.models import Entry
from registration.events.models import Criterion, Item
from scoring.checks import check_score
from scoring.event_file import CriterionSpec
from scoring.time_used import TimeProblem

__all__ = ["Applied", "JudgeRef", "apply_op", "judge_scores", "malformed", "set_score_job"]

MAX_OP_ID = 64
MARKING = ("judge", "chief_judge")
MAX_CODE = 32  # item, seat and criterion codes (the columns hold fewer: anything longer matches nothing)
MAX_SIGNATURE = 64
MAX_VALUE = 32
MAX_ID = 2**31 - 1  # a bigger number would overflow PostgreSQL's integer parameters
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")  # plain notation: no NaN, Infinity or 1e999


@dataclass(frozen=True)
class Applied:
    reply: dict[str, Any]
    changed: dict[str, Any] | None  # what to fan out after the commit (None: nothing changed)
    resolved: tuple[dict[str, Any], ...] = ()  # re-mark requests this op resolved (console messages)
    revoked: bool = False  # the judge's link was revoked after the socket opened: close it, reply nothing


@dataclass(frozen=True)
class JudgeRef:
    """The plain values of a judge an operation needs (no ORM row crosses into the writer's thread)."""

    id: int
    event_id: int
    name: str
    unit_key: str
    link_version: int | None = None  # set: refuse the op once the judge's link was revoked (bumped) since

    @classmethod
    def of(cls, judge: Judge) -> JudgeRef:
        return cls(judge.id or 0, judge.event_id, judge.name, judge.unit_key, judge.link_version)




_IT, _PM, _CR, _ST, _CL, _SS = (table(Item), table(PanelMember), table(Criterion), table(ItemStage),
                                table(CriterionLock), table(SheetSubmission))
_SA, _EN, _AT, _SC, _AO = table(SeatAssignment), table(Entry), table(Attendance), table(Score), table(AppliedOp)

_JD = table(Judge)
# the judge's link version and the stored reply of this op id, in one statement (it runs for every op)
_STORED = Prepared(select(_JD.c.link_version,
                          select(_AO.c.reply).where(_AO.c.judge_id == _JD.c.id, _AO.c.op_id == bindparam("op_id"))
                          .scalar_subquery())
                   .where(_JD.c.id == bindparam("judge_id")))
_MARKING_ROLE = or_(*(_PM.c.role == role for role in MARKING))  # no IN: the statement is prepared once
_ITEM_PANEL = Prepared(
    select(_IT.c.id, _PM.c.id, _PM.c.criteria)
    .select_from(_IT.outerjoin(_PM, and_(_PM.c.item_id == _IT.c.id, _PM.c.judge_id == bindparam("judge_id"),
                                         _MARKING_ROLE)))
    .where(_IT.c.event_id == bindparam("event_id"), _IT.c.code == bindparam("item")).order_by(_PM.c.id.desc()))
# everything a mark needs to know before the seat, in one statement: the item, the judge's place on its panel,
# the criterion, and whether the item or criterion is locked or the judge's sheet already signed
_MARKING = Prepared(
    select(_IT.c.id, _PM.c.id, _PM.c.criteria, _CR.c.id, _CR.c.code, _CR.c.name, _CR.c.max, _CR.c.kind,
           _CR.c.aggregate, _CR.c.trim_min_judges, _CR.c.max_spread, _CR.c.scale,
           select(_ST.c.scores_locked_at).where(_ST.c.item_id == _IT.c.id).scalar_subquery(),
           select(literal(1)).where(_CL.c.item_id == _IT.c.id, _CL.c.criterion_id == _CR.c.id).scalar_subquery(),
           select(literal(1)).where(_SS.c.item_id == _IT.c.id, _SS.c.judge_id == bindparam("judge_id"))
           .scalar_subquery())
    .select_from(_IT.outerjoin(_PM, and_(_PM.c.item_id == _IT.c.id, _PM.c.judge_id == bindparam("judge_id"),
                                         _MARKING_ROLE))
                 .outerjoin(_CR, and_(_CR.c.item_id == _IT.c.id, _CR.c.code == bindparam("criterion"))))
    .where(_IT.c.event_id == bindparam("event_id"), _IT.c.code == bindparam("item")).order_by(_PM.c.id.desc()))
_SEATED = Prepared(
    select(_EN.c.id, _EN.c.unit_key).select_from(_SA.join(_EN, _EN.c.id == _SA.c.entry_id)
                                                   .join(_AT, _AT.c.entry_id == _EN.c.id))
    .where(_SA.c.item_id == bindparam("item_id"), _SA.c.seat_label == bindparam("seat"), _AT.c.status == "present"))
_SCORE = Prepared(
    select(_SC.c.id, _SC.c.value, _SC.c.version)
    .where(_SC.c.entry_id == bindparam("entry_id"), _SC.c.criterion_id == bindparam("criterion_id"),
           _SC.c.judge_id == bindparam("judge_id")).with_for_update())
_SCORE_CHANGE = Prepared(update(_SC).where(_SC.c.id == bindparam("score_id"))
                         .values(value=bindparam("value"), version=bindparam("version"),
                                 updated_at=bindparam("updated_at")))
_SUBMITTED = Prepared(insert(_SS))
_RR = table(RemarkRequest)
# a re-mark request of this judge, with its item and the mark it is about (if there is one yet)
_REMARK = Prepared(
    select(_RR.c.id, _RR.c.item_id, _RR.c.seat, _RR.c.criterion, _RR.c.resolved_at, _IT.c.code, _CR.c.id,
           _SA.c.entry_id, _SC.c.value, _SC.c.version)
    .select_from(_RR.join(_IT, _IT.c.id == _RR.c.item_id)
                 .outerjoin(_CR, and_(_CR.c.item_id == _RR.c.item_id, _CR.c.code == _RR.c.criterion))
                 .outerjoin(_SA, and_(_SA.c.item_id == _RR.c.item_id, _SA.c.seat_label == _RR.c.seat))
                 .outerjoin(_SC, and_(_SC.c.entry_id == _SA.c.entry_id, _SC.c.criterion_id == _CR.c.id,
                                      _SC.c.judge_id == _RR.c.judge_id)))
    .where(_RR.c.id == bindparam("remark_id"), _RR.c.judge_id == bindparam("judge_id"),
           _IT.c.event_id == bindparam("event_id")))


def _nack(op_id: str | int | None, code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"type": "nack", "op_id": op_id, "code": code, "message": zh, "message_en": en, **extra}


def _item_and_panel(conn: Connection, judge: JudgeRef, code: str) -> tuple[int, list[str]] | str:
    """(item id, the judge's criteria on its panel — empty: all), or the refusal code."""
    row = _ITEM_PANEL.execute(conn, {"judge_id": judge.id, "event_id": judge.event_id, "item": code}).first()
    if row is None:
        return "unknown_item"
    item_id, member_id, criteria = row
    return (item_id, list(criteria or [])) if member_id is not None else "not_on_panel"


def _not_on_panel(op_id: str, code: str) -> Applied:
    return Applied(_nack(op_id, code, "您不在该赛项的裁判组中", "you are not on this item's panel"), None)


def _set_score(conn: Connection, judge: JudgeRef, op: dict[str, Any], device: str, force: bool = False) -> Applied:
    op_id, item_code, code = op["op_id"], str(op.get("item", "")), str(op.get("criterion", ""))
    row = _MARKING.execute(conn, {"judge_id": judge.id, "event_id": judge.event_id, "item": item_code,
                                  "criterion": code}).first()
    if row is None or row[1] is None:
        return _not_on_panel(op_id, "unknown_item" if row is None else "not_on_panel")
    item_id, _member, mine, criterion_id = row[:4]
    stage_locked, criterion_locked, submitted = row[12:]
    if criterion_id is None or (mine and code not in mine):
        return Applied(_nack(op_id, "not_your_criterion", f"您不负责评分项 {code}", f"criterion {code} is not yours"),
                       None)
    if stage_locked is not None or criterion_locked is not None:
        return Applied(_nack(op_id, "locked", "成绩已锁定，不能修改", "scores are locked"), None)
    if submitted is not None:
        return Applied(_nack(op_id, "sheet_submitted", "评分表已签字提交；如需修改请联系裁判长",
                             "sheet signed and submitted: ask the chief judge to reopen it"), None)
    seat = str(op.get("seat", ""))
    seated = _SEATED.execute(conn, {"item_id": item_id, "seat": seat}).first()
    if seated is None:
        return Applied(_nack(op_id, "empty_seat", f"赛位 {seat} 没有选手", f"nobody sits at {seat}"), None)
    entry_id, unit_key = seated
    if judge.unit_key and judge.unit_key == unit_key:
        # enforced here, at scoring time, whatever the panel assignment said
        return Applied(_nack(op_id, "conflict_of_interest", "回避：该选手与您同单位，不能评分",
                             "conflict of interest: this contestant is from your unit"), None)
    spec = CriterionSpec(*row[4:12])
    raw = op.get("value")
    value: Decimal | None
    if raw is None or raw == "":
        value = None
    else:
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            return Applied(_nack(op_id, "invalid_score", "分数格式不正确", "not a number"), None)
        if not value.is_finite():  # an import's cell (tablet ops are refused earlier, in `malformed`)
            return Applied(_nack(op_id, "invalid_score", "分数格式不正确", "not a finite number"), None)
        findings = check_score(spec, value)
        if findings:
            return Applied(_nack(op_id, findings[0].code, findings[0].zh, findings[0].en), None)
    # FOR UPDATE: on PostgreSQL two tablets editing one mark queue here, so the second sees the first's version
    key = {"entry_id": entry_id, "criterion_id": criterion_id, "judge_id": judge.id}
    current = _SCORE.execute(conn, key).first()
    have = current[2] if current else 0
    base = have if force else op.get("base_version", 0)  # force: a server-side import overrides what is there
    if base != have:
        return Applied(_nack(op_id, "stale_version", "该分数已在别处修改，已显示当前值",
                             "changed elsewhere: here is the current value",
                             current={"value": _fmt(current[1] if current else None), "version": have}), None)
    old_value = current[1] if current else None
    version = have + 1
    if current is None:
        created = insert_or_ignore(conn, Score).execute(conn, row_values(
            Score, event_id=judge.event_id, item_id=item_id, value=value, version=version,
            source="import" if force else "tablet", **key))
        if created.rowcount != 1:
            raise Retry()  # created meanwhile on another connection: now a stale edit
    else:
        _SCORE_CHANGE.execute(conn, {"score_id": current[0], "value": value, "version": version,
                                     "updated_at": utcnow()})
    link = audit.append_link(conn, judge.event_id, "set", actor=judge.name, device=device, item_id=item_id,
                             entry_id=entry_id, criterion_id=criterion_id, judge_id=judge.id,
                             old=(old_value, have or None), new=(value, version))
    # the judge's answer to a re-mark request of this mark: resolved with the mark, in its transaction
    resolved = remarks.resolve_cell(conn, remarks.Cell(judge.event_id, item_id, item_code, judge.id, seat, code,
                                                       criterion_id, entry_id),
                                    how="import" if force else "changed", by=judge.name, device=device)
    reply: dict[str, Any] = {"type": "ack", "op_id": op_id, "item": item_code, "seat": seat, "criterion": code,
                             "value": _fmt(value), "version": version}
    if resolved:
        reply["resolved"] = [r["id"] for r in resolved]
    changed = {"type": "score", "seq": link.seq, "item": item_code, "seat": seat, "criterion": code,
               "judge_id": judge.id, "value": _fmt(value), "version": version}
    return Applied(reply, changed, tuple(resolved))


def set_score_job(conn: Connection, judge: JudgeRef, op: dict[str, Any], device: str) -> Applied:
    """A mark entered on the server (a scores workbook): every tablet rule but the version check, which the
    import replaces by "whatever is stored now" (its old value goes into the audit link)."""
    return _set_score(conn, judge, op, device, force=True)


def _submit_sheet(conn: Connection, judge: JudgeRef, op: dict[str, Any], device: str) -> Applied:
    op_id, item_code = op["op_id"], str(op.get("item", ""))
    found = _item_and_panel(conn, judge, item_code)
    if isinstance(found, str):
        return _not_on_panel(op_id, found)
    item_id, _mine = found
    signature = str(op.get("signature") or judge.name)[:64]
    ack = {"type": "ack", "op_id": op_id, "item": item_code, "submitted": True}
    stored = insert_or_ignore(conn, SheetSubmission).execute(
        conn, row_values(SheetSubmission, item_id=item_id, judge_id=judge.id, signature=signature))
    if stored.rowcount != 1:
        return Applied(ack, None)  # submitted before
    link = audit.append_link(conn, judge.event_id, "submit", actor=judge.name, device=device, item_id=item_id,
                             judge_id=judge.id, reason=f"签字：{signature}")
    return Applied(ack, {"type": "submitted", "seq": link.seq, "item": item_code, "judge_id": judge.id})


def _keep_mark(conn: Connection, judge: JudgeRef, op: dict[str, Any], device: str) -> Applied:
    """确认原分: the judge looked again and keeps the mark as it is; the request is resolved, the mark untouched
    (so neither a lock nor a signed sheet stands in the way). A request resolved meanwhile (by a change, another
    tablet or the chief judge) is acked too: the judge's intent — the request gone — holds either way."""
    op_id, remark_id = op["op_id"], op.get("remark")
    if not isinstance(remark_id, int) or isinstance(remark_id, bool):
        return Applied(_nack(op_id, "invalid_op", "缺少复评请求编号", "keep_mark needs the request's id"), None)
    row = _REMARK.execute(conn, {"remark_id": remark_id, "judge_id": judge.id, "event_id": judge.event_id}).first()
    if row is None:
        return Applied(_nack(op_id, "unknown_remark", "没有这条复评请求", "no such re-mark request"), None)
    _id, item_id, seat, criterion, resolved_at, item_code, criterion_id, entry_id, value, version = row
    reply = {"type": "ack", "op_id": op_id, "remark": remark_id, "item": item_code, "resolved": True}
    if resolved_at is not None:
        return Applied(reply, None)
    cell = remarks.Cell(judge.event_id, item_id, item_code, judge.id, seat, criterion, criterion_id, entry_id)
    message = remarks.resolve_one(conn, cell, remark_id, how="kept", by=judge.name, device=device,
                                  kept=(value, version))
    return Applied(reply, None, (message,) if message else ())


def _hand_in(conn: Connection, judge: JudgeRef, op: dict[str, Any], device: str) -> Applied:
    """交卷: the contestant at `seat` handed in at `at` (the tablet's moment of the tap, so a queued op keeps it;
    the server's now when absent). The first hand-in stands: a second one is acked with the first."""
    op_id, item_code, seat = op["op_id"], str(op.get("item", "")), str(op.get("seat", ""))
    found = _item_and_panel(conn, judge, item_code)
    if isinstance(found, str):
        return _not_on_panel(op_id, found)
    try:
        at = None if op.get("at") in (None, "") else handin.parse_moment(str(op["at"]))
        done = handin.record_hand_in(conn, event_id=judge.event_id, item_id=found[0], seat=seat, at=at,
                                     by=judge.name, device=device, source="tablet")
    except TimeProblem as problem:
        return Applied(_nack(op_id, problem.code, problem.zh, problem.en), None)
    seq = done.pop("seq", None)
    reply = {"type": "ack", "op_id": op_id, "item": item_code, **done}
    if seq is None:
        return Applied(reply, None)
    return Applied(reply, handin.handed_in_message(item_code, done, seq))


def _fmt(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


_KINDS: dict[str, Callable[[Connection, JudgeRef, dict[str, Any], str], Applied]] = {
    "set_score": _set_score, "submit_sheet": _submit_sheet, "keep_mark": _keep_mark, "hand_in": _hand_in}


def _apply(conn: Connection, judge: JudgeRef, op: dict[str, Any], device: str) -> Applied:
    op_id = op["op_id"]
    row = _STORED.execute(conn, {"judge_id": judge.id, "op_id": op_id}).first()
    if row is None or (judge.link_version is not None and row[0] != judge.link_version):
        # revoked since the socket opened (and the socket missed the message that closes it): nothing is
        # stored, not even the refusal, so the op is not lost to a judge who opens the new link
        return Applied(_nack(op_id, "link_revoked", "评分链接已被收回，请重新打开个人链接",
                             "this personal link was revoked: open the new one"), None, revoked=True)
    if row[1] is not None:
        return Applied(row[1], None)
    applied = _KINDS[op["kind"]](conn, judge, op, device)
    kept = insert_or_ignore(conn, AppliedOp).execute(conn, row_values(AppliedOp, judge_id=judge.id, op_id=op_id,
                                                                      reply=applied.reply))
    if kept.rowcount != 1:
        raise Retry()  # the same op id raced in on another connection: its stored reply is the answer
    return applied


def _text(op: dict[str, Any], field: str, limit: int, required: bool = True) -> str | None:
    """Why `op[field]` is not a short clean string (None: it is, or it is absent and not required)."""
    raw = op.get(field)
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or not raw.strip():
        return f"{field} must be a non-empty string"
    if len(raw) > limit:
        return f"{field} is longer than {limit} characters"
    # NUL breaks PostgreSQL and a lone surrogate UTF-8; other unprintables (an ideographic space) may stay
    if not raw.isprintable() and any(unicodedata.category(c) in ("Cc", "Cs") for c in raw):
        return f"{field} holds control characters or lone surrogates"
    return None


def _number(op: dict[str, Any], field: str, required: bool) -> str | None:
    raw = op.get(field)
    if raw is None and not required:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= MAX_ID:
        return f"{field} must be a whole number from 0 to {MAX_ID}"
    return None


def _shape(op: dict[str, Any]) -> str | None:
    """What is wrong with the fields of an operation of a known kind (None: nothing)."""
    kind = op["kind"]
    if kind == "set_score":
        why = (_text(op, "item", MAX_CODE) or _text(op, "seat", MAX_CODE) or _text(op, "criterion", MAX_CODE)
               or _number(op, "base_version", required=False))
        value = op.get("value")
        if why is None and value is not None and not isinstance(value, str):
            why = "value must be a decimal string, \"\" or null"
        elif why is None and isinstance(value, str) and len(value) > MAX_VALUE:
            why = f"value is longer than {MAX_VALUE} characters"
        return why
    if kind == "submit_sheet":
        return _text(op, "item", MAX_CODE) or _text(op, "signature", MAX_SIGNATURE, required=False)
    if kind == "hand_in":
        return _text(op, "item", MAX_CODE) or _text(op, "seat", MAX_CODE) or _text(op, "at", 40, required=False)
    return _text(op, "item", MAX_CODE, required=False) or _number(op, "remark", required=True)  # keep_mark


def malformed(op: Any) -> dict[str, Any] | None:
    """The refusal of an operation that cannot be applied as sent (None: it can be tried): not an object, no
    usable op_id, an unknown kind, a field of the wrong type or too long, a value that is not a plain finite
    decimal. The refusal names the op_id whenever one was sent, so the tablet drops the op from its queue."""
    if not isinstance(op, dict):
        return _nack(None, "invalid_op", "操作格式不正确", "an operation is a JSON object")
    op_id = op.get("op_id")
    echo = op_id if isinstance(op_id, str | int) and not isinstance(op_id, bool) and len(str(op_id)) <= 1024 \
        else None
    if not isinstance(op_id, str) or not 0 < len(op_id) <= MAX_OP_ID or _text(op, "op_id", MAX_OP_ID):
        return _nack(echo, "invalid_op", "操作缺少有效编号，已丢弃",
                     f"an operation needs an op_id of 1 to {MAX_OP_ID} characters")
    kind = op.get("kind")
    if not isinstance(kind, str) or kind not in _KINDS:
        shown = kind[:32] if isinstance(kind, str) else type(kind).__name__
        return _nack(op_id, "unknown_op", "未知操作", f"unknown operation {shown!r}")
    why = _shape(op)
    if why is not None:
        return _nack(op_id, "invalid_op", "操作格式不正确，已丢弃", f"malformed operation: {why}")
    value = op.get("value")
    if kind == "set_score" and value and not _DECIMAL.fullmatch(value):
        return _nack(op_id, "invalid_score", "分数格式不正确", "not a number")
    return None


async def apply_op(target: AsyncSession | Writer, judge: Judge | JudgeRef, op: dict[str, Any],
                   device: str = "") -> Applied:
    """Apply one tablet operation exactly once; committed when this returns. Replays return the stored reply.
    A malformed operation is refused here, before any database work, and not stored: the same refusal
    comes back every time it is sent."""
    refusal = malformed(op)
    if refusal is not None:
        return Applied(refusal, None)
    ref = judge if isinstance(judge, JudgeRef) else JudgeRef.of(judge)

    def job(conn: Connection) -> Applied:
        return _apply(conn, ref, op, device)

    return await run_job(target, job, attempts=3)


async def judge_scores(session: AsyncSession, judge: Judge) -> list[dict[str, Any]]:
    """The judge's own marks only (never another judge's), by item, seat and criterion, with versions."""
    rows = (await session.exec(
        orm_select(Score, Item.code, Criterion.code, SeatAssignment.seat_label)
        .join(Item, Item.id == Score.item_id)  # type: ignore[arg-type]
        .join(Criterion, Criterion.id == Score.criterion_id)  # type: ignore[arg-type]
        .join(SeatAssignment, SeatAssignment.entry_id == Score.entry_id)  # type: ignore[arg-type]
        .where(Score.judge_id == judge.id))).all()
    return [{"item": item, "seat": seat, "criterion": crit, "value": _fmt(s.value), "version": s.version}
            for s, item, crit, seat in rows]
