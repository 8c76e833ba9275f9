"""What a tablet gets on (re)connect: the judge's items, criteria and occupied seats — blind, seat numbers
only — and the judge's own marks with their versions. Never another judge's marks."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.errors import Refusal
from judging.handin import seat_times
from judging.models import CriterionLock, ItemStage, Judge, PanelMember, RemarkRequest, SheetSubmission
from judging.sealed import blind_seats
from judging.service import judge_scores
from registration.events.models import Criterion, Item

__all__ = ["judge_for_user", "tablet_snapshot"]


async def judge_for_user(session: AsyncSession, user_id: int | None) -> Judge:
    judge = (await session.exec(select(Judge).where(Judge.user_id == user_id))).first() if user_id else None
    if judge is None:
        raise Refusal(403, "not_a_judge", "该账号不是本赛事的裁判", "this account is not a judge")
    return judge


async def tablet_snapshot(session: AsyncSession, judge: Judge) -> dict[str, Any]:
    panel = (await session.exec(
        select(PanelMember, Item).join(Item, col(Item.id) == PanelMember.item_id)
        .where(PanelMember.judge_id == judge.id, col(PanelMember.role).in_(("judge", "chief_judge")))
        .order_by(col(Item.position)))).all()
    items = []
    for member, item in panel:
        criteria = (await session.exec(select(Criterion).where(Criterion.item_id == item.id)
                                       .order_by(col(Criterion.position)))).all()
        locked = set((await session.exec(select(CriterionLock.criterion_id)
                                          .where(CriterionLock.item_id == item.id))).all())
        stage = (await session.exec(select(ItemStage).where(ItemStage.item_id == item.id))).first()
        submitted = (await session.exec(select(SheetSubmission).where(
            SheetSubmission.item_id == item.id, SheetSubmission.judge_id == judge.id))).first()
        remarks = (await session.exec(select(RemarkRequest).where(
            RemarkRequest.item_id == item.id, RemarkRequest.judge_id == judge.id,
            col(RemarkRequest.resolved_at).is_(None)))).all()
        items.append({
            "code": item.code, "name": item.name,
            "criteria": [{"code": c.code, "name": c.name, "max": f"{c.max:.2f}", "kind": c.kind, "scale": c.scale,
                          "locked": c.id in locked or bool(stage and stage.scores_locked_at)}
                         for c in criteria if not member.criteria or c.code in member.criteria],
            "seats": [s["seat"] for s in await blind_seats(session, item.id or 0) if s["occupied"]],
            "submitted": submitted is not None,
            "remarks": [{"id": r.id, "seat": r.seat, "criterion": r.criterion, "message": r.message} for r in remarks],
            "handed_in": await seat_times(session, item.id or 0),  # 交卷: seat → seconds used
        })
    return {"type": "snapshot", "judge": {"name": judge.name}, "items": items,
            "scores": await judge_scores(session, judge)}
