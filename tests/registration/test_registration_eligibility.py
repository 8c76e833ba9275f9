"""Seed 002's requirements of every contestant, on the form, the API, review and the 报名表 export (#18 point 5).

Seed 002: "将参赛选手报名表、参赛信息汇总表的电子版和所有参赛人员照片（照片以“单位+姓名”方式命名）发送赛项指定
邮箱"; "本次竞赛参赛人员应在渝工作、学习或居住"; "以学生身份参赛的，应为重庆各类院校全日制在校在籍相关专业学生".
An event says so with `photo_required`, `residence_declaration` and `student_major_required`.
"""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import col, select

from contestday.settings import Settings
from registration.entries.models import Entry, EntryFlag, EntryMember
from tests.registration.test_registration_admin import sheet_cells
from tests.registration.test_registration_api import make_event, person, post
from tests.registration.test_registration_pages import field_error, form, lookup, mine_token, png, submit

Client = AsyncTestClient[Litestar]
SEED_002 = {"photo_required": True, "residence_declaration": "在渝工作、学习或居住", "student_major_required": True}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def eligible(**overrides: Any) -> dict[str, Any]:
    """A student who meets all three of seed 002's requirements (JSON API)."""
    return person(**{"photo": b64(png()), "residence_declared": True, "major": "电子信息工程技术", **overrides})


async def members(db: Any) -> list[EntryMember]:
    async with db() as session:
        return list((await session.exec(select(EntryMember).order_by(col(EntryMember.id)))).all())


async def test_photo_required_refuses_a_registration_without_one_and_stores_the_one_given(
        db: Any, settings: Settings, admin: Client, client: Client) -> None:
    """Seed 002 wants "所有参赛人员照片": without a photo the registration is refused, for every team member."""
    event_id = await make_event(admin, photo_required=True)
    refused = await post(client, event_id, person())
    assert refused.status_code == 422 and refused.json()["code"] == "photo_required", refused.text
    assert refused.json()["message"] == "本赛事要求上传参赛人员照片" and refused.json()["field"] == "photo"
    team = {"item": "DUO", "group": "", "unit": "重庆电子科技职业大学",
            "members": [person(photo=b64(png())), person()]}
    second = await post(client, event_id, team)
    assert second.status_code == 422 and second.json()["code"] == "photo_required"
    assert second.json()["field"] == "members[1].photo"
    broken = await post(client, event_id, person(photo="not base64!"))
    assert broken.status_code == 422 and broken.json()["code"] == "invalid_photo"
    assert await members(db) == []

    accepted = await post(client, event_id, person(photo=b64(png())))
    assert accepted.status_code == 201, accepted.text
    [member] = await members(db)
    assert member.photo and (settings.data_dir / "photos" / member.photo).read_bytes()[:3] == b"\xff\xd8\xff"
    both = await post(client, event_id, {**team, "members": [person(photo=b64(png())), person(photo=b64(png()))]})
    assert both.status_code == 201, both.text
    assert all(m.photo for m in await members(db))


async def test_turning_the_requirements_on_applies_to_the_next_registration(admin: Client, client: Client) -> None:
    """The API's cached event rules are re-read when the event is edited: once the organiser asks for
    seed 002's photo, declaration and major, the next registration without them is refused."""
    from tests.registration.test_registration_api import reg_event

    event_id = await make_event(admin)
    assert (await post(client, event_id, person())).status_code == 201  # the rules are now cached
    replaced = await admin.put(f"/api/events/{event_id}", json=reg_event(**SEED_002))
    assert replaced.status_code == 200, replaced.text
    refused = await post(client, event_id, person())
    assert refused.status_code == 422 and refused.json()["code"] == "photo_required"
    assert (await post(client, event_id, person(photo=b64(png()), residence_declared=True))).json()["code"] \
        == "major_required"
    assert (await post(client, event_id, eligible())).status_code == 201


