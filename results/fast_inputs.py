"""The offline inputs checked column by column in polars: what `results.inputs.load_inputs` accepts, fast.

Every check here is a filter that lets through only cells the row-by-row checker accepts for certain
(plain ASCII numbers, known codes, …) and flags the rest. Flagged rows are then handed to the row-by-row
checker of that phase (`results.inputs`), which words the problems: it sees every row it would find a
problem in, in reading order, so the refusal is the one `load_inputs` gives, found in a fraction of the
time. Rows flagged but accepted by it (full-width digits, `-0`, `.5`, blanks around a cell) send the whole
run back to `load_inputs`: rare inputs pay the old price, never a different answer. The phases are those
of `load_inputs` (ENTRIES cells, entries, SCORES cells, cross-checks); the first with problems stops.

Marks become Int64 hundredths through polars' Decimal type (never a float), after a pattern has
made sure that nothing is rounded on the way (at most 2 significant decimals).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import polars as pl

from results.fast_tables import WHITESPACE, Sheet, read_sheet
from results.inputs import (
    ENTRIES_COLUMNS,
    SCORES_COLUMNS,
    BadInput,
    InputError,
    SheetErrors,
    check_entries,
    check_marks,
    check_person,
    cross_check,
    load_event,
)
from results.model import STATUSES, Entry, Mark, Person
from results.tables import TableError
from scoring.event_file import EventSpec
from scoring.fast import criterion_table
from scoring.rounding import parse_number

__all__ = ["FastInputs", "load_frames"]

# A mark or a theory the row-by-row checker takes as it is: ASCII digits, no sign but +, at most 2
# significant decimals (8.500 is 8.5). Anything else is looked at row by row.
_PLAIN = r"^\+?[0-9]{1,15}(?:\.[0-9]{0,2}0*)?$"
_TIME = r"^\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"  # any decimals; not negative


@dataclass(frozen=True)
class FastInputs:
    """The frames `results.engine` takes (see `results.convert.input_frames`) and the warnings."""

    event: EventSpec
    entries: pl.DataFrame
    people: pl.DataFrame
    scores: pl.DataFrame
    warnings: list[str]  # complete only after `finish`
    # The cross-checks (phase 4), given `results.engine.compute_frames` of these frames: it counts each
    # entry's marked criteria and disagreeing judges already. Raises BadInput; adds the spread warnings.
    finish: Callable[[pl.DataFrame], None]


Step = Callable[[str], None]


def _cents(text: pl.Expr) -> pl.Expr:
    """Hundredths of a _PLAIN text, else null."""
    value = text.cast(pl.Decimal(17, 2), strict=False).to_physical().cast(pl.Int64)
    return pl.when(text.str.contains(_PLAIN)).then(value)


def _read(path: Path, columns: tuple[str, ...], *, strip: bool, categorical: bool = False) -> Sheet:
    try:
        return read_sheet(path, columns, strip=strip, categorical=categorical)
    except TableError as exc:
        raise BadInput([InputError(path.name, exc.row, exc.column, "", exc.zh, exc.en)]) from exc


def _person_of(row: dict[str, object]) -> Person:
    theory, time_used = str(row["theory"]), str(row["time_used_s"])
    return Person(int(str(row["row"])), str(row["entry"]), str(row["name"]), str(row["unit"]), str(row["item"]),
                  str(row["group"]), parse_number(theory) if theory else None,
                  parse_number(time_used) if time_used else None, str(row["status_l"]))


def _people(sheet: Sheet, event: EventSpec, errors: list[InputError]) -> pl.DataFrame | None:
    """ENTRIES cells (phase 1): the rows with item_idx, status_l, theory_c; None when a flagged row is fine."""
    items = {i.code: i for i in event.items}
    codes = [i.code for i in event.items]
    pairs = [f"{i.code}\x00{g}" for i in event.items for g in i.group_names]
    theory, time_used, status = pl.col("theory"), pl.col("time_used_s"), pl.col("status")
    frame = sheet.frame.with_columns(
        item_idx=pl.col("item").replace_strict(codes, list(range(len(codes))), default=None, return_dtype=pl.Int64),
        status_l=status.str.to_lowercase(), theory_c=_cents(theory))
    ok = ((pl.col("entry") != "") & pl.col("item_idx").is_not_null()
          & pl.concat_str("item", "group", separator="\x00").is_in(pairs)
          & ((theory == "") | (pl.col("theory_c") <= 10_000))
          & ((time_used == "") | time_used.str.contains(_TIME))
          & pl.col("status_l").is_in(STATUSES) & status.str.contains("^[A-Za-z]+$"))
    frame = frame.with_columns(ok=ok.fill_null(False))
    flagged = frame.filter(~pl.col("ok"))
    if flagged.height:
        table = sheet.table(flagged)
        checker = SheetErrors(table, errors)
        for row, cells in table.rows:
            check_person(checker, row, cells, items)
        return None
    return frame.drop("ok")


def _entries(sheet: Sheet, event: EventSpec, people: pl.DataFrame, errors: list[InputError],
             warnings: list[str]) -> pl.DataFrame | None:
    """Entries (phase 2), in ENTRIES order: entry, item, group, status, item_idx, first_row, theory_c, time."""
    items = {i.code: i for i in event.items}
    team = pl.Series([i.team_size for i in event.items], dtype=pl.Int64)
    weighs = pl.Series([i.theory_weight > 0 for i in event.items], dtype=pl.Boolean)
    timed = pl.col("time_used_s").filter(pl.col("time_used_s") != "")
    grouped = people.group_by("entry", maintain_order=True).agg(
        pl.col("item", "group", "item_idx").first(), status=pl.col("status_l").first(),
        first_row=pl.col("row").first(), n=pl.len(),
        n_item=pl.col("item").n_unique(), n_group=pl.col("group").n_unique(), n_status=pl.col("status_l").n_unique(),
        n_time=timed.n_unique(), time=timed.first(),
        theory_sum=pl.col("theory_c").sum(), theory_n=pl.col("theory_c").count(),
        theory_blank=pl.col("theory_c").null_count())
    idx = pl.col("item_idx")
    flag = ((pl.col("n_item") > 1) | (pl.col("n_group") > 1) | (pl.col("n_status") > 1) | (pl.col("n_time") > 1)
            | ((pl.col("status") == "present") & pl.lit(weighs).gather(idx) & (pl.col("theory_blank") > 0))
            | (pl.col("n") != pl.lit(team).gather(idx)))
    flagged = grouped.filter(flag)["entry"]
    if flagged.len():
        members = [_person_of(r) for r in people.filter(pl.col("entry").is_in(flagged.implode())).iter_rows(named=True)]
        check_entries(SheetErrors(sheet.table(), errors), members, items, warnings)
        if errors:
            return None
    n = pl.col("theory_n")
    return grouped.with_columns(
        theory_c=pl.when(n > 0).then((2 * pl.col("theory_sum") + n) // (2 * n)),
        time_key=_time_keys(grouped["time"]))


def _time_keys(times: pl.Series) -> pl.Series:
    """Dense ranks of the exact times used (only their order matters to the tie-break)."""
    texts = times.drop_nulls().unique().to_list()
    if not texts:
        return pl.Series(times.name, [None] * times.len(), dtype=pl.Int64)
    values = {t: Decimal(t) for t in texts}
    rank = {v: k for k, v in enumerate(sorted(set(values.values())))}
    return times.replace_strict(texts, [rank[values[t]] for t in texts], default=None, return_dtype=pl.Int64)


@dataclass(frozen=True)
class _Marks:
    """The checked SCORES columns: indices and hundredths, and the marks as written (for messages)."""

    eidx: pl.Series  # UInt32 row of the entries frame (the narrow types keep the peak memory down)
    gid: pl.Series  # UInt32 (item, criterion) id of scoring.fast
    cents: pl.Series
    judge: pl.Series  # UInt32 index into judges
    judges: list[str]
    score: pl.Series  # Categorical, the cell as written
    row: pl.Series | None  # sheet row numbers; None: 2, 3, … (no row left out)

    def rows(self) -> pl.Series:
        return pl.int_range(2, self.eidx.len() + 2, dtype=pl.Int64, eager=True) if self.row is None else self.row


def _distinct(column: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The category ids (Int64) and texts of the distinct cells of a Categorical column."""
    distinct = column.unique()
    return distinct.to_physical().cast(pl.Int64), distinct.cast(pl.String)


