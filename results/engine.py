"""The results of contracts §3 over whole tables in polars: the fast path the command uses.

Scores arrive as Int64 hundredths from `scoring.fast`; ranking is one sort per event with every key
made "higher first" (time used is negated, blanks sort last), ties are runs of equal keys, and awards,
boundaries and promotion are column expressions over positions. `results.reference` is the same
computation in plain Decimal; the property tests hold the two equal.

Frames:
- entries: one row per entry in ENTRIES order: entry, item, group, status, theory_c (Int64|null,
  a team's mean already), time_key (Int64|null: any integer that orders the times used, lower = less).
- scores: entry, criterion, score_c (Int64 hundredths); other columns are ignored.
- people (for `results_frame`): one row per ENTRIES row, in order: entry, name, unit.
"""

from __future__ import annotations

import polars as pl

from results.awards import AWARD_NAMES, award_counts
from results.model import RESULTS_COLUMNS
from scoring.event_file import EventSpec
from scoring.fast import ScoredFrames, score_frames

__all__ = ["compute_frames", "results_frame"]


def _key_columns(event: EventSpec, scored: ScoredFrames) -> tuple[pl.DataFrame, list[str]]:
    """Entries plus k0 (total), k1 … (each item's tie-break chain, slot by slot), all higher-first."""
    frame = scored.entries
    slots = max((len(i.tie_break) for i in event.items), default=0)
    exprs = [pl.col("total_c").alias("k0")]
    for j in range(slots):
        expr: pl.Expr = pl.lit(None, pl.Int64)
        for i, item in enumerate(event.items):
            if j >= len(item.tie_break):
                continue
            key = item.tie_break[j]
            if key == "practical":
                source = pl.col("practical_c")
            elif key == "theory":
                source = pl.col("theory_c")
            elif key == "time_used":
                source = -pl.col("time_key")  # lower time wins; null (blank) still sorts last
            else:
                gid = scored.table.gid(i, key.removeprefix("criterion:"))
                column = f"crit_{gid}"
                if column not in frame.columns:
                    picked = (scored.criteria.filter(pl.col("gid") == gid)
                              .select("eidx", pl.col("score_c").alias(column)))
                    frame = frame.join(picked, on="eidx", how="left")
                source = pl.col(column)
            expr = pl.when(pl.col("item_idx") == i).then(source).otherwise(expr)
        exprs.append(expr.alias(f"k{j + 1}"))
    return frame.with_columns(exprs), [f"k{j}" for j in range(slots + 1)]


