"""`contestday results compute`: the offline results of contracts §3 (the CLI's only entry point here)."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from results.convert import input_frames
from results.engine import compute_frames, results_frame
from results.explain import explain_entry
from results.inputs import BadInput, load_inputs
from results.tables import SUFFIXES, write_table
from results.warnings import render_warning, result_warnings
from scoring.event_file import EventSpec

__all__ = ["compute_command"]


def _fail(zh: str, en: str) -> int:
    print(f"错误：{zh}\nerror: {en}", file=sys.stderr)
    return 2


def _warn(warnings: list[str], limit: int = 20) -> None:
    # A large sheet can hold hundreds of wide panels: show the first ones and count the rest.
    for warning in warnings[:limit]:
        print(f"警告 warning: {warning}", file=sys.stderr)
    if len(warnings) > limit:
        more = len(warnings) - limit
        print(f"……另有 {more} 条警告 / … and {more} more warnings", file=sys.stderr)


def _result_warnings(event: EventSpec, table: pl.DataFrame) -> list[str]:
    """The publish page's warnings (few finalists, fixed prizes over 30 %), from the same ranked counts:
    a team's members share one entry, so entries are counted, not rows."""
    ranked = (table.filter(pl.col("position") != "").group_by("item", "group")
              .agg(pl.col("entry").n_unique().alias("n")))
    counts: dict[str, dict[str, int]] = {}
    for row in ranked.iter_rows(named=True):
        counts.setdefault(row["item"], {})[row["group"]] = row["n"]
    return [render_warning(w) for item in event.items if item.code in counts
            for w in result_warnings(item.name, item.team_size,
                                     _in_order(item.group_names, counts[item.code]),
                                     event.award_policy)]


def _in_order(names: tuple[str, ...] | list[str], counts: dict[str, int]) -> dict[str, int]:
    # the event file's group order, as on the publish page
    return {g: counts[g] for g in [*names, *sorted(set(counts) - set(names))] if g in counts}


def compute_command(event_path: Path, entries_path: Path, scores_path: Path, out_path: Path | None,
                    explain: str | None) -> int:
    """Exit status: 0 done, 2 bad input (nothing written)."""
    if out_path is None and explain is None:
        return _fail("需要 --out（或 --explain）", "--out is required (or --explain)")
    if out_path is not None:
        if out_path.suffix.lower() not in SUFFIXES:
            return _fail(f"输出文件 {out_path.name} 应为 .csv 或 .xlsx",
                         f"output {out_path.name} must be .csv or .xlsx")
        if not out_path.parent.resolve().is_dir():
            return _fail(f"输出目录 {out_path.parent} 不存在", f"output directory {out_path.parent} does not exist")
    try:
        inputs, warnings = load_inputs(event_path, entries_path, scores_path)
    except BadInput as exc:
        _warn(exc.warnings)
        shown = exc.errors[:20]
        print("输入有误，未写出任何文件 / bad input, nothing written:", file=sys.stderr)
        for error in shown:
            print(error.render(), file=sys.stderr)
        if len(exc.errors) > len(shown):
            more = len(exc.errors) - len(shown)
            print(f"……另有 {more} 处错误 / … and {more} more", file=sys.stderr)
        return 2
    _warn(warnings)
    if explain is not None and all(e.entry != explain for e in inputs.entries):
        return _fail(f"参赛编号“{explain}”不在 {entries_path.name} 中",
                     f"entry {explain!r} is not in {entries_path.name}")
    entries, people, scores = input_frames(inputs)
    table = results_frame(people, compute_frames(inputs.event, entries, scores))
    _warn(_result_warnings(inputs.event, table), limit=100)
    if explain is not None:
        print(explain_entry(inputs, explain))
    if out_path is not None:
        try:
            write_table(table, out_path)
        except OSError as exc:
            return _fail(f"无法写出 {out_path}：{exc}", f"cannot write {out_path}: {exc}")
        unresolved = table.filter(table["tie_unresolved"] == "true")["entry"].unique().len()
        print(f"已写出 {table.height} 行到 {out_path} / wrote {table.height} rows to {out_path}"
              + (f"；{unresolved} 个参赛者并列待裁判长确定 / {unresolved} entries in unresolved ties"
                 if unresolved else ""), file=sys.stderr)
    return 0