def _positions(texts: pl.Series, values: pl.Series | list[str]) -> pl.Series:
    """The position of each text in `values` (Int64, null if absent)."""
    return texts.replace_strict(values, pl.int_range(len(values), dtype=pl.Int64, eager=True), default=None,
                                return_dtype=pl.Int64)


def _gather_by_id(column: pl.Series, ids: pl.Series, values: pl.Series) -> pl.Series:
    """values[k] for every cell whose category id is ids[k]: each distinct text is looked at once."""
    size = int(ids.max() or 0) + 1 if ids.len() else 0  # type: ignore[arg-type]
    table = pl.Series(values.name, [None] * size, dtype=values.dtype).scatter(ids, values)
    return table.gather(column.to_physical())


def _marks(sheet: Sheet, event: EventSpec, entries: pl.DataFrame, errors: list[InputError]) -> _Marks | None:
    """SCORES cells (phase 3); None when some row needs the row-by-row checker (errors then say why)."""
    table = criterion_table(event.items)
    frame = sheet.frame  # Categorical cells: each distinct text is looked at once
    specs = [c for item in event.items for c in item.criteria]
    ids, texts = _distinct(frame["entry"])  # entries match as written
    eidx = _gather_by_id(frame["entry"], ids, _positions(texts, entries["entry"]))
    ids, texts = _distinct(frame["criterion"])
    code_idx = _gather_by_id(frame["criterion"], ids, _positions(texts.str.strip_chars(WHITESPACE), list(table.codes)))
    ids, texts = _distinct(frame["judge"])
    names = texts.str.strip_chars(WHITESPACE)
    judges = sorted(set(names.to_list()))
    judge_idx = _gather_by_id(frame["judge"], ids, _positions(names, judges))
    # the marks: a pattern and polars' Decimal type per distinct text, never a float
    ids, texts = _distinct(frame["score"])
    cents = _gather_by_id(frame["score"], ids, texts.to_frame("t").select(_cents(pl.col("t")))["t"])  # null: not plain
    gid = table.lookup.gather(entries["item_idx"].gather(eidx) * len(table.codes) + code_idx)
    max_c = pl.Series([int((c.max * 100).to_integral_value(ROUND_FLOOR)) for c in specs], dtype=pl.Int64)
    ok = cents.is_not_null() & gid.is_not_null() & (cents <= max_c.gather(gid))
    if any(c.scale == "0-3" for c in specs):
        # the 0–3 scale takes whole marks only (scoring.checks.check_score: not_on_scale)
        scaled = pl.Series([c.scale == "0-3" for c in specs]).gather(gid)
        ok = ok & ~(scaled & (cents % 100 != 0)).fill_null(False)
    ok = ok.fill_null(False)
    n_gid, n_judges = max(len(specs), 1), max(len(judges), 1)
    key = (eidx * n_gid + gid) * n_judges + judge_idx
    # a sheet in entry, criterion, judge order has no repeated mark when its keys only rise (cheap);
    # otherwise count them
    rising = key.null_count() == 0 and bool((key.diff().slice(1) > 0).all())
    if not rising and key.drop_nulls().n_unique() < key.count():
        ok = ok & ~(key.is_duplicated() & key.is_not_null())
    if ok.all():
        row = frame["row"]
        contiguous = row.len() == 0 or (row[0] == 2 and row[-1] == row.len() + 1)  # rows only ever rise
        narrow = [s.cast(pl.UInt32) for s in (eidx, gid, judge_idx)]
        return _Marks(narrow[0], narrow[1], cents, narrow[2], judges, frame["score"], None if contiguous else row)
    if not sheet.stripped:
        return None  # the caller reads again, stripped, before any row is judged
    flagged = frame.filter(~ok)
    known = entries.filter(pl.col("entry").is_in(flagged["entry"].unique().cast(pl.String).implode()))
    by_id = {e: Entry(e, item, group, status, 0, None, None, ())
             for e, item, group, status in known.select("entry", "item", "group", "status").iter_rows()}
    check_marks(SheetErrors(sheet.table(flagged), errors), by_id, {i.code: i for i in event.items})
    return None


