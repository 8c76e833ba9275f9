"""`contestday results compute` end to end: CSV and XLSX, the example, every kind of bad input."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from contestday.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("event.json", "entries.csv", "scores.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def compute(d: Path, out: str | None = "results.csv", entries: str = "entries.csv", scores: str = "scores.csv",
            *extra: str) -> tuple[int, str, str]:
    args = ["results", "compute", "--event", str(d / "event.json"), "--entries", str(d / entries),
            "--scores", str(d / scores)]
    if out is not None:
        args += ["--out", str(d / out)]
    result = CliRunner().invoke(main, args + list(extra))
    return result.exit_code, result.stdout, result.stderr


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def edit(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell: `row` is the sheet row number (header = 1)."""
    rows = rows_of(path)
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def append(path: Path, *record: str) -> int:
    with path.open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(record)
    return len(rows_of(path))


def test_example_reproduces_the_committed_results(files: Path) -> None:
    code, _, err = compute(files)
    assert code == 0, err
    assert (files / "results.csv").read_text(encoding="utf-8") == (EXAMPLES / "results.csv").read_text(encoding="utf-8")
    rows = rows_of(files / "results.csv")
    assert ",".join(rows[0]) == ("item,group,position,rank,entry,name,unit,theory,practical,practical_pct,total,"
                                 "qualified,award,cert_level,promoted,tie_unresolved,status")
    by_entry = {r[4]: r for r in rows[1:]}
    # S01: A 36.5; B trimmed (50 + 51.5 + 52) / 3 = 51.1666… -> 51.17; practical 87.67 of 100
    assert by_entry["S01"][8:12] == ["87.67", "87.67", "87.67", "true"]
    # the three-way tie at positions 5–7 straddles the 三等奖 / no-award and promotion boundary
    assert [(r[2], r[3], r[12], r[15]) for r in rows[1:] if r[4] in ("S04", "S07", "S08")] == [
        ("5", "5", "三等奖", "true"), ("6", "5", "三等奖", "true"), ("7", "5", "", "true")]
    # T02: median of 1, 8.24, 8.25, 40 is 8.245 -> 8.25; team theory (90 + 85) / 2
    assert by_entry["T02"][7:13] == ["87.50", "52.75", "52.75", "63.18", "false", "二等奖"]
    assert by_entry["T02"][13] == ""  # not qualified: no certificate despite the award
    assert rows[-1][4:6] == ["W03", "孙强"] and rows[-1][2:4] == ["", ""] and rows[-1][16] == "disqualified"


def test_xlsx_in_and_out_equal_csv(files: Path) -> None:
    for name in ("entries", "scores"):
        pl.read_csv(files / f"{name}.csv", infer_schema=False).write_excel(files / f"{name}.xlsx")
    code, _, err = compute(files, "results.xlsx", "entries.xlsx", "scores.xlsx")
    assert code == 0, err
    back = pl.read_excel(files / "results.xlsx", infer_schema_length=0).fill_null("")
    expected = pl.read_csv(EXAMPLES / "results.csv", infer_schema=False).fill_null("")
    assert back.to_dicts() == expected.to_dicts()
    assert back["total"][0] == "93.00"  # text, exactly two decimals


def test_xlsx_numbers_typed_as_numbers_are_read_exactly(files: Path) -> None:
    scores = pl.read_csv(files / "scores.csv", infer_schema=False)
    scores.with_columns(pl.col("score").cast(pl.Float64)).write_excel(files / "scores.xlsx")
    code, _, err = compute(files, "results.csv", "entries.csv", "scores.xlsx")
    assert code == 0, err
    assert (files / "results.csv").read_text(encoding="utf-8") == (EXAMPLES / "results.csv").read_text(encoding="utf-8")


