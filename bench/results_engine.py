"""Benchmark of the results engine (contracts §3) on generated events.

    python bench/results_engine.py [--sizes 10000,30000,100000] [--repeat 3]

Generates in memory N entries × 10 criteria × 5 judges (4 measurement, 5 judgement with mean,
median and trimmed mean, 1 deduction; theory weighted 0.2; groups of about 300), then times the
whole computation from typed frames to the RESULTS table: scoring every criterion, practical,
practical_pct, total, qualified, ranking with the tie-break chain, awards, boundaries, promotion, and
formatting every column as text. Reading and validating files is not timed (it is I/O and Python
per cell, the same work for any engine). Prints one line per size, then a JSON object last.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results.engine import compute_frames, results_frame
from scoring.event_file import EventSpec, parse_event_document

CRITERIA = (
    [{"code": f"M{k}", "name": f"测量{k}", "max": 10, "kind": "measurement"} for k in range(4)]
    + [{"code": f"J{k}", "name": f"评价{k}", "max": 10, "kind": "judgement", "max_spread": 3,
        "aggregate": ("mean", "median", "trimmed_mean")[k % 3]} for k in range(5)]
    + [{"code": "S", "name": "扣分", "max": 5, "kind": "deduction"}]
)
JUDGES = 5
GROUP_SIZE = 300


def make_event(n_items: int) -> EventSpec:
    items = [{"code": f"I{i:03d}", "name": f"赛项{i}", "exam_level": 4, "groups": ["学生组", "职工组"],
              "theory_weight": 0.2, "criteria": CRITERIA,
              "tie_break": ["practical", "criterion:J1", "time_used", "theory"]} for i in range(n_items)]
    return parse_event_document({"event": {"name": "bench", "kind": "district", "starts_on": "2026-10-20",
                                           "award_policy": {"rule": "merit_if_over_30"}}, "items": items})


def _rand(expr: pl.Expr, seed: int, modulo: int) -> pl.Expr:
    return (expr.hash(seed) % modulo).cast(pl.Int64)


def make_frames(n: int) -> tuple[EventSpec, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """entries, people and scores for n entries, in groups of about GROUP_SIZE."""
    n_groups = max(1, n // GROUP_SIZE)
    event = make_event((n_groups + 1) // 2)
    idx = pl.int_range(n, dtype=pl.Int64)
    group_no = idx % n_groups
    entries = pl.select(
        entry=pl.format("E{}", idx), item=pl.format("I{}", (group_no // 2).cast(pl.String).str.zfill(3)),
        group=pl.when(group_no % 2 == 0).then(pl.lit("学生组")).otherwise(pl.lit("职工组")),
        status=pl.when(_rand(idx, 1, 50) == 0).then(pl.lit("absent")).otherwise(pl.lit("present")),
        theory_c=_rand(idx, 2, 2001) + 8000, time_key=_rand(idx, 3, 600) + 3000)
    people = entries.select("entry", name=pl.format("选手{}", pl.col("entry")), unit=pl.lit("某单位"))
    codes = [c["code"] for c in CRITERIA]
    rows = n * len(codes) * JUDGES
    r = pl.int_range(rows, dtype=pl.Int64)
    e = r // (len(codes) * JUDGES)
    c = (r // JUDGES) % len(codes)
    measurement = c < 4
    scores = pl.select(
        entry=pl.format("E{}", e),
        criterion=pl.lit(pl.Series(codes)).gather(c),
        judge=pl.format("J{}", r % JUDGES),
        # measurements agree across judges (one figure per entry); judgements scatter 6.00 … 10.00
        score_c=pl.when(measurement).then(_rand(e * 16 + c, 4, 401) + 600)
        .when(c == 9).then(_rand(r, 5, 3) * 50).otherwise(_rand(r, 6, 401) + 600))
    return event, entries, people, scores


def run(event: EventSpec, entries: pl.DataFrame, people: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    return results_frame(people, compute_frames(event, entries, scores))


def best_of(repeat: int, fn: Any) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report: dict[str, Any] = {"threads": pl.thread_pool_size(), "criteria": len(CRITERIA), "judges": JUDGES}
    for n in (int(s) for s in args.sizes.split(",")):
        frames = make_frames(n)
        seconds, table = best_of(args.repeat, lambda frames=frames: run(*frames))
        marks = frames[3].height
        print(f"{n:>7} entries, {marks:>9} marks: {seconds:7.3f} s  ({seconds / n * 1e6:5.2f} µs/entry, "
              f"{table.height} result rows)")
        report[f"total_{n // 1000}k_s"] = round(seconds, 4)
    frames = make_frames(GROUP_SIZE)
    assert frames[1]["item"].n_unique() == 1 and frames[1]["group"].n_unique() == 1
    seconds, table = best_of(max(args.repeat, 5), lambda: run(*frames))
    print(f"one {GROUP_SIZE}-entry group ({frames[3].height} marks): {seconds * 1000:7.2f} ms")
    report["group_300_ms"] = round(seconds * 1000, 3)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
