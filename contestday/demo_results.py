"""Results for the demo: two more items go all the way. Their contestants are checked in and seated, the
demo panel marks every seat, the chief judge locks, re-checks and has the mapping decrypted, and the results
are published: the first of the two three weeks ago (its notice period over: final), the second today (in
its notice period, with one contestant's appeal waiting for arbitration)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from judging.models import Judge, PanelMember
from judging.panels import assign
from judging.sealed import blind_seats, lock_scores, reveal
from judging.service import apply_op
from registration.checkin.seats import draw
from registration.checkin.service import redeem
from registration.entries.models import Entry
from registration.events.models import Criterion, Item
from results.appeals import file_appeal
from results.publication import Publication, publish
from results.recheck import record, round_view, start_round

__all__ = ["ensure_demo_results"]


async def _items(session: AsyncSession, event_id: int) -> list[Item]:
    """Two items after the first (which is on contest day): the smallest with at least ten entries each (enough
    for every award; small enough that the demo starts in seconds)."""
    items = (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
    sizes = dict((await session.exec(select(Entry.item_id, func.count()).where(
        Entry.event_id == event_id, Entry.state == "active").group_by(col(Entry.item_id)))).all())
    candidates = [i for i in items[1:] if sizes.get(i.id or 0, 0) >= 10] or list(items[1:])
    return sorted(candidates, key=lambda i: sizes.get(i.id or 0, 0))[:2]


async def _judge_item(session: AsyncSession, event_id: int, item: Item, judges: list[Judge], chief: Judge) -> None:
    assert item.id is not None
    codes = (await session.exec(select(Entry.ticket_code).where(Entry.item_id == item.id,
                                                                Entry.state == "active"))).all()
    for code in codes:
        await redeem(session, event_id, code, "演示检录台", f"demo-{code}")
        await draw(session, event_id, code, "演示检录台")
    for judge in judges:
        await assign(session, judge, item.id, "judge")
    await assign(session, chief, item.id, "chief_judge")
    await session.commit()
    seats = [s["seat"] for s in await blind_seats(session, item.id) if s["occupied"]]
    top = {c.code: float(c.max) for c in (await session.exec(select(Criterion).where(Criterion.item_id == item.id)))}
    for n, seat in enumerate(seats):
        for k, judge in enumerate(judges):
            marks = [("B", f"{top['B'] * (0.7 + (n * 7) % 6 / 100) + k * 0.5:.2f}"),  # a panel within the spread
                     ("A", f"{top['A'] * (0.55 + (n * 13) % 27 / 100) + n / 100:.2f}")]  # agreed; distinct: no ties
            for criterion, value in marks:
                await apply_op(session, judge, {"op_id": f"demo-{item.code}-{seat}-{criterion}-{judge.id}",
                                                "kind": "set_score", "item": item.code, "seat": seat,
                                                "criterion": criterion, "value": value, "base_version": 0}, "演示平板")
    await lock_scores(session, item.id, chief.name)
    await session.commit()
    await start_round(session, event_id, item.code, chief.name)
    for seat in (await round_view(session, event_id, item.code))["rounds"][-1]["seats"]:
        await record(session, event_id, item.code, seat["seat"], "ok", "", chief.name)
    await reveal(session, item.id, 1, "演示加密裁判")
    await reveal(session, item.id, 2, "演示加密裁判")


async def ensure_demo_results(session: AsyncSession, event_id: int, appeal_hours: int) -> dict[str, Any]:
    """Idempotent: does nothing once anything of the event is published."""
    if (await session.exec(select(Publication).where(Publication.event_id == event_id))).first() is not None:
        return {}
    judges = list((await session.exec(
        select(Judge).join(PanelMember, col(PanelMember.judge_id) == Judge.id)
        .where(Judge.event_id == event_id, PanelMember.role == "judge").order_by(col(Judge.id)))).unique().all())[:5]
    chief = (await session.exec(select(Judge).join(PanelMember, col(PanelMember.judge_id) == Judge.id)
                                .where(Judge.event_id == event_id, PanelMember.role == "chief_judge"))).first()
    if len(judges) < 5 or chief is None:
        return {}
    final_item, open_item = await _items(session, event_id)
    published = {}
    for item, when in ((final_item, utcnow() - timedelta(days=21)), (open_item, None)):
        await _judge_item(session, event_id, item, judges, chief)
        row = await publish(session, event_id, item.code, chief.name, now=when)
        published[item.code] = row.version
    ticket = (await session.exec(select(Entry.ticket_code).where(Entry.item_id == open_item.id,
                                                                 Entry.state == "active"))).first()
    if ticket:
        await file_appeal(session, event_id, text="演示：对“作品质量与职业素养”一项的评分有异议，请求复核。",
                          ticket_code=ticket, hours=appeal_hours)
    return published
