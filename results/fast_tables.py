"""The offline tables read whole into polars: the same cells and sheet row numbers as `results.tables`.

`results.tables.read_table` reads row by row in Python; this reads a CSV with polars' own parser when the
file leaves no room for the two to differ (UTF-8, no quote character, no NUL, every line end `\\n` or
`\\r\\n`, no line longer than the header, one frame row per line — checked), and otherwise takes the
very rows the row-by-row reader takes. An XLSX goes through the same fastexcel sheet either way.
Cells are text; blank cells are "", blank rows dropped, each row keeps its sheet row number (header = 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from results.tables import Table, check_header, check_path, raw_rows, xlsx_frame

__all__ = ["WHITESPACE", "Sheet", "read_sheet"]

# What Python's str.strip() takes off (str.isspace()), for polars' strip_chars: the same cells either way.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


@dataclass(frozen=True)
class Sheet:
    path: Path
    header: tuple[str, ...]
    frame: pl.DataFrame  # "row" (Int64, sheet row number), then the required columns as String, "" for blank
    stripped: bool  # cells stripped (else as written: the caller must not trust a cell it has not checked)

    def table(self, rows: pl.DataFrame | None = None) -> Table:
        """A `results.tables.Table` of these rows (default: none), cells stripped, for the row-by-row checkers."""
        names = [c for c in self.frame.columns if c != "row"]
        chosen = [] if rows is None else rows.select("row", *names).iter_rows()
        return Table(self.path, self.header,
                     tuple((r[0], {n: v.strip() for n, v in zip(names, r[1:], strict=True)}) for r in chosen))


def _polars_csv(path: Path, categorical: bool) -> pl.DataFrame | None:
    """polars' parse of a CSV that it reads exactly as the csv module does, else None."""
    data = path.read_bytes()
    if not data or b'"' in data or b"\x00" in data:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone \r ends a line for the csv module
    # No quote character: the first line's commas are its fields (a longer line is an error, as with
    # infer_schema=False, and the row-by-row reader then decides).
    width = data[:data.find(b"\n") if b"\n" in data else len(data)].count(b",") + 1
    kind = {"schema": {f"c{k}": pl.Categorical for k in range(width)}} if categorical else {"infer_schema": False}
    try:
        frame = pl.read_csv(data, has_header=False, quote_char=None, encoding="utf8", raise_if_empty=True,
                            **kind)
    except Exception:  # invalid UTF-8 (GBK), ragged lines, …: the row-by-row reader decides
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return frame if frame.height == lines else None


def _from_rows(rows: list[list[str]]) -> pl.DataFrame:
    width = max((len(r) for r in rows), default=0)
    return pl.DataFrame([pl.Series(f"c{k}", [r[k] if k < len(r) else None for r in rows], dtype=pl.String)
                         for k in range(width)])


def _raw_frame(path: Path, categorical: bool) -> pl.DataFrame:
    if path.suffix.lower() == ".csv":
        frame = _polars_csv(path, categorical)
        return _from_rows(raw_rows(path)) if frame is None else frame
    frame = xlsx_frame(path)
    if not all(dtype in (pl.String, pl.Null) for dtype in frame.dtypes):
        return _from_rows(raw_rows(path))  # what str() makes of a typed cell is the row-by-row reader's
    return frame


def read_sheet(path: Path, required: Sequence[str], *, strip: bool = True, categorical: bool = False) -> Sheet:
    """Read `path` like `results.tables.read_table` (the same TableErrors) into one frame.

    `strip=False` leaves data cells as written, which saves a pass over millions of cells: a caller that
    accepts a cell only when it holds no blank (a number, a known code) reads the same as stripped, and
    must read again with `strip=True` before it judges any other cell. A row of blanks only is then
    not dropped either.

    `categorical=True` gives the cells as polars Categorical (the same texts): a sheet of millions of
    repeated codes and marks then takes a quarter of the memory, and a caller can look each distinct text
    up once (`.unique()`, `.to_physical()`). A CSV not stripped is parsed so directly.
    """
    check_path(path)
    raw = _raw_frame(path, categorical and not strip)
    raw = raw.rename({c: f"c{k}" for k, c in enumerate(raw.columns)})
    header = check_header(["" if v is None else str(v) for v in raw.row(0)] if raw.height else None, required)
    body = raw.slice(1).with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    nulls = any(body[c].null_count() for c in body.columns)
    cells = [c for c in body.columns if c != "row"]
    text = pl.Categorical if categorical and not strip else pl.String
    body = body.with_columns(pl.col(cells).cast(text))  # a column of empty cells only may be Null
    if nulls:
        body = body.with_columns(pl.col(cells).fill_null(""))
    if strip:
        body = body.with_columns(pl.col(cells).str.strip_chars(WHITESPACE))
    if cells and (strip or nulls):
        # polars reads an empty cell as null: with none, no row is blank (unless blanks are stripped to "")
        body = body.filter(pl.any_horizontal([pl.col(c) != "" for c in cells]))
    frame = body.select("row", *[pl.col(f"c{header.index(name)}").alias(name) for name in required])
    if categorical:
        frame = frame.with_columns(pl.col(required).cast(pl.Categorical))  # no-op for a CSV read so
    return Sheet(path, header, frame, strip)

