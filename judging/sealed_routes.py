"""The sealed mapping's routes: the blind seat view for judges; the encryption judge's mapping and its reveal,
layer by layer once the scores are locked; what has been revealed, for the chief judge and the organiser.
The rules are judging/sealed.py."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from contestday.accounts.guards import actor_name, requires
from contestday.web.bodies import Loose
from contestday.web.errors import Refusal
from contestday.web.sessions import DbSession, WriteSession
from judging import sealed
from registration.events.service import item_by_code

__all__ = ["RevealBody", "SealedController"]


class RevealBody(msgspec.Struct):
    """Which layer of the sealed mapping to reveal next."""

    layer: Annotated[Loose, msgspec.Meta(description="解密层：1 或 2（必填）/ the layer: 1 or 2 (required)")] = None


class SealedController(Controller):
    """The blind view for judges, and the encryption judge's sealed mapping and reveal."""

    path = "/api/events/{event_id:int}/items/{code:str}"
    tags = ["blind numbering"]

    @get("/seats", guards=[requires("judge", "chief_judge", "encryption_judge", "organiser")],
         summary="座位（盲评视图）/ seats, blind")
    async def seats_blind(self, event_id: FromPath[int], code: FromPath[str],
                          db_session: DbSession) -> list[dict[str, Any]]:
        item = await item_by_code(db_session, event_id, code)
        return await sealed.blind_seats(db_session, item.id or 0)

    @get("/mapping", guards=[requires("encryption_judge")], summary="加密对照表（加密裁判）/ the sealed mapping")
    async def mapping(self, event_id: FromPath[int], code: FromPath[str],
                      db_session: DbSession) -> list[dict[str, Any]]:
        item = await item_by_code(db_session, event_id, code)
        return await sealed.full_mapping(db_session, item.id or 0)

    @post("/reveal", guards=[requires("encryption_judge")], status_code=200,
          summary="逐层解密（成绩锁定后）/ reveal the next layer once scores are locked")
    async def reveal(self, event_id: FromPath[int], code: FromPath[str], request: Request[Any, Any, Any],
                     write_session: WriteSession, data: JSONBody[RevealBody]) -> dict[str, Any]:
        item = await item_by_code(write_session, event_id, code)
        layer = data.layer
        if not isinstance(layer, int):
            raise Refusal(422, "missing_field", "layer：应为 1 或 2", "layer must be 1 or 2", field="layer")
        rows = await sealed.reveal(write_session, item.id or 0, layer, await actor_name(request))
        return {"layer": layer, "mapping": rows}

    @get("/revealed", guards=[requires("chief_judge", "organiser", "encryption_judge")],
         summary="已解密部分 / what has been revealed")
    async def revealed(self, event_id: FromPath[int], code: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        item = await item_by_code(db_session, event_id, code)
        stage = await sealed.stage_of(db_session, item.id or 0)
        return {"layer": stage.revealed_layer, "scores_locked": stage.scores_locked_at is not None,
                "mapping": await sealed.revealed_mapping(db_session, item.id or 0)}
