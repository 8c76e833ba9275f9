"""The chief judge's pages for two steps before publishing that had only a JSON API: the re-check (复核) and
the ordering of tied blocks on an award or promotion boundary (并列裁定).

Plain server-rendered forms with the CSRF token, like the publish page: they work without JavaScript. Every
rule stays where it was (results/recheck.py, results/publication.py `decide_tie`); these handlers only read
forms, call it, and redirect back (303) or show the page again with the refusal. GETs read through the read
session (no write lock). Blind: seats and scores only, never a name.

- `GET  /console/events/{id}/items/{code}/recheck`: the rounds, the seats to re-check, the outcome.
- `POST …/recheck` `ratio` (percent): start a round; `POST …/recheck/seats/{seat}` `outcome` ok|corrected, `note`.
- `GET  /console/events/{id}/items/{code}/ties`: each unresolved tied block, and the orders already recorded.
- `POST …/ties` `group`, `block` (the seats, comma-separated), `pos_<seat>` (1…n), `reason`: order one block.

The forms are typed: `RecheckStartForm`, `RecheckForm`, and `TieForm`, the tie form by field name (its
`pos_<seat>` fields are as many as the block has seats), each field's first value read as the form was before.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language, register
from contestday.web.sessions import WriteSession
from registration.events.service import event_or_404
from results.console.state import item_or_404
from results.live import TieOrder, provisional_ranking
from results.publication import decide_tie
from results.recheck import MIN_RATIO, record, round_view, start_round
from results.theory_pages import THEORY_PAGES
from scoring.event_file import CHINA_TZ

__all__ = ["CHIEF_PAGES", "RecheckForm", "RecheckPages", "RecheckStartForm", "TieForm", "TiePages", "tied_blocks"]

Req = Request[Any, Any, Any]
DONE = {"started": "已开始新一轮复核。", "recorded": "已记录赛位 {seat} 的复核结果。", "decided": "已记录并列裁定。"}


# --- bodies ---
@dataclass
class RecheckStartForm:
    """Start a round: the random share in percent ("" = 15, a trailing "%" allowed)."""

    ratio: str = ""


@dataclass
class RecheckForm:
    """One seat's re-check: the outcome (the button pressed: ok | corrected) and the note."""

    outcome: str = ""
    note: str = ""


# The tie form's fields: `group`, `block` (the seats, comma-separated), `reason` and one `pos_<seat>` per seat of
# the block, so not a fixed set: typed by field name, each field text, or several texts when sent more than once.
TieForm: TypeAlias = dict[str, str | list[str]]


def _first(form: TieForm, field: str) -> str:
    """The field's first value, "" when absent (as `FormMultiDict.get` gave it)."""
    value = form.get(field, "")
    return value if isinstance(value, str) else (value[0] if value else "")


def tied_blocks(ranking: dict[str, Any]) -> list[dict[str, Any]]:
    """Each unresolved tied block (rows of one group sharing a rank, flagged `tie_unresolved`), in order."""
    blocks: list[dict[str, Any]] = []
    for group in ranking["groups"]:
        for row in group["rows"]:
            if not row["tie_unresolved"]:
                continue
            last = blocks[-1] if blocks else None
            if last and last["group"] == group["group"] and last["rank"] == row["rank"]:
                last["rows"].append(row)
            else:
                blocks.append({"group": group["group"], "rank": row["rank"], "rows": [row]})
    for block in blocks:  # the awards the block straddles, as the engine gives them by position ("—": none)
        block["awards"] = list(dict.fromkeys(r["award"] or "—" for r in block["rows"]))
    return blocks


def _message(request: Req) -> str:
    text = DONE.get(request.query_params.get("done", ""))
    return gettext(text, preferred_language(request)).format(seat=request.query_params.get("seat", "")) if text else ""


def _error(request: Req, exc: Refusal) -> str:
    return exc.message_en if preferred_language(request) == "en" else exc.message


