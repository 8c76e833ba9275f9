"""The chief judge's actions: ask for a re-mark (and close one), lock and unlock a criterion or the whole item,
reopen a signed sheet, settle a deduction the judges disagree on (裁定扣分). Each one writes its row and its audit
link in one transaction and commits; it returns what to fan out, and the caller publishes only then (`publish`),
so a tablet or console never hears of an uncommitted change.

Unlocking, reopening, ruling and closing a re-mark request need a reason: it goes into the audit log, the trace
the domain asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from contestday.web.channels import Publisher, publish_json
from contestday.web.errors import Refusal
from judging import audit, remarks
from judging.models import CriterionLock, DeductionRuling, PanelMember, RemarkRequest, SheetSubmission
from judging.sealed import lock_scores, stage_of
from judging.ws import console_channel, judge_channel
from registration.events.models import Criterion, Item
from results.console.state import MARKING_ROLES, findings_of, load_item_state
from scoring.checks import check_score

__all__ = ["Outcome", "close_remark", "lock_criterion", "lock_item", "publish", "reopen_sheet", "request_remark",
           "rule_deduction", "unlock_criterion", "unlock_item"]

MAX_MESSAGE = 500


@dataclass(frozen=True)
class Outcome:
    console: dict[str, Any]  # to the event's console channel, stamped with the audit seq
    tablets: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (judge id, message)


def publish(channels: Publisher, event_id: int, outcome: Outcome) -> None:
    """Fan an action out, after its commit: the console channel, then each tablet concerned."""
    publish_json(channels, outcome.console, console_channel(event_id))
    for judge_id, message in outcome.tablets:
        publish_json(channels, message, judge_channel(judge_id))


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise Refusal(422, "reason_required", "请填写原因（将记入日志）", "a reason is required (it is logged)")
    return text[:MAX_MESSAGE]


async def _criterion(session: AsyncSession, item: Item, code: str) -> Criterion:
    criterion = (await session.exec(select(Criterion).where(Criterion.item_id == item.id,
                                                            Criterion.code == code))).first()
    if criterion is None:
        raise Refusal(404, "unknown_criterion", f"赛项 {item.code} 没有评分项“{code}”",
                       f"item {item.code} has no criterion {code!r}")
    return criterion


async def _panel_judges(session: AsyncSession, item: Item) -> list[int]:
    rows = (await session.exec(select(PanelMember.judge_id).where(
        PanelMember.item_id == item.id, PanelMember.role.in_(MARKING_ROLES)))).all()  # type: ignore[attr-defined]
    return sorted(set(rows))


async def request_remark(session: AsyncSession, item: Item, *, judge_id: int, seat: str, criterion: str,
                         message: str, by: str) -> Outcome:
    """A RemarkRequest for one judge's mark; the message reaches that judge's tablet."""
    text = message.strip()[:MAX_MESSAGE]
    if not text:
        raise Refusal(422, "message_required", "请填写给裁判的说明", "write a message for the judge")
    crit = await _criterion(session, item, criterion)
    if judge_id not in await _panel_judges(session, item):
        raise Refusal(422, "not_on_panel", "该裁判不在本赛项的裁判组中", "this judge is not on the item's panel")
    state = await load_item_state(session, item)
    if seat not in {s.label for s in state.seats}:
        raise Refusal(422, "empty_seat", f"赛位 {seat} 没有选手", f"nobody sits at {seat}")
    remark = RemarkRequest(item_id=item.id or 0, judge_id=judge_id, seat=seat, criterion=crit.code, message=text,
                           by=by[:80])
    session.add(remark)
    await session.flush()
    link = await audit.append(session, item.event_id, "remark", actor=by, item_id=item.id, criterion_id=crit.id,
                              judge_id=judge_id, reason=f"{seat}: {text}")
    await session.commit()
    tablet = {"type": "remark", "id": remark.id, "item": item.code, "seat": seat, "criterion": crit.code,
              "message": text}
    return Outcome({**tablet, "seq": link.seq, "judge_id": judge_id}, [(judge_id, tablet)])


async def close_remark(session: AsyncSession, item: Item, remark_id: int, by: str, note: str | None) -> Outcome:
    """关闭请求: the chief judge closes a re-mark request (sent by mistake, or the change checked): resolved with
    the note in the audit log, and taken off the judge's tablet."""
    text = _reason(note)
    remark = await session.get(RemarkRequest, remark_id)
    if remark is None or remark.item_id != item.id:
        raise Refusal(404, "unknown_remark", f"赛项 {item.code} 没有这条复评请求",
                       f"no such re-mark request in {item.code}")
    if remark.resolved_at is not None:
        raise Refusal(409, "already_resolved", "该复评请求已处理", "this re-mark request is already resolved")
    crit = (await session.exec(select(Criterion.id).where(Criterion.item_id == item.id,
                                                          Criterion.code == remark.criterion))).first()
    cell = remarks.Cell(item.event_id, item.id or 0, item.code, remark.judge_id, remark.seat, remark.criterion, crit)
    message = await session.run_sync(lambda s: remarks.resolve_one(s.connection(), cell, remark_id, how="closed",
                                                                   by=by, note=text))
    if message is None:  # resolved by the judge between the read and the guarded update
        await session.rollback()
        raise Refusal(409, "already_resolved", "该复评请求已处理", "this re-mark request is already resolved")
    await session.commit()
    return Outcome(message, [(cell.judge_id, remarks.tablet_copy(message))])


