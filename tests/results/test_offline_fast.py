"""The column-by-column reader (`results.fast_inputs`) against the row-by-row one and the Decimal reference:
the same results, the same warnings, and the same refusals word for word (file, row, column)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from results.engine import compute_frames, results_frame
from results.fast_inputs import load_frames
from results.fast_tables import WHITESPACE
from results.inputs import BadInput, load_inputs
from results.model import Inputs
from scoring.event_file import EventSpec, parse_event_document, to_document
from tests.support.results_cases import ENTRIES_HEADER, cases, item_doc, reference_table, write_csv

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCORES = ("entry", "criterion", "judge", "score")


def _rows(inputs: Inputs) -> tuple[list[list[str]], list[list[str]]]:
    people = [[p.entry, p.name, p.unit, p.item, p.group, "" if p.theory is None else str(p.theory),
               "" if p.time_used is None else str(p.time_used), p.status] for p in inputs.people]
    marks = [[m.entry, m.criterion, m.judge, str(m.score)] for m in inputs.marks]
    return people, marks


def _write(folder: Path, event: EventSpec, people: list[list[str]], marks: list[list[str]]) -> tuple[Path, Path, Path]:
    (folder / "event.json").write_text(json.dumps(to_document(event), ensure_ascii=False), encoding="utf-8")
    return folder / "event.json", write_csv(folder / "entries.csv", ENTRIES_HEADER, people), write_csv(
        folder / "scores.csv", SCORES, marks)


def _fast(paths: tuple[Path, Path, Path]) -> tuple[str, Any, list[str]]:
    """('ok', RESULTS rows, warnings) or ('bad', rendered errors, warnings), as the command decides."""
    try:
        fast = load_frames(*paths)
        if fast is None:
            return _slow(paths)
        computed = compute_frames(fast.event, fast.entries, fast.scores)
        fast.finish(computed)
    except BadInput as exc:
        return "bad", [e.render() for e in exc.errors], exc.warnings
    return "ok", results_frame(fast.people, computed).to_dicts(), fast.warnings


def _slow(paths: tuple[Path, Path, Path]) -> tuple[str, Any, list[str]]:
    try:
        inputs, warnings = load_inputs(*paths)
    except BadInput as exc:
        return "bad", [e.render() for e in exc.errors], exc.warnings
    return "ok", reference_table(inputs).to_dicts(), warnings


@SETTINGS
@given(cases())
def test_fast_reader_and_engine_equal_the_decimal_reference(inputs: Inputs) -> None:
    people, marks = _rows(inputs)
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write(Path(tmp), inputs.event, people, marks)
        fast = load_frames(*paths)
        assert fast is not None  # plain valid sheets never need the row-by-row path
        assert _fast(paths) == _slow(paths)


NASTY = ["", " ", "abc", "-1", "-0", "8.255", "8.250", "+5", ".5", "5.", "１０", "1e3", "999", "0.5 ", " 10",
         "NOPE", "I0", "I1", "学生组", "老年组", "absent", "Present", "disqualified", "E0", "E1", "C0", "C1", "J0",
         "\u3000E0", "E0\x1c", "100.5", "80.125", "600", "600.0"]


@st.composite
def spoiled(draw: st.DrawFn) -> tuple[Inputs, list[list[str]], list[list[str]]]:
    inputs = draw(cases(max_entries=10))
    people, marks = _rows(inputs)
    for _ in range(draw(st.integers(1, 3))):
        sheet = draw(st.sampled_from([people, marks] if marks else [people]))
        if not sheet:
            continue
        k = draw(st.integers(0, len(sheet) - 1))
        action = draw(st.sampled_from(["cell", "cell", "cell", "duplicate", "drop", "blank"]))
        if action == "cell":
            sheet[k][draw(st.integers(0, len(sheet[k]) - 1))] = draw(st.sampled_from(NASTY))
        elif action == "duplicate":
            sheet.insert(draw(st.integers(0, len(sheet))), list(sheet[k]))
        elif action == "drop":
            del sheet[k]
        else:
            sheet.insert(k, [draw(st.sampled_from(["", " ", WHITESPACE[:3]]))] * len(sheet[k]))
    return inputs, people, marks


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spoiled())
def test_fast_reader_refuses_what_the_row_by_row_reader_refuses(case: tuple[Inputs, Any, Any]) -> None:
    inputs, people, marks = case
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write(Path(tmp), inputs.event, people, marks)
        assert _fast(paths) == _slow(paths)


def test_whitespace_set_is_pythons() -> None:
    assert set(WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def test_quoted_gbk_and_xlsx_sheets_read_the_same(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    event = examples / "event.json"
    entries = pl.read_csv(examples / "entries.csv", infer_schema=False)
    (tmp_path / "quoted.csv").write_text(entries.write_csv(quote_style="always"), encoding="utf-8")
    (tmp_path / "gbk.csv").write_bytes((examples / "entries.csv").read_text(encoding="utf-8").encode("gb18030"))
    entries.write_excel(tmp_path / "entries.xlsx")
    expected = _slow((event, examples / "entries.csv", examples / "scores.csv"))
    assert expected[0] == "ok"
    for name in ("quoted.csv", "gbk.csv", "entries.xlsx"):
        assert _fast((event, tmp_path / name, examples / "scores.csv")) == expected, name


def test_a_half_mark_on_the_0_3_scale_is_refused_by_both_readers(tmp_path: Path) -> None:
    """The 0–3 scale takes 0, 1, 2 or 3 (`not_on_scale`, as the tablets refuse it). The row-by-row reader
    used to take "1.5" because it skipped the checks for a plain number of at most 2 decimals."""
    event = parse_event_document({
        "event": {"name": "测试", "kind": "district", "starts_on": "2026-10-20",
                  "award_policy": {"rule": "merit_if_over_30"}},
        "items": [item_doc(criteria=[{"code": "J", "name": "评价", "max": 3, "kind": "judgement", "scale": "0-3"}])]})
    people = [["E1", "甲", "单位", "LED", "", "", "", "present"], ["E2", "乙", "单位", "LED", "", "", "", "present"]]
    half = [["E1", "J", "P1", "2"], ["E1", "J", "P2", "1.5"], ["E2", "J", "P1", "3"], ["E2", "J", "P2", "3"]]
    for reader in (_fast, _slow):
        outcome, errors, _ = reader(_write(tmp_path, event, people, half))
        assert outcome == "bad" and len(errors) == 1, errors
        assert "scores.csv" in errors[0] and "第 3 行" in errors[0] and "0–3 分制只能打 0、1、2、3 分" in errors[0]
        whole = [row if row[3] != "1.5" else [*row[:3], "1"] for row in half]
        outcome, rows, _ = reader(_write(tmp_path, event, people, whole))
        assert outcome == "ok" and [r["entry"] for r in rows] == ["E2", "E1"]