def test_xlsx_bad_cell_names_its_row(files: Path) -> None:
    scores = pl.read_csv(files / "scores.csv", infer_schema=False)
    scores = scores.with_columns(pl.when(pl.int_range(pl.len()) == 9).then(pl.lit("abc")).otherwise("score")
                                 .alias("score"))
    scores.write_excel(files / "scores.xlsx")
    code, _, err = compute(files, "results.xlsx", "entries.csv", "scores.xlsx")
    assert code == 2
    assert "scores.xlsx 第 11 行 D 列（score）" in err and "row 11, column D (score)" in err
    assert not (files / "results.xlsx").exists()


BAD_ENTRIES = [
    (3, "item", "NOPE", "未知赛项"),
    (3, "group", "老年组", "没有组别"),
    (3, "status", "late", "未知状态"),
    (3, "time_used_s", "5分钟", "不是数字"),
    (3, "time_used_s", "-1", "不能为负"),
    (3, "theory", "abc", "不是数字"),
    (3, "theory", "100.5", "0–100"),
    (3, "theory", "80.125", "2 位小数"),
    (15, "theory", "", "不能为空"),           # ROBOT weighs theory at 0.3
    (16, "status", "absent", "不一致"),
    (2, "entry", "", "参赛编号为空"),
]


@pytest.mark.parametrize(("row", "column", "value", "says"), BAD_ENTRIES)
def test_bad_entries_cell_exits_2_naming_file_row_column(files: Path, row: int, column: str, value: str,
                                                         says: str) -> None:
    edit(files / "entries.csv", row, column, value)
    code, _, err = compute(files)
    assert code == 2
    letter = "ABCDEFGH"[["entry", "name", "unit", "item", "group", "theory", "time_used_s", "status"].index(column)]
    assert f"entries.csv 第 {row} 行 {letter} 列（{column}）" in err, err
    assert f"entries.csv, row {row}, column {letter} ({column})" in err
    assert says in err
    assert not (files / "results.csv").exists()


BAD_SCORES = [
    (18, "score", "60.01", "超出"),
    (18, "score", "-1", "超出"),
    (18, "score", "48.255", "2 位小数"),
    (18, "score", "四十", "不是数字"),
    (18, "score", "", "分数为空"),
    (18, "entry", "S99", "不在参赛名单中"),
    (18, "criterion", "Z", "没有评分项"),
    (18, "criterion", "M", "没有评分项"),     # M belongs to ROBOT, not LED
    (3, "score", "36", "不一致"),             # S01 A: J1 36.5, J2 36
]


@pytest.mark.parametrize(("row", "column", "value", "says"), BAD_SCORES)
def test_bad_scores_cell_exits_2_naming_file_row_column(files: Path, row: int, column: str, value: str,
                                                        says: str) -> None:
    edit(files / "scores.csv", row, column, value)
    code, _, err = compute(files)
    assert code == 2
    letter = "ABCD"[["entry", "criterion", "judge", "score"].index(column)]
    assert f"scores.csv 第 {row} 行 {letter} 列（{column}）" in err, err
    assert says in err
    assert not (files / "results.csv").exists()


def test_members_of_one_entry_in_different_items(files: Path) -> None:
    edit(files / "entries.csv", 16, "item", "LED")  # the second member of team T01
    edit(files / "entries.csv", 16, "group", "学生组")
    code, _, err = compute(files)
    assert code == 2 and "entries.csv 第 16 行 D 列（item）" in err and "不一致" in err


def test_duplicate_judge_row(files: Path) -> None:
    row = append(files / "scores.csv", "S03", "B", "J2", "50")
    code, _, err = compute(files)
    assert code == 2 and f"scores.csv 第 {row} 行 C 列（judge）" in err and "重复评分" in err


