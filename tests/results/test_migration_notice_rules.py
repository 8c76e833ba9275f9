"""Migration 0014 (#18's fields) keeps everything stored: SQLite rebuilds the `item` table to let `exam_level`
be NULL, and a rebuild with foreign keys on would cascade into every row that points at an item."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlmodel import select

from contestday.db.engine import create_engine, create_sessionmaker
from contestday.db.migrate import alembic_config, upgrade
from judging.panels import add_judge, assign
from registration.events.models import Item
from registration.events.service import create_event
from scoring.event_file import parse_event_document
from tests.contestday.test_event_roles import _sql
from tests.support.helpers import EXAMPLE_EVENT

COUNTS = ("SELECT (SELECT count(*) FROM item), (SELECT count(*) FROM criterion), (SELECT count(*) FROM item_group), "
          "(SELECT count(*) FROM panel_member)")


def test_down_and_up_across_0014_keeps_items_criteria_groups_and_panels(database_url: str) -> None:
    """An event stored before #18 (its item with exam_level 4) comes out of the upgrade whole, as a
    职业技能等级证书 item with its level: existing events keep their meaning."""
    upgrade(database_url)

    async def seed() -> None:
        engine = create_engine(database_url)
        async with create_sessionmaker(engine)() as session:
            event_id = await create_event(session, parse_event_document(EXAMPLE_EVENT))
            item_id = int((await session.exec(select(Item.id).where(Item.event_id == event_id))).one())
            judge = await add_judge(session, event_id, "李评委", "某单位")
            await assign(session, judge, item_id, "judge")
            await session.commit()
        await engine.dispose()
    asyncio.run(seed())
    before = _sql(database_url, COUNTS)
    assert before == [(1, 3, 2, 1)]

    command.downgrade(alembic_config(database_url), "0013")
    assert _sql(database_url, COUNTS) == before
    upgrade(database_url)
    assert _sql(database_url, COUNTS) == before
    assert _sql(database_url, "SELECT certificate, exam_level FROM item") == [("skill_level", 4)]
