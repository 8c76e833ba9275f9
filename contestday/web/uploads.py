"""Bounds on every file the server parses (rosters, judge lists, score workbooks, event files, certificate
layouts and designs), checked before and while parsing, and the thread the parsing runs on.

Why: an XLSX is a zip, and a 1 MB zip can hold a sheet of hundreds of MB; parsing it whole froze the server
for minutes and took gigabytes. So the zip's own directory is read first (members, the sum of uncompressed
sizes, each member's compression ratio) and nothing is decompressed past a limit; members are read as a
stream that stops at its declared size; rows, cells and cell length are counted while parsing. An .xls (or
WPS .et) is an OLE2 file whose reader (calamine) builds every sheet as a full grid when it opens it — a 6 KB
file with cells at A1 and IV65536 took 1 GB — so its cell records are scanned for the bounds first. JSON and
TOML are scanned for nesting depth before the parser (which recurses) sees them. Every refusal is an
`UploadRefused` (an `Refusal`: 413 `upload_too_large`, 422 `upload_too_complex` or `upload_not_readable`)
whose Chinese message names the limit, raised before anything is stored. `off_loop` runs a parse on a
worker thread, at most two at once, so one upload never stalls other requests nor multiplies the memory.
"""

from __future__ import annotations

import asyncio
import io
import struct
import zipfile
from collections.abc import Callable
from functools import partial
from typing import IO, Any, TypeVar

import anyio
import anyio.to_thread
import olefile
from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from contestday.web.errors import Refusal

__all__ = [
    "FORM_LIMIT", "MAX_CELLS", "MAX_CELL_CHARS", "MAX_COLUMNS", "MAX_DEPTH", "MAX_EVENT_FILE_BYTES",
    "MAX_EXPANDED_BYTES", "MAX_GRID_CELLS", "MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "MAX_IMAGE_SIDE", "MAX_LAYOUT_BYTES",
    "MAX_MEMBERS", "MAX_RATIO", "MAX_ROWS", "MAX_SPREADSHEET_BYTES", "OLE_MAGIC", "TableBudget", "UploadRefused",
    "check_depth", "check_size", "check_text_depth", "check_xls", "member_stream", "not_readable", "not_xls",
    "off_loop", "open_xlsx", "password_protected", "read_body", "read_form", "read_member", "too_complex",
    "too_large",
]

MiB = 1024 * 1024
MAX_SPREADSHEET_BYTES = 5 * MiB  # an XLSX or CSV as uploaded (3,000 contestants are ~400 KB)
MAX_EXPANDED_BYTES = 40 * MiB  # the sum of an XLSX's members once uncompressed
MAX_RATIO = 100  # uncompressed : compressed, for a member over RATIO_FLOOR (real sheets are 5–20)
RATIO_FLOOR = 1 * MiB  # small members (styles, themes) compress far better and cost nothing
MAX_MEMBERS = 300
MAX_ROWS = 20_000  # spreadsheet row number
MAX_COLUMNS = 200
MAX_CELLS = 400_000
MAX_CELL_CHARS = 2_000
MAX_GRID_CELLS = 1_000_000  # an .xls's sheets as full grids, rows × columns from A1 (~70 MB, under a second)
MAX_EVENT_FILE_BYTES = 1 * MiB  # the example event file is 1.5 KB
MAX_LAYOUT_BYTES = 64 * 1024
MAX_DEPTH = 32  # of nested objects and arrays; an event file is 5 deep
MAX_IMAGE_BYTES = 10 * MiB
MAX_IMAGE_SIDE = 8_000  # pixels; A4 at 600 dpi is 7,016 × 4,961
MAX_IMAGE_PIXELS = 36_000_000  # decoded for every certificate PDF: 100 MB of RGB at most
FORM_LIMIT = MAX_SPREADSHEET_BYTES + 256 * 1024  # a form carrying one spreadsheet and its fields
_CHUNK = 64 * 1024

T = TypeVar("T")


def _size(n: int) -> str:
    return f"{n // MiB} MB" if n >= MiB and n % MiB == 0 else f"{n // 1024} KB"


class UploadRefused(Refusal):
    """A file refused before it was parsed (or as soon as a bound was passed while parsing)."""

    @property
    def zh(self) -> str:  # the roster readers' RosterError spells it so
        return self.message

    @property
    def en(self) -> str:
        return self.message_en


def too_large(what_zh: str, what_en: str, limit: int) -> UploadRefused:
    return UploadRefused(413, "upload_too_large", f"{what_zh}不能超过 {_size(limit)}",
                         f"{what_en} must be at most {_size(limit)}", limit_bytes=limit)


def too_complex(zh: str, en: str, **limit: int) -> UploadRefused:
    return UploadRefused(422, "upload_too_complex", zh, en, **limit)


def not_readable(zh: str, en: str) -> UploadRefused:
    return UploadRefused(422, "upload_not_readable", zh, en)


