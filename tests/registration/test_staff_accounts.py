"""Staff accounts (issue #12): one-time sign-in links that sign in once (two racing uses: one wins) and can be
revoked; reset and disable end what the account held; the pages under /admin/accounts (administrators) and
/admin/events/{id}/accounts (an event's organisers: that event's roles only, nothing beyond it); the blind rule
refused on the form in Chinese; every change on the account's record."""

from __future__ import annotations

import asyncio
import copy
import re
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from contestday.accounts import links, service
from contestday.accounts.models import LoginSession, RoleChange, SignInLink, User, UserRole
from contestday.settings import DEFAULT_PUBLIC_URL
from contestday.web.errors import Refusal
from registration.staff import service as staff
from tests.conftest import ADMIN_TOKEN
from tests.support.helpers import EXAMPLE_EVENT, post_login, sign_in_headers

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
LINK = re.compile(r'value="(https?://[^"]+/login/link/([^"]+))"')


def _two_items(name: str) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLE_EVENT)
    doc["event"]["name"] = name
    second = copy.deepcopy(doc["items"][0])
    second.update(code="WEB", name="网页设计")
    doc["items"].append(second)
    return doc


async def _events(client: AsyncTestClient[Litestar]) -> tuple[int, int]:
    """Two events of two items each, made with the bearer token (on the test's one client: one app lifespan)."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    a = (await client.post("/api/events", json=_two_items("甲赛事"), headers=auth)).json()["id"]
    b = (await client.post("/api/events", json=_two_items("乙赛事"), headers=auth)).json()["id"]
    return a, b


async def _user(db: Any, name: str, roles: list[str] | None = None, event_id: int | None = None) -> User:
    async with db() as session:
        user = await service.add_user(session, name, "pw-12345678", roles or [], event_id=event_id, by="test")
        await session.commit()
        return user


async def _link(db: Any, user: User, valid_for: timedelta = timedelta(hours=1)) -> str:
    async with db() as session:
        token = await service.login_link_token(session, user, valid_for, by="test")
        await session.commit()
        return token


async def _sign_in(client: AsyncTestClient[Litestar], name: str) -> dict[str, str]:
    return await sign_in_headers(client, name)


def _form(headers: dict[str, str], **fields: str) -> dict[str, Any]:
    return {"headers": {**headers, **HTML}, "data": {"csrf_token": headers["X-CSRF-Token"], **fields},
            "follow_redirects": False}


# one-time links --------------------------------------------------------------------------------------------
async def test_a_link_signs_in_once_and_of_two_racing_uses_one_wins(app: Litestar, db: Any) -> None:
    user = await _user(db, "desk", ["checkin"])
    token = await _link(db, user)

    async def use() -> User | None:
        async with db() as session:
            found = await service.user_from_link(session, token)
            await session.commit()
            return found

    first, second = await asyncio.gather(use(), use())
    assert [u is not None for u in (first, second)].count(True) == 1
    assert await use() is None
    async with db() as session:
        assert await links.link_state(session, token) == "used"
        stored = (await session.exec(select(SignInLink))).one()
        assert stored.token_hash != token and token not in stored.token_hash  # only the hash is kept


async def test_used_revoked_and_expired_links_answer_a_readable_401(app: Litestar, db: Any) -> None:
    user = await _user(db, "chief", ["chief_judge"])
    used, revoked = await _link(db, user), await _link(db, user)
    expired = await _link(db, user, timedelta(hours=-1))
    async with db() as session:
        link_id = (await session.exec(select(SignInLink.id).order_by(SignInLink.id))).all()[1]
        assert await staff.revoke_link(session, user, link_id, "test")  # type: ignore[arg-type]
        await session.commit()
    async with AsyncTestClient(app=app) as client:
        assert (await client.get(f"/login/link/{used}", follow_redirects=False)).status_code == 303
        client.cookies.clear()
        again = await client.get(f"/login/link/{used}", headers=HTML, follow_redirects=False)
        assert again.status_code == 401 and "这个登录链接已经用过" in again.text and "link_used" in again.text
        api = await client.get(f"/login/link/{used}", headers=JSON)
        assert api.status_code == 401 and api.json()["code"] == "link_used"
        gone = await client.get(f"/login/link/{revoked}", headers=HTML)
        assert gone.status_code == 401 and "已被撤销" in gone.text and "invalid_link" in gone.text
        late = await client.get(f"/login/link/{expired}", headers=JSON)
        assert late.status_code == 401 and late.json()["code"] == "invalid_link" and "过期" in late.json()["message"]
        assert (await client.get("/api/me", headers=JSON)).status_code == 401


# reset, disable, the record ---------------------------------------------------------------------------------
async def test_reset_kills_the_password_sessions_and_older_links(app: Litestar, db: Any) -> None:
    user = await _user(db, "judge1", ["judge"])
    old_link = await _link(db, user)
    async with AsyncTestClient(app=app) as client:
        headers = await _sign_in(client, "judge1")
        async with db() as session:
            fresh = await staff.reset(session, await session.get(User, user.id), "test")  # type: ignore[arg-type]
            await session.commit()
        assert (await client.get("/api/me", headers=headers)).status_code == 401  # the session ended
        refused = await post_login(client, {"name": "judge1", "password": "pw-12345678", "next": "/"})
        assert refused.status_code == 401  # the old password no longer works
        assert (await client.get(f"/login/link/{old_link}", headers=JSON)).json()["code"] == "invalid_link"
        assert (await client.get(f"/login/link/{fresh}", follow_redirects=False)).status_code == 303
    async with db() as session:
        assert (await session.get(User, user.id)).password_hash is None  # type: ignore[union-attr]
        actions = [c.action for c in await staff.changes_of(session, user)]
        assert actions[:3] == ["link", "reset", "link"] and "create" in actions


async def test_disable_ends_sessions_at_once_and_is_recorded(app: Litestar, db: Any) -> None:
    user = await _user(db, "desk", ["checkin"])
    link = await _link(db, user)
    async with AsyncTestClient(app=app) as client:
        headers = await _sign_in(client, "desk")
        async with db() as session:
            assert await staff.set_active(session, await session.get(User, user.id), False, "boss")  # type: ignore[arg-type]
            assert not await staff.set_active(session, await session.get(User, user.id), False, "boss")  # type: ignore[arg-type]
            await session.commit()
        assert (await client.get("/api/me", headers=headers)).status_code == 401
        assert (await client.get(f"/login/link/{link}", headers=JSON)).status_code == 401
    async with db() as session:
        assert (await session.exec(select(LoginSession).where(LoginSession.user_id == user.id))).all() == []
        change = (await session.exec(select(RoleChange).where(RoleChange.action == "disable"))).one()
        assert change.by == "boss" and change.user_name == "desk"


async def test_the_blind_rule_is_a_409_in_chinese_and_nothing_is_kept(app: Litestar, db: Any) -> None:
    async with AsyncTestClient(app=app) as client:
        a, _b = await _events(client)
    user = await _user(db, "li")
    async with db() as session:
        assert await staff.give(session, user, "judge", "test", a, "LED")
        await session.commit()
        try:
            await staff.give(session, user, "encryption_judge", "test", a, "WEB")
        except Refusal as exc:
            assert exc.status_code == 409 and exc.code == "role_conflict" and "盲评" in exc.message
        else:
            raise AssertionError("a judge of the event became its encryption judge")
        await session.rollback()
        roles = (await session.exec(select(UserRole.role).where(UserRole.user_id == user.id))).all()
        assert roles == ["judge"]
        try:
            await staff.give(session, user, "checkin", "test", a, "LED")
        except Refusal as exc:
            assert exc.code == "role_per_event"
        else:
            raise AssertionError("check-in given for one item")


# the pages ------------------------------------------------------------------------------------------------
async def test_administrator_creates_an_account_with_a_per_item_judge_role_and_its_link(
        app: Litestar, db: Any) -> None:
    await _user(db, "boss", ["organiser"])  # server-wide: an administrator
    async with AsyncTestClient(app=app) as client:
        a, _b = await _events(client)
        boss = await _sign_in(client, "boss")
        assert (await client.get("/admin/accounts", headers={**boss, **HTML})).status_code == 200
        no_csrf = await client.post("/admin/accounts", headers={"Cookie": boss["Cookie"], **JSON},
                                    data={"name": "x", "role_0": "judge", "scope_0": f"E{a}:LED"})
        assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "csrf_failed"
        made = await client.post("/admin/accounts", **_form(boss, name="zhang", display_name="张评审",
                                                               role_0="judge", scope_0=f"E{a}:LED"))
        assert made.status_code == 201, made.text
        assert "data:image/png;base64," in made.text and "一次性登录链接" in made.text
        link = LINK.search(made.text)
        assert link and link.group(1).startswith(DEFAULT_PUBLIC_URL)
        page = (await client.get("/admin/accounts", headers={**boss, **HTML})).text
        assert "zhang" in page and "LED" in page
        assert link.group(2) not in page  # the link is shown once, never again
        client.cookies.clear()  # the judge's phone: no cookie of the administrator's
        signed_in = await client.get(f"/login/link/{link.group(2)}", follow_redirects=False)
        assert signed_in.status_code == 303
        me = (await client.get("/api/me", headers=JSON)).json()
        assert me["name"] == "张评审" and me["roles"] == ["judge"]
        client.cookies.clear()
        assert (await client.get(f"/login/link/{link.group(2)}", headers=JSON)).json()["code"] == "link_used"
        async with db() as session:
            zhang = await staff.account_by_name(session, "zhang")
            assert zhang.password_hash is None
            grants = (await session.exec(select(UserRole.role, UserRole.event_id, UserRole.item_id)
                                         .where(UserRole.user_id == zhang.id))).all()
            assert [(r, e) for r, e, _ in grants] == [("judge", a)] and grants[0][2] is not None
        record = (await client.get(f"/admin/accounts/{zhang.id}", headers={**boss, **HTML})).text
        assert "boss" in record and "创建账号" in record and "授予角色" in record and "生成登录链接" in record
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", record)  # when, in Beijing time
        server_wide_judge = await client.post(f"/admin/accounts/{zhang.id}/grant",
                                              **_form(boss, role="judge", scope=""))
        assert server_wide_judge.status_code == 422 and "请选择赛事" in server_wide_judge.text


async def test_role_conflict_shows_on_the_account_page(app: Litestar, db: Any) -> None:
    await _user(db, "boss", ["organiser"])
    async with AsyncTestClient(app=app) as client:
        a, _b = await _events(client)
        judge = await _user(db, "li", ["judge"], event_id=a)
        boss = await _sign_in(client, "boss")
        refused = await client.post(f"/admin/accounts/{judge.id}/grant",
                                    **_form(boss, role="encryption_judge", scope=f"E{a}:WEB"))
        assert refused.status_code == 409
        assert "不能再担任加密裁判" in refused.text and 'id="form-error"' in refused.text
    async with db() as session:
        assert (await session.exec(select(UserRole.role).where(UserRole.user_id == judge.id))).all() == ["judge"]


async def test_an_events_organiser_manages_that_event_only(app: Litestar, db: Any) -> None:
    async with AsyncTestClient(app=app) as client:
        a, b = await _events(client)
        await _user(db, "org-a", ["organiser"], event_id=a)
        other = await _user(db, "chief-b", ["chief_judge"], event_id=b)
        shared = await _user(db, "both", ["checkin"], event_id=a)
        async with db() as session:
            await staff.give(session, shared, "checkin", "test", b)
            await session.commit()
        org = await _sign_in(client, "org-a")
        base = f"/admin/events/{a}/accounts"
        mine = await client.get(base, headers={**org, **HTML})
        assert mine.status_code == 200 and "both" in mine.text and "chief-b" not in mine.text
        for path in ("/admin/accounts", f"/admin/events/{b}/accounts"):
            refused = await client.get(path, headers={**org, **JSON})
            assert refused.status_code == 403 and refused.json()["code"] == "wrong_event_role", path
        assert (await client.get(f"{base}/{other.id}", headers={**org, **JSON})).status_code == 404
        made = await client.post(base, **_form(org, name="wang", role_0="chief_judge", scope_0=f"E{a}"))
        assert made.status_code == 201 and LINK.search(made.text)
        elsewhere = await client.post(base, **_form(org, name="zhao", role_0="checkin", scope_0=f"E{b}"))
        assert elsewhere.status_code == 403 and "只能授予本赛事的角色" in elsewhere.text
        everywhere = await client.post(base, **_form(org, name="zhao", role_0="organiser", scope_0=""))
        assert everywhere.status_code == 403
        # the shared account: this event's roles may be given and taken, nothing account-wide
        page = (await client.get(f"{base}/{shared.id}", headers={**org, **HTML})).text
        assert "只有管理员可以停用、重置" in page
        for what in ("disable", "reset", "link"):
            locked = await client.post(f"{base}/{shared.id}/{what}", **_form(org))
            assert locked.status_code == 403 and "只有管理员" in locked.text, what
        given = await client.post(f"{base}/{shared.id}/grant", **_form(org, role="judge", scope=f"E{a}:LED"))
        assert given.status_code == 303
        taken = await client.post(f"{base}/{shared.id}/revoke", **_form(org, role="checkin", event_id=str(b)))
        assert taken.status_code == 403
    async with db() as session:
        wang = await staff.account_by_name(session, "wang")
        held = (await session.exec(select(UserRole.role, UserRole.event_id).where(UserRole.user_id == wang.id))).all()
        assert held == [("chief_judge", a)]
        assert (await session.exec(select(User).where(User.name == "zhao"))).first() is None
        assert sorted((await session.exec(select(UserRole.role, UserRole.event_id)
                                          .where(UserRole.user_id == shared.id))).all()) == sorted(
            [("checkin", a), ("checkin", b), ("judge", a)])


async def test_disable_from_the_page_refuses_the_open_session_at_once(app: Litestar, db: Any) -> None:
    async with AsyncTestClient(app=app) as client:
        a, _b = await _events(client)
        await _user(db, "org-a", ["organiser"], event_id=a)
        desk = await _user(db, "desk", ["checkin"], event_id=a)
        org = await _sign_in(client, "org-a")
        their = await _sign_in(client, "desk")
        assert (await client.get("/api/me", headers=their)).status_code == 200
        done = await client.post(f"/admin/events/{a}/accounts/{desk.id}/disable", **_form(org))
        assert done.status_code == 303
        assert (await client.get("/api/me", headers={**their, **JSON})).status_code == 401
        page = (await client.get(done.headers["location"], headers={**org, **HTML})).text
        assert "账号已停用" in page and "已停用" in page
        own = await client.post(f"/admin/events/{a}/accounts/{desk.id}/enable", **_form(org))
        assert own.status_code == 303
        link_made = await client.post(f"/admin/events/{a}/accounts/{desk.id}/link", **_form(org))
        token = LINK.search(link_made.text).group(2)  # type: ignore[union-attr]
        async with db() as session:
            link_id = (await session.exec(select(SignInLink.id).where(SignInLink.token_hash != ""))).all()[-1]
        revoked = await client.post(f"/admin/events/{a}/accounts/{desk.id}/links/{link_id}/revoke", **_form(org))
        assert revoked.status_code == 303
        assert (await client.get(f"/login/link/{token}", headers=JSON)).json()["code"] == "invalid_link"


async def test_the_event_hub_links_the_accounts_page(app: Litestar) -> None:
    async with AsyncTestClient(app=app) as client:
        a, _b = await _events(client)
        hub = await client.get(f"/admin/events/{a}", headers={**HTML, "Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert f'href="/admin/events/{a}/accounts"' in hub.text


async def test_start_page_links_all_accounts_for_administrators_only(app: Litestar, db: Any) -> None:
    async with AsyncTestClient(app=app) as client:
        a, _b = await _events(client)
        await _user(db, "boss", ["organiser"])
        await _user(db, "org-a", ["organiser"], event_id=a)
        boss, org = await _sign_in(client, "boss"), await _sign_in(client, "org-a")
        admin_start = (await client.get("/start", headers={**boss, **HTML})).text
        event_start = (await client.get("/start", headers={**org, **HTML})).text
    assert 'href="/admin/accounts"' in admin_start
    assert 'href="/admin/accounts"' not in event_start
