"""The publish gate: everything that stands between an item and publication, one item or the whole event.

Why a module of its own: the publish page asks it for every item of the event on every load (33 in the
demo), so the facts every item needs (stage, open re-mark requests, the last re-check round, which items have
anyone seated) are read in one query each for the whole event, and the ranking, the one costly step, is
computed only for items with someone seated: with nobody seated there are no marks, findings or ties, so the
ranking could not add a blocker. `blockers` for one item goes through the same code, so the page and the API
(and `publish`) can never disagree.

The page must survive one broken item: `event_blockers` turns an unexpected error in one item into that item's
blocker (`internal_error`, logged) and goes on with the others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.errors import Refusal
from judging.models import ItemStage, RemarkRequest
from registration.checkin.models import Attendance, SeatAssignment
from registration.events.models import Item
from registration.events.service import load_event
from results.console.state import findings_of
from results.live import ranking_and_state
from results.recheck import RecheckRound
from results.warnings import result_warnings
from scoring.event_file import EventSpec

__all__ = ["EventFacts", "event_blockers", "event_checks", "item_gate", "load_facts"]

log = logging.getLogger("contestday.results.gate")


@dataclass
class EventFacts:
    """What the gate reads once per event rather than once per item."""

    loaded: tuple[Any, EventSpec]
    stages: dict[int, ItemStage] = field(default_factory=dict)
    remarks: dict[int, int] = field(default_factory=dict)  # item id → open re-mark requests
    recheck: dict[int, str] = field(default_factory=dict)  # item id → status of its last re-check round
    seated: set[int] = field(default_factory=set)  # items with at least one present, seated entry
    warnings: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # filled by item_gate: never block


async def load_facts(session: AsyncSession, event_id: int, item_ids: Sequence[int]) -> EventFacts:
    loaded = await load_event(session, event_id)
    if loaded is None:
        raise Refusal(404, "unknown_event", "没有该赛事", "no such event")
    ids = list(item_ids)
    facts = EventFacts(loaded)
    facts.stages = {s.item_id: s for s in (await session.exec(
        select(ItemStage).where(col(ItemStage.item_id).in_(ids)))).all()}
    facts.remarks = {item_id: n for item_id, n in (await session.exec(
        select(RemarkRequest.item_id, func.count()).where(col(RemarkRequest.item_id).in_(ids),
                                                          col(RemarkRequest.resolved_at).is_(None))
        .group_by(col(RemarkRequest.item_id)))).all()}
    for item_id, status in (await session.exec(select(RecheckRound.item_id, RecheckRound.status)
                                               .where(col(RecheckRound.item_id).in_(ids))
                                               .order_by(col(RecheckRound.id)))).all():
        facts.recheck[item_id] = status  # ordered by id: the last one wins
    facts.seated = set((await session.exec(
        select(SeatAssignment.item_id).join(Attendance, col(Attendance.entry_id) == SeatAssignment.entry_id)
        .where(col(SeatAssignment.item_id).in_(ids), Attendance.status == "present").distinct())).all())
    return facts


def _blocker(code: str, zh: str, en: str, **detail: Any) -> dict[str, Any]:
    return {"code": code, "message": zh, "message_en": en, **detail}


def _cells(cells: list[str]) -> tuple[str, str]:
    more = len(cells) > 10
    return "、".join(cells[:10]) + ("等" if more else ""), ", ".join(cells[:10]) + (", …" if more else "")


def _marking_blockers(ranking: dict[str, Any], state: Any) -> list[dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    for finding in findings_of(state):
        # errors, and panels over their spread tolerance: a warning for the command, but the chief judge
        # must reconcile them before anything is published
        if finding["severity"] == "error" or finding["code"] == "spread_exceeded":
            errors.setdefault(str(finding["code"]), []).append(f"{finding['seat']}/{finding['criterion']}")
    for pending in ranking["pending"]:  # what the findings cannot see: cells nobody on the panel marks
        for reason in pending["reasons"]:
            criterion, _, code = reason.partition(":")
            cells = errors.setdefault(code, [])
            if f"{pending['seat']}/{criterion}" not in cells:
                cells.append(f"{pending['seat']}/{criterion}")
    found = []
    for code, cells in sorted(errors.items()):
        zh, en = _cells(cells)
        if code == "no_panel":
            criteria = "、".join(dict.fromkeys(c.split("/", 1)[1] for c in cells))
            found.append(_blocker(code, f"未设裁判组：评分项 {criteria} 没有裁判评分（{zh}），请先为该赛项指派裁判",
                                  f"no panel: nobody marks criterion {criteria} ({en}); assign judges first",
                                  cells=cells))
        elif code == "theory_missing":
            seats = [c.split("/", 1)[0] for c in cells]
            found.append(_blocker(code, f"有 {len(seats)} 名参赛选手缺理论成绩（未导入或未经第二人确认）："
                                        f"{'、'.join(seats)}", f"{len(seats)} entrant(s) have no confirmed theory "
                                  f"score: {', '.join(seats)}", seats=seats))
        elif code == "deduction_disagreement":
            found.append(_blocker(code, f"扣分不一致，须各裁判一致或由裁判长在控制台裁定扣分：{zh}",
                                  f"deduction judges disagree: they must agree or the chief judge rules on the "
                                  f"console: {en}", cells=cells))
        else:
            found.append(_blocker(code, f"评分未完成或有误（{code}）：{zh}", f"{code}: {en}", cells=cells))
    return found


async def item_gate(session: AsyncSession, event_id: int, item: Item, facts: EventFacts, *, rank_all: bool = True
                    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(the blockers, the provisional ranking they were judged on; None when not computed): publishing
    freezes that same ranking. `rank_all` False skips the ranking of an item nobody is seated in."""
    item_id = item.id or 0
    found: list[dict[str, Any]] = []
    stage = facts.stages.get(item_id) or ItemStage(item_id=item_id)
    if stage.scores_locked_at is None:
        found.append(_blocker("not_locked", "成绩尚未锁定", "the scores are not locked"))
    ranking = None
    if rank_all or item_id in facts.seated:
        ranking, state = await ranking_and_state(session, event_id, item.code, facts.loaded)
        found += _marking_blockers(ranking, state)
        if ranking["time_missing"]:
            seats = ranking["time_missing"]
            found.append(_blocker(
                "time_used_missing",
                f"并列判定用到用时，有 {len(seats)} 名参赛选手尚无用时（请交卷或导入用时）：{'、'.join(seats)}",
                f"the tie-break uses the time used and {len(seats)} entrant(s) have none (hand in or import it): "
                f"{', '.join(seats)}", seats=seats))
        spec = next(i for i in facts.loaded[1].items if i.code == item.code)
        facts.warnings[item_id] = result_warnings(
            item.name, spec.team_size, {g["group"]: len(g["rows"]) for g in ranking["groups"]},
            facts.loaded[1].award_policy)
    remarks = facts.remarks.get(item_id, 0)
    if remarks:
        found.append(_blocker("remark_open", f"有 {remarks} 项重评请求尚未完成",
                              f"{remarks} re-mark request(s) still open", count=remarks))
    status = facts.recheck.get(item_id)
    if status != "done":
        full = status == "full_required"
        found.append(_blocker("recheck_not_done", "复核需全部重新复核（差错超过 5%）" if full else "复核尚未完成",
                              "a full re-check is required" if full else "the re-check is not done", status=status))
    if stage.revealed_layer < 2:
        found.append(_blocker("not_decrypted", f"尚未解密（已揭示第 {stage.revealed_layer} 层，共 2 层）",
                              f"not decrypted: layer {stage.revealed_layer} of 2 revealed"))
    tied = [f"{g['group'] or '—'}:{r['seat']}" for g in (ranking or {"groups": []})["groups"] for r in g["rows"]
            if r["tie_unresolved"]]
    if tied:
        found.append(_blocker("tie_unresolved", f"获奖或晋升分界处并列无法区分：{'、'.join(tied)}，请裁判长裁定",
                              f"an unbreakable tie on an award or promotion boundary: {', '.join(tied)}",
                              seats=tied))
    return found, ranking


async def event_blockers(session: AsyncSession, event_id: int, items: Sequence[Item]
                         ) -> dict[int, list[dict[str, Any]]]:
    """Item id → its blockers, for every item given; an item whose check fails unexpectedly gets an
    `internal_error` blocker (logged with the traceback) and the others are still checked."""
    return (await event_checks(session, event_id, items))[0]


async def event_checks(session: AsyncSession, event_id: int, items: Sequence[Item]
                       ) -> tuple[dict[int, list[dict[str, Any]]], dict[int, list[dict[str, Any]]]]:
    """(item id → blockers, item id → warnings): `event_blockers` with the warnings the same pass found."""
    facts = await load_facts(session, event_id, [i.id or 0 for i in items])
    found: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        try:
            found[item.id or 0] = (await item_gate(session, event_id, item, facts, rank_all=False))[0]
        except Exception as exc:  # one item's fault must not take the page down
            log.exception("publish gate failed", extra={"event_id": event_id, "item": item.code})
            found[item.id or 0] = [_blocker(
                "internal_error", f"检查该赛项时出错（{type(exc).__name__}，已记录日志），请联系技术支持",
                f"checking this item failed ({type(exc).__name__}, logged): contact support")]
    return found, facts.warnings
