"""HTTP API of the event set-up (thin: parse, call the service, answer).

Create, replace and validate read their body whole as the event file (JSON or TOML, `uploads.read_body`) with
their own size, nesting and format refusals; `raw_body` documents that body in the OpenAPI document."""

from __future__ import annotations

import json
import tomllib
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, QueryParameter

from contestday.accounts.guards import current_principal, requires
from contestday.web import uploads
from contestday.web.bodies import raw_body
from contestday.web.errors import Refusal
from contestday.web.sessions import DbSession, WriteSession
from registration.events import service
from registration.events.models import Event
from scoring.catalog import search
from scoring.event_file import EventFileError, EventSpec, FieldError, parse_event_document

__all__ = ["CatalogController", "EventController", "decode_event_file", "read_event_file", "validate_event_file"]


def decode_event_file(raw: bytes, content_type: str = "", filename: str = "") -> Any:
    """JSON or TOML by content type or file name; sniffed when neither says. Bounded in size and nesting
    before the parser (which recurses) sees it (contestday.web.uploads)."""
    uploads.check_size(raw, uploads.MAX_EVENT_FILE_BYTES, "赛事文件", "the event file")
    is_toml = "toml" in content_type or filename.endswith(".toml")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refusal(422, "malformed_event_file", "赛事文件不是 UTF-8 编码", "event file is not UTF-8") from exc
    if not is_toml and ("json" in content_type or filename.endswith(".json") or text.lstrip().startswith("{")):
        uploads.check_text_depth(text)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Refusal(422, "malformed_event_file", f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列",
                           f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    else:
        uploads.check_text_depth(text, toml=True)
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise Refusal(422, "malformed_event_file", f"TOML 格式错误：{exc}", f"malformed TOML: {exc}") from exc
    uploads.check_depth(doc)  # TOML's dotted keys nest without brackets
    return doc


def read_event_file(raw: bytes, content_type: str = "", filename: str = "") -> EventSpec:
    """Decode and validate (blocking: call it through `uploads.off_loop`)."""
    return validate_event_file(decode_event_file(raw, content_type, filename))


def validate_event_file(doc: Any) -> EventSpec:
    try:
        return parse_event_document(doc)
    except EventFileError as exc:
        first = exc.errors[0]
        raise Refusal(422, "invalid_event_file", f"赛事文件有 {len(exc.errors)} 处错误，首个：{first.path} {first.zh}",
                       f"{len(exc.errors)} error(s) in the event file; first: {first.path} {first.en}",
                       errors=[e.as_dict() for e in exc.errors]) from exc


# the body of create, replace and validate: the event file itself
_EVENT_FILE = raw_body("赛事文件（JSON 或 TOML，见 contracts §2）/ the event file, JSON or TOML (contracts §2)",
                       "application/json", "application/toml")


def _warnings(items: tuple[FieldError, ...]) -> list[dict[str, str]]:
    return [w.as_dict() for w in items]


async def _spec_from_request(request: Request[Any, Any, Any]) -> EventSpec:
    raw = await uploads.read_body(request, uploads.MAX_EVENT_FILE_BYTES)
    return await uploads.off_loop(read_event_file, raw, request.headers.get("content-type", ""))


class EventController(Controller):
    path = "/api/events"
    tags = ["events"]
    guards = [requires("organiser")]

    @post("/", status_code=201, guards=[requires("organiser", server_wide=True)],
          summary="创建赛事 / create an event from the event file (JSON or TOML)",
          request_max_body_size=uploads.MAX_EVENT_FILE_BYTES, operation_class=_EVENT_FILE)
    async def create(self, request: Request[Any, Any, Any], write_session: WriteSession) -> dict[str, Any]:
        spec = await _spec_from_request(request)
        event_id = await service.create_event(write_session, spec)
        await write_session.commit()
        return {"id": event_id, "warnings": _warnings(spec.warnings)}

    @get("/", summary="赛事列表 / list events")
    async def index(self, request: Request[Any, Any, Any], db_session: DbSession) -> list[dict[str, Any]]:
        principal = await current_principal(request)
        return await service.list_events(db_session, principal.events("organiser") if principal else frozenset())

    @get("/{event_id:int}", summary="赛事文件 / the event file, normalised")
    async def show(self, event_id: FromPath[int], db_session: DbSession) -> dict[str, Any]:
        doc = await service.event_document(db_session, event_id)
        if doc is None:
            raise Refusal(404, "unknown_event", "找不到该赛事", "no such event")
        return doc

    @put("/{event_id:int}", summary="替换赛事文件 / replace the event file",
         request_max_body_size=uploads.MAX_EVENT_FILE_BYTES, operation_class=_EVENT_FILE)
    async def replace(self, event_id: FromPath[int], request: Request[Any, Any, Any],
                      write_session: WriteSession) -> dict[str, Any]:
        spec = await _spec_from_request(request)
        event = await write_session.get(Event, event_id)
        if event is None:
            raise Refusal(404, "unknown_event", "找不到该赛事", "no such event")
        await service.replace_event(write_session, event, spec)
        await write_session.commit()
        return {"id": event_id, "warnings": _warnings(spec.warnings)}

    @post("/validate", status_code=200, summary="只校验不保存 / validate without storing",
          request_max_body_size=uploads.MAX_EVENT_FILE_BYTES, operation_class=_EVENT_FILE)
    async def validate(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        spec = await _spec_from_request(request)
        return {"ok": True, "warnings": _warnings(spec.warnings)}


class CatalogController(Controller):
    path = "/api/catalog"
    tags = ["catalog"]

    @get("/", summary="职业与专项能力目录检索 / search the occupation and special-ability catalogs")
    async def find(self, q: FromQuery[str] = "", kind: FromQuery[str | None] = None,
                   limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
        if kind not in (None, "occupation", "special_ability"):
            raise Refusal(422, "unknown_kind", "kind 只能是 occupation 或 special_ability",
                           "kind must be occupation or special_ability")
        return [e.as_dict() for e in search(q, kind, limit)]
