"""Re-check (复核) of an item's marks before decryption: every seat in the award zone of the provisional
ranking plus a random share (≥ 15 %, configurable) of the others, drawn with the OS CSPRNG. Each seat is
checked and recorded as right or corrected (with a note, in the audit log). When corrections exceed the
allowed error rate (5 % by default) the round ends with `full_required` and a full re-check of every seat
must follow."""

from __future__ import annotations

import math
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import DecimalText, UTCDateTime, utcnow
from contestday.web.errors import Refusal
from judging import audit
from judging.sealed import blind_seats
from results.console.state import item_or_404
from results.live import provisional_ranking

__all__ = ["MIN_RATIO", "RecheckRound", "RecheckSeat", "record", "round_view", "start_round"]

MIN_RATIO = Decimal("0.15")
DEFAULT_ERROR_LIMIT = Decimal("0.05")


class RecheckRound(SQLModel, table=True):
    __tablename__ = "recheck_round"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False,
                                          index=True))
    full: bool = False
    ratio: Decimal = Field(sa_type=DecimalText)
    error_limit: Decimal = Field(sa_type=DecimalText)
    status: str = Field(default="open", max_length=16)  # open | done | full_required
    by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RecheckSeat(SQLModel, table=True):
    __tablename__ = "recheck_seat"
    __table_args__ = (UniqueConstraint("round_id", "seat"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(sa_column=Column(Integer, ForeignKey("recheck_round.id", ondelete="CASCADE"),
                                           nullable=False, index=True))
    seat: str = Field(max_length=16)
    why: str = Field(max_length=16)  # award_zone | random | full
    outcome: str | None = Field(default=None, max_length=16)  # ok | corrected
    note: str = Field(default="", max_length=500)
    checked_by: str | None = Field(default=None, max_length=80)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def start_round(session: AsyncSession, event_id: int, item_code: str, by: str, ratio: Decimal = MIN_RATIO,
                      error_limit: Decimal = DEFAULT_ERROR_LIMIT) -> RecheckRound:
    """Draw the seats to re-check. After a round that ended `full_required`, the next round is a full one."""
    if not MIN_RATIO <= ratio <= 1:
        raise Refusal(422, "invalid_ratio", "抽查比例应在 15% 到 100% 之间", "the random share is 15 %…100 %")
    item = await item_or_404(session, event_id, item_code)
    previous = (await session.exec(select(RecheckRound).where(RecheckRound.item_id == item.id)
                                   .order_by(col(RecheckRound.id).desc()))).first()
    if previous is not None and previous.status == "open":
        raise Refusal(409, "recheck_open", "上一轮复核尚未完成", "the previous re-check round is still open")
    full = previous is not None and previous.status == "full_required"
    occupied = [s["seat"] for s in await blind_seats(session, item.id or 0) if s["occupied"]]
    ranking = await provisional_ranking(session, event_id, item_code)
    award_zone = {row["seat"] for group in ranking["groups"] for row in group["rows"] if row["award"]}
    award_zone |= {p["seat"] for p in ranking["pending"]}  # not computable yet: never skipped
    rest = [s for s in occupied if s not in award_zone]
    sample = set(rest) if full else set(secrets.SystemRandom().sample(rest, math.ceil(ratio * len(rest))))
    round_ = RecheckRound(item_id=item.id or 0, full=full, ratio=Decimal(1) if full else ratio,
                          error_limit=error_limit, by=by)
    session.add(round_)
    await session.flush()
    chosen = [(s, "award_zone") for s in occupied if s in award_zone] + [
        (s, "full" if full else "random") for s in occupied if s in sample]
    session.add_all(RecheckSeat(round_id=round_.id or 0, seat=seat, why=why) for seat, why in chosen)
    await audit.append(session, item.event_id, "recheck", actor=by, item_id=item.id,
                       reason=f"{'全面复核' if full else '复核'}：{len(chosen)} 个赛位")
    await session.commit()
    return round_


async def record(session: AsyncSession, event_id: int, item_code: str, seat: str, outcome: str, note: str,
                 by: str) -> RecheckRound:
    """Record one seat's re-check; close the round once every seat is checked."""
    if outcome not in ("ok", "corrected"):
        raise Refusal(422, "invalid_outcome", "结果只能是“无误”或“已更正”", "outcome is ok or corrected")
    if outcome == "corrected" and not note.strip():
        raise Refusal(422, "reason_required", "更正须说明更正内容", "a correction needs a note")
    item = await item_or_404(session, event_id, item_code)
    round_ = (await session.exec(select(RecheckRound).where(RecheckRound.item_id == item.id,
                                                            RecheckRound.status == "open"))).first()
    if round_ is None:
        raise Refusal(409, "no_open_recheck", "没有进行中的复核", "no re-check round is open")
    row = (await session.exec(select(RecheckSeat).where(RecheckSeat.round_id == round_.id,
                                                        RecheckSeat.seat == seat))).first()
    if row is None:
        raise Refusal(404, "not_in_sample", f"赛位 {seat} 不在本轮复核范围内", f"seat {seat} is not in this round")
    row.outcome, row.note, row.checked_by, row.checked_at = outcome, note.strip(), by, utcnow()
    session.add(row)
    await audit.append(session, item.event_id, "recheck", actor=by, item_id=item.id,
                       reason=f"赛位 {seat}：{'已更正 ' + note.strip() if outcome == 'corrected' else '无误'}")
    seats = (await session.exec(select(RecheckSeat).where(RecheckSeat.round_id == round_.id))).all()
    if all(s.outcome for s in seats):
        errors = sum(s.outcome == "corrected" for s in seats)
        too_many = Decimal(errors) > round_.error_limit * len(seats)
        round_.status = "full_required" if too_many and not round_.full else "done"
        session.add(round_)
    await session.commit()
    return round_


async def round_view(session: AsyncSession, event_id: int, item_code: str) -> dict[str, Any]:
    item = await item_or_404(session, event_id, item_code)
    rounds = (await session.exec(select(RecheckRound).where(RecheckRound.item_id == item.id)
                                 .order_by(col(RecheckRound.id)))).all()
    views = []
    for r in rounds:
        seats = (await session.exec(select(RecheckSeat).where(RecheckSeat.round_id == r.id)
                                    .order_by(col(RecheckSeat.seat)))).all()
        checked = [s for s in seats if s.outcome]
        views.append({"round": r.id, "full": r.full, "status": r.status, "ratio": str(r.ratio),
                      "checked": len(checked), "corrected": sum(s.outcome == "corrected" for s in checked),
                      "seats": [{"seat": s.seat, "why": s.why, "outcome": s.outcome, "note": s.note} for s in seats]})
    return {"item": item.code, "rounds": views,
            "done": bool(rounds) and rounds[-1].status == "done"}
