"""The marking scheme over whole tables in polars (the fast path of contracts §3, steps 1–5).

Marks travel as Int64 hundredths and every rounding is integer half-up, (2a + b) // (2b), so the
result is exactly `scoring.marking`'s. Strings are turned into dense integer ids once (Enum casts,
gathers) so that the one big group-by runs on a single Int64 key.

Input frames (validated by the caller; unknown entries/criteria come out as nulls and are dropped):
- entries: one row per entry: `entry` (str, unique), `item` (str), `theory_c` (Int64, nullable).
- scores: one row per mark: `entry` (str), `criterion` (str), `score_c` (Int64 hundredths); or, already
  resolved by a caller that has checked them, `eidx` (row of entries) and `gid` (CriterionTable id) instead
  of the two texts, which saves two casts of every mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR

import polars as pl

from scoring.event_file import ItemSpec
from scoring.rounding import to_cents

__all__ = ["CriterionTable", "ScoredFrames", "criterion_table", "score_frames"]

KIND_CODES = {"measurement": 0, "judgement": 1, "deduction": 2}
AGG_CODES = {"mean": 0, "median": 1, "trimmed_mean": 2}
STREAMING_FROM = 500_000  # marks


@dataclass(frozen=True)
class CriterionTable:
    """Every (item, criterion) pair of an event under one global id `gid`."""

    items: tuple[ItemSpec, ...]
    codes: tuple[str, ...]  # the union of criterion codes, the Enum categories
    lookup: pl.Series  # item_idx * len(codes) + code_idx -> gid (null: not a criterion of that item)
    props: pl.DataFrame  # one row per gid: item_idx, code, kind, agg, trim, max_c, spread_c (judgement max_spread)

    def gid(self, item_idx: int, code: str) -> int | None:
        value = self.lookup[item_idx * len(self.codes) + self.codes.index(code)]
        return None if value is None else int(value)


def criterion_table(items: Sequence[ItemSpec]) -> CriterionTable:
    codes = tuple(dict.fromkeys(c.code for item in items for c in item.criteria))
    lookup: list[int | None] = [None] * (len(items) * len(codes))
    rows: dict[str, list[object]] = {k: [] for k in ("item_idx", "code", "kind", "agg", "trim", "max_c", "spread_c")}
    for i, item in enumerate(items):
        for c in item.criteria:
            lookup[i * len(codes) + codes.index(c.code)] = len(rows["code"])
            rows["item_idx"].append(i)
            rows["code"].append(c.code)
            rows["kind"].append(KIND_CODES[c.kind])
            rows["agg"].append(AGG_CODES[c.aggregate or "mean"])
            rows["trim"].append(c.trim_min_judges or 5)
            rows["max_c"].append(to_cents(c.max))
            # wider than max_spread ⇔ wider than its whole hundredths, as marks are whole hundredths
            rows["spread_c"].append(int((c.max_spread * 100).to_integral_value(ROUND_FLOOR))
                                    if c.kind == "judgement" and c.max_spread is not None else None)
    props = pl.DataFrame(rows, schema={"item_idx": pl.Int64, "code": pl.String, "kind": pl.Int64,
                                       "agg": pl.Int64, "trim": pl.Int64, "max_c": pl.Int64, "spread_c": pl.Int64})
    return CriterionTable(tuple(items), codes, pl.Series("gid", lookup, dtype=pl.Int64), props)


@dataclass(frozen=True)
class ScoredFrames:
    # entries in input order + eidx, item_idx, gained_c, deducted_c, practical_c, pct_c, total_c,
    # qualified, n_marked (non-deduction criteria with marks), n_required, n_disagree (measurements and
    # deductions whose judges differ), n_wide (judgement panels over max_spread)
    entries: pl.DataFrame
    criteria: pl.DataFrame  # one row per (entry, criterion) with marks: eidx, gid, n, score_c, disagree, wide
    table: CriterionTable


def _half_up(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return (2 * num + den) // (2 * den)


def _criterion_scores(scores: pl.DataFrame, entries: pl.DataFrame, table: CriterionTable) -> pl.DataFrame:
    n_gid = max(table.props.height, 1)
    # One Int64 key per (entry, criterion): the cheapest thing to group on. Unknown entries or
    # criteria give a null key and are dropped (the caller has reported them already).
    if "eidx" in scores.columns and "gid" in scores.columns:
        key: pl.Series | pl.Expr = scores["eidx"].cast(pl.Int64) * n_gid + scores["gid"].cast(pl.Int64)
    else:
        eidx = scores["entry"].cast(pl.Enum(entries["entry"]), strict=False).to_physical().cast(pl.Int64)
        code_idx = scores["criterion"].cast(pl.Enum(list(table.codes)), strict=False).to_physical().cast(pl.Int64)
        item_idx = entries["item_idx"].gather(eidx.fill_null(0))
        gid = table.lookup.gather((item_idx * len(table.codes) + code_idx).fill_null(0))
        key = pl.when(eidx.is_not_null() & code_idx.is_not_null()).then(eidx * n_gid + gid)
    marks = pl.DataFrame({"s": scores["score_c"]}).with_columns(key=key).drop_nulls("key")
    stats = {"n": pl.len(), "sm": pl.col("s").sum(), "mn": pl.col("s").min(), "mx": pl.col("s").max()}
    median_gids = table.props.with_row_index("gid").filter(pl.col("agg") == AGG_CODES["median"])["gid"]
    is_median = (pl.col("key") % n_gid).is_in(median_gids.cast(pl.Int64).implode())
    plain_q = (marks.lazy().filter(~is_median).group_by("key").agg(**stats)
               .with_columns(lo=pl.lit(None, pl.Int64), hi=pl.lit(None, pl.Int64)))
    # Median criteria only: one sort by (key, mark), then the middle pair of each run (equal when n is
    # odd). A per-group sort inside the aggregation costs several times more.
    middle_q = (marks.lazy().filter(is_median).sort("key", "s").group_by("key", maintain_order=True)
                .agg(**stats, lo=pl.col("s").get((pl.len() - 1) // 2), hi=pl.col("s").get(pl.len() // 2)))
    # Both at once; the streaming engine wins on millions of marks and loses its start-up cost on a group.
    plain, middle = pl.collect_all([plain_q, middle_q],
                                   engine="streaming" if marks.height > STREAMING_FROM else "in-memory")
    props = table.props.with_row_index("gid").with_columns(pl.col("gid").cast(pl.Int64))
    mean = _half_up(pl.col("sm"), pl.col("n"))
    trimmed = pl.when(pl.col("n") >= pl.col("trim")).then(
        _half_up(pl.col("sm") - pl.col("mn") - pl.col("mx"), pl.col("n") - 2)).otherwise(mean)
    agreed = pl.col("kind").is_in([KIND_CODES["measurement"], KIND_CODES["deduction"]])
    score = (pl.when(agreed).then(pl.col("mn"))  # one figure both kinds; mn != mx is flagged `disagree`
             .when(pl.col("agg") == AGG_CODES["median"]).then((pl.col("lo") + pl.col("hi") + 1) // 2)
             .when(pl.col("agg") == AGG_CODES["trimmed_mean"]).then(trimmed)
             .otherwise(mean))
    return (pl.concat([plain, middle.select(plain.columns)], how="vertical_relaxed")
            .with_columns(eidx=pl.col("key") // n_gid, gid=pl.col("key") % n_gid)
            .join(props, on="gid", how="left")
            .with_columns(score_c=score,
                          disagree=agreed & (pl.col("mn") != pl.col("mx")),
                          # a judgement panel over max_spread (a warning, not an error)
                          wide=(pl.col("mx") - pl.col("mn") > pl.col("spread_c")).fill_null(False))
            .select("eidx", "gid", "kind", "n", "mn", "mx", "score_c", "disagree", "wide"))


def score_frames(items: Sequence[ItemSpec], entries: pl.DataFrame, scores: pl.DataFrame,
                 table: CriterionTable | None = None) -> ScoredFrames:
    """Steps 1–5 for every entry at once."""
    table = table or criterion_table(items)
    item_codes = [i.code for i in items]
    entries = entries.with_columns(
        eidx=pl.int_range(pl.len(), dtype=pl.Int64),
        item_idx=pl.col("item").cast(pl.Enum(item_codes)).to_physical().cast(pl.Int64))
    crit = _criterion_scores(scores, entries, table)
    is_ded = pl.col("kind") == KIND_CODES["deduction"]
    per_entry = crit.group_by("eidx").agg(
        gained_c=pl.col("score_c").filter(~is_ded).sum(),
        deducted_c=pl.col("score_c").filter(is_ded).sum(),
        n_marked=(~is_ded).sum(),
        n_disagree=pl.col("disagree").sum(),
        n_wide=pl.col("wide").sum())
    item_props = pl.DataFrame({
        "item_idx": list(range(len(items))),
        "pmax_c": [to_cents(i.practical_max) for i in items],
        "tw_c": [to_cents(i.theory_weight) for i in items],
        "pass_c": [to_cents(i.pass_mark) for i in items],
        "n_required": [sum(c.kind != "deduction" for c in i.criteria) for i in items],
    }, schema={k: pl.Int64 for k in ("item_idx", "pmax_c", "tw_c", "pass_c", "n_required")})
    practical = pl.max_horizontal(pl.col("gained_c") - pl.col("deducted_c"), pl.lit(0))
    weighted = pl.col("tw_c") * pl.col("theory_c").fill_null(0) + (100 - pl.col("tw_c")) * pl.col("pct_c")
    out = (entries
           .join(per_entry, on="eidx", how="left")
           .join(item_props, on="item_idx", how="left")
           .with_columns(pl.col("gained_c", "deducted_c", "n_marked", "n_disagree", "n_wide").fill_null(0))
           .with_columns(practical_c=practical)
           .with_columns(pct_c=_half_up(pl.col("practical_c") * 10_000, pl.col("pmax_c")))
           .with_columns(total_c=pl.when(pl.col("theory_c").is_null() & (pl.col("tw_c") > 0))
                         .then(None).otherwise(_half_up(weighted, pl.lit(100))),
                         qualified=pl.col("pct_c") >= pl.col("pass_c"))
           .sort("eidx"))
    return ScoredFrames(out, crit, table)
