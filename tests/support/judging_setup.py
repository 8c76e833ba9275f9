"""Shared set-up for judging tests: an event whose LED item has seated contestants and a panel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import select

from judging.panels import add_judge, assign, personal_link_token
from registration.checkin.seats import draw
from registration.checkin.service import redeem
from registration.events.models import Item
from tests.registration.test_checkin import plan
from tests.registration.test_registration_api import person, reg_event

SECRET = "test-secret-key"


@dataclass
class Contest:
    event_id: int
    item_id: int
    seats: list[str]
    units: list[str]
    links: dict[str, str]  # judge name -> personal link token


async def seated_contest(db: Any, n: int = 4,
                         judges: tuple[tuple[str, str], ...] = (("王裁判", "某评审中心"),),
                         theory_weight: str | None = None) -> Contest:
    """Register n contestants (distinct units), check them in, draw seats; add judges on the LED panel
    (`theory_weight`: LED weighs theory so)."""
    from registration.checkin.seats import read_plan, replace_plan
    from registration.entries.context import load_context
    from registration.entries.request import read_request
    from registration.entries.service import register
    from registration.events.service import create_event
    from scoring.event_file import parse_event_document

    async with db() as session:
        doc = reg_event(unit_quota_per_group=None)
        if theory_weight is not None:
            doc["items"][0]["theory_weight"] = theory_weight
        event_id = await create_event(session, parse_event_document(doc))
        await session.commit()
        item = (await session.exec(select(Item).where(Item.event_id == event_id, Item.code == "LED"))).one()
        await replace_plan(session, item.id or 0, read_plan(plan(seats=20)))
        ctx = await load_context(session, event_id, SECRET)
        seats, units = [], []
        for k in range(n):
            body = person(unit=f"单位{k}")
            outcome = await register(session, ctx, read_request(body))
            await redeem(session, event_id, outcome.ticket_code, "A", f"nonce-{k}")
            assignment, _s, _new = await draw(session, event_id, outcome.ticket_code, "A")
            seats.append(assignment.seat_label)
            units.append(body["unit"])
        links = {}
        for name, unit in judges:
            judge = await add_judge(session, event_id, name, unit)
            await assign(session, judge, item.id or 0, "judge")
            links[name] = personal_link_token(SECRET, judge)
        await session.commit()
    return Contest(event_id, item.id or 0, seats, units, links)


def judge_cookie(base: str, token: str) -> str:
    """Open the personal link like a tablet does; return the Cookie header the websocket sends."""
    response = httpx.get(f"{base}/j/{token}", follow_redirects=False)
    assert response.status_code == 303, response.text
    return f"contestday_session={response.cookies['contestday_session']}"


async def contest_with_chief(database_url: str) -> tuple[Contest, str]:
    """`seated_contest` on the database at `database_url` (its own engine, disposed), and the session token of a
    chief judge ("chief"), for tests that run servers of their own on that database."""
    from contestday.accounts import service as accounts
    from contestday.db.engine import create_engine, create_sessionmaker

    engine = create_engine(database_url)
    try:
        db = create_sessionmaker(engine)
        contest = await seated_contest(db)
        async with db() as session:
            chief = await accounts.add_user(session, "chief", "pw-12345678", ["chief_judge"])
            token, _ = await accounts.start_session(session, chief)
            await session.commit()
    finally:
        await engine.dispose()
    return contest, token
