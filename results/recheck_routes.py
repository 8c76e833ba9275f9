"""HTTP API of the re-check (复核), for the chief judge and the organiser.

The bodies are typed (`RecheckStartBody`, `RecheckBody`) with loose fields on purpose: a ratio of the wrong kind
still gets `invalid_ratio`, and the outcome and note reach the service as text, as when the bodies were read by
hand. Starting a round takes an empty body too (the default ratio): its body defaults to `RecheckStartBody()`
rather than being `| None`, so the OpenAPI document shows the body itself, not "it or null".
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from contestday.accounts.guards import actor_name, requires
from contestday.web.bodies import Loose
from contestday.web.errors import Refusal
from contestday.web.sessions import DbSession, WriteSession
from results.recheck import MIN_RATIO, record, round_view, start_round

__all__ = ["RecheckBody", "RecheckController", "RecheckStartBody"]

# --- bodies ---
# Any JSON value one level deep: the handler turns it into text itself and the service refuses what it cannot use.


class RecheckStartBody(msgspec.Struct, frozen=True):
    """Start a round: the share of the other seats checked at random (absent: the minimum). Frozen: an instance is
    the default of an empty body."""

    ratio: Annotated[Loose | msgspec.UnsetType, msgspec.Meta(
        description=f"随机抽查比例，小数（默认 {MIN_RATIO}）/ the random share, a fraction (default {MIN_RATIO})",
    )] = msgspec.UNSET


class RecheckBody(msgspec.Struct):
    """One seat's re-check: the outcome (ok | corrected) and the note (required when corrected)."""

    outcome: Annotated[Loose, msgspec.Meta(description="结果：ok 或 corrected / the outcome: ok or corrected")] = ""
    note: Annotated[Loose, msgspec.Meta(
        description="更正内容（文本，已更正时必填）/ what was corrected, text (required when corrected)")] = ""


class RecheckController(Controller):
    path = "/api/console/events/{event_id:int}/items/{code:str}/recheck"
    tags = ["judging"]
    guards = [requires("chief_judge", "organiser")]

    @get("/", summary="复核轮次与结果 / re-check rounds and outcomes")
    async def show(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        return await round_view(db_session, event_id, code)

    @post("/", status_code=201, summary="开始复核（获奖区全部＋随机抽查）/ start a re-check round")
    async def start(self, event_id: FromPath[int], code: FromPath[str], request: Request[Any, Any, Any],
                    write_session: WriteSession,
                    data: JSONBody[RecheckStartBody] = RecheckStartBody()) -> dict[str, Any]:
        wanted = MIN_RATIO if data.ratio is msgspec.UNSET else data.ratio
        try:
            ratio = Decimal(str(wanted))
        except InvalidOperation:
            raise Refusal(422, "invalid_ratio", "抽查比例格式不正确", "the ratio is not a number") from None
        await start_round(write_session, event_id, code, await actor_name(request), ratio)
        return await round_view(write_session, event_id, code)

    @post("/{seat:str}", status_code=200, summary="记录一个赛位的复核结果 / record one seat's re-check")
    async def check(self, event_id: FromPath[int], code: FromPath[str], seat: FromPath[str],
                    request: Request[Any, Any, Any], write_session: WriteSession,
                    data: JSONBody[RecheckBody]) -> dict[str, Any]:
        await record(write_session, event_id, code, seat, str(data.outcome), str(data.note), await actor_name(request))
        return await round_view(write_session, event_id, code)
