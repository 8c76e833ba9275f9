"""Theory scores over HTTP (#14 A.1): import an item's theory sheet (JSON rows or an .xlsx/.csv file), with a
dry run; a second person confirms it or anyone of the roles discards it; the item's theory state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, MultipartBody

from contestday.accounts.guards import actor_name, requires
from contestday.web import uploads
from contestday.web.bodies import Loose
from contestday.web.sessions import DbSession, WriteSession
from registration.entries.personal import PersonalData
from registration.entries.roster import parse_upload
from results import theory
from results.console.state import item_or_404
from scoring.theory import TheoryRow

__all__ = ["THEORY_ROUTES", "TheoryApi", "TheoryBody", "TheoryFile", "TheoryRowBody"]

Req = Request[Any, Any, Any]
GUARD = requires("chief_judge", "organiser")


class TheoryRowBody(msgspec.Struct):
    """One person's theory score: the ID number (or the ticket code), the name (checked), the score 0–100 with
    at most 2 decimals, or `absent` (the reason the person missed the exam: theory 0)."""

    id_number: Annotated[Loose, msgspec.Meta(description="身份证号（文本）/ the resident ID number, text")] = ""
    ticket_code: Annotated[Loose, msgspec.Meta(description="参赛凭证号 / the entry's ticket code")] = ""
    name: Annotated[Loose, msgspec.Meta(description="姓名（与报名信息核对）/ the name, checked")] = ""
    score: Annotated[Loose, msgspec.Meta(description="理论成绩 0–100，最多 2 位小数（文本或数字）/ 0–100, ≤ 2 "
                                                     "decimals, text or number")] = ""
    absent: Annotated[Loose, msgspec.Meta(description="缺考原因（缺考时填写）/ why the person missed the exam")] = ""


class TheoryBody(msgspec.Struct):
    """An item's theory sheet as rows; `dry_run`: only check; `reason`: required when a confirmed score changes."""

    rows: list[TheoryRowBody]
    dry_run: bool = False
    reason: str = ""


@dataclass
class TheoryFile:
    """An .xlsx or .csv theory sheet (multipart: file, dry_run "1", reason)."""

    file: UploadFile | None = None
    dry_run: str = ""
    reason: str = ""


def _text(value: Loose) -> tuple[str, bool]:
    """A cell's text and whether it came as a number (an ID number sent as a JSON number is refused as such)."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, (int, float)):
        return str(value), True
    return str(value) if isinstance(value, str) else "", False


def _rows(body: TheoryBody) -> list[TheoryRow]:
    rows = []
    for n, r in enumerate(body.rows, start=1):
        id_number, numeric = _text(r.id_number)
        score, _ = _text(r.score)
        rows.append(TheoryRow(n, id_number, _text(r.ticket_code)[0], _text(r.name)[0], score, _text(r.absent)[0],
                              numeric))
    return rows


class TheoryApi(Controller):
    path = "/api/events/{event_id:int}/items/{code:str}/theory"
    guards = [GUARD]
    tags = ["results"]

    @get("/", summary="理论成绩状态 / the item's theory scores")
    async def state(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        return await theory.theory_state(db_session, await item_or_404(db_session, event_id, code))

    @post("/", status_code=200, summary="导入理论成绩（JSON 行，全部或全不）/ import theory scores (JSON rows, "
                                         "all or nothing)")
    async def import_rows(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                          write_session: WriteSession, data: JSONBody[TheoryBody]) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        answer = await theory.stage_import(write_session, item, _rows(data), self._personal(request),
                                           await actor_name(request), filename="json", reason=data.reason,
                                           dry_run=data.dry_run)
        await write_session.commit()
        return answer

    @post("/file", status_code=200, summary="导入理论成绩表（.xlsx/.csv）/ import a theory sheet (.xlsx/.csv)",
          request_max_body_size=uploads.FORM_LIMIT)
    async def import_file(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                          write_session: WriteSession, data: MultipartBody[TheoryFile]) -> dict[str, Any]:
        rows = await parse_upload(data.file, theory.read_theory_sheet, "理论成绩表", "a theory sheet")
        item = await item_or_404(write_session, event_id, code)
        answer = await theory.stage_import(write_session, item, rows, self._personal(request),
                                           await actor_name(request), filename=data.file.filename if data.file else "",
                                           reason=data.reason or "", dry_run=(data.dry_run or "") in ("1", "true"))
        await write_session.commit()
        return answer

    @post("/{import_id:int}/confirm", status_code=200, summary="确认理论成绩导入（须另一人）/ confirm an import "
                                                               "(someone else)")
    async def confirm(self, request: Req, event_id: FromPath[int], code: FromPath[str], import_id: FromPath[int],
                      write_session: WriteSession) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        answer = await theory.confirm_import(write_session, item, import_id, await actor_name(request))
        await write_session.commit()
        return answer

    @post("/{import_id:int}/discard", status_code=200, summary="作废待确认的导入 / discard a pending import")
    async def discard(self, request: Req, event_id: FromPath[int], code: FromPath[str], import_id: FromPath[int],
                      write_session: WriteSession) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        answer = await theory.discard_import(write_session, item, import_id, await actor_name(request))
        await write_session.commit()
        return answer

    @staticmethod
    def _personal(request: Req) -> PersonalData:
        return PersonalData(request.app.state.settings.secret_key)


THEORY_ROUTES = (TheoryApi,)
