"""Benchmark of `contestday results compute` as users run it: the whole command, from files.

    python bench/results_offline.py [--quick] [--entries 100000] [--repeat 1] [--keep DIR]

Writes an event file, ENTRIES and SCORES (N entries × 10 criteria × 5 judges: 4 measurements, 5
judgements with mean, median and trimmed mean, 1 deduction; theory weighted 0.2; groups of about 300;
some judgement panels over `max_spread`, so warnings are part of the run) as CSV, and 100 k SCORES rows
as XLSX, then times, each a fresh subprocess `python -m contestday.cli results compute …`:

- the command on the N-entry CSV set (wall seconds and the child's peak RSS);
- the Decimal reference on the same files in the same run (`results.inputs.load_inputs`, the row-by-row
  reader and checker, then `results.reference`; the child's wall seconds and peak RSS) and the ratio;
- one 300-entry item, whole command, less the start-up of a bare interpreter (`python -c pass`);
- the XLSX inputs of 100 k SCORES rows (2,000 entries).

Both results files are compared byte for byte. Prints one line per figure, then a JSON object last.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_engine import CRITERIA, GROUP_SIZE, JUDGES  # noqa: E402

REFERENCE = """
import sys, time
from pathlib import Path
from results.inputs import load_inputs
from results.reference import compute_reference, reference_rows
from results.model import RESULTS_COLUMNS
import csv
event, entries, scores, out = map(Path, sys.argv[1:5])
inputs, warnings = load_inputs(event, entries, scores)
rows = reference_rows(inputs, compute_reference(inputs))
with out.open("w", newline="", encoding="utf-8") as fh:
    w = csv.writer(fh, lineterminator="\\n")
    w.writerow(RESULTS_COLUMNS)
    w.writerows([r[c] for c in RESULTS_COLUMNS] for r in rows)
"""


def event_doc(n_items: int) -> dict[str, Any]:
    items = [{"code": f"I{i:03d}", "name": f"赛项{i}", "exam_level": 4, "groups": ["学生组", "职工组"],
              "theory_weight": 0.2, "criteria": CRITERIA,
              "tie_break": ["practical", "criterion:J1", "time_used", "theory"]} for i in range(n_items)]
    return {"event": {"name": "bench", "kind": "district", "starts_on": "2026-10-20",
                      "award_policy": {"rule": "merit_if_over_30"}}, "items": items}


def _rand(expr: pl.Expr, seed: int, modulo: int) -> pl.Expr:
    return (expr.hash(seed) % modulo).cast(pl.Int64)


def _text(cents: pl.Expr) -> pl.Expr:
    """Marks as a person types them: 8, 8.5, 8.25."""
    whole = (cents // 100).cast(pl.String)
    return (pl.when(cents % 100 == 0).then(whole)
            .when(cents % 10 == 0).then(whole + "." + ((cents % 100) // 10).cast(pl.String))
            .otherwise(whole + "." + (cents % 100).cast(pl.String).str.zfill(2)))


def make_files(folder: Path, n: int, suffix: str = ".csv", one_group: bool = False) -> tuple[Path, Path, Path]:
    """event.json, entries and scores for n entries (groups of about GROUP_SIZE, or one group)."""
    n_groups = 1 if one_group else max(1, n // GROUP_SIZE)
    (folder / "event.json").write_text(json.dumps(event_doc((n_groups + 1) // 2), ensure_ascii=False),
                                       encoding="utf-8")
    idx = pl.int_range(n, dtype=pl.Int64)
    group_no = idx % n_groups
    entries = pl.select(
        entry=pl.format("E{}", idx), name=pl.format("选手{}", idx), unit=pl.lit("重庆某某职业技术学院"),
        item=pl.format("I{}", (group_no // 2).cast(pl.String).str.zfill(3)),
        group=pl.when(group_no % 2 == 0).then(pl.lit("学生组")).otherwise(pl.lit("职工组")),
        theory=_text(_rand(idx, 2, 2001) + 8000),
        time_used_s=(_rand(idx, 3, 600) + 3000).cast(pl.String),
        status=pl.when(_rand(idx, 1, 50) == 0).then(pl.lit("absent")).otherwise(pl.lit("present")))
    codes = [c["code"] for c in CRITERIA]
    r = pl.int_range(n * len(codes) * JUDGES, dtype=pl.Int64)
    e = r // (len(codes) * JUDGES)
    c = (r // JUDGES) % len(codes)
    scores = pl.select(
        entry=pl.format("E{}", e), criterion=pl.lit(pl.Series(codes)).gather(c), judge=pl.format("J{}", r % JUDGES),
        # measurements and deductions agree across judges; judgements scatter 6.00 … 9.99 around a
        # base, a few panels over max_spread 3
        score=_text(pl.when(c < 4).then(_rand(e * 16 + c, 4, 401) + 600)
                    .when(c == 9).then(_rand(e, 5, 3) * 50)
                    .otherwise(_rand(e * 16 + c, 7, 100) + 600 + _rand(r, 6, 300))))
    paths = _paths(folder, suffix)
    if suffix == ".csv":
        entries.write_csv(paths[1])
        scores.write_csv(paths[2])
    else:
        entries.write_excel(paths[1])
        scores.write_excel(paths[2])
    return paths


def _run(argv: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds and peak RSS (MiB) of one child, measured by wait4 on the child itself."""
    # bytecode written and reused, as on a user's machine (an environment may forbid writing it)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    # The outputs are small (a few lines): read them after the child has ended.
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, subprocess.CompletedProcess(argv, proc.returncode, out, err)