def compute_frames(event: EventSpec, entries: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """One row per entry (ENTRIES order) with scores, position, rank, award, cert_level, promoted,
    tie_unresolved; unranked entries (not present) have nulls there and false flags."""
    scored = score_frames(event.items, entries, scores)
    frame, keys = _key_columns(event, scored)
    group_idx = pl.lit(None, pl.Int64)
    for i, item in enumerate(event.items):
        group_idx = pl.when(pl.col("item_idx") == i).then(
            pl.col("group").replace_strict(list(item.group_names), list(range(len(item.group_names))),
                                           default=None, return_dtype=pl.Int64)).otherwise(group_idx)
    frame = frame.with_columns(group_idx=group_idx)
    ranked = frame.filter(pl.col("status") == "present")
    group = ["item_idx", "group_idx"]
    ranked = ranked.sort([*group, *keys, "eidx"], descending=[False, False] + [True] * len(keys) + [False],
                         nulls_last=True)
    changed = pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift(1)) for c in [*group, *keys]])
    ranked = ranked.with_columns(
        position=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(group),
        n=pl.len().over(group).cast(pl.Int64),
        block=changed.fill_null(True).cum_sum())
    # Award edges per N: the rule is event-wide, so one small table per distinct group size.
    sizes = sorted(set(ranked["n"].to_list()))
    edges: dict[str, list[int]] = {"n": sizes, "e1": [], "e2": [], "e3": [], "e4": []}
    for size in sizes:
        running = 0
        for k, count in enumerate(award_counts(event.award_policy, size).as_tuple(), start=1):
            running += count
            edges[f"e{k}"].append(running)
    edge_frame = pl.DataFrame(edges, schema={k: pl.Int64 for k in edges})
    item_frame = pl.DataFrame({
        "item_idx": list(range(len(event.items))),
        "exam_level": [i.exam_level for i in event.items],
        "top": [i.promotion_top for i in event.items]}, schema={k: pl.Int64 for k in ("item_idx", "exam_level", "top")})
    pos = pl.col("position")
    tier = (pl.when(pos <= pl.col("e1")).then(0).when(pos <= pl.col("e2")).then(1)
            .when(pos <= pl.col("e3")).then(2).when(pos <= pl.col("e4")).then(3).otherwise(4))
    has_award = pl.col("tier") < 4
    eligible = (pl.col("exam_level") > 1) & (pos <= pl.col("top")) & has_award
    cert = pl.when(~pl.col("qualified")).then(None).when((pos <= pl.col("top")) & has_award).then(
        pl.max_horizontal(pl.col("exam_level") - 1, pl.lit(1))).otherwise(pl.col("exam_level"))
    ranked = (ranked.join(edge_frame, on="n", how="left").join(item_frame, on="item_idx", how="left")
              .with_columns(tier=tier).with_columns(eligible=eligible)
              .with_columns(
                  rank=pos.min().over("block"),
                  award=pl.col("tier").replace_strict(list(range(5)), [*AWARD_NAMES, ""], return_dtype=pl.String),
                  cert_level=cert,
                  # Tier and eligibility are monotone in position: comparing a block's ends is enough.
                  tie_unresolved=(pl.col("tier").first().over("block") != pl.col("tier").last().over("block"))
                  | (pl.col("eligible").first().over("block") != pl.col("eligible").last().over("block")))
              .with_columns(promoted=pl.col("cert_level").fill_null(99) < pl.col("exam_level"))
              .select("eidx", "group_idx", "position", "rank", "award", "cert_level", "promoted", "tie_unresolved"))
    present = pl.col("status") == "present"
    return (frame.drop("group_idx").join(ranked, on="eidx", how="left")
            .with_columns(
                [pl.when(present).then(pl.col(c)).alias(c) for c in ("theory_c", "practical_c", "pct_c", "total_c")]
                + [pl.when(present).then(pl.col("qualified")).otherwise(False).alias("qualified"),
                   pl.col("promoted", "tie_unresolved").fill_null(False)])
            .sort("eidx"))


def _fmt2(column: str) -> pl.Expr:
    c = pl.col(column)
    text = (c // 100).cast(pl.String) + "." + (c % 100).cast(pl.String).str.zfill(2)
    return pl.when(c.is_null()).then(pl.lit("")).otherwise(text).alias(column.removesuffix("_c"))


def _bool(column: str) -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("true")).otherwise(pl.lit("false")).alias(column)


def results_frame(people: pl.DataFrame, computed: pl.DataFrame) -> pl.DataFrame:
    """The RESULTS table (all text): ranked rows by item, group, position (members in ENTRIES order),
    then the unranked in ENTRIES order."""
    rows = people.select("entry", "name", "unit").with_row_index("prow").join(
        computed, on="entry", how="left")
    ranked = pl.col("position").is_not_null()
    order = [~ranked, pl.when(ranked).then(pl.col("item_idx")), pl.when(ranked).then(pl.col("group_idx")),
             pl.when(ranked).then(pl.col("position")), pl.col("prow")]
    return (rows.sort(order, nulls_last=True)
            .select(
                pl.col("item"), pl.col("group"),
                pl.col("position").cast(pl.String).fill_null(""), pl.col("rank").cast(pl.String).fill_null(""),
                pl.col("entry"), pl.col("name"), pl.col("unit"),
                _fmt2("theory_c"), _fmt2("practical_c"), _fmt2("pct_c").alias("practical_pct"), _fmt2("total_c"),
                _bool("qualified"), pl.col("award").fill_null(""),
                pl.col("cert_level").cast(pl.String).fill_null(""), _bool("promoted"), _bool("tie_unresolved"),
                pl.col("status"))
            .select(RESULTS_COLUMNS))
