"""Builders and hypothesis strategies shared by the results/scoring tests (not a pytest conftest)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import strategies as st

from results.convert import input_frames
from results.engine import compute_frames, results_frame
from results.model import Entry, Inputs, Mark, Person
from results.reference import compute_reference, reference_rows
from scoring.event_file import AWARD_RULES, EventSpec, parse_event_document
from scoring.marking import team_theory

D = Decimal


def event_doc(items: list[dict[str, Any]], rule: str = "merit_if_over_30", **policy: Any) -> dict[str, Any]:
    return {"event": {"name": "测试赛", "kind": "district", "starts_on": "2026-10-20",
                      "award_policy": {"rule": rule, **policy}},
            "items": items}


def item_doc(code: str = "LED", criteria: list[dict[str, Any]] | None = None, **kw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"code": code, "name": f"赛项{code}", "exam_level": 4, "groups": [],
                           "criteria": criteria or [{"code": "A", "name": "测量", "max": 100, "kind": "measurement"}]}
    doc.update(kw)
    return doc


def make_inputs(event: EventSpec, people: Sequence[tuple[Any, ...]],
                marks: Sequence[tuple[str, str, str, Any]]) -> Inputs:
    """people: (entry, item, group, theory|None, time|None, status[, name]); marks: (entry, criterion, judge, score)."""
    team: dict[str, list[Person]] = {}
    for row, p in enumerate(people, start=2):
        entry, item, group, theory, time_used, status = p[:6]
        name = p[6] if len(p) > 6 else f"name-{entry}-{row}"
        team.setdefault(entry, []).append(Person(
            row, entry, name, "unit", item, group, None if theory is None else D(str(theory)),
            None if time_used is None else D(str(time_used)), status))
    entries = []
    for order, (entry_id, members) in enumerate(team.items()):
        head = members[0]
        times = [m.time_used for m in members if m.time_used is not None]
        entries.append(Entry(entry_id, head.item, head.group, head.status, order,
                             team_theory([m.theory for m in members]), times[0] if times else None, tuple(members)))
    mark_objs = tuple(Mark(k + 2, e, c, j, D(str(s))) for k, (e, c, j, s) in enumerate(marks))
    return Inputs(event, tuple(entries), mark_objs)


def fast_table(inputs: Inputs) -> pl.DataFrame:
    entries, people, scores = input_frames(inputs)
    return results_frame(people, compute_frames(inputs.event, entries, scores))


def reference_table(inputs: Inputs) -> pl.DataFrame:
    rows = reference_rows(inputs, compute_reference(inputs))
    return pl.DataFrame(rows, schema={k: pl.String for k in fast_table_columns()})


def fast_table_columns() -> tuple[str, ...]:
    from results.model import RESULTS_COLUMNS
    return RESULTS_COLUMNS


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


ENTRIES_HEADER = ("entry", "name", "unit", "item", "group", "theory", "time_used_s", "status")


def offline_results(folder: Path, event: dict[str, Any], entries: Sequence[Sequence[Any]],
                    scores: Sequence[Sequence[Any]]) -> list[dict[str, str]]:
    """`contestday results compute` as a user runs it (the installed command, from files in `folder`): the
    event document, ENTRIES rows (ENTRIES_HEADER) and SCORES rows (entry, criterion, judge, score); its rows."""
    import json
    import shutil
    import subprocess
    import sys

    (folder / "event.json").write_text(json.dumps(event, ensure_ascii=False), encoding="utf-8")
    write_csv(folder / "entries.csv", ENTRIES_HEADER, entries)
    write_csv(folder / "scores.csv", ("entry", "criterion", "judge", "score"), scores)
    exe = shutil.which("contestday") or str(Path(sys.executable).parent / "contestday")
    run = subprocess.run([exe, "results", "compute", "--event", str(folder / "event.json"),
                          "--entries", str(folder / "entries.csv"), "--scores", str(folder / "scores.csv"),
                          "--out", str(folder / "results.csv")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return read_csv(folder / "results.csv")


# ---- hypothesis: random but valid events and sheets, biased towards ties and rounding edges ----

_EDGE_CENTS = [0, 1, 50, 824, 825, 1000, 1050, 3333]


def _cents_upto(max_c: int) -> st.SearchStrategy[int]:
    edges = [c for c in _EDGE_CENTS if c <= max_c] + [max_c]
    return st.one_of(st.sampled_from(edges), st.integers(0, max_c))


@st.composite
def criteria_docs(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 4))
    out = []
    for k in range(n):
        kind = "measurement" if k == 0 else draw(st.sampled_from(["measurement", "judgement", "deduction"]))
        maximum = draw(st.sampled_from(["10", "40", "60", "0.5", "12.34", "100"]))
        doc: dict[str, Any] = {"code": f"C{k}", "name": f"评分项{k}", "max": D(maximum), "kind": kind}
        if kind == "judgement":
            doc["aggregate"] = draw(st.sampled_from(["mean", "median", "trimmed_mean"]))
            doc["trim_min_judges"] = draw(st.integers(3, 5))
            spread = draw(st.sampled_from([None, "0", "0.5", "2"]))  # panels over it are warned about
            if spread is not None:
                doc["max_spread"] = D(spread)
        out.append(doc)
    return out


@st.composite
def cases(draw: st.DrawFn, max_entries: int = 24) -> Inputs:
    rule = draw(st.sampled_from(sorted(AWARD_RULES)))
    policy: dict[str, Any] = {"ratio": D(draw(st.sampled_from(["0.3", "0.29", "0.5", "0.1", "1"])))}
    if "threshold" in AWARD_RULES[rule]:
        policy["threshold"] = draw(st.integers(0, 12))
    if draw(st.booleans()):  # on team items N counts people (the default) or teams (#18 point 6)
        policy["count"] = draw(st.sampled_from(["people", "teams"]))
    items = []
    for i in range(draw(st.integers(1, 2))):
        criteria = draw(criteria_docs())
        codes = [c["code"] for c in criteria if c["kind"] != "deduction"]
        keys = ["practical", "theory", "time_used", *(f"criterion:{c}" for c in codes)]
        tie_break = draw(st.lists(st.sampled_from(keys), unique=True, max_size=4))
        level = draw(st.integers(0, 5))  # 0: a 专项职业能力证书 (no level, never promoted)
        doc = item_doc(f"I{i}", criteria, team_size=draw(st.sampled_from([1, 2, 3])), exam_level=level,
                       pass_mark=D(draw(st.sampled_from(["0", "50", "60", "60.5", "90"]))),
                       groups=draw(st.sampled_from([[], ["学生组", "职工组"]])),
                       theory_weight=D(draw(st.sampled_from(["0", "0.1", "0.25", "0.3"]))), tie_break=tie_break)
        if draw(st.booleans()):
            doc["promotion_top"] = draw(st.integers(0, 8))
        if level == 0:
            del doc["exam_level"]
            doc["certificate"] = "special_ability"
        items.append(doc)
    event = parse_event_document(event_doc(items, rule, **policy))
    people: list[tuple[Any, ...]] = []
    marks: list[tuple[str, str, str, Any]] = []
    for e in range(draw(st.integers(0, max_entries))):
        item = draw(st.sampled_from(event.items))
        group = draw(st.sampled_from(item.group_names))
        status = draw(st.sampled_from(["present"] * 6 + ["absent", "disqualified"]))
        time_used = draw(st.one_of(st.none(), st.sampled_from(["600", "600.5", "700"])))
        for member in range(draw(st.integers(1, item.team_size))):
            theory = draw(st.sampled_from(["80", "80.01", "75.5", "100", "0"]))
            if item.theory_weight == 0 and draw(st.booleans()):
                theory = None
            people.append((f"E{e}", item.code, group, theory, time_used if member == 0 else None, status))
        for c in item.criteria:
            max_c = int(c.max * 100)
            judges = draw(st.integers(0 if c.kind == "deduction" else 1, 5))
            agreed = draw(_cents_upto(max_c))
            for j in range(judges):
                # measurements and deductions: the judges agree (#18: a disagreement is an error, not a mean)
                cents = agreed if c.kind in ("measurement", "deduction") else draw(_cents_upto(max_c))
                marks.append((f"E{e}", c.code, f"J{j}", D(cents) / 100))
    return make_inputs(event, people, marks)