async def test_photo_required_on_the_form_without_javascript(db: Any, admin: Client, client: Client) -> None:
    """The no-JS form: no photo chosen → the field says "本赛事要求上传参赛人员照片"; with one it registers."""
    event_id = await make_event(admin, photo_required=True)
    page = await client.get(f"/r/{event_id}")
    assert "本赛事要求上传参赛人员照片" in page.text and 'data-required="1"' in page.text
    body = person()
    refused = await submit(client, event_id, form(body))
    assert refused.status_code == 422 and field_error(refused.text, "m0_photo") == "本赛事要求上传参赛人员照片"
    assert await members(db) == []
    accepted = await submit(client, event_id, form(body), ("me.png", png()))
    assert accepted.status_code == 303, accepted.text
    [member] = await members(db)
    assert member.photo

    # 我的报名: the stored photo counts, no new upload needed; the organiser's edit keeps it too
    await lookup(client, event_id, body["id_number"], body["phone"])
    edit = await client.get(f"/r/{event_id}/mine/edit")
    assert 'name="m0_photo" type="file" accept="image/jpeg,image/png">' in edit.text  # not data-required
    amended = await client.post(f"/r/{event_id}/mine/edit", data={
        **form(body), "m0_id_number": "", "m0_phone": "", "unit": "重庆市轻工业学校", "mine": mine_token(edit.text)},
        files={"m0_photo": ("", b"", "application/octet-stream")}, follow_redirects=False)
    assert amended.status_code == 303, amended.text
    assert (await members(db))[0].photo == member.photo


async def test_residence_declaration_is_asked_and_stored(db: Any, admin: Client, client: Client) -> None:
    """Seed 002: "本次竞赛参赛人员应在渝工作、学习或居住": a box to tick, refused unticked."""
    event_id = await make_event(admin, residence_declaration="在渝工作、学习或居住")
    page = await client.get(f"/r/{event_id}")
    assert "本人在渝工作、学习或居住" in page.text and 'name="m0_residence_declared"' in page.text
    refused = await post(client, event_id, person())
    assert refused.status_code == 422 and refused.json()["code"] == "residence_not_declared", refused.text
    assert "在渝工作、学习或居住" in refused.json()["message"]
    body = person()
    on_form = await submit(client, event_id, form(body))
    assert on_form.status_code == 422 and "在渝工作、学习或居住" in field_error(on_form.text, "m0_residence_declared")
    assert await members(db) == []
    assert (await submit(client, event_id, {**form(body), "m0_residence_declared": "1"})).status_code == 303
    assert (await post(client, event_id, person(residence_declared=True))).status_code == 201
    assert [m.residence_declared for m in await members(db)] == [True, True]
    plain = await make_event(admin)  # an event that does not ask: no box, nothing refused
    assert "m0_residence_declared" not in (await client.get(f"/r/{plain}")).text
    assert (await post(client, plain, person())).status_code == 201


async def test_a_student_gives_the_major_when_the_event_asks(db: Any, admin: Client, client: Client) -> None:
    """Seed 002: "以学生身份参赛的，应为重庆各类院校全日制在校在籍相关专业学生": students give their 专业."""
    event_id = await make_event(admin, student_major_required=True, unit_quota_per_group=None)
    refused = await post(client, event_id, person())
    assert refused.status_code == 422 and refused.json()["code"] == "major_required", refused.text
    too_long = await post(client, event_id, person(major="专" * 101))
    assert too_long.status_code == 422 and too_long.json()["field"] == "major"
    on_form = await submit(client, event_id, form(person()))
    assert on_form.status_code == 422 and field_error(on_form.text, "m0_major") == "学生选手须填写所学专业"
    assert (await post(client, event_id, person(major="  电子信息工程技术 "))).status_code == 201
    employee = person(group="职工组", identity="employee", skill_level=4)
    assert (await post(client, event_id, employee)).status_code == 201  # 职工 give no major
    assert [m.major for m in await members(db)] == ["电子信息工程技术", None]
    optional = await make_event(admin)
    assert (await post(client, optional, person())).status_code == 201  # optional where the event does not ask


async def test_exports_carry_major_declaration_and_photo_names(db: Any, admin: Client, client: Client) -> None:
    """The 参赛选手报名表 and 参赛信息汇总表 gain 专业 and 在渝声明; photos are named "单位+姓名"."""
    event_id = await make_event(admin, **SEED_002)
    assert (await post(client, event_id, eligible(name="刘洋", unit="甲校"))).status_code == 201
    base = f"/admin/events/{event_id}/registrations"
    _, rows, _ = sheet_cells((await admin.get(f"{base}/forms.xlsx")).content)
    assert (rows[0]["专业"], rows[0]["在渝声明"], rows[0]["照片"]) == ("电子信息工程技术", "已声明", "甲校+刘洋")
    _, rows, _ = sheet_cells((await admin.get(f"{base}/summary.xlsx")).content)
    assert (rows[0]["专业"], rows[0]["在渝声明"]) == ("电子信息工程技术", "已声明")
    archive = zipfile.ZipFile(io.BytesIO((await admin.get(f"{base}/photos.zip")).content))
    assert archive.namelist() == ["甲校+刘洋.jpg"]