class RecheckPages(Controller):
    path = "/console/events/{event_id:int}/items/{code:str}/recheck"
    guards = [requires("chief_judge", "organiser")]
    include_in_schema = False

    async def _page(self, request: Req, session: AsyncSession, event_id: int, code: str, status: int = 200,
                    done: str = "", error: str = "") -> Template:
        event = await event_or_404(session, event_id)
        item = await item_or_404(session, event_id, code)
        view = await round_view(session, event_id, item.code)
        ranking = await provisional_ranking(session, event_id, item.code)
        scores = {r["seat"]: r["total"] for g in ranking["groups"] for r in g["rows"]}
        last = view["rounds"][-1] if view["rounds"] else None
        return Template("results/recheck.html", status_code=status, context={
            "lang": preferred_language(request), "principal": await current_principal(request), "event": event,
            "item": item, "view": view, "last": last, "open": last is not None and last["status"] == "open",
            "scores": scores, "pending": {p["seat"]: p["text"] for p in ranking["pending"]},
            "min_ratio": int(MIN_RATIO * 100), "done": done, "error": error}, headers={"Cache-Control": "no-store"})

    @get("/")
    async def page(self, request: Req, event_id: FromPath[int], code: FromPath[str]) -> Template:
        async with request.app.state.read_session() as session:
            return await self._page(request, session, event_id, code, done=_message(request))

    @post("/", status_code=303)
    async def start(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                    write_session: WriteSession, data: URLEncodedBody[RecheckStartForm]) -> Redirect | Template:
        try:
            try:
                ratio = Decimal((data.ratio or "15").strip().rstrip("%")) / 100
            except InvalidOperation:
                raise Refusal(422, "invalid_ratio", "抽查比例应为 15 到 100 之间的数", "the ratio is 15…100") from None
            await start_round(write_session, event_id, code, await actor_name(request), ratio)
        except Refusal as exc:
            await write_session.rollback()
            return await self._page(request, write_session, event_id, code, exc.status_code, error=_error(request, exc))
        return Redirect(f"/console/events/{event_id}/items/{code}/recheck?done=started", status_code=303)

    @post("/seats/{seat:str}", status_code=303)
    async def check(self, request: Req, event_id: FromPath[int], code: FromPath[str], seat: FromPath[str],
                    write_session: WriteSession, data: URLEncodedBody[RecheckForm]) -> Redirect | Template:
        try:
            await record(write_session, event_id, code, seat, data.outcome, data.note, await actor_name(request))
        except Refusal as exc:
            await write_session.rollback()
            return await self._page(request, write_session, event_id, code, exc.status_code, error=_error(request, exc))
        return Redirect(f"/console/events/{event_id}/items/{code}/recheck?done=recorded&seat={seat}#seat-{seat}",
                        status_code=303)