def _cross(entries_sheet: Sheet, scores_sheet: Sheet, event: EventSpec, entries: pl.DataFrame, marks: _Marks,
           computed: pl.DataFrame, errors: list[InputError], warnings: list[str]) -> None:
    """Cross-checks (phase 4): missing criteria, disagreeing measurements and deductions, panels over
    max_spread (warnings), all counted per entry by the engine (`scoring.fast`). Only the entries flagged
    go through `results.inputs.cross_check`, which words them."""
    c = computed.sort("eidx")
    odd = (((c["n_marked"] < c["n_required"]) | (c["n_disagree"] > 0) | (c["n_wide"] > 0))
           & (entries["status"] == "present"))
    flagged = odd.arg_true().cast(pl.Int64)
    if not flagged.len():
        return
    rows = entries.with_row_index("eidx").filter(pl.col("eidx").is_in(flagged.implode()))
    heads = rows.select("entry", "item", "group", "status", "first_row").iter_rows()
    chosen = [Entry(e, item, group, status, 0, None, None, (Person(first, e, "", "", item, group, None, None, status),))
              for e, item, group, status, first in heads]
    codes = pl.Series([c.code for item in event.items for c in item.criteria], dtype=pl.String)
    frame = (pl.DataFrame({"row": marks.rows(), "eidx": marks.eidx, "gid": marks.gid, "judge": marks.judge,
                           "score": marks.score})
             .filter(pl.col("eidx").is_in(flagged.cast(pl.UInt32).implode()))
             .select("row", pl.lit(entries["entry"]).gather(pl.col("eidx")), pl.lit(codes).gather(pl.col("gid")),
                     "judge", pl.col("score").cast(pl.String)))
    given = [Mark(row, entry, criterion, marks.judges[judge], Decimal(score))
             for row, entry, criterion, judge, score in frame.iter_rows()]
    cross_check(SheetErrors(entries_sheet.table(), errors), SheetErrors(scores_sheet.table(), errors), chosen, given,
                {i.code: i for i in event.items}, warnings)


