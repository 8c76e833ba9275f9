"""The API docs on a venue LAN without internet: /schema loads Swagger UI's script, styles and favicon from
this server only (and renders in Chromium with every other host blocked); the OpenAPI document declares
the two ways to authenticate and the error body."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contestday.accounts.guards import SESSION_COOKIE
from contestday.openapi import ASSETS_PATH
from contestday.settings import Settings

CDN_MARKERS = ("googleapis", "gstatic", "jsdelivr", "unpkg", "cdn.", "redoc.ly")
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class _Refs(HTMLParser):
    """Every URL the page makes the browser load: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        self.urls += [value for name, value in attrs if name == wanted and value]


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
async def test_docs_page_loads_only_same_origin_assets(client: AsyncTestClient[Litestar], path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert not [m for m in CDN_MARKERS if m in page.text]
    refs = _Refs()
    refs.feed(page.text)
    assert len(refs.urls) == 4, refs.urls  # css, bundle, preset, favicon
    for url in refs.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
        assert parts.path.startswith(f"{ASSETS_PATH}/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = parts.path[parts.path.rfind("."):]
        assert asset.headers["content-type"].startswith(MEDIA_TYPES[suffix]), (url, asset.headers)
        assert len(asset.content) > 500, url
        if suffix == ".css":  # no web fonts or images pulled from elsewhere by the styles
            assert "@import" not in asset.text and "url(http" not in asset.text.replace(" ", "")


@pytest.mark.parametrize("name", ["index.html", "swagger-initializer.js", "..%2Fcore.py", "nope.js"])
async def test_only_the_listed_assets_are_served(client: AsyncTestClient[Litestar], name: str) -> None:
    assert (await client.get(f"{ASSETS_PATH}/{name}")).status_code == 404


async def test_document_declares_authentication_and_the_error_shape(client: AsyncTestClient[Litestar]) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    assert doc["info"]["title"] == "contestday" and doc["info"]["version"] == "0.1.0"
    assert doc["info"]["description"].startswith("职业技能竞赛赛事日系统 / contest-day system")
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"] | {"description": ""} == {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE, "description": ""}
    assert "X-CSRF-Token" in schemes["session"]["description"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert doc["security"] == [{"session": []}, {"bearer": []}]

    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "message_en"}
    assert {"code", "message", "message_en", "field", "errors"} <= set(error["properties"])
    assert [choice["type"] for choice in error["properties"]["errors"]["oneOf"]] == ["array"]
    ref = doc["components"]["responses"]["Error"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Error"
    operations = [op for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert len(operations) > 50
    for op in operations:  # every operation says what its refusals look like
        for status in ("400", "401", "403", "404", "409", "422"):
            assert op["responses"][status]["content"]["application/json"]["schema"]["$ref"] == ref, (op, status)
    assert (await client.get("/schema/openapi.yaml")).status_code == 200


async def test_a_real_refusal_has_the_declared_shape(client: AsyncTestClient[Litestar]) -> None:
    error = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]["Error"]
    refused = await client.get("/api/me")
    assert refused.status_code == 401
    body: dict[str, Any] = refused.json()
    assert set(error["required"]) <= set(body) and body["code"] == "not_authenticated"
    assert all(isinstance(body[key], str) for key in ("code", "message", "message_en"))


@pytest.mark.browser
def test_docs_render_in_chromium_with_other_hosts_blocked(settings: Settings, live_server: str,
                                                           browser: Any) -> None:
    origin = urlsplit(live_server).netloc
    elsewhere: list[str] = []
    failed: list[str] = []

    def only_this_server(route: Any) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.route("**/*", only_this_server)
    page.goto(f"{live_server}/schema")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "contestday" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".swagger-ui .opblock").count() > 10  # the operations are listed
    assert page.locator(".swagger-ui .auth-wrapper .authorize").count() == 1  # security schemes → Authorize
    page.click(".swagger-ui .auth-wrapper .authorize")
    dialog = page.inner_text(".swagger-ui .dialog-ux")
    assert "session" in dialog and "bearer" in dialog and SESSION_COOKIE in dialog
    assert elsewhere == [] and failed == [] and errors == []
    page.close()
