"""Reading and writing the offline tables (CSV or one-sheet XLSX), every cell as text.

Reading keeps each cell's text as written (no float ever), with its sheet row number (header = 1).
Writing goes to a temporary file next to the target and is renamed only when complete, so a failed
run leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

__all__ = [
    "SUFFIXES", "Table", "TableError", "check_header", "check_path", "column_letter", "raw_rows", "read_table",
    "write_table", "xlsx_frame",
]

SUFFIXES = (".csv", ".xlsx")


class TableError(ValueError):
    """The file cannot be read as a table: (row, column, zh, en); row/column may be None."""

    def __init__(self, row: int | None, column: str | None, zh: str, en: str):
        self.row, self.column, self.zh, self.en = row, column, zh, en
        super().__init__(f"{zh} / {en}")


@dataclass(frozen=True)
class Table:
    path: Path
    header: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]  # (sheet row number, column -> stripped text)

    def letter(self, column: str) -> str:
        return column_letter(self.header.index(column)) if column in self.header else ""


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (as a spreadsheet names its columns)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _decode(data: bytes) -> str:
    # Excel in China saves CSV as GB18030/GBK unless told otherwise; try UTF-8 (with BOM) first.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(None, None, "无法识别文件编码（应为 UTF-8 或 GBK）", "cannot decode the file (UTF-8 or GBK)")


def _csv_rows(path: Path) -> list[list[str]]:
    reader = csv.reader(io.StringIO(_decode(path.read_bytes()), newline=""))
    rows: list[list[str]] = []
    try:
        for record in reader:
            # Pad so that list index + 1 stays the line number even across blank lines.
            rows.extend([[]] * (reader.line_num - len(rows) - 1))
            rows.append(record)
    except csv.Error as exc:
        raise TableError(reader.line_num, None, f"CSV 格式错误：{exc}", f"malformed CSV: {exc}") from exc
    return rows


def xlsx_frame(path: Path) -> pl.DataFrame:
    """The first sheet, every cell as text or null, one frame row per sheet row (header = row 0)."""
    import fastexcel  # polars' own Excel reader; used directly because it keeps blank rows (row numbers)

    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
    except Exception as exc:  # fastexcel raises its own hierarchy for every kind of bad workbook
        raise TableError(None, None, f"无法读取 Excel 文件：{exc}", f"cannot read the workbook: {exc}") from exc
    return sheet.to_polars()


def _xlsx_rows(path: Path) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in xlsx_frame(path).iter_rows()]


def check_path(path: Path) -> None:
    """The suffix and existence checks every reader makes first (TableError)."""
    if path.suffix.lower() not in SUFFIXES:
        raise TableError(None, None, "文件应为 .csv 或 .xlsx", "the file must be .csv or .xlsx")
    if not path.is_file():
        raise TableError(None, None, "文件不存在", "file not found")


def check_header(first: Sequence[str] | None, required: Sequence[str]) -> tuple[str, ...]:
    """The stripped header from the first row's cells (None: no row at all); TableError when unusable."""
    if first is None or not any(cell.strip() for cell in first):
        raise TableError(1, None, "缺少表头行", "the header row is missing")
    header = tuple(cell.strip() for cell in first)
    for k, name in enumerate(header):
        if name and name in header[:k]:
            raise TableError(1, name, f"表头重复的列“{name}”", f"duplicate column {name!r}")
    for name in required:
        if name not in header:
            raise TableError(1, name, f"缺少列“{name}”（需要：{','.join(required)}）",
                             f"missing column {name!r} (needs: {','.join(required)})")
    return header


def raw_rows(path: Path) -> list[list[str]]:
    """Every row's cells as written (list index + 1 = sheet row number), by the row-by-row readers."""
    return _csv_rows(path) if path.suffix.lower() == ".csv" else _xlsx_rows(path)


def read_table(path: Path, required: Sequence[str]) -> Table:
    """Read `path` (.csv or .xlsx); raise TableError for a missing/unreadable file or missing columns."""
    check_path(path)
    raw = raw_rows(path)
    header = check_header(raw[0] if raw else None, required)
    rows = []
    for number, record in enumerate(raw[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank lines are not rows
        cells = {name: (record[k].strip() if k < len(record) else "") for k, name in enumerate(header) if name}
        rows.append((number, cells))
    return Table(path, header, tuple(rows))


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """Write an all-text frame to .csv (UTF-8, no BOM: scripts read it) or .xlsx, atomically."""
    suffix = path.suffix.lower()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent or Path("."))
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if suffix == ".csv":
            # Blank cells as nulls: polars writes those unquoted (an empty string would come out "").
            frame.with_columns(pl.all().replace("", None)).write_csv(tmp)
        else:
            # Every cell is text: 85.50 stays "85.50" exactly, and reads back as written.
            frame.write_excel(tmp, worksheet="results", autofit=True)
        tmp.chmod(0o644)  # mkstemp makes it 0600; a results file is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
