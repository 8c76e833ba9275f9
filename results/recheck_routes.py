"""HTTP API of the re-check (复核), for the chief judge and the organiser."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath

from contestday.accounts.guards import actor_name, requires
from contestday.web.errors import Refusal
from contestday.web.sessions import DbSession, WriteSession
from results.recheck import MIN_RATIO, record, round_view, start_round

__all__ = ["RecheckController"]



class RecheckController(Controller):
    path = "/api/console/events/{event_id:int}/items/{code:str}/recheck"
    tags = ["judging"]
    guards = [requires("chief_judge", "organiser")]

    @get("/", summary="复核轮次与结果 / re-check rounds and outcomes")
    async def show(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        return await round_view(db_session, event_id, code)

    @post("/", status_code=201, summary="开始复核（获奖区全部＋随机抽查）/ start a re-check round")
    async def start(self, event_id: FromPath[int], code: FromPath[str], request: Request[Any, Any, Any],
                    write_session: WriteSession) -> dict[str, Any]:
        body = await request.json() if await request.body() else {}
        try:
            ratio = Decimal(str(body.get("ratio", MIN_RATIO)))
        except InvalidOperation:
            raise Refusal(422, "invalid_ratio", "抽查比例格式不正确", "the ratio is not a number") from None
        await start_round(write_session, event_id, code, await actor_name(request), ratio)
        return await round_view(write_session, event_id, code)

    @post("/{seat:str}", status_code=200, summary="记录一个赛位的复核结果 / record one seat's re-check")
    async def check(self, event_id: FromPath[int], code: FromPath[str], seat: FromPath[str],
                    request: Request[Any, Any, Any], write_session: WriteSession) -> dict[str, Any]:
        body = await request.json()
        await record(write_session, event_id, code, seat, str(body.get("outcome", "")), str(body.get("note", "")),
                     await actor_name(request))
        return await round_view(write_session, event_id, code)