class TiePages(Controller):
    path = "/console/events/{event_id:int}/items/{code:str}/ties"
    # guards per handler: the organiser may look; only the chief judge decides
    include_in_schema = False

    async def _page(self, request: Req, session: AsyncSession, event_id: int, code: str, status: int = 200,
                    done: str = "", error: str = "") -> Template:
        event = await event_or_404(session, event_id)
        item = await item_or_404(session, event_id, code)
        ranking = await provisional_ranking(session, event_id, item.code)
        decided = (await session.exec(select(TieOrder).where(TieOrder.item_id == item.id)
                                      .order_by(col(TieOrder.id)))).all()
        principal = await current_principal(request)
        return Template("results/ties.html", status_code=status, context={
            "lang": preferred_language(request), "principal": principal, "event": event, "item": item,
            "blocks": tied_blocks(ranking), "pending": ranking["pending"],
            "decided": [{"group": d.group_name, "seats": d.seats, "reason": d.reason, "by": d.by,
                         "at": d.at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")} for d in decided],
            "may_decide": principal is not None and principal.holds("chief_judge", event.id, item.code),
            "done": done, "error": error}, headers={"Cache-Control": "no-store"})

    @get("/", guards=[requires("chief_judge", "organiser")])
    async def page(self, request: Req, event_id: FromPath[int], code: FromPath[str]) -> Template:
        async with request.app.state.read_session() as session:
            return await self._page(request, session, event_id, code, done=_message(request))

    @post("/", status_code=303, guards=[requires("chief_judge")])
    async def decide(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                     write_session: WriteSession, data: URLEncodedBody[TieForm]) -> Redirect | Template:
        block = [s for s in _first(data, "block").split(",") if s]
        try:
            positions: dict[str, int] = {}
            for seat in block:
                try:
                    positions[seat] = int(_first(data, f"pos_{seat}"))
                except ValueError:
                    positions[seat] = 0
            if sorted(positions.values()) != list(range(1, len(block) + 1)):
                raise Refusal(422, "invalid_order", f"请为每个赛位选择不同的名次顺序（1–{len(block)}）",
                               f"give each seat a different place, 1 to {len(block)}")
            seats = sorted(block, key=positions.__getitem__)
            await decide_tie(write_session, event_id, code, _first(data, "group"), seats, _first(data, "reason"),
                             await actor_name(request))
        except Refusal as exc:
            await write_session.rollback()
            return await self._page(request, write_session, event_id, code, exc.status_code, error=_error(request, exc))
        return Redirect(f"/console/events/{event_id}/items/{code}/ties?done=decided", status_code=303)


CHIEF_PAGES = (RecheckPages, TiePages, *THEORY_PAGES)  # the theory import page: results/theory_pages.py

register({
    "复核": "Re-check",
    "并列裁定": "Tie ordering",
    "获奖区全部赛位加上其余赛位随机抽查（不少于 15%），逐一核对评分与登分；更正超过 5% 时须全部重新复核。":
        "Every seat in the award zone plus a random share of the others (at least 15 %) is checked against the "
        "score sheets. When more than 5 % are corrected, every seat must be re-checked.",
    "更正分数请先在裁判长控制台请裁判复评，再在此记录“已更正”并写明更正内容。":
        "To correct a mark, first ask the judge to re-mark on the chief judge's console, then record it here as "
        "corrected with what was changed.",
    "尚未复核。": "Not re-checked yet.",
    "第 {n} 轮": "round {n}",
    "进行中": "open",
    "已完成": "done",
    "须全面复核": "full re-check required",
    "更正超过允许的差错率：须对全部赛位重新复核。": "More corrections than the allowed error rate: every seat must "
                                                  "be re-checked.",
    "开始复核": "Start the re-check",
    "开始全面复核": "Start the full re-check",
    "随机抽查比例（%）": "Random share (%)",
    "本轮赛位": "Seats of this round",
    "赛位": "Seat",
    "原因": "Why",
    "当前总分": "Current total",
    "结果": "Outcome",
    "获奖区": "award zone",
    "随机抽查": "random",
    "全面复核": "full",
    "无误": "Right",
    "已更正": "Corrected",
    "更正内容（已更正时必填）": "What was corrected (required when corrected)",
    "已核对 {c}/{n}，更正 {k}": "checked {c}/{n}, corrected {k}",
    "历次复核": "Earlier rounds",
    "返回发布成绩": "Back to publishing",
    "获奖或晋升分界处的并列须由裁判长按规程裁定先后，并写明理由；裁定记入审计日志。":
        "A tie on an award or promotion boundary is ordered by the chief judge under the rules, with a reason; "
        "the decision is written to the audit log.",
    "该赛项没有需要裁定的并列。": "This item has no tie to order.",
    "组别": "Group",
    "并列第 {r} 名": "tied at rank {r}",
    "名次顺序": "Place",
    "实操": "Practical",
    "总分": "Total",
    "该并列跨越：": "This tie spans: ",
    "裁定理由": "Reason",
    "确认裁定": "Record the order",
    "仅裁判长可裁定并列。": "Only the chief judge can order a tie.",
    "已裁定": "Decided",
    "有赛位尚未计算出成绩（{s}），并列可能随评分变化。": "Some seats are not computed yet ({s}): ties may change "
                                                    "as marks come in.",
    "已开始新一轮复核。": "A new re-check round has started.",
    "已记录赛位 {seat} 的复核结果。": "Recorded the re-check of seat {seat}.",
    "已记录并列裁定。": "The tie order is recorded.",
    "复核该赛项": "Re-check this item",
    "裁定并列": "Order the tie",
})
