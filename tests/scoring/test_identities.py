"""Seed 001: "从事相关工作的企事业单位职工、院校教师和学生、灵活就业人员均可报名参赛" (#18 point 2).

院校教师 and 灵活就业人员 register like 职工 (in the 职工组 by default; which group takes whom is the event's),
a flexible worker may leave the unit empty, and no unit quota counts flexible workers (seed 002: "同一单位
选派选手原则上不得超过2人（队）" is about what a unit sends; nobody sends a flexible worker)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from contestday.settings import Settings
from registration.entries.models import Entry, EntryFlag, EntryMember
from tests.conftest import ADMIN_TOKEN
from tests.registration.test_registration_admin import base, roster_row, sheet_cells, upload, xlsx
from tests.registration.test_registration_api import make_event, person, post, reg_event

Client = AsyncTestClient[Litestar]


def staff(identity: str, **overrides: Any) -> dict[str, Any]:
    """A 职工组 contestant with a declared qualification (no review flag of its own)."""
    return person(**{"group": "职工组", "identity": identity, "skill_level": 4, "unit": "某公司", **overrides})


async def flag_codes(db: Any, entry_id: int) -> set[str]:
    async with db() as session:
        return set((await session.exec(select(EntryFlag.code).where(EntryFlag.entry_id == entry_id))).all())


async def test_a_teacher_and_a_flexible_worker_register_in_the_staff_group(db: Any, admin: Client,
                                                                          client: Client) -> None:
    """"院校教师…灵活就业人员均可报名参赛": both are taken by the 职工组, and the flexible worker without a unit."""
    event_id = await make_event(admin)
    teacher = await post(client, event_id, staff("teacher", unit="重庆电子科技职业大学"))
    assert teacher.status_code == 201, teacher.text
    assert teacher.json()["review"] == "none"
    flexible = await post(client, event_id, staff("flexible", unit=""))
    assert flexible.status_code == 201, flexible.text
    chinese = await post(client, event_id, staff("灵活就业人员", unit=None))  # the Chinese name, no unit key
    assert chinese.status_code == 201, chinese.text
    async with db() as session:
        rows = (await session.exec(select(Entry.unit, EntryMember.identity).join(
            EntryMember, col(EntryMember.entry_id) == Entry.id).where(Entry.event_id == event_id)
            .order_by(col(Entry.id)))).all()
    assert [tuple(r) for r in rows] == [("重庆电子科技职业大学", "teacher"), ("", "flexible"), ("", "flexible")]


@pytest.mark.parametrize("identity", ["employee", "teacher", "student"])
async def test_everyone_else_must_still_name_a_unit(admin: Client, client: Client, identity: str) -> None:
    """Only the flexible worker has no unit to give: the others keep the missing-field refusal."""
    event_id = await make_event(admin)
    group = "学生组" if identity == "student" else "职工组"
    response = await post(client, event_id, person(group=group, identity=identity, skill_level=4, unit=""))
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("missing_field", "unit")


async def test_flexible_workers_take_no_unit_quota_place(admin: Client, client: Client) -> None:
    """The issue's case: a third "灵活就业" entry was refused unit_quota_exceeded under 2 per unit (enforce)."""
    event_id = await make_event(admin)  # unit_quota_per_group 2, enforce
    for _ in range(3):
        response = await post(client, event_id, staff("flexible", unit="灵活就业"))
        assert response.status_code == 201, response.text
    # nor do they use up a real unit's places: two employees of 某公司 still fit beside a flexible worker
    assert (await post(client, event_id, staff("flexible", unit="某公司"))).status_code == 201
    for _ in range(2):
        assert (await post(client, event_id, staff("employee"))).status_code == 201
    third = await post(client, event_id, staff("teacher"))  # a teacher is sent by the unit: counted
    assert third.status_code == 409 and third.json()["code"] == "unit_quota_exceeded"


async def test_flexible_workers_are_not_counted_in_warn_mode(db: Any, admin: Client, client: Client) -> None:
    event_id = await make_event(admin, unit_quota_mode="warn")
    for _ in range(3):
        response = await post(client, event_id, staff("flexible"))
        assert response.json()["review"] == "none", response.text
    for _ in range(2):
        assert (await post(client, event_id, staff("employee"))).json()["review"] == "none"
    third = await post(client, event_id, staff("employee"))
    assert third.json()["review"] == "pending"
    assert await flag_codes(db, third.json()["registration_id"]) == {"unit_quota_warning"}
    async with db() as session:
        flag = (await session.exec(select(EntryFlag).where(
            EntryFlag.entry_id == third.json()["registration_id"]))).one()
    assert flag.detail["count"] == 3  # the three employees, not the three flexible workers beside them