def check_size(data: bytes | str, limit: int, what_zh: str = "上传的文件", what_en: str = "the file") -> None:
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > limit:
        raise too_large(what_zh, what_en, limit)


async def read_form(request: Request[Any, Any, Any], limit: int = FORM_LIMIT) -> FormMultiDict:
    """The request's form; litestar stops reading at the route's `request_max_body_size` (set it to `limit`)
    and that refusal is given our code and a message naming the limit."""
    try:
        return await request.form()
    except RequestEntityTooLarge:
        raise too_large("上传的内容", "the upload", limit) from None


async def read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    try:
        raw = await request.body()
    except RequestEntityTooLarge:
        raise too_large("上传的内容", "the upload", limit) from None
    check_size(raw, limit)
    return raw


# --- XLSX (a zip) --------------------------------------------------------------------------------------------

def open_xlsx(data: bytes) -> zipfile.ZipFile:
    """The workbook's zip once its directory passes every bound; nothing has been decompressed yet."""
    check_size(data, MAX_SPREADSHEET_BYTES, "表格文件", "the spreadsheet")
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise not_readable("无法读取该 XLSX 文件，请用 Excel 或 WPS 另存为 .xlsx 后重试",
                           "cannot read this XLSX file; save it again as .xlsx") from exc
    members = book.infolist()
    if len(members) > MAX_MEMBERS:
        raise too_complex(f"表格文件内部的部件超过 {MAX_MEMBERS} 个，不像普通的名单表格",
                          f"the workbook holds more than {MAX_MEMBERS} parts", max_members=MAX_MEMBERS)
    expanded = sum(m.file_size for m in members)
    if expanded > MAX_EXPANDED_BYTES:
        raise too_complex(f"表格解压后超过 {_size(MAX_EXPANDED_BYTES)}（本文件约 {expanded // MiB} MB），"
                          "请删去多余的行、列或图片后重试",
                          f"the workbook expands beyond {_size(MAX_EXPANDED_BYTES)} ({expanded // MiB} MB)",
                          max_expanded_bytes=MAX_EXPANDED_BYTES)
    for m in members:
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise too_complex(f"表格文件的压缩比超过 {MAX_RATIO} 倍，不像正常的表格（可能是“压缩炸弹”）",
                              f"the workbook's compression ratio exceeds {MAX_RATIO}:1", max_ratio=MAX_RATIO)
    return book


class _Capped(io.RawIOBase):
    """A member read as a stream that refuses past its declared size (a lying directory cannot make it
    decompress more) and past the expanded limit."""

    def __init__(self, raw: IO[bytes], limit: int):
        self._raw, self._left = raw, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._raw.read(min(len(buffer), _CHUNK))
        self._left -= len(chunk)
        if self._left < 0:
            raise too_complex(f"表格解压后超过 {_size(MAX_EXPANDED_BYTES)}",
                              f"the workbook expands beyond {_size(MAX_EXPANDED_BYTES)}",
                              max_expanded_bytes=MAX_EXPANDED_BYTES)
        buffer[:len(chunk)] = chunk
        return len(chunk)


def member_stream(book: zipfile.ZipFile, name: str) -> IO[bytes]:
    """A member to parse incrementally (KeyError when absent)."""
    info = book.getinfo(name)
    return io.BufferedReader(_Capped(book.open(info), min(info.file_size, MAX_EXPANDED_BYTES)), _CHUNK)


def read_member(book: zipfile.ZipFile, name: str) -> bytes:
    with member_stream(book, name) as stream:
        return stream.read()


class TableBudget:
    """Counts rows and cells while a sheet is read; refuses at the first one past a bound."""

    def __init__(self) -> None:
        self.cells = 0

    @staticmethod
    def row(number: int) -> None:
        if number > MAX_ROWS:
            raise too_complex(f"表格超过 {MAX_ROWS} 行，请分成几个文件导入",
                              f"the sheet has more than {MAX_ROWS} rows: split it", max_rows=MAX_ROWS)

    def cell(self, column: int, text: str) -> None:
        self.cells += 1
        if column >= MAX_COLUMNS:
            raise too_complex(f"表格超过 {MAX_COLUMNS} 列", f"the sheet has more than {MAX_COLUMNS} columns",
                              max_columns=MAX_COLUMNS)
        if self.cells > MAX_CELLS:
            raise too_complex(f"表格超过 {MAX_CELLS} 个单元格，请分成几个文件导入",
                              f"the sheet has more than {MAX_CELLS} cells: split it", max_cells=MAX_CELLS)
        self.text(text)

    @staticmethod
    def text(text: str) -> None:
        if len(text) > MAX_CELL_CHARS:
            raise too_complex(f"有单元格超过 {MAX_CELL_CHARS} 个字符", f"a cell holds more than {MAX_CELL_CHARS} "
                              "characters", max_cell_chars=MAX_CELL_CHARS)