def test_missing_criterion_of_a_present_entry(files: Path) -> None:
    rows = [r for r in rows_of(files / "scores.csv") if r[:2] != ["S05", "B"]]
    with (files / "scores.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    code, _, err = compute(files)
    assert code == 2 and "entries.csv 第 6 行 A 列（entry）" in err and "S05" in err and "评分项 B" in err


def test_absent_entry_needs_no_scores_but_a_missing_deduction_is_zero(files: Path) -> None:
    code, _, err = compute(files)  # S09 is absent with no scores; most entries have no S rows
    assert code == 0, err


def test_missing_column_and_bad_event_file(files: Path) -> None:
    rows = [r[:3] for r in rows_of(files / "scores.csv")]
    with (files / "scores.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    code, _, err = compute(files)
    assert code == 2 and "scores.csv 第 1 行" in err and "score" in err
    shutil.copy(EXAMPLES / "scores.csv", files / "scores.csv")
    doc = json.loads((files / "event.json").read_text(encoding="utf-8"))
    doc["items"][0]["criteria"][0]["max"] = -1
    (files / "event.json").write_text(json.dumps(doc), encoding="utf-8")
    code, _, err = compute(files)
    assert code == 2 and "items[0].criteria[0].max" in err


def test_bad_input_leaves_an_existing_output_untouched(files: Path) -> None:
    (files / "results.csv").write_text("keep me", encoding="utf-8")
    edit(files / "scores.csv", 18, "score", "999")
    code, _, _ = compute(files)
    assert code == 2 and (files / "results.csv").read_text(encoding="utf-8") == "keep me"
    assert [p.name for p in files.iterdir() if p.name.startswith(".")] == []


def test_spread_over_max_spread_is_only_a_warning(files: Path) -> None:
    edit(files / "scores.csv", 18, "score", "30")  # S03 B: 30 … 51, max_spread 10
    code, _, err = compute(files)
    assert code == 0 and "分差" in err and "spread" in err and (files / "results.csv").exists()


def test_explain_prints_and_writes_nothing_without_out(files: Path) -> None:
    code, out, err = compute(files, None, "entries.csv", "scores.csv", "--explain", "S01")
    assert code == 0, err
    assert "去掉最高 58" in out and "最低 49" in out and "51.1666" in out and "→ 四舍五入 rounded 51.17" in out
    assert "position 2" in out and "practical=87.67" in out
    assert not (files / "results.csv").exists()
    code, out, _ = compute(files, None, "entries.csv", "scores.csv", "--explain", "S04")
    assert "tie_unresolved" in out and "S07、S08" in out
    code, _, err = compute(files, None, "entries.csv", "scores.csv", "--explain", "NOBODY")
    assert code == 2 and "NOBODY" in err


def test_out_or_explain_is_required_and_suffix_checked(files: Path) -> None:
    assert compute(files, None)[0] == 2
    assert compute(files, "results.txt")[0] == 2


def test_installed_command_runs(files: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "contestday.cli", "results", "compute",
                           "--event", str(files / "event.json"), "--entries", str(files / "entries.csv"),
                           "--scores", str(files / "scores.csv"), "--out", str(files / "r.csv")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (files / "r.csv").read_text(encoding="utf-8") == (EXAMPLES / "results.csv").read_text(encoding="utf-8")


def test_toml_event_and_gbk_csv_as_excel_saves_it(files: Path) -> None:
    import tomli_w

    doc = json.loads((files / "event.json").read_text(encoding="utf-8"))
    (files / "event.toml").write_bytes(tomli_w.dumps(doc).encode())
    (files / "event.json").unlink()
    gbk = (files / "entries.csv").read_text(encoding="utf-8").encode("gb18030")
    (files / "entries.csv").write_bytes(gbk)
    result = CliRunner().invoke(main, ["results", "compute", "--event", str(files / "event.toml"),
                                       "--entries", str(files / "entries.csv"), "--scores",
                                       str(files / "scores.csv"), "--out", str(files / "results.csv")])
    assert result.exit_code == 0, result.stderr
    assert (files / "results.csv").read_text(encoding="utf-8") == (EXAMPLES / "results.csv").read_text(encoding="utf-8")


def test_missing_output_directory_exits_2(files: Path) -> None:
    code, _, err = compute(files, "nowhere/results.csv")
    assert code == 2 and "nowhere" in err