def load_frames(event_path: Path, entries_path: Path, scores_path: Path,
                step: Step = lambda _: None) -> FastInputs | None:
    """The checked inputs as frames, or BadInput (what `load_inputs` raises), or None: some flagged value
    turned out fine, so the caller should run `load_inputs` itself."""
    event = load_event(event_path)
    warnings: list[str] = [f"{event_path.name}：{w.path}：{w.zh} / {w.en}" for w in event.warnings]
    step(f"读取 {entries_path.name}、{scores_path.name} / reading")
    errors: list[InputError] = []
    # SCORES is parsed (polars, without the GIL) while ENTRIES is read and checked; the refusals come in
    # the order of reading one after the other: ENTRIES' reading, SCORES' reading, then ENTRIES' cells.
    with ThreadPoolExecutor(max_workers=1) as pool:
        scores_read = pool.submit(_read, scores_path, SCORES_COLUMNS, strip=False, categorical=True)
        entries_sheet = _read(entries_path, ENTRIES_COLUMNS, strip=True)
        step("检查参赛名单 / checking ENTRIES")
        people = _people(entries_sheet, event, errors)
        entries = None if people is None else _entries(entries_sheet, event, people, errors, warnings)
        scores_sheet = scores_read.result()
    if people is None or entries is None:
        if errors:
            raise BadInput(errors, warnings)
        return None  # a flagged ENTRIES cell is fine after all: the row-by-row path decides
    step("检查评分表 / checking SCORES")
    marks = _marks(scores_sheet, event, entries, errors)
    if marks is None:
        scores_sheet = _read(scores_path, SCORES_COLUMNS, strip=True, categorical=True)
        marks = _marks(scores_sheet, event, entries, errors)
    if marks is None:
        if errors:
            raise BadInput(errors, warnings)
        return None
    # let the text columns go (the marks keep what the cross-checks need): a third of the peak memory
    scores_sheet = Sheet(scores_sheet.path, scores_sheet.header, scores_sheet.frame.clear(), scores_sheet.stripped)

    def finish(computed: pl.DataFrame) -> None:
        _cross(entries_sheet, scores_sheet, event, entries, marks, computed, errors, warnings)
        if errors:
            raise BadInput(errors, warnings)

    return FastInputs(
        event,
        entries.select("entry", "item", "group", "status", "theory_c", "time_key"),
        # members grouped under their entry, entries in ENTRIES order (as `Inputs.people`): the unranked rows of
        # RESULTS follow this order, and a team's rows need not stand together in the sheet
        people.sort(pl.col("row").min().over("entry"), maintain_order=True).select("entry", "name", "unit"),
        pl.DataFrame({"eidx": marks.eidx, "gid": marks.gid, "score_c": marks.cents}),
        warnings, finish)

