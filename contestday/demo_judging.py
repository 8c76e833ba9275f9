"""Judging for the demo: the first item (LED显示屏应用) is on contest day — its contestants are checked in and
seated, a panel of six judges (the demo `judge1` account among them) and a chief judge (the demo `chief`
account) are assigned, some marks are in, and one judgement panel spreads wider than allowed, waiting for
the chief judge."""

from __future__ import annotations

import random
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.models import User
from judging.models import Judge
from judging.panels import add_judge, assign, personal_link_token
from judging.service import apply_op
from registration.checkin.seats import draw
from registration.checkin.service import redeem
from registration.entries.models import Entry
from registration.events.models import Item

__all__ = ["ensure_demo_judging"]

PANEL = [("judge1", "张评审", "重庆市职业技能鉴定指导中心"), (None, "李评审", "重庆电力高等专科学校"),
         (None, "王评审", "重庆工商职业学院"), (None, "赵评审", "国网重庆市电力公司"),
         (None, "孙评审", "重庆建工集团"), (None, "周评审", "重庆机场集团")]


async def _judge(session: AsyncSession, event_id: int, account: str | None, name: str, unit: str) -> Judge:
    """A new judge; for a demo account, the judge that account signs in as (its sign-in link opens the tablet)."""
    user_id = None
    if account is not None:
        user_id = (await session.exec(select(User.id).where(User.name == account))).one()
    return await add_judge(session, event_id, name, unit, user_id=user_id)


async def ensure_demo_judging(session: AsyncSession, event_id: int, secret_key: str) -> dict[str, Any]:
    """Idempotent: does nothing once the panel exists. Returns the judges' personal link tokens."""
    item = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).first()
    assert item is not None and item.id is not None
    existing = (await session.exec(select(Judge).where(Judge.event_id == event_id))).all()
    if existing:
        return {j.name: personal_link_token(secret_key, j) for j in existing}
    tickets = (await session.exec(select(Entry.ticket_code).where(Entry.item_id == item.id,
                                                                  Entry.state == "active"))).all()
    for code in tickets:
        await redeem(session, event_id, code, "演示检录台", f"demo-{code}")
        await draw(session, event_id, code, "演示检录台")
    judges = [await _judge(session, event_id, account, name, unit) for account, name, unit in PANEL]
    for judge in judges:
        await assign(session, judge, item.id, "judge")
    chief = await _judge(session, event_id, "chief", "陈裁判长", "重庆市职业技能鉴定指导中心")
    await assign(session, chief, item.id, "chief_judge")
    await session.commit()
    rng = random.Random(7)
    from judging.sealed import blind_seats

    seats = [s["seat"] for s in await blind_seats(session, item.id) if s["occupied"]][:12]
    for n, seat in enumerate(seats):
        for judge in judges[:5]:
            for criterion, top in (("A", 70), ("B", 30)):
                if criterion == "A" and judge is not judges[0]:
                    continue  # one judge enters each measurement
                mark = rng.randint(top * 6, top * 9) / 10 if criterion == "A" else rng.randint(180, 270) / 10
                if n == 0 and criterion == "B" and judge is judges[4]:
                    mark = 12.0  # far below the panel: over max_spread, waiting for the chief judge
                await apply_op(session, judge, {"op_id": f"demo-{seat}-{criterion}-{judge.id}", "kind": "set_score",
                                                "item": item.code, "seat": seat, "criterion": criterion,
                                                "value": f"{mark:.2f}", "base_version": 0}, "演示平板")
    return {j.name: personal_link_token(secret_key, j) for j in [*judges, chief]}
