"""HTTP API of the paper path: two typings of a judge's paper sheet by two people, then a third resolves."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import current_principal, requires
from contestday.web.bodies import Scalar
from contestday.web.errors import Refusal
from contestday.web.sessions import DbSession, WriteSession
from judging.models import Judge
from judging.paper import enter_sheet, resolve_sheet, sheet_state
from judging.ws import console_channel, publish_resolved
from registration.events.models import Item

__all__ = ["PaperChoicesBody", "PaperController", "PaperMark", "PaperSheetBody"]


# --- bodies ---
# Loose on purpose: judging.paper reads every value itself and refuses with its own codes (`invalid_round`,
# `invalid_sheet`, `unknown_criterion`, `invalid_score`…), so the decoder accepts whatever it used to judge.


class PaperMark(msgspec.Struct):
    """One cell of a paper sheet: a seat, a criterion code and the mark as written ("" or null: blank)."""

    seat: Scalar = ""
    criterion: Scalar = ""
    value: Scalar = None


class PaperSheetBody(msgspec.Struct):
    """One typing of a judge's sheet: `round` 1 or 2, and its marks (at least one)."""

    round: Scalar = None
    marks: list[PaperMark] | Scalar = None


class PaperChoicesBody(msgspec.Struct):
    """The third person's marks for the cells where the two typings differ (none when they agree)."""

    choices: list[PaperMark] | Scalar = None


async def _who(request: Request[Any, Any, Any]) -> str:
    """Who typed: name and account, so two people with one name are still two people."""
    principal = await current_principal(request)
    assert principal is not None
    return f"{principal.name}#{principal.user_id or principal.via}"


async def _target(session: AsyncSession, event_id: int, code: str, judge_id: int) -> tuple[Item, Judge]:
    item = (await session.exec(select(Item).where(Item.event_id == event_id, Item.code == code))).first()
    judge = await session.get(Judge, judge_id)
    if item is None or judge is None or judge.event_id != event_id:
        raise Refusal(404, "not_found", "找不到该赛项或裁判", "no such item or judge")
    return item, judge


class PaperController(Controller):
    path = "/api/events/{event_id:int}/items/{code:str}/paper/{judge_id:int}"
    tags = ["judging"]
    guards = [requires("chief_judge", "organiser")]

    @get("/", summary="纸质评分表录入情况与差异 / the paper sheet's typings and differences")
    async def state(self, event_id: FromPath[int], code: FromPath[str], judge_id: FromPath[int],
                    db_session: DbSession) -> dict[str, Any]:
        item, judge = await _target(db_session, event_id, code, judge_id)
        return await sheet_state(db_session, item.id or 0, judge.id or 0)

    @post("/", status_code=201, summary="录入纸质评分表（第 1 或 2 次）/ type a paper sheet (round 1 or 2)")
    async def enter(self, event_id: FromPath[int], code: FromPath[str], judge_id: FromPath[int],
                    request: Request[Any, Any, Any], write_session: WriteSession,
                    data: JSONBody[PaperSheetBody]) -> dict[str, Any]:
        item, judge = await _target(write_session, event_id, code, judge_id)
        round_: Any = data.round  # any value: enter_sheet refuses all but 1 and 2 (`invalid_round`)
        await enter_sheet(write_session, item.id or 0, judge, round_, msgspec.to_builtins(data.marks),
                          await _who(request))
        return await sheet_state(write_session, item.id or 0, judge.id or 0)

    @post("/resolve", status_code=200, summary="第三人核定差异，分数生效 / a third person resolves; marks count")
    async def resolve(self, event_id: FromPath[int], code: FromPath[str], judge_id: FromPath[int],
                      request: Request[Any, Any, Any], write_session: WriteSession,
                      channels: NamedDependency[ChannelsPlugin], data: JSONBody[PaperChoicesBody]) -> dict[str, Any]:
        item, judge = await _target(write_session, event_id, code, judge_id)
        changes = await resolve_sheet(write_session, item.id or 0, judge, msgspec.to_builtins(data.choices),
                                      await _who(request))
        for change in changes:  # committed: the consoles see paper marks like tablet marks, in seq order
            if change["type"] == "remark_resolved":  # and the judge's tablets drop the answered request
                publish_resolved(channels, event_id, [change])
            else:
                channels.publish(json.dumps(change, ensure_ascii=False), [console_channel(event_id)])
        resolved = sum(1 for c in changes if c["type"] == "remark_resolved")
        return {"applied": len(changes) - resolved, **({"resolved": resolved} if resolved else {})}