async def test_a_student_in_the_staff_group_is_told_who_it_takes(admin: Client, client: Client) -> None:
    event_id = await make_event(admin)
    response = await post(client, event_id, person(group="职工组"))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "group_identity_mismatch" and body["field"] == "identity"
    assert body["message"] == "职工组只接受职工、院校教师、灵活就业人员报名"
    teacher = await post(client, event_id, person(group="学生组", identity="teacher"))
    assert teacher.json()["message"] == "学生组只接受学生报名"


async def test_the_event_decides_which_group_takes_whom(admin: Client, client: Client) -> None:
    """"参赛组织方式由各竞赛项目承办单位根据实际情况确定": an event may keep its 职工组 to employees."""
    event_id = await make_event(admin, group_identities={"学生组": ["student"], "职工组": ["employee"]})
    response = await post(client, event_id, staff("teacher"))
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["message"]) == ("group_identity_mismatch", "职工组只接受职工报名")
    assert (await post(client, event_id, staff("employee"))).status_code == 201
    # a group the event does not name takes every accepted identity: the team item has no group
    team = {"item": "DUO", "group": "", "unit": "", "members": [staff("flexible"), staff("flexible")]}
    assert (await post(client, event_id, team)).status_code == 201


async def test_an_identity_the_event_does_not_take_is_refused(admin: Client, client: Client) -> None:
    event_id = await make_event(admin, identities=["student", "employee"],
                                group_identities={"学生组": ["student"], "职工组": ["employee"]})
    response = await post(client, event_id, staff("flexible", unit=""))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "identity_not_accepted" and body["field"] == "identity"
    assert body["message"] == "本赛事不接受灵活就业人员报名（可报名：学生、职工）" and body["message_en"]
    unknown = await post(client, event_id, staff("retiree"))
    assert unknown.json()["code"] == "invalid_field" and "院校教师" in unknown.json()["message"]


async def test_seed_002_rules_for_staff_hold_for_teachers_and_flexible_workers(db: Any, admin: Client,
                                                                             client: Client) -> None:
    """Seed 002 has two standings, "以学生身份参赛" and "以职工身份参赛"; teachers and flexible workers enter the
    职工组, so "以职工身份参赛的一般应具有…四级（中级工）及以上…" and "以职工身份参赛选手不得担任同一赛事中
    同一项目的学生参赛选手指导教师" hold for them too."""
    event_id = await make_event(admin, unit_quota_per_group=None)
    unqualified = await post(client, event_id, person(group="职工组", identity="flexible", unit=""))
    assert await flag_codes(db, unqualified.json()["registration_id"]) == {"employee_qualification"}
    coach = {"name": "陈老师", "phone": "13600136001"}
    student = await post(client, event_id, person(instructors=[coach]))
    assert student.json()["review"] == "none"
    teacher = await post(client, event_id, staff("teacher", unit="重庆市工业高级技工学校", **coach))
    assert teacher.status_code == 201 and teacher.json()["review"] == "pending"
    assert await flag_codes(db, teacher.json()["registration_id"]) == {"instructor_conflict"}
    async with db() as session:
        message = (await session.exec(select(EntryFlag.message).where(
            EntryFlag.entry_id == teacher.json()["registration_id"]))).one()
    assert message.startswith("院校教师选手陈老师是本赛项学生选手")
    # the other way round: a student names a flexible worker of the item as instructor
    flexible = staff("flexible", unit="", name="刘师傅", phone="13600136002")
    assert (await post(client, event_id, flexible)).status_code == 201
    pupil = await post(client, event_id, person(instructors=[{"name": "刘师傅", "phone": "13600136002"}]))
    assert await flag_codes(db, pupil.json()["registration_id"]) == {"instructor_conflict"}


async def test_roster_takes_the_chinese_identity_names(db: Any, admin: Client) -> None:
    """A unit's roster writes 身份 as 院校教师 or 灵活就业人员; the flexible worker's 单位 cell may stay empty."""
    event_id = await make_event(admin)
    teacher, flexible = staff("teacher"), staff("flexible", unit="")
    rows = [roster_row(teacher), roster_row(flexible)]
    rows[0][2], rows[1][2] = "院校教师", "灵活就业人员"
    page = await upload(admin, event_id, xlsx(rows))
    assert page.status_code == 200 and "成功 2 行" in page.text, page.text
    async with db() as session:
        stored = (await session.exec(select(EntryMember.name, EntryMember.identity, Entry.unit).join(
            Entry, col(Entry.id) == EntryMember.entry_id).where(Entry.event_id == event_id)
            .order_by(col(Entry.id)))).all()
    assert [tuple(r) for r in stored] == [(teacher["name"], "teacher", "某公司"), (flexible["name"], "flexible", "")]


