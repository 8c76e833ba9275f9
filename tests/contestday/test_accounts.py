"""Organiser accounts: argon2 hashes, the session cookie, CSRF on cookie-authenticated writes, sign-in links."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from contestday.accounts import service
from contestday.accounts.guards import SESSION_COOKIE
from contestday.accounts.models import LoginSession, User
from tests.support.helpers import EXAMPLE_EVENT, post_login


async def _add(db: Any, name: str = "org", roles: tuple[str, ...] = ("organiser",)) -> User:
    async with db() as session:
        user = await service.add_user(session, name, "pw-12345678", list(roles))
        await session.commit()
        return user


async def test_password_is_stored_as_argon2_hash(app: Litestar, db: Any) -> None:
    await _add(db)
    async with db() as session:
        user = (await session.exec(select(User))).one()
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert "pw-12345678" not in user.password_hash


async def test_login_sets_httponly_cookie_and_wrong_password_is_refused(app: Litestar, db: Any) -> None:
    await _add(db)
    async with AsyncTestClient(app=app) as client:
        wrong = await post_login(client, {"name": "org", "password": "nope", "next": "/"})
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        ok = await post_login(client, {"name": "org", "password": "pw-12345678", "next": "/admin/events"},
                               follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/admin/events"
        cookie = ok.headers["set-cookie"]
        assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        me = (await client.get("/api/me")).json()
        assert me["roles"] == ["organiser"] and me["via"] == "session"
    async with db() as session:
        stored = (await session.exec(select(LoginSession))).one()
    assert stored.token_hash not in cookie  # only the hash is stored, not the token


async def test_cookie_write_without_csrf_token_is_refused(app: Litestar, db: Any) -> None:
    await _add(db)
    async with AsyncTestClient(app=app) as client:
        await post_login(client, {"name": "org", "password": "pw-12345678", "next": "/"})
        refused = await client.post("/api/events", json=EXAMPLE_EVENT)
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        wrong = await client.post("/api/events", json=EXAMPLE_EVENT, headers={"X-CSRF-Token": "guess"})
        assert wrong.status_code == 403
        assert (await client.get("/api/events")).json() == []
        token = (await client.get("/api/me")).json()["csrf_token"]
        created = await client.post("/api/events", json=EXAMPLE_EVENT, headers={"X-CSRF-Token": token})
        assert created.status_code == 201


async def test_open_redirect_is_not_followed(app: Litestar, db: Any) -> None:
    await _add(db)
    async with AsyncTestClient(app=app) as client:
        response = await post_login(client, {"name": "org", "password": "pw-12345678",
                                                     "next": "//evil.example/x"}, follow_redirects=False)
        assert response.headers["location"] == "/start"  # the start page, not the other site


async def test_logout_ends_the_session(app: Litestar, db: Any) -> None:
    await _add(db)
    async with AsyncTestClient(app=app) as client:
        await post_login(client, {"name": "org", "password": "pw-12345678", "next": "/"})
        token = (await client.get("/api/me")).json()["csrf_token"]
        await client.post("/logout", data={"csrf_token": token})
        assert (await client.get("/api/me")).status_code == 401
    async with db() as session:
        assert (await session.exec(select(LoginSession))).all() == []


async def test_signed_link_signs_in_and_tampering_is_refused(app: Litestar, db: Any) -> None:
    user = await _add(db, "chief", ("chief_judge",))
    async with db() as session:  # one-time links: only their hashes are stored
        good = await service.login_link_token(session, user, timedelta(hours=1), by="test")
        expired = await service.login_link_token(session, user, timedelta(hours=-1), by="test")
        await session.commit()
    async with AsyncTestClient(app=app) as client:
        forged = f"{good[:-4]}ffff"
        assert (await client.get(f"/login/link/{forged}", headers={"Accept": "application/json"})).status_code == 401
        assert (await client.get(f"/login/link/{expired}", headers={"Accept": "application/json"})).status_code == 401
        await client.get(f"/login/link/{good}")
        assert (await client.get("/api/me")).json()["roles"] == ["chief_judge"]


async def test_anonymous_html_request_is_sent_to_login(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/admin/events", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login?next=/admin/events")
