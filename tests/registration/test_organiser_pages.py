"""Organiser pages, server side: login required, list/import/export, the no-JavaScript editor path, CSRF."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contestday.accounts import service as accounts
from registration.events.pages import _anchor, editor_view
from tests.support.helpers import example_event, post_login

HTML = {"Accept": "text/html"}


@pytest.fixture
async def organiser(app: Litestar, db: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client signed in through the real /login form, with its CSRF token at `.csrf`."""
    async with db() as session:  # the test's own connection: the app's pool lives on the client's loop
        await accounts.add_user(session, "org", "pw-12345678", ["organiser"])
        await session.commit()
    async with AsyncTestClient(app=app) as client:
        done = await post_login(client, {"name": "org", "password": "pw-12345678", "next": "/admin/events"},
                                 follow_redirects=False)
        assert done.status_code == 303
        client.csrf = (await client.get("/api/me")).json()["csrf_token"]  # type: ignore[attr-defined]
        yield client


async def _stored(client: AsyncTestClient[Litestar]) -> list[dict[str, Any]]:
    return (await client.get("/api/events")).json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", ["/admin/events", "/admin/events/new", "/admin/events/1"])
async def test_pages_send_anonymous_browsers_to_login(client: AsyncTestClient[Litestar], path: str) -> None:
    response = await client.get(path, headers=HTML, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"/login?next={path}"


async def test_list_shows_events_with_kind_in_chinese_and_links(organiser: AsyncTestClient[Litestar]) -> None:
    empty = await organiser.get("/admin/events", headers=HTML)
    assert empty.status_code == 200 and "还没有赛事" in empty.text and 'href="/admin/events/new"' in empty.text
    created = await organiser.post("/api/events", json=example_event(), headers={"X-CSRF-Token": organiser.csrf})
    event_id = created.json()["id"]
    page = (await organiser.get("/admin/events", headers=HTML)).text
    assert "“巴渝工匠”杯重庆市第二届专项职业能力技能大赛" in page and "市级行业赛" in page and "2026-10-20" in page
    for link in ("", "/export.json", "/export.toml"):
        assert f'href="/admin/events/{event_id}{link}"' in page


async def test_exports_round_trip_through_the_api(organiser: AsyncTestClient[Litestar]) -> None:
    event_id = (await organiser.post("/api/events", json=example_event(unit_quota_per_group=None),
                                     headers={"X-CSRF-Token": organiser.csrf})).json()["id"]
    stored = (await organiser.get(f"/api/events/{event_id}")).json()
    as_json = await organiser.get(f"/admin/events/{event_id}/export.json")
    assert as_json.headers["content-disposition"] == f'attachment; filename="event-{event_id}.json"'
    assert json.loads(as_json.text) == stored
    as_toml = await organiser.get(f"/admin/events/{event_id}/export.toml")
    doc = tomllib.loads(as_toml.text)
    assert doc["event"]["unit_quota_per_group"] == 0  # TOML has no null: 0 is read back as unlimited
    again = await organiser.post("/api/events", content=as_toml.content, headers={
        "X-CSRF-Token": organiser.csrf, "Content-Type": "application/toml"})
    assert (await organiser.get(f"/api/events/{again.json()['id']}")).json() == stored


async def test_editor_renders_the_stored_document_in_its_fields(organiser: AsyncTestClient[Litestar]) -> None:
    event_id = (await organiser.post("/api/events", json=example_event(),
                                     headers={"X-CSRF-Token": organiser.csrf})).json()["id"]
    page = (await organiser.get(f"/admin/events/{event_id}", headers=HTML)).text
    assert 'data-path="items[0].criteria[1].max" value="60"' in page
    assert 'value="2026-10-10T18:00"' in page  # registration_closes as Beijing local time
    assert re.search(r'class="practical-max">100<', page)  # 40 + 60; the deduction does not count
    assert "市级行业赛原则上不少于 3 个赛项" in page  # the parser's warning is shown
    new = (await organiser.get("/admin/events/new", headers=HTML)).text
    assert 'action="/admin/events/new"' in new and organiser.csrf in new


async def test_textarea_fallback_stores_a_valid_document(organiser: AsyncTestClient[Litestar]) -> None:
    text = json.dumps(example_event(name="无脚本创建的赛事"), ensure_ascii=False)
    done = await organiser.post("/admin/events/new", data={"document": text, "csrf_token": organiser.csrf},
                                headers=HTML, follow_redirects=False)
    assert done.status_code == 303
    event_id = int(done.headers["location"].split("/")[-1].split("?")[0])
    assert (await organiser.get(f"/api/events/{event_id}")).json()["event"]["name"] == "无脚本创建的赛事"
    # and replacing through the same fallback, in TOML this time
    exported = (await organiser.get(f"/admin/events/{event_id}/export.toml")).text
    form = {"document": exported.replace("无脚本创建的赛事", "改过的名称"), "csrf_token": organiser.csrf}
    again = await organiser.post(f"/admin/events/{event_id}", data=form, headers=HTML, follow_redirects=False)
    assert again.status_code == 303
    assert [e["name"] for e in await _stored(organiser)] == ["改过的名称"]


async def test_textarea_fallback_rerenders_every_error_and_stores_nothing(organiser: AsyncTestClient[Litestar]) -> None:
    doc = example_event()
    doc["items"][0]["theory_weight"] = 0.5
    doc["items"][0]["criteria"][1]["max"] = -1
    text = json.dumps(doc, ensure_ascii=False)
    page = await organiser.post("/admin/events/new", data={"document": text, "csrf_token": organiser.csrf},
                                headers=HTML)
    assert page.status_code == 422
    assert "<code>items[0].theory_weight</code> 理论成绩占比不得超过 30%" in page.text
    assert "<code>items[0].criteria[1].max</code>" in page.text
    # the error sits next to its field, and the posted text comes back to be fixed
    assert re.search(r'data-path="items\[0\]\.theory_weight"[^>]*>\s*<p class="field-error"', page.text)
    assert "&#34;theory_weight&#34;: 0.5" in page.text or '"theory_weight": 0.5' in page.text
    assert await _stored(organiser) == []
    broken = await organiser.post("/admin/events/new", data={"document": "{not json", "csrf_token": organiser.csrf},
                                  headers=HTML)
    assert broken.status_code == 422 and "JSON 格式错误" in broken.text
    assert await _stored(organiser) == []


async def test_replacing_with_an_invalid_document_keeps_the_stored_one(organiser: AsyncTestClient[Litestar]) -> None:
    event_id = (await organiser.post("/api/events", json=example_event(),
                                     headers={"X-CSRF-Token": organiser.csrf})).json()["id"]
    before = (await organiser.get(f"/api/events/{event_id}")).json()
    bad = example_event(kind="worldwide")
    page = await organiser.post(f"/admin/events/{event_id}", headers=HTML,
                                data={"document": json.dumps(bad), "csrf_token": organiser.csrf})
    assert page.status_code == 422 and "event.kind" in page.text
    assert (await organiser.get(f"/api/events/{event_id}")).json() == before


async def test_import_stores_a_valid_file_and_lists_errors_of_a_bad_one(organiser: AsyncTestClient[Litestar]) -> None:
    good = json.dumps(example_event(), ensure_ascii=False).encode()
    done = await organiser.post("/admin/events/import", headers=HTML, follow_redirects=False,
                                files={"file": ("event.json", good, "application/json")},
                                data={"csrf_token": organiser.csrf})
    assert done.status_code == 303 and done.headers["location"].endswith("?saved=imported")
    assert len(await _stored(organiser)) == 1
    bad = b'[event]\nname = "x"\nkind = "nope"\nstarts_on = 2026-10-20\n'
    page = await organiser.post("/admin/events/import", headers=HTML,
                                files={"file": ("bad.toml", bad, "application/toml")},
                                data={"csrf_token": organiser.csrf})
    assert page.status_code == 422
    for path in ("event.kind", "event.award_policy", "items"):
        assert f"<code>{path}</code>" in page.text
    assert "bad.toml" in page.text and len(await _stored(organiser)) == 1
    organiser.cookies.set("lang", "en")
    english = await organiser.post("/admin/events/import", headers=HTML,
                                   files={"file": ("bad.toml", bad, "application/toml")},
                                   data={"csrf_token": organiser.csrf})
    assert "Import failed" in english.text and "unknown value &#39;nope&#39;; one of" in english.text


async def test_page_writes_without_csrf_token_are_refused(organiser: AsyncTestClient[Litestar]) -> None:
    text = json.dumps(example_event(), ensure_ascii=False)
    refused = await organiser.post("/admin/events/new", data={"document": text}, headers=HTML)
    assert refused.status_code == 403
    wrong = await organiser.post("/admin/events/new", data={"document": text, "csrf_token": "guess"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "csrf_failed"
    upload = await organiser.post("/admin/events/import", files={"file": ("e.json", text.encode(), "application/json")})
    assert upload.status_code == 403
    assert await _stored(organiser) == []


def test_error_anchors_and_forgiving_view() -> None:
    assert _anchor("items[0].tie_break[1]") == "items[0].tie_break"
    assert _anchor("items[2].groups[0]") == "items[2].groups"
    assert _anchor("items[0].criteria[1].max") == "items[0].criteria[1].max"
    view = editor_view({"event": "nonsense", "items": [{"criteria": ["x", {"max": 5, "kind": "judgement"}]}, 3]})
    assert view["event"] == {} and view["items"][0]["practical_max"] == "5"
    assert view["items"][1]["criteria"] == []  # kept, so items[1] in an error path still names it