def command(paths: tuple[Path, Path, Path], out: Path) -> list[str]:
    return [sys.executable, "-m", "contestday.cli", "results", "compute", "--event", str(paths[0]),
            "--entries", str(paths[1]), "--scores", str(paths[2]), "--out", str(out)]


def fast(paths: tuple[Path, Path, Path], out: Path) -> tuple[float, float]:
    seconds, rss, proc = _run(command(paths, out))
    assert proc.returncode == 0, proc.stderr
    return seconds, rss


def _paths(folder: Path, suffix: str = ".csv") -> tuple[Path, Path, Path]:
    return folder / "event.json", folder / f"entries{suffix}", folder / f"scores{suffix}"


def main() -> None:
    if sys.argv[1:2] == ["--make"]:
        base, n, xlsx_entries = Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        make_files(base / "csv", n)
        make_files(base / "group", GROUP_SIZE, one_group=True)
        make_files(base / "xlsx", xlsx_entries, ".xlsx")
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10 k entries, XLSX 20 k rows")
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each fast figure (the best is kept)")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="write the files here and keep them")
    args = parser.parse_args()
    n = args.entries or (10_000 if args.quick else 100_000)
    xlsx_entries = 400 if args.quick else 2_000  # × 50 marks: 20 k or 100 k SCORES rows
    report: dict[str, Any] = {"entries": n, "marks": n * len(CRITERIA) * JUDGES, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        csv_dir, g_dir, x_dir = base / "csv", base / "group", base / "xlsx"
        for d in (csv_dir, g_dir, x_dir):
            d.mkdir(parents=True, exist_ok=True)
        # The files are made in a child: a child's peak RSS (wait4) starts at its parent's size at the fork,
        # so this process must stay small for the figures to be the commands' own.
        subprocess.run([sys.executable, __file__, "--make", str(base), str(n), str(xlsx_entries)], check=True)
        big, group, xlsx = _paths(csv_dir), _paths(g_dir), _paths(x_dir, ".xlsx")
        report["bench_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

        fast(group, g_dir / "results.csv")  # warm-up: the bytecode is compiled once, as after installing
        runs = [fast(big, csv_dir / "results.csv") for _ in range(args.repeat)]
        seconds, rss = min(runs)
        print(f"{n} entries × {len(CRITERIA)} × {JUDGES} CSV, whole command: {seconds:.2f} s, peak {rss:.0f} MiB")
        report.update(fast_s=round(seconds, 3), fast_peak_mib=round(max(r[1] for r in runs)))
        if not args.no_reference:
            ref_s, ref_rss, proc = _run([sys.executable, "-c", REFERENCE, *map(str, big),
                                         str(csv_dir / "reference.csv")])
            assert proc.returncode == 0, proc.stderr
            same = (csv_dir / "reference.csv").read_bytes() == (csv_dir / "results.csv").read_bytes()
            print(f"Decimal reference, same files: {ref_s:.2f} s, peak {ref_rss:.0f} MiB; "
                  f"ratio {ref_s / seconds:.1f}×; outputs equal: {same}")
            report.update(reference_s=round(ref_s, 3), reference_peak_mib=round(ref_rss),
                          ratio=round(ref_s / seconds, 1), equal=same)

        bare = min(_run([sys.executable, "-c", "pass"])[0] for _ in range(5))
        group_runs = [fast(group, g_dir / "results.csv")[0] for _ in range(max(5, args.repeat))]
        print(f"one {GROUP_SIZE}-entry item: {min(group_runs) * 1000:.0f} ms whole command, "
              f"{(min(group_runs) - bare) * 1000:.0f} ms less interpreter start-up ({bare * 1000:.0f} ms)")
        report.update(group_300_ms=round((min(group_runs) - bare) * 1000, 1),
                      group_300_whole_ms=round(min(group_runs) * 1000, 1), python_start_ms=round(bare * 1000, 1))
        # the floor under any command that reads with polars: importing it
        polars_import = min(_run([sys.executable, "-c", "import polars"])[0] for _ in range(5)) - bare
        print(f"importing polars alone: {polars_import * 1000:.0f} ms less interpreter start-up")
        report.update(polars_import_ms=round(polars_import * 1000, 1))

        x_runs = [fast(xlsx, x_dir / "results.csv")[0] for _ in range(args.repeat)]
        print(f"XLSX, {xlsx_entries * len(CRITERIA) * JUDGES} SCORES rows: {min(x_runs):.2f} s")
        report[f"xlsx_{xlsx_entries * len(CRITERIA) * JUDGES // 1000}k_s"] = round(min(x_runs), 3)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
