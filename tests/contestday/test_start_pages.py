"""Where sign-in lands: `/start` per role (not the organiser's list, a 403 for everyone else), a safe `next=`
winning over it, per-event roles already honoured by the page, and the organiser's event hub."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contestday.accounts import service as accounts
from contestday.accounts.models import UserRole
from contestday.accounts.routes import START_PATH, safe_next
from tests.conftest import ADMIN_TOKEN
from tests.support.helpers import example_event, post_login

HTML = {"Accept": "text/html"}


@pytest.mark.parametrize("target", [
    None, "", "start", "//evil.example/x", "///evil.example", "/\\evil.example", "/x\\..\\\\evil.example",
    "https://evil.example/", "http:/evil.example", "javascript:alert(1)", "/\t/evil.example",
    "/ok\r\nSet-Cookie: a=b", "/ok\nLocation: //evil.example",
])
def test_unsafe_next_falls_back_to_the_start_page(target: str | None) -> None:
    assert safe_next(target) == START_PATH


@pytest.mark.parametrize("target", ["/admin/events", "/kiosk/events/1/checkin?station=A门", "/results/1#SA01",
                                    "/console/events/1/items/SA01/recheck", "/"])
def test_a_path_of_this_site_is_kept(target: str) -> None:
    assert safe_next(target) == target


async def _user(db: Any, name: str, *roles: str, event_id: int | None = None) -> Any:
    async with db() as session:
        user = await accounts.add_user(session, name, "pw-12345678", [] if event_id else list(roles))
        if event_id:  # a role for one event only: what the per-event roles issue will write
            assert user.id is not None
            for role in roles:
                session.add(UserRole(user_id=user.id, role=role, event_id=event_id))
        await session.commit()
        return user


async def _event(app: Litestar, name: str = "“巴渝工匠”杯重庆市第二届专项职业能力技能大赛") -> int:
    async with AsyncTestClient(app=app) as setup:
        setup.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        return int((await setup.post("/api/events", json=example_event(name=name))).json()["id"])


@pytest.mark.parametrize("role", ["organiser", "chief_judge", "judge", "encryption_judge", "checkin"])
async def test_password_sign_in_lands_on_the_start_page(app: Litestar, db: Any, role: str) -> None:
    await _user(db, "u", role)
    async with AsyncTestClient(app=app) as client:
        done = await post_login(client, {"name": "u", "password": "pw-12345678", "next": ""},
                                 follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == START_PATH
        page = await client.get(START_PATH, headers=HTML)
        assert page.status_code == 200 and "我的工作台" in page.text


async def test_login_form_without_next_posts_the_start_page(client: AsyncTestClient[Litestar]) -> None:
    page = await client.get("/login")
    assert 'name="next" value="/start"' in page.text
    kept = await client.get("/login?next=/kiosk/events/1/checkin")
    assert 'name="next" value="/kiosk/events/1/checkin"' in kept.text


async def test_safe_next_wins_over_the_start_page_and_unsafe_is_ignored(app: Litestar, db: Any) -> None:
    await _user(db, "desk", "checkin")
    async with AsyncTestClient(app=app) as client:
        kept = await post_login(client, {"name": "desk", "password": "pw-12345678",
                                                 "next": "/kiosk/events/1/checkin?station=A"}, follow_redirects=False)
        assert kept.headers["location"] == "/kiosk/events/1/checkin?station=A"
        evil = await post_login(client, {"name": "desk", "password": "pw-12345678",
                                                 "next": "/\\evil.example"}, follow_redirects=False)
        assert evil.headers["location"] == START_PATH


async def test_sign_in_link_lands_on_the_start_page_or_its_next(app: Litestar, db: Any) -> None:
    user = await _user(db, "chief", "chief_judge")
    async with db() as session:  # a link signs in once: one per try
        tokens = [await accounts.login_link_token(session, user, timedelta(days=30), by="test") for _ in range(3)]
        await session.commit()
    async with AsyncTestClient(app=app) as client:
        plain = await client.get(f"/login/link/{tokens[0]}", follow_redirects=False)
        assert plain.status_code == 303 and plain.headers["location"] == START_PATH
        onward = await client.get(f"/login/link/{tokens[1]}?next=/console/events/1/publish", follow_redirects=False)
        assert onward.headers["location"] == "/console/events/1/publish"
        evil = await client.get(f"/login/link/{tokens[2]}?next=//evil.example", follow_redirects=False)
        assert evil.headers["location"] == START_PATH


async def test_start_page_needs_a_sign_in(client: AsyncTestClient[Litestar]) -> None:
    browser = await client.get(START_PATH, headers=HTML, follow_redirects=False)
    assert browser.status_code in (302, 303) and browser.headers["location"] == f"/login?next={START_PATH}"
    api = await client.get(START_PATH, headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.json()["code"] == "not_authenticated"


async def test_start_page_links_each_roles_pages_per_event(app: Litestar, db: Any) -> None:
    event_id = await _event(app)
    await _user(db, "chief", "chief_judge", "encryption_judge")
    async with AsyncTestClient(app=app) as client:
        await post_login(client, {"name": "chief", "password": "pw-12345678", "next": ""})
        page = (await client.get(START_PATH, headers=HTML)).text
    assert "chief" in page and "裁判长" in page and "加密裁判" in page
    for href in (f"/console/events/{event_id}", f"/console/events/{event_id}/publish",
                 f"/console/events/{event_id}/appeals", f"/console/events/{event_id}/items/LED/recheck",
                 f"/console/events/{event_id}/items/LED/ties", f"/sealed/events/{event_id}",
                 f"/results/{event_id}", f"/board/{event_id}"):
        assert f'href="{href}"' in page, href
    assert f'href="/admin/events/{event_id}"' not in page  # not an organiser: no link to a 403
    assert 'href="/kiosk/events/' not in page


async def test_a_role_for_one_event_lists_that_event_only(app: Litestar, db: Any) -> None:
    first = await _event(app, "第一届赛事")
    second = await _event(app, "第二届赛事")
    await _user(db, "desk", "checkin", event_id=second)
    async with AsyncTestClient(app=app) as client:
        await post_login(client, {"name": "desk", "password": "pw-12345678", "next": ""})
        page = (await client.get(START_PATH, headers=HTML)).text
    assert "第二届赛事" in page and f'href="/kiosk/events/{second}/checkin"' in page
    assert "第一届赛事" not in page and f"/events/{first}/" not in page


async def test_home_offers_the_start_page_when_signed_in(app: Litestar, db: Any) -> None:
    await _user(db, "judge1", "judge")
    async with AsyncTestClient(app=app) as client:
        anonymous = (await client.get("/", headers=HTML)).text
        assert 'href="/start"' not in anonymous and 'href="/login"' in anonymous
        await post_login(client, {"name": "judge1", "password": "pw-12345678", "next": ""})
        home = (await client.get("/", headers=HTML)).text
    assert re.search(r'<a class="button primary" href="/start">进入我的工作台</a>', home)


async def test_organiser_event_page_is_the_hub_of_the_day(app: Litestar, db: Any) -> None:
    event_id = await _event(app)
    await _user(db, "org", "organiser")
    async with AsyncTestClient(app=app) as client:
        await post_login(client, {"name": "org", "password": "pw-12345678", "next": ""})
        page = (await client.get(f"/admin/events/{event_id}", headers=HTML)).text
    e = event_id
    for href in (f"/console/events/{e}", f"/console/events/{e}/publish", f"/results/{e}", f"/board/{e}",
                 f"/admin/events/{e}/checkin", f"/kiosk/events/{e}/checkin", f"/admin/events/{e}/judges",
                 f"/admin/events/{e}/registrations", f"/console/events/{e}/appeals",
                 f"/console/events/{e}/certificates", f"/admin/events/{e}/items/LED/panel"):
        assert f'href="{href}"' in page, href
    # the sealed page is named with its address for the encryption judge, not linked: the organiser gets a 403
    assert f"<code>/sealed/events/{e}</code>" in page and f'href="/sealed/events/{e}"' not in page


async def test_start_page_in_english_shows_no_untranslated_chinese(app: Litestar, db: Any) -> None:
    from tests.contestday.test_i18n import ASCII_EVENT, untranslated

    async with AsyncTestClient(app=app) as setup:
        setup.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert (await setup.post("/api/events", json=ASCII_EVENT)).status_code == 201
    await _user(db, "all", "organiser", "chief_judge", "judge", "encryption_judge", "checkin")
    async with AsyncTestClient(app=app) as client:
        await post_login(client, {"name": "all", "password": "pw-12345678", "next": ""})
        client.cookies.set("lang", "en")
        page = (await client.get(START_PATH, headers=HTML)).text
    assert "My start page" in page and "Chief judge&#39;s console" in page and "chief judge" in page
    assert untranslated(page) == []
