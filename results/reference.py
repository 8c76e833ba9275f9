"""The whole of contracts §3 in plain Decimal and Python: the reference path.

Used by `--explain` and by the property tests that hold the polars engine (`results.engine`) to it.
Inputs must already be validated (`results.inputs`); marking errors surface as MarkingError.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from results.model import RESULTS_COLUMNS, Entry, EntryOutcome, Inputs, Placing
from results.ranking import place_group, sort_key
from scoring.event_file import ItemSpec
from scoring.marking import EntryScore, evaluate_entry
from scoring.rounding import fmt2

__all__ = ["compute_reference", "reference_rows", "tie_keys"]


def tie_keys(item: ItemSpec, entry: Entry, score: EntryScore) -> tuple[tuple[str, Decimal | None], ...]:
    """("total", v) then each of the item's tie-break keys with this entry's value."""
    keys: list[tuple[str, Decimal | None]] = [("total", score.total)]
    for key in item.tie_break:
        if key == "practical":
            keys.append((key, score.practical))
        elif key == "theory":
            keys.append((key, score.theory))
        elif key == "time_used":
            keys.append((key, entry.time_used))
        else:
            keys.append((key, score.score_of(key.removeprefix("criterion:"))))
    return tuple(keys)


def compute_reference(inputs: Inputs) -> list[EntryOutcome]:
    """Every entry's outcome, in ENTRIES order."""
    marks: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for mark in inputs.marks:
        marks[mark.entry][mark.criterion].append(mark.score)
    items = {item.code: item for item in inputs.event.items}
    scored: dict[str, EntryOutcome] = {}
    groups: dict[tuple[str, str], list[EntryOutcome]] = defaultdict(list)
    for entry in inputs.entries:
        if entry.status != "present":
            continue
        item = items[entry.item]
        score = evaluate_entry(item, marks.get(entry.entry, {}), entry.theory)
        outcome = EntryOutcome(entry, score, None, tie_keys(item, entry, score))
        scored[entry.entry] = outcome
        groups[(entry.item, entry.group)].append(outcome)
    placed: dict[str, Placing] = {}
    for (item_code, _), members in groups.items():
        # sorted() is stable, so entries equal on every key keep their ENTRIES order.
        ordered = sorted(members, key=lambda o: sort_key(o.keys))
        block_ids: dict[tuple[object, ...], int] = {}
        rows = [(o.entry.entry, block_ids.setdefault(sort_key(o.keys), len(block_ids)),
                 o.score is not None and o.score.qualified) for o in ordered]
        for placing in place_group(items[item_code], inputs.event.award_policy, rows):
            placed[placing.entry] = placing
    return [EntryOutcome(e, scored[e.entry].score, placed[e.entry], scored[e.entry].keys)
            if e.entry in scored else EntryOutcome(e, None, None) for e in inputs.entries]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def reference_rows(inputs: Inputs, outcomes: list[EntryOutcome]) -> list[dict[str, str]]:
    """The RESULTS table: ranked rows by item, group, position; then the unranked in ENTRIES order."""
    item_rank = {item.code: i for i, item in enumerate(inputs.event.items)}
    group_rank = {(item.code, g): k for item in inputs.event.items for k, g in enumerate(item.group_names)}
    ranked = [o for o in outcomes if o.placing is not None]
    ranked.sort(key=lambda o: (item_rank[o.entry.item], group_rank[(o.entry.item, o.entry.group)],
                               o.placing.position if o.placing else 0))
    unranked = [o for o in outcomes if o.placing is None]
    rows = []
    for outcome in ranked + unranked:
        entry, score, placing = outcome.entry, outcome.score, outcome.placing
        for person in entry.members:
            row = dict.fromkeys(RESULTS_COLUMNS, "")
            row.update(item=entry.item, group=entry.group, entry=entry.entry, name=person.name,
                       unit=person.unit, status=entry.status, qualified="false", promoted="false",
                       tie_unresolved="false")
            if score is not None and placing is not None:
                row.update(
                    position=str(placing.position), rank=str(placing.rank),
                    theory="" if score.theory is None else fmt2(score.theory),
                    practical=fmt2(score.practical), practical_pct=fmt2(score.practical_pct),
                    total=fmt2(score.total), qualified=_bool(score.qualified), award=placing.award,
                    cert_level="" if placing.cert_level is None else str(placing.cert_level),
                    promoted=_bool(placing.promoted), tie_unresolved=_bool(placing.tie_unresolved))
            rows.append(row)
    return rows
