"""The OpenAPI document and its docs page, usable on a venue LAN without internet.

`/schema` (and `/schema/swagger`) is Swagger UI whose script, styles and favicon come from this server
(`/static/openapi/…`, the files of the `swagger-ui-py` package): no CDN, no web fonts. The document
declares the two ways to authenticate (session cookie, bearer token) and the error body every refusal
has (`components.schemas.Error`, on every operation's 4xx answers).

Wiring (composition root): `Litestar(openapi_config=openapi_config(), route_handlers=[..., *OPENAPI_ASSETS])`, then
`document_refusals(app)`.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Litestar, get
from litestar.exceptions import NotFoundException
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
    SecurityScheme,
)
from litestar.params import FromPath
from litestar.response import File

from contestday.accounts.guards import SESSION_COOKIE

__all__ = ["ASSETS_PATH", "OPENAPI_ASSETS", "REFUSAL_STATUSES", "SECURITY_SCHEMES", "Error", "document_refusals",
           "openapi_asset", "openapi_config", "swagger_static_dir"]

ASSETS_PATH = "/static/openapi"
CSRF_HEADER = "X-CSRF-Token"  # read by contestday.accounts.guards._check_csrf
_PACKAGE = "swagger_ui"  # import name of the PyPI package `swagger-ui-py` (Swagger UI 5.x dist files)

# The only files served: what the page references. Name → media type.
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

DESCRIPTION = f"""职业技能竞赛赛事日系统 / contest-day system

**认证 / Authentication** — 两种方式之一 / either of:
- `session`：登录后的会话 Cookie `{SESSION_COOKIE}`（浏览器自动携带）。写操作（POST/PUT/PATCH/DELETE）还须带请求头
  `{CSRF_HEADER}`，其值为 `GET /api/me` 返回的 `csrf_token`。 / the session cookie set by signing in at `/login`;
  writes also need the `{CSRF_HEADER}` header with the `csrf_token` that `GET /api/me` returns.
- `bearer`：`Authorization: Bearer <CONTESTDAY_ADMIN_TOKEN>`（组织者角色，供脚本使用，无需 CSRF）。 /
  the server's admin token (organiser role, for scripts; no CSRF header needed).

**错误 / Errors** — 每个 4xx/5xx 响应体都是 `Error`：`code`（稳定、供程序判断）、`message`（中文）、
`message_en`，可能还有 `field`（出错的字段）与 `errors`（逐项的问题）。 / every 4xx/5xx body is an `Error`:
a stable `code` to branch on, `message` (Chinese), `message_en`, and maybe `field` and `errors`.
"""

SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "session": SecurityScheme(
        type="apiKey", security_scheme_in="cookie", name=SESSION_COOKIE,
        description=f"登录会话 Cookie；写操作还须带请求头 `{CSRF_HEADER}`（值见 `GET /api/me` 的 `csrf_token`）。 / "
                    f"session cookie from `/login`; unsafe methods also need the `{CSRF_HEADER}` header "
                    "(the `csrf_token` of `GET /api/me`)."),
    "bearer": SecurityScheme(
        type="http", scheme="bearer",
        description="`Authorization: Bearer <CONTESTDAY_ADMIN_TOKEN>`：组织者角色，无需 CSRF。 / the admin token "
                    "(organiser role); no CSRF header needed."),
}

class Error(msgspec.Struct):
    """拒绝或错误的响应体 / the body of every refusal and error (some add context, e.g. `seat`, `role`)."""

    code: Annotated[str, msgspec.Meta(description="稳定的错误代码，供程序判断 / stable code to branch on",
                                      examples=["not_authenticated", "csrf_failed", "missing_field"])]
    message: Annotated[str, msgspec.Meta(description="中文说明 / message in Chinese", examples=["请先登录"])]
    message_en: Annotated[str, msgspec.Meta(description="English message", examples=["please sign in"])]
    field: Annotated[str, msgspec.Meta(description="出错的字段 / the field at fault, when one is",
                                       examples=["name"])] | msgspec.UnsetType = msgspec.UNSET
    errors: Annotated[list[dict[str, Any]], msgspec.Meta(
        description="逐项的问题（如赛事文件的每个错误及其路径） / itemised problems, e.g. each error of an event file "
                    "with its path")] | msgspec.UnsetType = msgspec.UNSET


# the statuses a refusal answers with, documented on every operation
REFUSAL_STATUSES = {
    400: "请求有误 / bad request",
    401: "未登录 / not signed in",
    403: "无权限或 CSRF 校验失败 / not allowed, or the CSRF check failed",
    404: "不存在 / not found",
    409: "与已有数据冲突 / conflicts with what is stored",
    422: "内容不合规则 / breaks a rule",
}


def document_refusals(app: Litestar) -> None:
    """Declare the `Error` body for every refusal status on every documented operation (the composition root
    calls this once the routes are registered; the document is built on its first request)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not handler.include_in_schema:
                continue
            declared = dict(handler.responses or {})
            for status, text in REFUSAL_STATUSES.items():
                declared.setdefault(status, ResponseSpec(Error, description=text, generate_examples=False))
            handler.responses = declared


ERROR_RESPONSE = OpenAPIResponse(
    description="拒绝或错误 / refusal or error",
    content={"application/json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Error"))},
)


@cache
def swagger_static_dir() -> Path:
    """Where the installed `swagger-ui-py` keeps Swagger UI's dist files (found without importing it)."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: pip install -e . (it serves /schema offline)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _asset_url(name: str) -> str:
    # the package version busts browser caches when Swagger UI is upgraded
    return f"{ASSETS_PATH}/{name}?v={version('swagger-ui-py')}"


@get(f"{ASSETS_PATH}/{{name:str}}", include_in_schema=False, sync_to_thread=False, name="openapi-asset")
def openapi_asset(name: FromPath[str]) -> File:
    """One of Swagger UI's files, from the installed package."""
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise NotFoundException()
    return File(swagger_static_dir() / name, media_type=media_type, content_disposition_type="inline",
                headers={"Cache-Control": "public, max-age=86400"})


OPENAPI_ASSETS = [openapi_asset]


def openapi_config() -> OpenAPIConfig:
    """The app's OpenAPI config: Swagger UI at /schema and /schema/swagger from local files, the document
    as /schema/openapi.json and /schema/openapi.yaml."""
    swagger_static_dir()  # a missing package fails here, at start-up, not on the first page view
    favicon = f"<link rel='icon' type='image/png' href='{_asset_url('favicon-32x32.png')}'>"
    swagger = SwaggerRenderPlugin(
        path=["/", "/swagger"], favicon=favicon, js_url=_asset_url("swagger-ui-bundle.js"),
        css_url=_asset_url("swagger-ui.css"), standalone_preset_js_url=_asset_url("swagger-ui-standalone-preset.js"))
    return OpenAPIConfig(
        title="contestday", version="0.1.0", description=DESCRIPTION,
        render_plugins=[swagger, JsonRenderPlugin(), YamlRenderPlugin()],
        components=Components(responses={"Error": ERROR_RESPONSE},
                              security_schemes=SECURITY_SCHEMES),
        security=[{"session": []}, {"bearer": []}],  # either one
    )
