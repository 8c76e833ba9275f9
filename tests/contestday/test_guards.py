"""The role × route matrix: every route of the app is listed here with the roles it admits, and every role
(plus anonymous, plus the bearer token) is tried against every route. Later issues extend EXPECTED."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlmodel import select

from contestday.accounts import service
from contestday.accounts.security import ROLES
from registration.events.models import Item
from tests.conftest import ADMIN_TOKEN
from tests.support.helpers import EXAMPLE_EVENT, post_login

PUBLIC = frozenset({"anonymous", *ROLES})
ORGANISER = frozenset({"organiser"})
SIGNED_IN = frozenset(ROLES)

# (method, path) -> who gets through the guard
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/health"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/login/link/{token:str}"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/lang/{lang:str}"): PUBLIC,
    ("GET", "/api/me"): SIGNED_IN,
    ("GET", "/start"): SIGNED_IN,  # each person's start page (registration/staff/start.py)
    ("GET", "/api/catalog"): PUBLIC,
    ("GET", "/api/events"): ORGANISER,
    ("POST", "/api/events"): ORGANISER,
    ("POST", "/api/events/validate"): ORGANISER,
    ("GET", "/api/events/{event_id:int}"): ORGANISER,
    ("PUT", "/api/events/{event_id:int}"): ORGANISER,
    ("POST", "/api/events/{event_id:int}/registrations"): PUBLIC,
    # the contestants' pages (registration/entries/public_pages.py, mine.py) and the organiser's poster
    ("GET", "/r/{event_id:int}"): PUBLIC,
    ("POST", "/r/{event_id:int}"): PUBLIC,
    ("GET", "/t/{code:str}"): PUBLIC,
    ("GET", "/r/{event_id:int}/mine"): PUBLIC,
    ("POST", "/r/{event_id:int}/mine"): PUBLIC,
    ("GET", "/r/{event_id:int}/mine/edit"): PUBLIC,
    ("POST", "/r/{event_id:int}/mine/edit"): PUBLIC,
    ("POST", "/r/{event_id:int}/mine/withdraw"): PUBLIC,
    ("GET", "/admin/events/{event_id:int}/poster.pdf"): ORGANISER,
    ("GET", "/admin/events/{event_id:int}/qr.png"): ORGANISER,
}
E = "/api/events/{event_id:int}"
STAFF = frozenset({"checkin", "organiser"})
EXPECTED.update({
    ("POST", f"{E}/checkins"): STAFF,
    ("POST", f"{E}/draws"): STAFF,
    ("GET", f"{E}/checkin/search"): STAFF,
    ("GET", f"{E}/checkin/status"): STAFF | {"chief_judge"},
    ("GET", f"{E}/items/{{code:str}}/seat-plan"): frozenset({"organiser", "chief_judge"}),
    ("PUT", f"{E}/items/{{code:str}}/seat-plan"): ORGANISER,
    ("POST", f"{E}/items/{{code:str}}/absent"): frozenset({"organiser", "chief_judge"}),
    ("POST", f"{E}/seats/move"): frozenset({"organiser", "chief_judge"}),
    ("GET", f"{E}/items/{{code:str}}/seats"): frozenset({"judge", "chief_judge", "encryption_judge", "organiser"}),
    ("GET", f"{E}/items/{{code:str}}/mapping"): frozenset({"encryption_judge"}),
    ("POST", f"{E}/items/{{code:str}}/reveal"): frozenset({"encryption_judge"}),
    ("GET", f"{E}/items/{{code:str}}/revealed"): frozenset({"chief_judge", "organiser", "encryption_judge"}),
    ("GET", "/kiosk/photos/{entry_id:int}/{position:int}"): STAFF,
})
SEALED = frozenset({"encryption_judge"})
EXPECTED.update({  # the kiosk package: kiosk page, sealed pages, the blind seat list (kiosk/pages.py, kiosk/admin.py)
    ("GET", "/kiosk/events/{event_id:int}/checkin"): STAFF,
    ("GET", "/sealed/events/{event_id:int}"): SEALED,
    ("GET", "/sealed/events/{event_id:int}/items/{code:str}/seats.html"): SEALED,
    ("GET", "/sealed/events/{event_id:int}/items/{code:str}/seats.xlsx"): SEALED,
    ("GET", "/admin/events/{event_id:int}/items/{code:str}/seats.html"): frozenset({"organiser", "chief_judge"}),
    ("GET", "/admin/events/{event_id:int}/items/{code:str}/seats.xlsx"): frozenset({"organiser", "chief_judge"}),
})
EXPECTED.update({  # judging: the personal link (judging/routes.py; the signed token is the check) and the tablet page
    ("GET", "/j/{token:str}"): PUBLIC,
    ("GET", "/judge"): frozenset({"judge", "chief_judge"}),
})
PAPER = f"{E}/items/{{code:str}}/paper/{{judge_id:int}}"
EXPECTED.update({
    ("GET", PAPER): frozenset({"chief_judge", "organiser"}),
    ("POST", PAPER): frozenset({"chief_judge", "organiser"}),
    ("POST", f"{PAPER}/resolve"): frozenset({"chief_judge", "organiser"}),
})
CONSOLE = frozenset({"chief_judge", "organiser"})
C = "/api/console/events/{event_id:int}/items/{code:str}"
EXPECTED.update({  # the chief judge's console (results/console/routes.py); the sealed crawl never reaches it
    ("GET", "/console/events/{event_id:int}"): CONSOLE,
    ("GET", C): CONSOLE,
    ("POST", f"{C}/remarks"): CONSOLE,
    ("POST", f"{C}/remarks/{{remark_id:int}}/close"): CONSOLE,
    ("POST", f"{C}/rulings"): CONSOLE,
    ("POST", f"{C}/scores/import"): CONSOLE,
    ("POST", f"{C}/criteria/{{criterion:str}}/lock"): CONSOLE,
    ("POST", f"{C}/criteria/{{criterion:str}}/unlock"): CONSOLE,
    ("POST", f"{C}/lock"): CONSOLE,
    ("POST", f"{C}/unlock"): CONSOLE,
    ("POST", f"{C}/sheets/{{judge_id:int}}/reopen"): CONSOLE,
    ("POST", f"{C}/seats/{{seat:str}}/hand-in"): CONSOLE,
})
THEORY = "/api/events/{event_id:int}/items/{code:str}/theory"
EXPECTED.update({  # theory scores (results/theory_routes.py)
    ("GET", THEORY): frozenset({"chief_judge", "organiser"}),
    ("POST", THEORY): frozenset({"chief_judge", "organiser"}),
    ("POST", f"{THEORY}/file"): frozenset({"chief_judge", "organiser"}),
    ("POST", f"{THEORY}/{{import_id:int}}/confirm"): frozenset({"chief_judge", "organiser"}),
    ("POST", f"{THEORY}/{{import_id:int}}/discard"): frozenset({"chief_judge", "organiser"}),
})
TIME_USED = "/api/events/{event_id:int}/items/{code:str}/time-used"
EXPECTED.update({  # times used (results/time_routes.py)
    ("GET", TIME_USED): frozenset({"chief_judge", "organiser"}),
    ("POST", TIME_USED): frozenset({"chief_judge", "organiser"}),
})
RECHECK = "/api/console/events/{event_id:int}/items/{code:str}/recheck"
EXPECTED.update({
    ("GET", RECHECK): frozenset({"chief_judge", "organiser"}),
    ("POST", RECHECK): frozenset({"chief_judge", "organiser"}),
    ("POST", f"{RECHECK}/{{seat:str}}"): frozenset({"chief_judge", "organiser"}),
})
PUBLISH = "/api/events/{event_id:int}/items/{code:str}/publication"
EXPECTED.update({  # publication (results/publication_routes.py) and the board (kiosk/board.py)
    ("GET", PUBLISH): frozenset({"chief_judge", "organiser"}),
    ("POST", PUBLISH): frozenset({"chief_judge", "organiser"}),
    ("POST", f"{PUBLISH}/withdraw"): frozenset({"chief_judge", "organiser"}),
    ("POST", "/api/events/{event_id:int}/items/{code:str}/ties"): frozenset({"chief_judge"}),
    ("GET", "/console/events/{event_id:int}/publish"): frozenset({"chief_judge", "organiser"}),
    ("POST", "/console/events/{event_id:int}/publish/{code:str}"): frozenset({"chief_judge", "organiser"}),
    ("POST", "/console/events/{event_id:int}/publish/{code:str}/withdraw"): frozenset({"chief_judge", "organiser"}),
    ("POST", "/console/events/{event_id:int}/exports"): ORGANISER,
    ("GET", "/console/events/{event_id:int}/exports/{job_id:str}"): ORGANISER,
    ("GET", "/console/events/{event_id:int}/exports/{job_id:str}/progress.json"): ORGANISER,
    ("GET", "/console/events/{event_id:int}/exports/{job_id:str}/archive.zip"): ORGANISER,
    ("GET", "/results/{event_id:int}"): PUBLIC,
    ("GET", "/results/{event_id:int}/{code:str}"): PUBLIC,
    ("GET", "/api/public/events/{event_id:int}/results"): PUBLIC,
    ("GET", "/board/{event_id:int}"): PUBLIC,
    ("GET", "/api/events/{event_id:int}/items/{code:str}/lists/{name:str}"): frozenset({"chief_judge", "organiser"}),
    ("POST", "/api/events/{event_id:int}/appeals"): PUBLIC,
    ("POST", "/api/events/{event_id:int}/appeals/paper"): ORGANISER,
    ("GET", "/api/events/{event_id:int}/appeals"): frozenset({"organiser", "chief_judge"}),
    ("POST", "/api/events/{event_id:int}/appeals/{appeal_id:int}/ruling"): ORGANISER,
    ("GET", "/appeal/{event_id:int}"): PUBLIC,
    ("POST", "/api/events/{event_id:int}/certificates/issue"): ORGANISER,
    ("GET", "/api/events/{event_id:int}/certificates"): ORGANISER,
    ("GET", "/api/certificates/{serial:str}"): PUBLIC,
    ("POST", "/api/certificates/{serial:str}/revoke"): ORGANISER,
    ("POST", "/api/certificates/{serial:str}/reissue"): ORGANISER,
    ("GET", "/verify/{serial:str}"): PUBLIC,
    ("GET", "/certificates/{name:str}"): PUBLIC,  # the handler asks for an organiser or a download token
    ("POST", "/console/events/{event_id:int}/certificates/print"): ORGANISER,
    ("POST", "/console/events/{event_id:int}/certificates/issue"): ORGANISER,
    ("POST", "/console/events/{event_id:int}/certificates/template"): ORGANISER,
    ("GET", "/console/events/{event_id:int}/certificates/calibration.pdf"): ORGANISER,
    ("GET", "/kiosk/events/{event_id:int}/certificates"): PUBLIC,
    ("POST", "/kiosk/events/{event_id:int}/certificates"): PUBLIC,
    ("POST", "/appeal/{event_id:int}"): PUBLIC,
})
CP = "/console/events/{event_id:int}"
CHIEF_OR_ORG = frozenset({"chief_judge", "organiser"})
EXPECTED.update({  # the pages of the day's later steps (results/chief_pages.py, appeal_pages.py, certificates/pages.py)
    ("GET", f"{CP}/items/{{code:str}}/recheck"): CHIEF_OR_ORG,
    ("POST", f"{CP}/items/{{code:str}}/recheck"): CHIEF_OR_ORG,
    ("POST", f"{CP}/items/{{code:str}}/recheck/seats/{{seat:str}}"): CHIEF_OR_ORG,
    ("GET", f"{CP}/items/{{code:str}}/ties"): CHIEF_OR_ORG,  # the organiser may look; only the chief judge decides
    ("POST", f"{CP}/items/{{code:str}}/ties"): frozenset({"chief_judge"}),
    ("GET", f"{CP}/items/{{code:str}}/theory"): CHIEF_OR_ORG,  # the theory import page (results/theory_pages.py)
    ("POST", f"{CP}/items/{{code:str}}/theory"): CHIEF_OR_ORG,
    ("POST", f"{CP}/items/{{code:str}}/theory/{{import_id:int}}/confirm"): CHIEF_OR_ORG,
    ("POST", f"{CP}/items/{{code:str}}/theory/{{import_id:int}}/discard"): CHIEF_OR_ORG,
    ("GET", f"{CP}/items/{{code:str}}/theory/template.xlsx"): CHIEF_OR_ORG,
    ("GET", f"{CP}/appeals"): CHIEF_OR_ORG,  # the chief judge reads, without forms
    ("POST", f"{CP}/appeals/paper"): ORGANISER,
    ("POST", f"{CP}/appeals/{{appeal_id:int}}/ruling"): ORGANISER,
    ("GET", f"{CP}/certificates"): ORGANISER,
    ("POST", f"{CP}/certificates/{{serial:str}}/revoke"): ORGANISER,
    ("POST", f"{CP}/certificates/{{serial:str}}/reissue"): ORGANISER,
})
EXPECTED.update({  # the venue check's public half (contestday/venue/routes.py); /admin/venue is below /admin
    ("GET", "/venue/ok"): PUBLIC,
    ("GET", "/venue/clock"): PUBLIC,
})
# held only by a role given for every event (administrators): making events, every account
SERVER_WIDE = frozenset({
    ("POST", "/api/events"),
    ("GET", "/admin/events/new"),
    ("POST", "/admin/events/new"),
    ("POST", "/admin/events/import"),
    # the address every QR code carries, one for the server (registration/events/pages.py)
    ("POST", "/admin/events/{event_id:int}/public-address"),
    # staff accounts, every account (registration/staff/pages.py); an event's: /admin/events/{id}/accounts
    ("GET", "/admin/accounts"),
    ("POST", "/admin/accounts"),
    ("GET", "/admin/accounts/{user_id:int}"),
    *(("POST", f"/admin/accounts/{{user_id:int}}/{what}") for what in ("grant", "revoke", "disable", "enable",
                                                                        "reset", "link")),
    ("POST", "/admin/accounts/{user_id:int}/links/{link_id:int}/revoke"),
})
PREFIXES_OF_PAGES = {"/admin": ORGANISER}  # page routes below these prefixes: organiser only
SKIP = ("/schema", "/static")


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(SKIP):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method not in ("HEAD", "OPTIONS"):
                    found.add((method, route.path))
    return found


def expected_for(method: str, path: str) -> frozenset[str]:
    if (method, path) in EXPECTED:
        return EXPECTED[(method, path)]
    for prefix, roles in PREFIXES_OF_PAGES.items():
        if path.startswith(prefix):
            return roles
    raise AssertionError(f"route {method} {path} is missing from the role × route matrix in {__file__}")


def test_every_route_is_in_the_matrix(app: Litestar) -> None:
    for method, path in app_routes(app):
        expected_for(method, path)


def test_guards_declare_the_roles_of_the_matrix(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(SKIP):
            continue
        for handler in route.route_handlers:
            declared = set()
            for guard in handler.resolve_guards():
                declared |= set(getattr(guard, "roles", ()))
            server_wide = any(getattr(guard, "server_wide", False) for guard in handler.resolve_guards())
            for method in handler.http_methods - {"HEAD", "OPTIONS"}:
                expected = expected_for(method, route.path)
                assert server_wide == ((method, route.path) in SERVER_WIDE), f"{method} {route.path}: server-wide?"
                if expected in (PUBLIC, SIGNED_IN):
                    assert not declared, f"{method} {route.path} should not be role-guarded"
                else:
                    assert declared == set(expected), f"{method} {route.path}: {declared} != {set(expected)}"


def _concrete(path: str, event_id: int, code: str = "x") -> str:
    path = path.replace("{event_id:int}", str(event_id)).replace("{code:str}", code)
    path = re.sub(r"\{[^}]+:int\}", "1", path)
    return re.sub(r"\{[^}]+\}", "x", path)


async def _login(client: AsyncTestClient[Litestar], name: str) -> str:
    response = await post_login(client, {"name": name, "password": "pw-12345678", "next": "/"})
    assert response.status_code in (200, 303), response.text
    return str((await client.get("/api/me")).json()["csrf_token"])


def two_item_event() -> dict[str, Any]:
    """The example event with a second item, so that "another item of the same event" can be tried."""
    doc = copy.deepcopy(EXAMPLE_EVENT)
    second = copy.deepcopy(doc["items"][0])
    second.update(code="LED2", name=second["name"] + "（二）")
    doc["items"].append(second)
    return doc


ITEM_SCOPED = frozenset({"judge", "encryption_judge"})  # held per item; every other role per event
# where each request is aimed: the event and item the role is held for, another event, another item
SCOPES = ("home", "other_event", "other_item")
TRIED: dict[str, int] = {}  # who -> requests tried, for the note


async def scoped_users(db: Any, event_id: int) -> None:
    """One user per role, holding it for `event_id` only (judge and encryption judge: for item LED only)."""
    async with db() as session:
        item_id = (await session.exec(select(Item.id).where(Item.event_id == event_id, Item.code == "LED"))).one()
        for role in ROLES:
            user = await service.add_user(session, f"u-{role}", "pw-12345678", [])
            await service.grant_role(session, user, role, "test", event_id,
                                     item_id if role in ITEM_SCOPED else None)
        await session.commit()


@pytest.mark.parametrize("who", ["anonymous", "token", *ROLES])
async def test_role_route_matrix(app: Litestar, db: Any, who: str) -> None:
    """Every route × every role × (its own event and item, another event, another item of its event): a role
    held elsewhere is refused 403 `wrong_event_role`; the bearer token is server-wide."""
    async with AsyncTestClient(app=app) as setup:
        setup.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        home = (await setup.post("/api/events", json=two_item_event())).json()["id"]
        other = (await setup.post("/api/events", json=two_item_event())).json()["id"]
    await scoped_users(db, home)

    async with AsyncTestClient(app=app) as client:
        headers: dict[str, str] = {"Accept": "application/json"}
        role = who
        if who == "token":
            headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
            role = "organiser"
        elif who != "anonymous":
            headers["X-CSRF-Token"] = await _login(client, f"u-{who}")
        tried = 0
        for method, path in sorted(app_routes(app)):
            if path in ("/logout", "/login"):
                continue  # they change who is signed in; covered in test_accounts
            expected = expected_for(method, path)
            for scope in SCOPES:
                if (scope == "other_event" and "{event_id" not in path) or (
                        scope == "other_item" and "{code:str}" not in path):
                    continue
                event_id = other if scope == "other_event" else home
                url = _concrete(path, event_id, "LED2" if scope == "other_item" else "LED")
                kwargs: dict[str, Any] = {"headers": headers}
                if method in ("POST", "PUT"):
                    kwargs["json"] = EXAMPLE_EVENT
                response = await client.request(method, url, **kwargs)
                tried += 1
                code = None  # guards answer JSON to an Accept: application/json caller; a handler may refuse a page
                if response.status_code in (401, 403) and "json" in response.headers.get("content-type", ""):
                    code = response.json().get("code")
                refused_by_guard = code in ("not_authenticated", "forbidden", "csrf_failed", "wrong_event_role")
                in_scope = who == "token" or ((method, path) not in SERVER_WIDE and (
                    scope == "home" or (scope == "other_item" and role not in ITEM_SCOPED)))
                if expected == PUBLIC or (expected == SIGNED_IN and role != "anonymous") or (
                        role in expected and in_scope):
                    assert not refused_by_guard, (who, scope, method, path, response.text)
                elif role in expected:
                    assert (response.status_code, code) == (403, "wrong_event_role"), (who, scope, method, path,
                                                                                         response.text)
                else:
                    assert response.status_code == (401 if role == "anonymous" else 403), (who, method, path)
                    assert code in ("not_authenticated", "forbidden")
        TRIED[who] = tried
        print(f"role × route matrix, {who}: {tried} requests")  # the note's matrix size (pytest -s)
        assert tried > 300


async def test_wrong_bearer_token_is_refused(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/events", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"
