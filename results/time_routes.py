"""Time used over HTTP (#14 A.2): an item's times (blind: seats only, and who has none yet), and an import or a
correction of them (seat or ticket, then seconds or the hand-in time), all or nothing; a reason is required
once the item's scores are locked. The 交卷 taps themselves come from the tablet (judging/service.py) and the
console (results/console/routes.py)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from contestday.accounts.guards import actor_name, requires
from contestday.web.bodies import Loose
from contestday.web.errors import Refusal
from contestday.web.sessions import DbSession, WriteSession
from judging import handin
from results.console.state import item_or_404

__all__ = ["TIME_ROUTES", "TimeApi", "TimeBody", "TimeRowBody"]

Req = Request[Any, Any, Any]
GUARD = requires("chief_judge", "organiser")


class TimeRowBody(msgspec.Struct):
    """One entry's time used: the seat (or the ticket code), then the seconds (3600, "3600", "1:00:00") or the
    moment the contestant handed in (ISO 8601 with the time zone: the seat session's start is subtracted)."""

    seat: Annotated[Loose, msgspec.Meta(description="赛位（文本）/ the seat, text")] = ""
    ticket: Annotated[Loose, msgspec.Meta(
        description="参赛凭证号（无赛位时）/ the ticket code, instead of the seat")] = ""
    seconds: Annotated[Loose, msgspec.Meta(description="用时：秒数或 时:分:秒 / seconds, or h:mm:ss")] = None
    finished_at: Annotated[Loose, msgspec.Meta(
        description="交卷时间（ISO 8601，含时区），代替 seconds / the hand-in time with its zone, instead of "
                    "seconds")] = ""


class TimeBody(msgspec.Struct):
    """An item's times used, all or nothing; `reason`: required once the scores are locked (logged)."""

    rows: list[TimeRowBody]
    reason: str = ""


def _text(value: Loose, field: str, row: int) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and field == "seat":
        return str(value)
    raise Refusal(422, "invalid_value", f"第 {row} 行：{field} 应为文本", f"row {row}: {field} must be text",
                  field=field)


class TimeApi(Controller):
    path = "/api/events/{event_id:int}/items/{code:str}/time-used"
    guards = [GUARD]
    tags = ["results"]

    @get("/", summary="用时（赛位，及尚无用时者）/ the item's times used, and who has none")
    async def state(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        item = await item_or_404(db_session, event_id, code)
        return {"item": item.code} | await handin.time_state(db_session, item.id or 0)

    @post("/", status_code=200, summary="导入或更正用时（全部或全不；锁定后须填原因）/ import or correct times used "
                                         "(all or nothing; a reason after the lock)")
    async def set_times(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                        write_session: WriteSession, data: JSONBody[TimeBody]) -> dict[str, Any]:
        item = await item_or_404(write_session, event_id, code)
        rows = [handin.TimeRow(n, _text(r.seat, "seat", n), _text(r.ticket, "ticket", n), r.seconds,
                               _text(r.finished_at, "finished_at", n)) for n, r in enumerate(data.rows, start=1)]
        answer = await handin.set_times(write_session, event_id, item.id or 0, rows, await actor_name(request),
                                        data.reason)
        return {"item": item.code} | answer


TIME_ROUTES = (TimeApi,)