async def test_review_and_detail_show_photo_declaration_and_major(db: Any, admin: Client, client: Client,
                                                                  tmp_path: Path) -> None:
    """The reviewer sees the photo, the ticked declaration and the major; an entry from a unit's roster that
    lacks them is accepted, flagged 未上传照片 / 未声明在渝 / 未填写专业 for review."""
    event_id = await make_event(admin, **SEED_002, unit_quota_per_group=None)
    # an employee without a declared qualification is flagged: they come to the review queue
    body = eligible(group="职工组", identity="employee", major="机电一体化")
    created = await post(client, event_id, body)
    assert created.status_code == 201 and created.json()["review"] == "pending", created.text
    entry_id = created.json()["registration_id"]
    base = f"/admin/events/{event_id}/registrations"
    review = (await admin.get(f"{base}/review")).text
    assert "机电一体化" in review and "已勾选" in review and f'src="/kiosk/photos/{entry_id}/0"' in review
    detail = (await admin.get(f"{base}/{entry_id}")).text
    assert "机电一体化" in detail and "已勾选" in detail and f'src="/kiosk/photos/{entry_id}/0"' in detail
    assert (await admin.get(f"/kiosk/photos/{entry_id}/0")).status_code == 200

    roster = "赛项,组别,身份,姓名,身份证号,手机,单位\r\n" + ",".join(
        ["LED", "学生组", "学生", "王芳", (p := person())["id_number"], p["phone"], "乙校"]) + "\r\n"
    imported = await admin.post(f"{base}/roster", files={"file": ("名单.csv", roster.encode(), "text/csv")})
    assert imported.status_code == 200 and "✓" in imported.text, imported.text[-1500:]
    async with db() as session:
        entry = (await session.exec(select(Entry).where(Entry.source == "roster"))).one()
        codes = {f.code for f in (await session.exec(select(EntryFlag).where(EntryFlag.entry_id == entry.id))).all()}
    assert codes == {"photo_required", "residence_not_declared", "major_required"} and entry.review == "pending"
    detail = (await admin.get(f"{base}/{entry.id}")).text
    assert "未上传照片" in detail and "未勾选" in detail and "未填写" in detail

    # the organiser's edit keeps the photo, the declaration and the major (edit.html carries them)
    edit = (await admin.get(f"{base}/{entry_id}/edit")).text
    assert 'value="机电一体化"' in edit and "在渝工作、学习或居住 · 已勾选" in edit
    values = {"item": "LED", "group": "职工组", "unit": "新单位", "identity": "employee", "name": body["name"],
              "id_number": "", "phone": body["phone"], "major": "机电一体化", "residence_declared": "1",
              "instructor_rows": "0"}
    saved = await admin.post(f"{base}/{entry_id}/edit", data=values, follow_redirects=False)
    assert saved.status_code == 303, saved.text[-1500:]
    async with db() as session:
        member = (await session.exec(select(EntryMember).where(EntryMember.entry_id == entry_id))).one()
    assert (member.photo, member.residence_declared, member.major) == (f"{entry_id}-0.jpg", True, "机电一体化")
    async with db() as session:  # the kept photo counts: no 未上传照片 flag after the edit
        codes = {f.code for f in (await session.exec(select(EntryFlag).where(EntryFlag.entry_id == entry_id))).all()}
    assert codes == {"employee_qualification"}


async def test_editor_shows_the_three_fields(admin: Client) -> None:
    """The organiser sets them in the event editor: 要求上传照片, 居住/工作地声明, 学生须填写专业."""
    event_id = await make_event(admin, **SEED_002)
    page = (await admin.get(f"/admin/events/{event_id}")).text
    assert 'data-path="event.photo_required" checked' in page
    assert 'data-path="event.student_major_required" checked' in page
    assert 'placeholder="在渝工作、学习或居住" value="在渝工作、学习或居住"' in page