# --- XLS and WPS .et (an OLE2 compound file of BIFF records) -------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOF = 0x0809  # each sheet's records start with one
# the records that place a value (formula, shared string, number, RK, bool/error, label, rich label): row and
# column first; MULRK holds several columns, its last at the end. Blank cells are not in the grid calamine builds.
_CELL_RECORDS = {0x0006, 0x00FD, 0x0203, 0x027E, 0x0205, 0x0204, 0x00D6}
_MULRK = 0x00BD


def not_xls() -> UploadRefused:
    """An .xls that is none (often a web page a system saved under that name) or is damaged."""
    return not_readable("无法读取该 XLS 文件（不是 Excel 97–2003 格式，例如网页导出的表格，或已损坏）："
                        "请用 Excel 或 WPS 打开后另存为 .xlsx 再导入",
                        "cannot read this XLS file (not Excel 97–2003, e.g. a web page, or damaged): open it in "
                        "Excel or WPS and save it as .xlsx")


def password_protected() -> UploadRefused:
    return not_readable("该表格设有打开密码：请在 Excel 或 WPS 里取消密码后重试",
                        "the workbook is password protected: remove the password and try again")


def _workbook_streams(data: bytes) -> list[bytes]:
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists("EncryptedPackage"):  # an .xlsx with a password is saved as an OLE2 file holding it
                raise password_protected()
            streams = [ole.openstream(name).read() for name in ("Workbook", "Book") if ole.exists(name)]
    except UploadRefused:
        raise
    except Exception as exc:  # olefile raises OSError, struct.error, IndexError, … on a damaged file
        raise not_xls() from exc
    if not streams:
        raise not_xls()
    return streams


def check_xls(data: bytes) -> None:
    """An .xls (or WPS .et) whose every sheet passes the row, column and cell bounds, and whose sheets as grids
    hold at most MAX_GRID_CELLS, read from its cell records before any reader expands it."""
    check_size(data, MAX_SPREADSHEET_BYTES, "表格文件", "the spreadsheet")
    budget = TableBudget()
    grids = 0
    for stream in _workbook_streams(data):
        rows = columns = 0  # of the sheet being scanned
        offset = 0
        while offset + 4 <= len(stream):
            kind, length = struct.unpack_from("<HH", stream, offset)
            body, offset = offset + 4, offset + 4 + length
            if kind == _BOF:
                grids += rows * columns
                rows = columns = 0
            elif kind in _CELL_RECORDS or kind == _MULRK:
                if length < 6 or offset > len(stream):
                    continue
                row, first = struct.unpack_from("<HH", stream, body)
                last = struct.unpack_from("<H", stream, offset - 2)[0] if kind == _MULRK else first
                budget.row(row + 1)
                for column in range(first, max(first, last) + 1):
                    budget.cell(column, "")
                rows, columns = max(rows, row + 1), max(columns, last + 1)
        grids += rows * columns
    if grids > MAX_GRID_CELLS:
        raise too_complex(f"表格的数据区域（从 A1 起的行数×列数）超过 {MAX_GRID_CELLS} 个单元格：请删去远处的单元格，"
                          "或分成几个文件导入",
                          f"the sheets span more than {MAX_GRID_CELLS} cells (rows × columns from A1): delete far-off "
                          "cells or split the file", max_grid_cells=MAX_GRID_CELLS)


# --- JSON / TOML ---------------------------------------------------------------------------------------------

def _deep(limit: int) -> UploadRefused:
    return too_complex(f"文件的嵌套层级超过 {limit} 层", f"the file nests deeper than {limit} levels",
                       max_depth=limit)


def check_text_depth(text: str, limit: int = MAX_DEPTH, toml: bool = False) -> None:
    """Refuse JSON (or TOML) whose brackets nest deeper than `limit`, before a recursive parser sees it.
    Brackets inside strings (and TOML comments) do not count."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "[{":
            depth += 1
            if depth > limit:
                raise _deep(limit)
        elif ch in "]}":
            depth = max(depth - 1, 0)
        elif ch == "#" and toml:
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif ch == '"' or (ch == "'" and toml):
            quote = text[i:i + 3] if toml and text[i:i + 3] in ('"""', "'''") else ch
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" and quote[0] == '"' else 1
            i += len(quote) - 1
        i += 1


def check_depth(doc: Any, limit: int = MAX_DEPTH) -> None:
    """The parsed document's depth (TOML's dotted keys nest without brackets), without recursion."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            raise _deep(limit)
        stack.extend((child, depth + 1) for child in children)


# --- off the event loop --------------------------------------------------------------------------------------

_limiter: tuple[asyncio.AbstractEventLoop, anyio.CapacityLimiter] | None = None


def _parse_limiter() -> anyio.CapacityLimiter:
    global _limiter
    loop = asyncio.get_running_loop()
    if _limiter is None or _limiter[0] is not loop:  # a limiter belongs to one loop (tests start many)
        _limiter = (loop, anyio.CapacityLimiter(2))
    return _limiter[1]


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on a worker thread; at most two parses at once, each within the bounds above."""
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=_parse_limiter())