async def _lock_message(session: AsyncSession, item: Item, kind: str, criterion: str | None,
                        seq: int) -> Outcome:
    tablet = {"type": kind, "item": item.code, "criterion": criterion}
    return Outcome({**tablet, "seq": seq}, [(j, tablet) for j in await _panel_judges(session, item)])


async def lock_criterion(session: AsyncSession, item: Item, code: str, by: str) -> Outcome:
    crit = await _criterion(session, item, code)
    try:
        async with session.begin_nested():  # the unique (item, criterion) decides a race of two locks
            session.add(CriterionLock(item_id=item.id or 0, criterion_id=crit.id or 0, by=by[:80]))
    except IntegrityError:
        raise Refusal(409, "already_locked", f"评分项 {code} 已锁定", f"criterion {code} is already locked") from None
    link = await audit.append(session, item.event_id, "lock", actor=by, item_id=item.id, criterion_id=crit.id)
    await session.commit()
    return await _lock_message(session, item, "locked", crit.code, link.seq)


async def unlock_criterion(session: AsyncSession, item: Item, code: str, by: str, reason: str | None) -> Outcome:
    text = _reason(reason)
    crit = await _criterion(session, item, code)
    lock = (await session.exec(select(CriterionLock).where(CriterionLock.item_id == item.id,
                                                           CriterionLock.criterion_id == crit.id))).first()
    if lock is None:
        raise Refusal(409, "not_locked", f"评分项 {code} 未锁定", f"criterion {code} is not locked")
    await session.delete(lock)
    link = await audit.append(session, item.event_id, "unlock", actor=by, item_id=item.id, criterion_id=crit.id,
                              reason=text)
    await session.commit()
    return await _lock_message(session, item, "unlocked", crit.code, link.seq)


async def lock_item(session: AsyncSession, item: Item, by: str) -> Outcome:
    """The item lock is the gate decryption checks (`lock_scores`): refused while marks are missing or
    measurement or deduction judges disagree (a deduction until the chief judge rules on it), since decryption
    would then reveal an incomplete result. A spread over `max_spread` is the chief judge's to accept, so it
    does not block."""
    findings = findings_of(await load_item_state(session, item))
    blocking = sum(1 for f in findings if f["severity"] == "error")
    if (await stage_of(session, item.id or 0)).scores_locked_at is not None:
        raise Refusal(409, "already_locked", "本赛项成绩已锁定", "the item's scores are already locked")
    if blocking:
        raise Refusal(409, "unresolved_findings", f"还有 {blocking} 处缺评、测量分或扣分不一致，不能锁定",
                       f"{blocking} missing marks or measurement/deduction disagreements remain: cannot lock",
                       count=blocking, codes=sorted({str(f["code"]) for f in findings if f["severity"] == "error"}))
    await lock_scores(session, item.id or 0, by[:80], locked=True)
    link = await audit.append(session, item.event_id, "lock", actor=by, item_id=item.id)
    await session.commit()
    return await _lock_message(session, item, "locked", None, link.seq)


