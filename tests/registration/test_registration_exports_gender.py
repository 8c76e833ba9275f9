"""The 报名表 and 汇总表 exports say 性别 as people read it (男/女), the mapping the rest of the UI uses."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.registration.test_registration_admin import base, register_ok, sheet_cells
from tests.registration.test_registration_api import make_event
from tests.support.idgen import make_id

Client = AsyncTestClient[Litestar]


async def test_both_exports_write_gender_in_chinese(admin: Any, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_per_group=None)
    await register_ok(client, event_id, name="刘洋", id_number=make_id(date(1999, 9, 9), male=True))
    await register_ok(client, event_id, name="王芳", id_number=make_id(date(2000, 3, 3), male=False))
    for sheet in ("forms.xlsx", "summary.xlsx"):
        _, rows, _ = sheet_cells((await admin.get(f"{base(event_id)}/{sheet}")).content)
        assert {r["姓名"]: r["性别"] for r in rows} == {"刘洋": "男", "王芳": "女"}, sheet


async def test_the_organisers_entry_page_says_gender_in_chinese(admin: Any, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_per_group=None)
    entry = await register_ok(client, event_id, name="王芳", id_number=make_id(date(2000, 3, 3), male=False))
    page = (await admin.get(f"{base(event_id)}/{entry['registration_id']}", headers={"Accept": "text/html"})).text
    assert "王芳 <span class=\"muted\">女 · 学生</span>" in page and "female" not in page
