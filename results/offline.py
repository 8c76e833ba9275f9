"""`contestday results compute`: the offline results of contracts §3 (the CLI's only entry point here)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import polars as pl

from results.engine import compute_frames, results_frame
from results.fast_inputs import load_frames
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


class _Progress:
    """Stage lines on stderr, only once a run has taken more than a second (a small sheet prints none)."""

    AFTER = 1.0

    def __init__(self) -> None:
        self.start, self.stage, self.shown = time.perf_counter(), "", False
        self.lock = threading.Lock()
        self.timer = threading.Timer(self.AFTER, self._late)
        self.timer.daemon = True
        self.timer.start()

    def _print(self) -> None:
        print(f"…… {self.stage}（{time.perf_counter() - self.start:.1f} s）", file=sys.stderr, flush=True)

    def _late(self) -> None:
        with self.lock:
            if self.stage and not self.shown:
                self.shown = True
                self._print()

    def __call__(self, stage: str) -> None:
        with self.lock:
            self.stage = stage
            if time.perf_counter() - self.start > self.AFTER:
                self.shown = True
                self._print()

    def done(self) -> None:
        self.timer.cancel()


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
    progress = _Progress()
    try:
        return _compute(event_path, entries_path, scores_path, out_path, explain, progress)
    finally:
        progress.done()


def _refuse(exc: BadInput) -> int:
    _warn(exc.warnings)
    shown = exc.errors[:20]
    print("输入有误，未写出任何文件 / bad input, nothing written:", file=sys.stderr)
    for error in shown:
        print(error.render(), file=sys.stderr)
    if len(exc.errors) > len(shown):
        more = len(exc.errors) - len(shown)
        print(f"……另有 {more} 处错误 / … and {more} more", file=sys.stderr)
    return 2


def _compute(event_path: Path, entries_path: Path, scores_path: Path, out_path: Path | None,
             explain: str | None, progress: _Progress) -> int:
    inputs = None
    try:
        # --explain prints the Decimal reference's steps: it needs the row-by-row `Inputs`.
        fast = None if explain is not None else load_frames(event_path, entries_path, scores_path, progress)
        if fast is None:
            progress("逐行检查输入 / checking the inputs row by row")
            inputs, warnings = load_inputs(event_path, entries_path, scores_path)
    except BadInput as exc:
        return _refuse(exc)
    if fast is not None:
        event, (entries, people, scores) = fast.event, (fast.entries, fast.people, fast.scores)
    else:
        assert inputs is not None
        from results.convert import input_frames

        event, (entries, people, scores) = inputs.event, input_frames(inputs)
    if explain is not None and inputs is not None and all(e.entry != explain for e in inputs.entries):
        _warn(warnings)
        return _fail(f"参赛编号“{explain}”不在 {entries_path.name} 中",
                     f"entry {explain!r} is not in {entries_path.name}")
    progress("计算成绩与排名 / computing")
    computed = compute_frames(event, entries, scores)
    if fast is not None:
        progress("交叉检查 / cross-checks")
        try:
            fast.finish(computed)  # the last checks use the engine's counts
        except BadInput as exc:
            return _refuse(exc)
        warnings = fast.warnings
    _warn(warnings)
    table = results_frame(people, computed)
    _warn(_result_warnings(event, table), limit=100)
    if explain is not None and inputs is not None:
        from results.explain import explain_entry

        print(explain_entry(inputs, explain))
    if out_path is not None:
        progress(f"写出 {out_path.name} / writing")
        try:
            write_table(table, out_path)
        except OSError as exc:
            return _fail(f"无法写出 {out_path}：{exc}", f"cannot write {out_path}: {exc}")
        unresolved = table.filter(table["tie_unresolved"] == "true")["entry"].unique().len()
        print(f"已写出 {table.height} 行到 {out_path} / wrote {table.height} rows to {out_path}"
              + (f"；{unresolved} 个参赛者并列待裁判长确定 / {unresolved} entries in unresolved ties"
                 if unresolved else ""), file=sys.stderr)
    return 0
