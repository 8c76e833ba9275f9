"""The demo event: “巴渝工匠”杯重庆市第二届专项职业能力技能大赛 with its 33 items (seed 001), created once."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from importlib import resources
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts import service as accounts
from contestday.accounts.models import User
from contestday.demo_people import add_demo_registrations
from registration.events import service as events
from registration.events.models import Event
from scoring.event_file import parse_event_document

__all__ = ["DEMO_EVENT_NAME", "DEMO_USERS", "demo_document", "ensure_demo"]

DEMO_EVENT_NAME = "“巴渝工匠”杯重庆市第二届专项职业能力技能大赛"
# name -> (role, password, what the role does)
DEMO_USERS: dict[str, tuple[str, str, str]] = {
    "organiser": ("organiser", "demo-organiser", "组委会：赛事设置 / organiser: event set-up"),
    "chief": ("chief_judge", "demo-chief", "裁判长 / chief judge"),
    "judge1": ("judge", "demo-judge", "裁判 / judge"),
    "encrypt": ("encryption_judge", "demo-encrypt", "加密裁判 / encryption judge"),
    "checkin": ("checkin", "demo-checkin", "检录 / check-in staff"),
}
_JUDGED = ("烹", "调配", "设计", "制版", "美容", "建模", "策划", "运营", "服务", "护理", "接待", "销售", "图像处理")


def _criteria(item_name: str) -> list[dict[str, Any]]:
    """A plausible marking scheme: measurement-heavy for technical items, panel-judged for craft and
    service items; always a safety deduction."""
    judged = any(word in item_name for word in _JUDGED)
    main, panel = (40, 60) if judged else (70, 30)
    return [
        {"code": "A", "name": "操作技能（测量）", "max": main, "kind": "measurement"},
        {"code": "B", "name": "作品质量与职业素养（评价）", "max": panel, "kind": "judgement",
         "aggregate": "trimmed_mean", "trim_min_judges": 5, "max_spread": round(panel * 0.2)},
        {"code": "S", "name": "安全文明生产扣分", "max": 10, "kind": "deduction"},
    ]


def demo_document(today: date | None = None) -> dict[str, Any]:
    """The demo's dates follow the day it is created: registration open for three weeks, the contest a
    month away, so every stage can be tried."""
    today = today or date.today()
    text = resources.files("scoring.data").joinpath("special_ability_contest_2026_items.csv").read_text("utf-8")
    items = [
        {
            "code": f"SA{int(row['seq']):02d}",
            "name": row["item"],
            "team_size": 1,
            "certificate": "special_ability",  # seed 001: "按规定颁发相应专项职业能力证书" (no level, no promotion)
            "pass_mark": 60,
            "groups": ["学生组", "职工组"],
            "theory_weight": 0,
            "criteria": _criteria(row["item"]),
            "tie_break": ["practical", "criterion:B", "time_used"],  # no promotion_top: nobody is promoted
            "host_unit": row["host_unit"] or None,
        }
        for row in csv.DictReader(text.splitlines())
    ]
    for item in items:
        if item["host_unit"] is None:
            del item["host_unit"]
    return {
        "event": {
            "name": DEMO_EVENT_NAME,
            "kind": "city_industry",
            "starts_on": (today + timedelta(days=30)).isoformat(),
            "award_policy": {"rule": "merit_if_over_30", "ratio": 0.3, "threshold": 30},
            "one_item_per_person": True,
            "unit_quota_per_group": 2,
            "unit_quota_mode": "enforce",
            "registration_closes": f"{today + timedelta(days=21)}T18:00:00+08:00",
            "organiser": "“巴渝工匠”杯重庆市第二届专项职业能力技能大赛组委会",
        },
        "items": items,
    }


async def ensure_demo(session: AsyncSession, secret_key: str) -> int:
    """Create the demo event, its registrations and users unless they exist; returns the event id. Idempotent."""
    existing = (await session.exec(select(Event).where(Event.name == DEMO_EVENT_NAME))).first()
    if existing is not None and existing.id is not None:
        event_id = existing.id
    else:
        event_id = await events.create_event(session, parse_event_document(demo_document()))
        await session.commit()
        await add_demo_registrations(session, event_id, secret_key)
    for name, (role, password, what) in DEMO_USERS.items():
        if (await session.exec(select(User).where(User.name == name))).first() is None:
            # the organiser administers the server; every other role holds for the demo event only
            title = what.split(" ")[0].split("：")[0]
            await accounts.add_user(session, name, password, [role], display_name=f"演示{title}",
                                    event_id=None if role == "organiser" else event_id, by="demo")
    await session.commit()
    return event_id


async def demo_links(session: AsyncSession, base_url: str) -> list[tuple[str, str, str]]:
    """(role description, user/password, sign-in link) per demo user: a fresh one-time link each run."""
    rows = []
    for name, (_role, password, what) in DEMO_USERS.items():
        user = (await session.exec(select(User).where(User.name == name))).one()
        token = await accounts.login_link_token(session, user, timedelta(days=30), by="demo")
        rows.append((what, f"{name} / {password}", f"{base_url}/login/link/{token}"))
    await session.commit()
    return rows
