"""The polars scoring path equals the Decimal one, mark for mark."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.event_file import parse_event_document
from scoring.fast import score_frames
from scoring.marking import evaluate_entry
from scoring.rounding import to_cents
from tests.support.results_cases import event_doc, item_doc

EVENT = parse_event_document(event_doc([item_doc("X", [
    {"code": "A", "name": "a", "max": 40, "kind": "measurement"},
    {"code": "M", "name": "m", "max": "12.34", "kind": "judgement", "aggregate": "median"},
    {"code": "T", "name": "t", "max": 60, "kind": "judgement", "aggregate": "trimmed_mean", "trim_min_judges": 4},
    {"code": "E", "name": "e", "max": 10, "kind": "judgement", "aggregate": "mean"},
    {"code": "S", "name": "s", "max": 10, "kind": "deduction"},
], theory_weight=0.25, pass_mark="60.5")]))
ITEM = EVENT.items[0]


def _marks(max_c: int, lo: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.one_of(st.integers(0, max_c), st.sampled_from([0, 824, 825, max_c])).filter(
        lambda c: c <= max_c), min_size=lo, max_size=6)


@st.composite
def sheet(draw: st.DrawFn) -> tuple[dict[str, list[int]], int]:
    marks = {"A": [draw(st.integers(0, 4000))] * draw(st.integers(1, 3))}
    for c in ITEM.criteria[1:]:
        marks[c.code] = draw(_marks(to_cents(c.max), 0 if c.kind == "deduction" else 1))
        if c.kind == "deduction":  # judges who mark a deduction agree (#18); a disagreement is an error
            marks[c.code] = marks[c.code][:1] * len(marks[c.code])
    return marks, draw(st.integers(0, 10_000))


@settings(max_examples=60, deadline=None)
@given(st.lists(sheet(), min_size=1, max_size=8))
def test_fast_scores_equal_reference(sheets: list[tuple[dict[str, list[int]], int]]) -> None:
    entries = pl.DataFrame({"entry": [f"E{k}" for k in range(len(sheets))], "item": ["X"] * len(sheets),
                            "theory_c": [t for _, t in sheets]})
    rows = [(f"E{k}", code, c) for k, (m, _) in enumerate(sheets) for code, cs in m.items() for c in cs]
    scores = pl.DataFrame({"entry": [r[0] for r in rows], "criterion": [r[1] for r in rows],
                           "score_c": [r[2] for r in rows]}, schema={"entry": pl.String, "criterion": pl.String,
                                                                     "score_c": pl.Int64})
    out = score_frames(EVENT.items, entries, scores).entries
    for k, (m, theory) in enumerate(sheets):
        ref = evaluate_entry(ITEM, {code: [Decimal(c) / 100 for c in cs] for code, cs in m.items()},
                             Decimal(theory) / 100)
        row = out.row(k, named=True)
        assert (row["practical_c"], row["pct_c"], row["total_c"], row["qualified"]) == (
            to_cents(ref.practical), to_cents(ref.practical_pct), to_cents(ref.total), ref.qualified)


def test_fast_flags_disagreeing_measurements_and_missing_criteria() -> None:
    entries = pl.DataFrame({"entry": ["E1", "E2"], "item": ["X", "X"], "theory_c": [0, 0]})
    scores = pl.DataFrame({"entry": ["E1", "E1", "E2"], "criterion": ["A", "A", "A"], "score_c": [100, 200, 100]})
    out = score_frames(EVENT.items, entries, scores).entries
    assert out["n_disagree"].to_list() == [1, 0]
    assert out["n_marked"].to_list() == [1, 1] and out["n_required"].to_list() == [4, 4]
