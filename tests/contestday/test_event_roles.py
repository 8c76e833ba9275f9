"""Roles per event and per item (issue #12 finding 1): the encryption judge of one event cannot read another
event's sealed list, a chief judge of one event cannot act on another's, nobody scores in an event whose seat →
name list they hold, and databases from before keep working (global roles stay server-wide; a judge account's
panel roles become the panel's items)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import websockets
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlmodel import select

from contestday.accounts import service
from contestday.accounts.models import RoleChange, User, UserRole
from contestday.db.migrate import upgrade
from judging.panels import add_judge
from registration.events.models import Item
from tests.conftest import ADMIN_TOKEN
from tests.contestday.test_guards import two_item_event
from tests.support.helpers import EXAMPLE_EVENT, sign_in_headers
from tests.support.judging_setup import seated_contest

PW = "pw-12345678"


async def _events(client: AsyncTestClient[Litestar], n: int = 2) -> list[int]:
    return [(await client.post("/api/events", json=two_item_event(),
                               headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})).json()["id"] for _ in range(n)]


async def _item_id(db: Any, event_id: int, code: str) -> int:
    async with db() as session:
        return int((await session.exec(select(Item.id).where(Item.event_id == event_id, Item.code == code))).one())


async def _user(db: Any, name: str, *grants: tuple[str, int | None, int | None]) -> None:
    async with db() as session:
        user = await service.add_user(session, name, PW, [])
        for role, event_id, item_id in grants:
            await service.grant_role(session, user, role, "test", event_id, item_id)
        await session.commit()


async def _headers(client: AsyncTestClient[Litestar], name: str) -> dict[str, str]:
    return {**await sign_in_headers(client, name, PW), "Accept": "application/json"}


async def test_the_encryption_judge_of_one_event_cannot_read_another_events_sealed_list(
        client: AsyncTestClient[Litestar], db: Any) -> None:
    a, b = await _events(client)
    await _user(db, "enc-b", ("encryption_judge", b, await _item_id(db, b, "LED")))
    headers = await _headers(client, "enc-b")
    for path in (f"/api/events/{a}/items/LED/mapping", f"/sealed/events/{a}/items/LED/seats.html",
                 f"/sealed/events/{a}"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 403 and response.json()["code"] == "wrong_event_role", (path, response.text)
        assert "本赛事" in response.json()["message"]
    # in its own event, its own item only
    assert (await client.get(f"/api/events/{b}/items/LED/mapping", headers=headers)).status_code != 403
    other_item = await client.get(f"/api/events/{b}/items/LED2/mapping", headers=headers)
    assert other_item.status_code == 403 and other_item.json()["code"] == "wrong_event_role"


async def test_the_chief_judge_of_one_event_cannot_lock_or_publish_another(
        client: AsyncTestClient[Litestar], db: Any) -> None:
    a, b = await _events(client)
    await _user(db, "chief-b", ("chief_judge", b, None))
    headers = await _headers(client, "chief-b")
    for method, path in (("POST", f"/api/console/events/{a}/items/LED/criteria/A/lock"),
                         ("POST", f"/api/console/events/{a}/items/LED/unlock"),
                         ("POST", f"/api/events/{a}/items/LED/publication/withdraw"),
                         ("POST", f"/api/events/{a}/items/LED/publication")):
        response = await client.request(method, path, headers=headers, json={})
        assert response.status_code == 403 and response.json()["code"] == "wrong_event_role", (path, response.text)
    # the same requests on its own event pass the guard (and meet the handler's own rules)
    own = await client.post(f"/api/console/events/{b}/items/LED/criteria/A/lock", headers=headers, json={})
    assert own.json().get("code") not in ("wrong_event_role", "forbidden"), own.text


async def test_the_console_socket_of_another_event_closes_4403(live_server: str, db: Any) -> None:
    import httpx
    with httpx.Client(base_url=live_server) as http:
        a, b = (http.post("/api/events", json=two_item_event(),
                          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()["id"] for _ in range(2))
    await _user(db, "chief-a", ("chief_judge", a, None))
    with httpx.Client(base_url=live_server) as http:
        csrf = http.get("/login").cookies.get("contestday_login_csrf") or http.cookies.get("contestday_login_csrf")
        http.post("/login", data={"name": "chief-a", "password": PW, "next": "/", "csrf_token": csrf or ""})
        cookie = f"contestday_session={http.cookies['contestday_session']}"
    ws = live_server.replace("http://", "ws://")
    async with websockets.connect(f"{ws}/ws/console/{b}", additional_headers={"Cookie": cookie}) as socket:
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    async with websockets.connect(f"{ws}/ws/console/{a}", additional_headers={"Cookie": cookie}) as socket:
        first = await asyncio.wait_for(socket.recv(), 5)
        assert "snapshot" in str(first) or "items" in str(first)
        # 收回 on the account's page: the open console closes at once
        async with db() as session:
            user_id = (await session.exec(select(User.id).where(User.name == "chief-a"))).one()
        with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
            taken = http.post(f"/admin/accounts/{user_id}/revoke", data={"role": "chief_judge", "event_id": str(a)})
        assert taken.status_code in (200, 303), taken.text
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(socket.recv(), 3)
    assert closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "signed out")


async def test_a_judge_of_one_item_cannot_be_encryption_judge_of_another_item_of_the_event(
        client: AsyncTestClient[Litestar], db: Any) -> None:
    a, b = await _events(client)
    led, led2, led_b = (await _item_id(db, a, "LED"), await _item_id(db, a, "LED2"), await _item_id(db, b, "LED"))
    async with db() as session:
        user = await service.add_user(session, "both", PW, [])
        assert await service.grant_role(session, user, "judge", "test", a, led)
        with pytest.raises(service.RoleConflict):
            await service.grant_role(session, user, "encryption_judge", "test", a, led2)
        # another event is another blind: allowed
        assert await service.grant_role(session, user, "encryption_judge", "test", b, led_b)
        await session.commit()
        roles = (await session.exec(select(UserRole.role, UserRole.event_id, UserRole.item_id)
                                    .where(UserRole.user_id == user.id))).all()
    assert sorted(roles) == sorted([("judge", a, led), ("encryption_judge", b, led_b)])

    # the same through the panel page: 409 role_conflict, in Chinese, nothing stored
    org = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with db() as session:
        judge = await add_judge(session, a, "张评委", "某单位")
        await session.commit()
        judge_id = judge.id
    first = await client.post(f"/admin/events/{a}/items/LED/panel", headers=org,
                              data={"judge_id": str(judge_id), "role": "judge"}, follow_redirects=False)
    assert first.status_code == 303, first.text
    second = await client.post(f"/admin/events/{a}/items/LED2/panel", headers=org,
                               data={"judge_id": str(judge_id), "role": "encryption_judge"}, follow_redirects=False)
    assert second.status_code == 409 and "不能再担任加密裁判" in second.text
    async with db() as session:
        held = (await session.exec(select(UserRole.role).join(User, User.id == UserRole.user_id)
                                   .where(User.display_name == "张评委"))).all()
    assert held == ["judge"]


async def test_racing_grants_on_both_sides_of_the_blind_leave_one(client: AsyncTestClient[Litestar], db: Any) -> None:
    [a] = await _events(client, 1)
    led, led2 = await _item_id(db, a, "LED"), await _item_id(db, a, "LED2")
    await _user(db, "racer")

    async def grant(role: str, item_id: int) -> str:
        async with db() as session:
            user = (await session.exec(select(User).where(User.name == "racer"))).one()
            try:
                await service.grant_role(session, user, role, "test", a, item_id)
                await asyncio.sleep(0.2)  # hold the transaction open while the other grant runs
                await session.commit()
                return "granted"
            except service.RoleConflict:
                return "conflict"

    outcomes = await asyncio.gather(grant("judge", led), grant("encryption_judge", led2), return_exceptions=True)
    assert sorted(str(o) for o in outcomes if isinstance(o, str)) in (["conflict", "granted"],), outcomes
    async with db() as session:
        roles = (await session.exec(select(UserRole.role).join(User, User.id == UserRole.user_id)
                                    .where(User.name == "racer"))).all()
    assert len(roles) == 1


async def test_role_changes_are_recorded(client: AsyncTestClient[Litestar], db: Any) -> None:
    [a] = await _events(client, 1)
    async with db() as session:
        user = await service.add_user(session, "rec", PW, ["checkin"], event_id=a, by="王主任")
        assert await service.revoke_role(session, user, "checkin", "王主任", a)
        assert not await service.revoke_role(session, user, "checkin", "王主任", a)
        await session.commit()
        rows = (await session.exec(select(RoleChange.action, RoleChange.role, RoleChange.event_id, RoleChange.by)
                                   .where(RoleChange.user_name == "rec").order_by(RoleChange.id))).all()
    assert rows == [("create", None, a, "王主任"), ("grant", "checkin", a, "王主任"),
                    ("revoke", "checkin", a, "王主任")]


async def test_check_in_staff_see_only_their_own_events_photos(client: AsyncTestClient[Litestar], db: Any) -> None:
    from registration.entries.models import Entry
    contest = await seated_contest(db, n=1)  # event b, with a contestant
    [a] = await _events(client, 1)
    await _user(db, "desk-a", ("checkin", a, None))
    await _user(db, "desk-b", ("checkin", contest.event_id, None))
    async with db() as session:
        entry = (await session.exec(select(Entry.id).where(Entry.event_id == contest.event_id))).first()
    refused = await client.get(f"/kiosk/photos/{entry}/1", headers=await _headers(client, "desk-a"))
    assert refused.status_code == 403 and refused.json()["code"] == "wrong_event_role"
    own = await client.get(f"/kiosk/photos/{entry}/1", headers=await _headers(client, "desk-b"))
    assert own.status_code == 404 and own.json()["code"] == "no_photo"  # past the guard: this one has no photo


async def test_events_list_shows_an_event_organiser_only_their_events(client: AsyncTestClient[Litestar],
                                                                      db: Any) -> None:
    a, b = await _events(client)
    await _user(db, "org-a", ("organiser", a, None))
    headers = await _headers(client, "org-a")
    listed = (await client.get("/api/events", headers=headers)).json()
    assert [e["id"] for e in listed] == [a]
    create = await client.post("/api/events", headers=headers, json=EXAMPLE_EVENT)
    assert create.status_code == 403 and create.json()["code"] == "wrong_event_role"
    assert "全部赛事" in create.json()["message"]
    assert (await client.get(f"/api/events/{b}", headers=headers)).json()["code"] == "wrong_event_role"
    assert (await client.get(f"/api/events/{a}", headers=headers)).status_code == 200


def _sql(database_url: str, statement: str, **values: Any) -> list[tuple[Any, ...]]:
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> list[tuple[Any, ...]]:
        engine = create_async_engine(database_url)
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), values)
            rows = [tuple(r) for r in result.all()] if result.returns_rows else []
        await engine.dispose()
        return rows
    return asyncio.run(run())


def test_upgrade_keeps_global_roles_and_scopes_a_judges_panel_roles(database_url: str, tmp_path: Any) -> None:
    """A database from before (revision 0011), where every role was server-wide and panel seats gave a judge's
    account server-wide judge roles: after the upgrade an organiser's role stays server-wide, the judge's roles
    are those of its seats (event and item), and the blind sides are known."""
    from contestday.db.engine import create_engine, create_sessionmaker
    from judging.panels import assign
    from registration.events.service import create_event
    from scoring.event_file import parse_event_document

    upgrade(database_url)

    async def seed() -> tuple[int, int, int]:
        engine = create_engine(database_url)
        async with create_sessionmaker(engine)() as session:
            event_id = await create_event(session, parse_event_document(two_item_event()))
            item_id = int((await session.exec(select(Item.id).where(Item.event_id == event_id,
                                                                    Item.code == "LED2"))).one())
            await service.add_user(session, "org", PW, ["organiser"])
            judge = await add_judge(session, event_id, "李评委", "某单位")
            await assign(session, judge, item_id, "judge")
            await session.commit()
            user_id = judge.user_id or 0
        await engine.dispose()
        return event_id, item_id, user_id
    event_id, item_id, user_id = asyncio.run(seed())
    # back to what revision 0011's code wrote: the panel role server-wide, no sides
    _sql(database_url, "UPDATE user_role SET event_id = NULL, item_id = NULL")
    _sql(database_url, "DELETE FROM role_side")
    from alembic import command

    from contestday.db.migrate import alembic_config
    command.downgrade(alembic_config(database_url), "0011")
    assert _sql(database_url, "SELECT role, event_id FROM user_role WHERE user_id = :u", u=user_id) == [("judge", None)]

    upgrade(database_url)
    rows = _sql(database_url, "SELECT u.name, r.role, r.event_id, r.item_id FROM user_role r "
                              "JOIN app_user u ON u.id = r.user_id ORDER BY r.role")
    judge_name = _sql(database_url, "SELECT name FROM app_user WHERE id = :u", u=user_id)[0][0]
    assert rows == [(judge_name, "judge", event_id, item_id), ("org", "organiser", None, None)]
    assert _sql(database_url, "SELECT user_id, event_id, side FROM role_side") == [(user_id, event_id, "scoring")]
