"""Results for the demo: two more items go all the way. Their contestants are checked in and seated, the
demo panel marks every seat, the chief judge locks, re-checks and has the mapping decrypted, and the results
are published: the first of the two three weeks ago (its notice period over: final), the second today (in
its notice period, with one contestant's appeal waiting for arbitration). The second weighs theory 20 % (its
theory sheet imported by the chief judge and confirmed by the organiser, one contestant absent from the exam),
and both break ties by the time used, handed in seat by seat."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import utcnow
from judging.handin import TimeRow, set_times
from judging.models import Judge, PanelMember
from judging.panels import assign
from judging.sealed import blind_seats, lock_scores, reveal
from judging.service import apply_op
from registration.checkin.seats import draw
from registration.checkin.service import redeem
from registration.entries.models import Entry
from registration.entries.personal import PersonalData
from registration.events.models import Criterion, Item
from results.appeals import file_appeal
from results.publication import Publication, publish
from results.recheck import record, round_view, start_round
from results.theory import confirm_import, stage_import
from scoring.theory import TheoryRow

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
    # 交卷: each seat's time used (the time-keeper's sheet), 75–100 minutes
    await set_times(session, event_id, item.id, [TimeRow(n, seat=seat, seconds=4500 + (n * 433) % 1500)
                                                for n, seat in enumerate(seats, start=1)], "演示计时员")
    await lock_scores(session, item.id, chief.name)
    await session.commit()
    await start_round(session, event_id, item.code, chief.name)
    for seat in (await round_view(session, event_id, item.code))["rounds"][-1]["seats"]:
        await record(session, event_id, item.code, seat["seat"], "ok", "", chief.name)
    await reveal(session, item.id, 1, "演示加密裁判")
    await reveal(session, item.id, 2, "演示加密裁判")


async def _theory(session: AsyncSession, event_id: int, item: Item, secret_key: str, chief: Judge) -> None:
    """The item weighs theory 20 %: the paper exam's sheet imported by the chief judge, confirmed by the organiser
    (four eyes); the last contestant missed the exam (theory 0, with the reason)."""
    item.theory_weight = Decimal("0.2")  # as the organiser set it in the event editor before the contest
    session.add(item)
    await session.commit()
    tickets = (await session.exec(select(Entry.ticket_code).where(Entry.item_id == item.id, Entry.state == "active")
                                  .order_by(col(Entry.id)))).all()
    rows = [TheoryRow(n, ticket=t, score=f"{60 + (n * 17) % 39}.{(n * 3) % 10}0") for n, t in enumerate(tickets, 1)]
    rows[-1] = TheoryRow(len(rows), ticket=tickets[-1], absent="缺考（理论考试未到场）")
    staged = await stage_import(session, item, rows, PersonalData(secret_key), chief.name, filename="理论成绩.xlsx")
    await session.commit()
    await confirm_import(session, item, staged["import_id"], "演示组织者")
    await session.commit()


async def ensure_demo_results(session: AsyncSession, event_id: int, appeal_hours: int,
                              secret_key: str = "demo") -> dict[str, Any]:
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
        if item is open_item:
            await _theory(session, event_id, item, secret_key, chief)
        await _judge_item(session, event_id, item, judges, chief)
        row = await publish(session, event_id, item.code, chief.name, now=when)
        published[item.code] = row.version
    ticket = (await session.exec(select(Entry.ticket_code).where(Entry.item_id == open_item.id,
                                                                 Entry.state == "active"))).first()
    if ticket:
        await file_appeal(session, event_id, text="演示：对“作品质量与职业素养”一项的评分有异议，请求复核。",
                          ticket_code=ticket, hours=appeal_hours)
    return published