async def unlock_item(session: AsyncSession, item: Item, by: str, reason: str | None) -> Outcome:
    text = _reason(reason)
    if (await stage_of(session, item.id or 0)).scores_locked_at is None:
        raise Refusal(409, "not_locked", "本赛项成绩未锁定", "the item's scores are not locked")
    await lock_scores(session, item.id or 0, by[:80], locked=False)  # refuses once decryption has begun
    link = await audit.append(session, item.event_id, "unlock", actor=by, item_id=item.id, reason=text)
    await session.commit()
    return await _lock_message(session, item, "unlocked", None, link.seq)


async def reopen_sheet(session: AsyncSession, item: Item, judge_id: int, by: str, reason: str | None) -> Outcome:
    """The judge's signed sheet is open again: the judge may change marks (and must sign again)."""
    text = _reason(reason)
    sheet = (await session.exec(select(SheetSubmission).where(SheetSubmission.item_id == item.id,
                                                              SheetSubmission.judge_id == judge_id))).first()
    if sheet is None:
        raise Refusal(409, "not_submitted", "该裁判尚未签字提交评分表", "this judge has not submitted the sheet")
    await session.delete(sheet)
    link = await audit.append(session, item.event_id, "reopen", actor=by, item_id=item.id, judge_id=judge_id,
                              reason=text)
    await session.commit()
    tablet = {"type": "reopened", "item": item.code}
    return Outcome({**tablet, "seq": link.seq, "judge_id": judge_id}, [(judge_id, tablet)])


def _ruling_value(criterion: Criterion, value: object) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise Refusal(422, "invalid_value", "请填写裁定的扣分（数字）", "the ruled deduction must be a number",
                       field="value")
    for finding in check_score(criterion.spec(), number):
        raise Refusal(422, finding.code, finding.zh, finding.en, field="value")
    return number


async def rule_deduction(session: AsyncSession, item: Item, *, seat: str, criterion: str, value: object,
                         reason: str | None, by: str) -> Outcome:
    """裁定扣分: the chief judge's value for a deduction the judges disagree on (or a new value for one already
    ruled), with the reason. Results then take this value off, whatever the judges entered; the finding goes.
    Only where there is something to settle: the judges' agreement is not the chief judge's to override."""
    text = _reason(reason)
    crit = await _criterion(session, item, criterion)
    if crit.kind != "deduction":
        raise Refusal(422, "not_a_deduction", f"评分项 {crit.code} 不是扣分项", f"{crit.code} is not a deduction")
    number = _ruling_value(crit, value)
    if (await stage_of(session, item.id or 0)).scores_locked_at is not None:
        raise Refusal(409, "already_locked", "本赛项成绩已锁定，须先解锁才能裁定",
                       "the item's scores are locked: unlock before ruling")
    state = await load_item_state(session, item)
    entry_id = next((s.entry_id for s in state.seats if s.label == seat), None)
    if entry_id is None:
        raise Refusal(422, "empty_seat", f"赛位 {seat} 没有选手", f"nobody sits at {seat}")
    before = state.rulings.get((seat, crit.code))
    old_value = before.value if before else None  # read now: the UPDATE below refreshes the loaded row
    disputed = any(f["code"] == "deduction_disagreement" and f["seat"] == seat and f["criterion"] == crit.code
                   for f in findings_of(state))
    if before is None and not disputed:
        raise Refusal(409, "no_disagreement", f"赛位 {seat} 的扣分项 {crit.code} 各裁判一致，无须裁定",
                       f"the judges agree on {crit.code} at {seat}: nothing to rule")
    at = utcnow()
    try:  # the unique (item, entry, criterion) decides a race of two first rulings: the later one updates
        async with session.begin_nested():
            session.add(DeductionRuling(item_id=item.id or 0, entry_id=entry_id, criterion_id=crit.id or 0,
                                        value=number, reason=text, by=by[:80], at=at))
    except IntegrityError:
        await session.exec(update(DeductionRuling).where(
            col(DeductionRuling.item_id) == item.id, col(DeductionRuling.entry_id) == entry_id,
            col(DeductionRuling.criterion_id) == crit.id).values(value=number, reason=text, by=by[:80], at=at))
    link = await audit.append(session, item.event_id, "ruling", actor=by, item_id=item.id, entry_id=entry_id,
                              criterion_id=crit.id, reason=f"{seat}: {text}",
                              old=(old_value, None), new=(number, None))
    await session.commit()
    return Outcome({"type": "ruling", "item": item.code, "seat": seat, "criterion": crit.code,
                    "value": f"{number:.2f}", "reason": text, "by": by[:80], "seq": link.seq})