async def test_lists_and_exports_name_all_four_and_print_flexible_for_no_unit(admin: Client,
                                                                              client: Client) -> None:
    event_id = await make_event(admin)
    await post(client, event_id, staff("teacher"))
    flexible = await post(client, event_id, staff("flexible", unit=""))
    _, rows, _ = sheet_cells((await admin.get(f"{base(event_id)}/summary.xlsx")).content)
    assert {(r["参赛身份"], r["单位"]) for r in rows} == {("院校教师", "某公司"), ("灵活就业人员", "灵活就业")}
    page = await admin.get(f"{base(event_id)}/{flexible.json()['registration_id']}")
    assert "灵活就业人员" in page.text and re.search(r"<dd>灵活就业</dd>", page.text)
    listing = await admin.get(f"{base(event_id)}/list")
    assert "<td>灵活就业</td>" in listing.text
    ticket = await client.get(f"/t/{flexible.json()['ticket_code']}")
    assert "灵活就业人员" in ticket.text and "<dd>灵活就业</dd>" in ticket.text


async def test_public_form_offers_the_event_identities(admin: Client, client: Client) -> None:
    event_id = await make_event(admin, identities=["student", "employee", "teacher"],
                                group_identities={"学生组": ["student"], "职工组": ["employee", "teacher"]})
    page = await client.get(f"/r/{event_id}")
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>',
                         page.text.split('id="identity"', 1)[1].split("</select>", 1)[0])
    assert [v for v, _ in options] == ["student", "employee", "teacher"]
    assert '"职工组":["employee","teacher"]' in page.text  # what the script narrows the list with


async def test_the_demo_registers_teachers_and_flexible_workers(db: Any, settings: Settings) -> None:
    """The demo is seed 001's contest: its lists show 院校教师 and 灵活就业人员, one of them without a unit,
    and three flexible workers in one item and group despite the quota of 2."""
    from contestday.demo import demo_document
    from contestday.demo_people import add_demo_registrations
    from registration.events.service import create_event
    from scoring.event_file import parse_event_document

    async with db() as session:
        event_id = await create_event(session, parse_event_document(demo_document()))
        await session.commit()
        await add_demo_registrations(session, event_id, settings.secret_key, count=20)
        rows = (await session.exec(select(EntryMember.identity, Entry.unit, Entry.item_id).join(
            Entry, col(Entry.id) == EntryMember.entry_id).where(Entry.event_id == event_id))).all()
    flexible = [(unit, item) for identity, unit, item in rows if identity == "flexible"]
    assert sum(identity == "teacher" for identity, _, _ in rows) == 3
    assert len(flexible) == 3 and "" in {u for u, _ in flexible} and len({i for _, i in flexible}) == 1


@pytest.mark.browser
def test_phone_form_offers_the_staff_group_identities_and_drops_the_unit_for_flexible(
        settings: Settings, live_server: str, browser: Any, tmp_path: Path) -> None:
    """At 390 px: choosing 职工组 offers 职工、院校教师、灵活就业人员; 灵活就业人员 makes 单位 optional, and the
    entry is accepted without one."""
    response = httpx.post(f"{live_server}/api/events", json=reg_event(),
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    event_id = int(response.json()["id"])
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/r/{event_id}")
    page.select_option("#item", "LED")
    page.select_option("#group", "职工组")
    assert page.locator("#identity option").all_inner_texts() == ["请选择", "职工", "院校教师", "灵活就业人员"]
    page.select_option("#group", "学生组")
    assert page.locator("#identity option").all_inner_texts() == ["请选择", "学生（在渝全日制院校在籍学生）"]
    assert page.input_value("#identity") == "student"
    page.select_option("#group", "职工组")
    page.select_option("#identity", "employee")
    assert page.evaluate("document.getElementById('unit').required") is True
    page.select_option("#identity", "flexible")
    assert page.evaluate("document.getElementById('unit').required") is False
    assert "灵活就业人员可不填单位" in page.inner_text("#reg")
    assert page.locator("#m0_skill_level").is_visible()  # 以职工身份参赛: the qualification is asked
    body = person()
    page.fill("#m0_name", body["name"])
    page.fill("#m0_id_number", body["id_number"])
    page.fill("#m0_phone", body["phone"])
    page.fill("#m0_years_in_occupation", "6")
    page.check("#confirm")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "flexible.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/t/"))
    assert "灵活就业人员" in page.inner_text("body")
    assert errors == [], errors
    context.close()