@pytest.mark.browser
def test_form_on_a_phone_with_the_three_fields(settings: Settings, live_server: str, browser: Any,
                                              tmp_path: Path) -> None:
    """At 390 px: the photo marked required, the 在渝 box, the major for students only; a contestant who
    forgets the box is told before anything is sent, then registers with photo, box and major."""
    import httpx

    from tests.browser.test_registration_browser import _fill_person, _phone, _shot
    from tests.conftest import ADMIN_TOKEN
    from tests.registration.test_registration_api import reg_event

    response = httpx.post(f"{live_server}/api/events", json=reg_event(**SEED_002),
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    event_id = int(response.json()["id"])
    page = _phone(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/r/{event_id}")
    page.select_option("#item", "LED")
    page.select_option("#group", "职工组")
    assert page.locator("#m0_major").is_hidden()  # employees give no major
    page.select_option("#group", "学生组")
    assert page.locator("#m0_major").is_visible()
    assert page.locator("label[for=m0_photo]").get_attribute("class") == "req"
    body = person()
    _fill_person(page, body)
    page.fill("#unit", body["unit"])
    page.fill("#m0_major", "电子信息工程技术")
    photo = tmp_path / "me.png"
    photo.write_bytes(png())
    page.set_input_files("#m0_photo", str(photo))
    page.check("#confirm")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shots = Path("/tmp/shots/b2")
    shots.mkdir(parents=True, exist_ok=True)
    _shot(page, shots / "form-390.png")
    page.click("button[type=submit]")
    assert page.locator("#e-m0_residence_declared").inner_text() == "请勾选本人声明"
    assert page.url.endswith(f"/r/{event_id}")  # nothing was sent
    page.check("#m0_residence_declared")
    page.click("button[type=submit]")
    page.wait_for_url("**/t/**")
    assert "报名已提交" in page.content() and errors == []


@pytest.mark.browser
def test_the_event_editor_saves_the_three_fields(settings: Settings, live_server: str, browser: Any) -> None:
    """The organiser ticks 要求上传照片 and 学生须填写专业 and writes seed 002's "在渝工作、学习或居住" into
    居住/工作地声明: saved into the event file; emptying the declaration stops asking it."""
    from tests.browser.test_pages_browser import organiser_page, post_event
    from tests.registration.test_registration_api import reg_event

    page, errors = organiser_page(settings, browser, live_server, 1024)
    event_id = post_event(page, live_server, reg_event())
    page.goto(f"{live_server}/admin/events/{event_id}")
    declaration = '[data-path="event.residence_declaration"]'
    assert page.get_attribute(declaration, "placeholder") == "在渝工作、学习或居住"
    page.check('[data-path="event.photo_required"]')
    page.check('[data-path="event.student_major_required"]')
    page.fill(declaration, "在渝工作、学习或居住")
    page.click("#save")
    page.wait_for_function("document.querySelector('#save-status').textContent === '已保存'")
    stored = page.request.get(f"{live_server}/api/events/{event_id}").json()["event"]
    assert (stored["photo_required"], stored["student_major_required"], stored["residence_declaration"]) == (
        True, True, "在渝工作、学习或居住")
    page.reload()
    assert page.is_checked('[data-path="event.photo_required"]')
    assert page.input_value(declaration) == "在渝工作、学习或居住"
    page.fill(declaration, "")
    page.uncheck('[data-path="event.photo_required"]')
    page.click("#save")
    page.wait_for_function("document.querySelector('#save-status').textContent === '已保存'")
    stored = page.request.get(f"{live_server}/api/events/{event_id}").json()["event"]
    assert stored["photo_required"] is False and stored.get("residence_declaration") is None
    assert errors == [], errors


async def test_a_roster_with_a_major_column_fills_the_major(db: Any, admin: Client) -> None:
    """“以学生身份参赛的，应为重庆各类院校全日制在校在籍相关专业学生”: a unit's roster may carry the 专业 column
    (as the 报名表 export writes it), so the student is not flagged 未填写专业."""
    event_id = await make_event(admin, **SEED_002, unit_quota_per_group=None)
    roster = "赛项,组别,身份,姓名,身份证号,手机,单位,专业\r\n" + ",".join(
        ["LED", "学生组", "学生", "王芳", (p := person())["id_number"], p["phone"], "乙校", "应用电子技术"]) + "\r\n"
    base = f"/admin/events/{event_id}/registrations"
    imported = await admin.post(f"{base}/roster", files={"file": ("名单.csv", roster.encode(), "text/csv")})
    assert imported.status_code == 200 and "✓" in imported.text, imported.text[-1500:]
    async with db() as session:
        entry = (await session.exec(select(Entry).where(Entry.source == "roster"))).one()
        member = (await session.exec(select(EntryMember).where(EntryMember.entry_id == entry.id))).one()
        codes = {f.code for f in (await session.exec(select(EntryFlag).where(EntryFlag.entry_id == entry.id))).all()}
    assert member.major == "应用电子技术"
    assert "major_required" not in codes and "photo_required" in codes
