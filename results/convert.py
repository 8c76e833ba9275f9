"""Validated `Inputs` -> the integer-hundredths frames the polars engine takes."""

from __future__ import annotations

import polars as pl

from results.model import Inputs
from scoring.rounding import to_cents

__all__ = ["input_frames"]


def input_frames(inputs: Inputs) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(entries, people, scores) for `results.engine`.

    Times used may carry any number of decimals, so they become dense ranks of their exact values
    (only their order matters to the tie-break) rather than a scaled integer that could overflow.
    """
    times = sorted({e.time_used for e in inputs.entries if e.time_used is not None})
    time_key = {t: k for k, t in enumerate(times)}
    entries = pl.DataFrame({
        "entry": [e.entry for e in inputs.entries],
        "item": [e.item for e in inputs.entries],
        "group": [e.group for e in inputs.entries],
        "status": [e.status for e in inputs.entries],
        "theory_c": [None if e.theory is None else to_cents(e.theory) for e in inputs.entries],
        "time_key": [None if e.time_used is None else time_key[e.time_used] for e in inputs.entries],
    }, schema={"entry": pl.String, "item": pl.String, "group": pl.String, "status": pl.String,
               "theory_c": pl.Int64, "time_key": pl.Int64})
    people = inputs.people
    people_frame = pl.DataFrame({
        "entry": [p.entry for p in people], "name": [p.name for p in people], "unit": [p.unit for p in people],
    }, schema={"entry": pl.String, "name": pl.String, "unit": pl.String})
    scores = pl.DataFrame({
        "entry": [m.entry for m in inputs.marks],
        "criterion": [m.criterion for m in inputs.marks],
        "score_c": [to_cents(m.score) for m in inputs.marks],
    }, schema={"entry": pl.String, "criterion": pl.String, "score_c": pl.Int64})
    return entries, people_frame, scores
