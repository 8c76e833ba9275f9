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


_SOURCES = {"practical": 1, "theory": 2, "time_used": 3}  # anything else is criterion:CODE (4)


def _key_columns(event: EventSpec, scored: ScoredFrames) -> tuple[pl.DataFrame, list[str]]:
    """Entries plus k0 (total), k1 … (each item's tie-break chain, slot by slot), all higher-first.

    Items differ in their chains, so each slot says per item where its value comes from (a small
    table joined on item_idx) rather than a when/then per item, which would grow with the item count.
    """
    frame = scored.entries
    slots = max((len(i.tie_break) for i in event.items), default=0)
    exprs = [pl.col("total_c").alias("k0")]
    for j in range(slots):
        src: list[int] = []
        gids: list[int | None] = []
        for i, item in enumerate(event.items):
            key = item.tie_break[j] if j < len(item.tie_break) else ""
            src.append(_SOURCES.get(key, 4 if key else 0))
            gids.append(scored.table.gid(i, key.removeprefix("criterion:")) if key.startswith("criterion:") else None)
        slot = pl.DataFrame({"item_idx": list(range(len(event.items))), f"src{j}": src, f"gid{j}": gids},
                            schema={"item_idx": pl.Int64, f"src{j}": pl.Int64, f"gid{j}": pl.Int64})
        frame = frame.join(slot, on="item_idx", how="left")
        if any(g is not None for g in gids):
            values = scored.criteria.select("eidx", pl.col("gid").alias(f"gid{j}"), pl.col("score_c").alias(f"cv{j}"))
            frame = frame.join(values, on=["eidx", f"gid{j}"], how="left")
        else:
            frame = frame.with_columns(pl.lit(None, pl.Int64).alias(f"cv{j}"))
        source = pl.col(f"src{j}")
        exprs.append(pl.when(source == 1).then(pl.col("practical_c"))
                     .when(source == 2).then(pl.col("theory_c"))
                     .when(source == 3).then(-pl.col("time_key"))  # lower time wins; a blank still sorts last
                     .when(source == 4).then(pl.col(f"cv{j}"))
                     .otherwise(None).alias(f"k{j + 1}"))
    return frame.with_columns(exprs), [f"k{j}" for j in range(slots + 1)]


