"""The provisional ranking of one item from the marks stored so far, for the chief judge's console.

It lives in `results` (not `judging`) because it runs the results engine, and the layers go
results → judging → registration: judging may not import results. The stored marks become exactly the inputs
of contracts §3 — present entries ranked, everyone else unranked — and `results.engine.compute_frames`, the
function behind `contestday results compute`, does every step; nothing here re-implements a rule.

Provisional, and blind: rows are keyed by seat (before decryption the console knows seats, not names).
Entries whose marks cannot be computed yet (a missing mark, a criterion no panel judge marks, measurement judges
who disagree, deduction judges who disagree with no ruling of the chief judge yet) are left out of the ranking
and listed as pending; the award counts then follow the entries ranked so far. An item that weighs theory ranks
on the total with the confirmed theory scores (results/theory.py; a team's is its members' mean); an entry
without one yet is pending (`theory:theory_missing`). Time used (judging/handin.py: the 交卷 taps, imports and
corrections, less the minutes given back) is each entry's `time_used`; an item with `time_used` in its tie-break
ranks an entry without one after any that has one, as the offline command ranks a blank `time_used_s`, and
lists its seat in `time_missing` (the publish gate refuses until it is recorded).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import UTCDateTime, utcnow
from contestday.web.errors import Refusal
from judging.analysis import fmt, histogram
from judging.handin import entry_times
from registration.entries.models import Entry as EntryRow
from registration.events.service import load_event
from results.console.state import ItemState, findings_of, item_or_404, load_item_state
from results.convert import input_frames
from results.engine import compute_frames
from results.model import Entry, Inputs, Mark, Person, Placing
from results.ranking import apply_chief_order
from results.theory import entry_theories
from scoring.event_file import AwardPolicy, EventSpec, ItemSpec
from scoring.marking import aggregate
from scoring.rounding import from_cents

__all__ = ["PENDING_TEXT", "TieOrder", "apply_tie_orders", "pending_of", "provisional_inputs", "provisional_ranking",
           "ranking_and_state", "unmarked"]


class TieOrder(SQLModel, table=True):
    """The chief judge's order for one tied block on an award or promotion boundary (domain.md: never
    silently), with the reason. Applied by `results.ranking.apply_chief_order`, the engine's own rule; an
    order that no longer matches a tied block (the marks changed) is ignored, and the tie shows again."""

    __tablename__ = "tie_order"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False,
                                          index=True))
    group_name: str = Field(default="", max_length=64)
    seats: list[str] = Field(default_factory=list, sa_type=JSON)  # the block, first to last
    reason: str = Field(max_length=500)
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def apply_tie_orders(item: ItemSpec, policy: AwardPolicy, rows: list[dict[str, Any]],
                     orders: list[list[str]]) -> list[dict[str, Any]]:
    """One group's ranked rows (position order) with each recorded order applied that still matches a tied
    block; the others are left as they are (still `tie_unresolved`)."""
    placings = [Placing(r["seat"], r["position"], r["rank"], r["award"] or "", r["cert_level"], r["promoted"],
                        r["tie_unresolved"]) for r in rows]
    qualified = {r["seat"]: bool(r["qualified"]) for r in rows}
    for order in orders:
        try:
            placings = apply_chief_order(item, policy, placings, qualified, order)
        except ValueError:
            continue
    by_seat = {r["seat"]: r for r in rows}
    return [{**by_seat[p.entry], "position": p.position, "rank": p.rank, "award": p.award or None,
             "cert_level": p.cert_level, "promoted": p.promoted, "tie_unresolved": p.tie_unresolved,
             "decided": p.entry in {s for o in orders for s in o} and not p.tie_unresolved}
            for p in placings]


PENDING_TEXT = {"no_panel": "未设裁判组", "missing_marks": "缺评", "measurement_disagreement": "测量值不一致",
                "deduction_disagreement": "扣分不一致（待裁判长裁定）",
                "theory_missing": "缺理论成绩（未导入或未确认）"}


def unmarked(state: ItemState) -> dict[str, list[str]]:
    """Seat → `criterion:code` for each non-deduction criterion with no mark at all: `no_panel` when no
    judge of the panel marks that criterion (nobody will), else `missing_marks`. The findings cover the
    second case only when some panel judge is expected for the seat; the engine refuses both (MarkingError
    missing_marks), so they must be pending, never ranked."""
    judged = [tuple(m.criteria) for m, _j in state.markers if m.role == "judge"]
    found: dict[str, list[str]] = {}
    for seat in state.seats:
        for c in state.specs:
            if c.kind != "deduction" and not state.marks.get((seat.label, c.code)):
                covered = any(not codes or c.code in codes for codes in judged)
                found.setdefault(seat.label, []).append(f"{c.code}:{'missing_marks' if covered else 'no_panel'}")
    return found


def pending_of(state: ItemState) -> dict[str, list[str]]:
    """Seat → why it cannot be ranked yet (`criterion:code`, the errors the console shows and every empty
    cell the engine would refuse)."""
    pending: dict[str, list[str]] = {}
    for finding in findings_of(state):
        if finding["severity"] == "error":
            pending.setdefault(str(finding["seat"]), []).append(f"{finding['criterion']}:{finding['code']}")
    for seat, reasons in unmarked(state).items():
        have = pending.setdefault(seat, [])
        have += [r for r in reasons if r not in have]
    return pending


async def provisional_inputs(session: AsyncSession, event_id: int, item_code: str | None,
                             loaded: tuple[Any, EventSpec] | None = None, state: ItemState | None = None,
                             ) -> tuple[Inputs, ItemState, dict[str, list[str]]]:
    """Contracts §3 inputs for one item: ENTRIES keyed by seat (an entry without a seat by `#id`), in seat
    order, and one mark per stored non-blank score. Also the item's state and, per seat, why it is pending.
    `loaded`: the event as `load_event` gives it, for a caller that ranks many items; `state`: the item's,
    already read in this session (the console's snapshot)."""
    loaded = loaded or await load_event(session, event_id)
    if loaded is None:
        raise Refusal(404, "unknown_event", "没有该赛事", "no such event")
    _event, spec = loaded
    item = state.item if state is not None else await item_or_404(session, event_id, item_code)
    item_spec = spec.item(item.code)
    assert item_spec is not None  # the item row and the spec come from the same tables
    state = state or await load_item_state(session, item)
    pending = pending_of(state)
    theories: dict[int, Decimal | None] = {}  # an item that does not weigh theory: none, and none needed
    if item_spec.theory_weight > 0:
        theories = await entry_theories(session, item.id or 0)
        for seat in state.seats:
            if theories.get(seat.entry_id) is None:
                pending.setdefault(seat.label, []).append("theory:theory_missing")
    times = {entry_id: Decimal(seconds) for entry_id, seconds in (await entry_times(session, item.id or 0)).items()}
    seated = {s.entry_id: s for s in state.seats}
    others = (await session.exec(
        select(EntryRow.id, EntryRow.group_name).where(EntryRow.item_id == item.id, EntryRow.state == "active")
        .order_by(col(EntryRow.id)))).all()
    rows: list[tuple[str, str, str, Decimal | None, Decimal | None]] = [
        (s.label, s.group, "incomplete" if s.label in pending else "present", theories.get(s.entry_id),
         times.get(s.entry_id)) for s in state.seats]
    rows += [(f"#{entry_id}", group, "absent", None, None) for entry_id, group in others if entry_id not in seated]
    entries = tuple(
        Entry(key, item.code, group, status, order, theory, used,
              (Person(order + 2, key, key, "", item.code, group, theory, used, status),))
        for order, (key, group, status, theory, used) in enumerate(rows))
    marks = tuple(Mark(0, seat, code, str(judge), value)  # a ruled deduction: the chief judge's value alone
                  for (seat, code), given in state.result_marks().items() for judge, value in given)
    return Inputs(replace(spec, items=(item_spec,)), entries, marks), state, pending


def _money(cents: Any) -> str | None:
    return None if cents is None else f"{from_cents(int(cents)):.2f}"


async def provisional_ranking(session: AsyncSession, event_id: int, item_code: str | None,
                              state: ItemState | None = None) -> dict[str, Any]:
    """Positions, ranks, awards, tie_unresolved, certificate levels and scores by seat, per group; `state`:
    the item's, already read in this session."""
    return (await ranking_and_state(session, event_id, item_code, state=state))[0]


async def ranking_and_state(session: AsyncSession, event_id: int, item_code: str | None,
                            loaded: tuple[Any, EventSpec] | None = None, state: ItemState | None = None,
                            ) -> tuple[dict[str, Any], ItemState]:
    """The provisional ranking and the judging state it was computed from (for callers that need both: the
    publish gate reads the findings from the same state)."""
    inputs, state, pending = await provisional_inputs(session, event_id, item_code, loaded, state)
    item_spec = inputs.event.items[0]
    entries, _people, scores = input_frames(inputs)
    computed = compute_frames(inputs.event, entries, scores)
    used = state.result_marks()
    by_criterion = {(seat, c.code): aggregate(c, [v for _, v in used.get((seat, c.code), ())]).score
                    for seat in {s.label for s in state.seats} - set(pending) for c in item_spec.criteria}
    groups: dict[str, dict[str, Any]] = {g: {"group": g, "rows": [], "absent": 0} for g in item_spec.group_names}
    for row in computed.sort("position", nulls_last=True).iter_rows(named=True):
        group = groups.setdefault(row["group"], {"group": row["group"], "rows": [], "absent": 0})
        if row["status"] == "absent":
            group["absent"] += 1
        if row["position"] is None:
            continue
        group["rows"].append({
            "seat": row["entry"], "position": row["position"], "rank": row["rank"],
            "theory": _money(row["theory_c"]),  # None where the item does not weigh theory
            "practical": _money(row["practical_c"]), "practical_pct": _money(row["pct_c"]),
            "total": _money(row["total_c"]), "qualified": row["qualified"], "award": row["award"],
            "cert_level": row["cert_level"], "promoted": row["promoted"], "tie_unresolved": row["tie_unresolved"],
            "criteria": {c.code: fmt(by_criterion[(row["entry"], c.code)]) for c in item_spec.criteria}})
    orders: dict[str, list[list[str]]] = {}
    for tie in (await session.exec(select(TieOrder).where(TieOrder.item_id == state.item.id)
                                   .order_by(col(TieOrder.id)))).all():
        orders.setdefault(tie.group_name, []).append(list(tie.seats))
    for group in groups.values():
        if group["group"] in orders:
            group["rows"] = apply_tie_orders(item_spec, inputs.event.award_policy, group["rows"],
                                             orders[group["group"]])
    totals = [from_cents(int(t)) for t in computed["total_c"].drop_nulls().to_list()]
    return {
        "item": state.item.code, "basis": "total",
        "levelled": state.item.exam_level is not None,  # a 专项职业能力证书 item has no level column
        "complete": not pending, "groups": list(groups.values()),
        # seats ranked without a time used where the tie-break needs one (ranked after those with one)
        "time_missing": [e.entry for e in inputs.entries if e.status != "absent" and e.time_used is None]
        if "time_used" in item_spec.tie_break else [],
        "pending": [{"seat": seat, "reasons": reasons,
                     "text": "、".join(dict.fromkeys(f"{r.split(':', 1)[0]} {PENDING_TEXT.get(r.split(':', 1)[1], r)}"
                                                     for r in reasons))}
                    for seat, reasons in pending.items()],
        "totals": {"max": "100.00", "counts": histogram(totals, Decimal(100))},
        "criteria": [{"code": c.code, "name": c.name, "max": f"{c.max:.2f}"} for c in item_spec.criteria],
    }, state