def _rank(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Sort each item-group by its keys (ENTRIES order last) and number it: position, n, rank, block_last.

    Everything comes from runs in the sorted frame (forward/backward fills), with no window per
    group or block: there may be as many tie blocks as entries.
    """
    group = ["item_idx", "group_idx"]
    frame = frame.sort([*group, *keys, "eidx"], descending=[False, False] + [True] * len(keys) + [False],
                       nulls_last=True)
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    new_group = pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift(1)) for c in group]).fill_null(True)
    new_block = pl.col("new_group") | pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift(1)) for c in keys])
    return (frame.with_columns(new_group=new_group, row=row)
            .with_columns(new_block=new_block,
                          start=pl.when("new_group").then("row").forward_fill(),
                          end=pl.when(pl.col("new_group").shift(-1, fill_value=True)).then("row").backward_fill())
            .with_columns(position=pl.col("row") - pl.col("start") + 1, n=pl.col("end") - pl.col("start") + 1,
                          last=pl.col("new_block").shift(-1, fill_value=True))
            .with_columns(rank=pl.when("new_block").then("position").forward_fill(),
                          block_last=pl.when("last").then("position").backward_fill()))


def _tier(pos: pl.Expr) -> pl.Expr:
    """0 一等奖 … 3 优胜奖, 4 none, from the group's cumulative award edges e1 … e4."""
    return (pl.when(pos <= pl.col("e1")).then(0).when(pos <= pl.col("e2")).then(1)
            .when(pos <= pl.col("e3")).then(2).when(pos <= pl.col("e4")).then(3).otherwise(4))


def _eligible(pos: pl.Expr) -> pl.Expr:
    """May this position earn promotion (results.ranking.boundary_state)."""
    # A null exam_level is a 专项职业能力证书: no level, so never promotion (and no promotion boundary).
    return (pl.col("exam_level").fill_null(0) > 1) & (pos <= pl.col("top")) & (_tier(pos) < 4)


def _settle(event: EventSpec, ranked: pl.DataFrame) -> pl.DataFrame:
    """Awards, tie_unresolved, cert_level and promoted from positions."""
    # Award edges per (N entries, team_size): the rule is event-wide, so one small table per distinct pair
    # (team_size matters when award_policy.count counts people: results.awards.counted_size).
    policy = event.award_policy
    teams = pl.DataFrame({"item_idx": list(range(len(event.items))), "team": [i.team_size for i in event.items]},
                         schema={"item_idx": pl.Int64, "team": pl.Int64})
    ranked = ranked.join(teams, on="item_idx", how="left")
    pairs = ranked.select("n", "team").unique().sort("n", "team").rows()
    edges: dict[str, list[int]] = {"n": [p[0] for p in pairs], "team": [p[1] for p in pairs],
                                   "e1": [], "e2": [], "e3": [], "e4": []}
    for n, team_size in pairs:
        running = 0
        for k, count in enumerate(award_counts(policy, n, team_size).as_tuple(), start=1):
            running += count
            edges[f"e{k}"].append(running)
    edge_frame = pl.DataFrame(edges, schema={k: pl.Int64 for k in edges})
    item_frame = pl.DataFrame({
        "item_idx": list(range(len(event.items))),
        "exam_level": [i.exam_level for i in event.items],
        "top": [i.promotion_top for i in event.items]}, schema={k: pl.Int64 for k in ("item_idx", "exam_level", "top")})
    pos = pl.col("position")
    has_award = _tier(pos) < 4
    # max_horizontal skips nulls, so a level-less item (null exam_level) is sent to null first.
    cert = pl.when(~pl.col("qualified") | pl.col("exam_level").is_null()).then(None).when(
        (pos <= pl.col("top")) & has_award).then(
        pl.max_horizontal(pl.col("exam_level") - 1, pl.lit(1))).otherwise(pl.col("exam_level"))
    first, last = pl.col("rank"), pl.col("block_last")
    return (ranked.join(edge_frame, on=["n", "team"], how="left").join(item_frame, on="item_idx", how="left")
            .with_columns(
                award=_tier(pos).replace_strict(list(range(5)), [*AWARD_NAMES, ""], return_dtype=pl.String),
                cert_level=cert,
                # Tier and eligibility are monotone in position: a block straddles a boundary exactly
                # when they differ between its first and its last position.
                tie_unresolved=(_tier(first) != _tier(last)) | (_eligible(first) != _eligible(last)))
            .with_columns(promoted=(pl.col("cert_level").fill_null(99) < pl.col("exam_level")).fill_null(False))
            .select("eidx", "group_idx", "position", "rank", "award", "cert_level", "promoted", "tie_unresolved"))


def compute_frames(event: EventSpec, entries: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """One row per entry (ENTRIES order) with scores, position, rank, award, cert_level, promoted,
    tie_unresolved; unranked entries (not present) have nulls there and false flags."""
    scored = score_frames(event.items, entries, scores)
    frame, keys = _key_columns(event, scored)
    groups = [(i, g, k) for i, item in enumerate(event.items) for k, g in enumerate(item.group_names)]
    group_table = pl.DataFrame({"item_idx": [g[0] for g in groups], "group": [g[1] for g in groups],
                                "group_idx": [g[2] for g in groups]},
                               schema={"item_idx": pl.Int64, "group": pl.String, "group_idx": pl.Int64})
    frame = frame.join(group_table, on=["item_idx", "group"], how="left")
    ranked = _rank(frame.filter(pl.col("status") == "present"), keys)
    ranked = _settle(event, ranked)
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
