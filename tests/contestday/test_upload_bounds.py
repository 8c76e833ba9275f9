"""Uploads are bounded before they are parsed (issue #12, finding 5): a zip bomb XLSX is refused from the zip's
own directory (the sheet parser never runs), a sheet with too many rows or a row numbered a billion while it
is read, an event file by size and nesting depth; refusals are 413/422 with stable codes and a Chinese message
naming the limit, nothing is stored, and a big parse runs off the event loop (`/health` keeps answering)."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import time
import zipfile
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from contestday.web import uploads
from registration.entries import roster
from tests.registration.test_registration_api import make_event
from tests.support.helpers import example_event, login_headers
from tests.support.judging_setup import seated_contest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML = {"Accept": "text/html"}
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                           'content-types"/>',
    "xl/workbook.xml": f'<?xml version="1.0"?><workbook {_NS} {_R}><sheets><sheet name="S" sheetId="1" '
                       'r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                                  'package/2006/relationships"><Relationship Id="rId1" Target="worksheets/'
                                  'sheet1.xml" Type="worksheet"/></Relationships>',
}


def _cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def sheet_xlsx(header: list[str], rows: Any, *, head: str = "", compresslevel: int = 6) -> bytes:
    """A workbook whose sheet is written as a stream (rows may be a generator of row XML): the test builds a
    sheet of hundreds of MB without holding it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as book:
        for name, body in _PARTS.items():
            book.writestr(name, body)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<?xml version="1.0"?><worksheet {_NS}><sheetData>{head}<row r="1">'.encode())
            sheet.write("".join(_cell(f"{chr(65 + i)}1", h) for i, h in enumerate(header)).encode() + b"</row>")
            for chunk in rows:
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@functools.cache  # ~3 s to compress 300 MB: built once for the module
def bomb(megabytes: int = 300) -> bytes:
    """~`megabytes` of repeated rows, compressed to well under 1 MB: the shape of the 224 MB roster."""
    row = ("<row>" + "".join(_cell(f"{c}2", "重庆市工业高级技工学校") for c in "ABCDE") + "</row>").encode()
    chunk = row * (1024 * 1024 // len(row))
    return sheet_xlsx(["赛位", "裁判", "评分项", "分数"], (chunk for _ in range(megabytes)), compresslevel=9)


def many_rows(n: int) -> bytes:
    def rows() -> Any:
        for start in range(2, n + 2, 1000):
            yield "".join(f'<row r="{r}">{_cell(f"A{r}", f"A{r:03d}")}{_cell(f"B{r}", "无名氏")}'
                          f'{_cell(f"C{r}", "A")}{_cell(f"D{r}", "1")}</row>'
                          for r in range(start, min(start + 1000, n + 2))).encode()
    return sheet_xlsx(["赛位", "裁判", "评分项", "分数"], rows())


@pytest.fixture
def parser_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every call of the sheet parsers: a refusal from the zip directory must leave it empty."""
    calls: list[str] = []
    real_sheet, real_shared = roster._sheet_rows, roster._shared_strings

    def sheet(*args: Any) -> Any:
        calls.append("sheet")
        return real_sheet(*args)

    def shared(*args: Any) -> Any:
        calls.append("shared")
        return real_shared(*args)

    monkeypatch.setattr(roster, "_sheet_rows", sheet)
    monkeypatch.setattr(roster, "_shared_strings", shared)
    return calls


async def _score_count(db: Any) -> int:
    async with db() as session:
        return int((await session.exec(text("SELECT count(*) FROM score"))).one()[0])


async def test_a_zip_bomb_scores_workbook_is_refused_from_the_zip_directory(client: Any, db: Any,
                                                                            parser_spy: list[str]) -> None:
    data = bomb(300)
    assert len(data) < 2 * 1024 * 1024  # small on the wire ...
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist()) > 290 * 1024 * 1024  # ... huge
    contest = await seated_contest(db, n=2)
    chief = await login_headers(client, db, "chief", "chief_judge")
    started = time.perf_counter()
    refused = await client.post(f"/api/console/events/{contest.event_id}/items/LED/scores/import",
                                files={"file": ("评分表.xlsx", data, XLSX)}, headers=chief)
    seconds = time.perf_counter() - started
    body = refused.json()
    assert refused.status_code == 422 and body["code"] == "upload_too_complex", body
    assert "40 MB" in body["message"] and body["max_expanded_bytes"] == uploads.MAX_EXPANDED_BYTES
    assert parser_spy == []  # refused before a byte of the sheet was decompressed
    assert seconds < 2, seconds
    assert await _score_count(db) == 0


async def test_a_bomb_under_the_expanded_limit_is_refused_by_its_compression_ratio(parser_spy: list[str]) -> None:
    with pytest.raises(uploads.UploadRefused) as refused:
        roster.read_cells(bomb(30), "名单.xlsx")
    assert refused.value.code == "upload_too_complex" and refused.value.extra_fields["max_ratio"] == uploads.MAX_RATIO
    assert "100 倍" in refused.value.message and parser_spy == []


async def test_a_roster_bomb_and_a_huge_row_count_are_refused_on_the_import_page(admin: Any, db: Any,
                                                                                parser_spy: list[str]) -> None:
    event_id = await make_event(admin)
    url = f"/admin/events/{event_id}/registrations/roster"
    page = await admin.post(url, headers=HTML, files={"file": ("名单.xlsx", bomb(300), XLSX)})
    assert page.status_code == 422 and "表格解压后超过 40 MB" in page.text and parser_spy == []
    rows = await admin.post(url, headers=HTML, files={"file": ("名单.xlsx", many_rows(uploads.MAX_ROWS + 10), XLSX)})
    assert rows.status_code == 422 and f"表格超过 {uploads.MAX_ROWS} 行" in rows.text
    async with db() as session:
        assert (await session.exec(text("SELECT count(*) FROM entry"))).one()[0] == 0


async def test_a_row_numbered_a_billion_or_a_column_far_right_is_refused_at_once() -> None:
    """Before: the reader filled the gap with a billion empty rows (minutes, then out of memory)."""
    far_row = sheet_xlsx(["姓名"], iter([f'<row r="1000000000">{_cell("A1000000000", "张三")}</row>'.encode()]))
    started = time.perf_counter()
    with pytest.raises(uploads.UploadRefused) as refused:
        roster.read_cells(far_row, "名单.xlsx")
    assert refused.value.extra_fields == {"max_rows": uploads.MAX_ROWS} and time.perf_counter() - started < 1
    far_column = sheet_xlsx(["姓名"], iter([f'<row r="2">{_cell("ZZZZZZZ2", "张三")}</row>'.encode()]))
    with pytest.raises(uploads.UploadRefused) as refused:
        roster.read_cells(far_column, "名单.xlsx")
    assert refused.value.extra_fields == {"max_columns": uploads.MAX_COLUMNS}
    long_cell = sheet_xlsx(["姓名"], iter([f'<row r="2">{_cell("A2", "张" * 5000)}</row>'.encode()]))
    with pytest.raises(uploads.UploadRefused) as refused:
        roster.read_cells(long_cell, "名单.xlsx")
    assert refused.value.extra_fields == {"max_cell_chars": uploads.MAX_CELL_CHARS}


async def test_csv_and_oversized_files_are_bounded_too(client: Any, db: Any) -> None:
    with pytest.raises(uploads.UploadRefused) as refused:
        roster.read_cells(b"a,b\n" * 30_000, "x.csv")
    assert refused.value.code == "upload_too_complex"
    with pytest.raises(uploads.UploadRefused) as refused:
        roster.read_cells(b'a,"' + b"x" * 5_000 + b'"\n', "x.csv")
    assert refused.value.extra_fields == {"max_cell_chars": uploads.MAX_CELL_CHARS}
    with pytest.raises(uploads.UploadRefused) as refused:  # before: csv.Error past csv's own limit, a 500
        roster.read_cells(b'a,"' + b"x" * 200_000 + b'"\n', "x.csv")
    assert refused.value.code == "upload_not_readable"
    contest = await seated_contest(db, n=2)
    chief = await login_headers(client, db, "chief", "chief_judge")
    big = await client.post(f"/api/console/events/{contest.event_id}/items/LED/scores/import", headers=chief,
                            files={"file": ("评分表.csv", b"x" * (uploads.FORM_LIMIT + 1024), "text/csv")})
    assert big.status_code == 413 and big.json()["code"] == "upload_too_large", big.text
    assert "不能超过" in big.json()["message"]
    broken = await client.post(f"/api/console/events/{contest.event_id}/items/LED/scores/import", headers=chief,
                               files={"file": ("评分表.xlsx", b"PK\x03\x04 not a zip", XLSX)})
    assert broken.status_code == 422 and broken.json()["code"] == "upload_not_readable"


async def test_a_scores_workbook_holds_at_most_max_marks(client: Any, db: Any) -> None:
    from judging.score_import import MAX_MARKS

    contest = await seated_contest(db, n=2)
    chief = await login_headers(client, db, "chief", "chief_judge")
    refused = await client.post(f"/api/console/events/{contest.event_id}/items/LED/scores/import", headers=chief,
                                files={"file": ("评分表.xlsx", many_rows(MAX_MARKS + 1), XLSX)})
    assert refused.status_code == 422 and refused.json()["code"] == "upload_too_complex", refused.text
    assert refused.json()["max_marks"] == MAX_MARKS and f"一次最多导入 {MAX_MARKS} 条评分" in refused.json()["message"]


async def test_the_judge_list_import_refuses_a_bomb(admin: Any, parser_spy: list[str]) -> None:
    event_id = await make_event(admin)
    page = await admin.post(f"/admin/events/{event_id}/judges/import", headers=HTML,
                            files={"file": ("裁判名单.xlsx", bomb(300), XLSX)})
    assert page.status_code == 422 and "表格解压后超过 40 MB" in page.text and parser_spy == []


async def test_event_files_are_bounded_in_size_and_depth(admin: Any) -> None:
    deep = "[" * 100_000 + "]" * 100_000  # before: RecursionError, a 500
    nested = await admin.post("/api/events/validate", content=f'{{"event": {deep}}}'.encode(),
                              headers={"content-type": "application/json"})
    assert nested.status_code == 422 and nested.json()["code"] == "upload_too_complex", nested.text
    assert "32 层" in nested.json()["message"]
    toml = await admin.post("/api/events/validate", content=("a = " + deep).encode(),
                            headers={"content-type": "application/toml"})
    assert toml.status_code == 422 and toml.json()["code"] == "upload_too_complex"
    dotted = await admin.post("/api/events/validate", content=("." .join(["k"] * 60) + " = 1").encode(),
                              headers={"content-type": "application/toml"})
    assert dotted.status_code == 422 and dotted.json()["code"] == "upload_too_complex"
    padded = json.dumps({**example_event(), "pad": "x" * (uploads.MAX_EVENT_FILE_BYTES + 1)})
    big = await admin.post("/api/events", content=padded.encode(), headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json()["code"] == "upload_too_large" and "1 MB" in big.json()["message"]
    assert (await admin.get("/api/events")).json() == []  # nothing stored
    # a string holding brackets is not nesting
    fine = await admin.post("/api/events/validate", json=example_event(name="[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[赛"))
    assert fine.status_code == 200, fine.text


def test_the_bracket_scan_skips_strings_and_comments() -> None:
    uploads.check_text_depth('{"a": "[[[[[[[[[[\\"[[[[[[[[[["}', limit=2)
    uploads.check_text_depth("a = '[[[[[[' # [[[[[[[[\nb = \"\"\"[[[[\n[[[[\"\"\"\n", limit=1, toml=True)
    with pytest.raises(uploads.UploadRefused):
        uploads.check_text_depth("[[[", limit=2)


async def test_health_answers_while_a_big_parse_runs(live_server: str, db: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """On a real server: the parse is made to take 1.5 s of blocking work; on the event loop, /health (and
    every tablet) would wait for it."""
    from judging import score_import

    real = score_import.read_marks
    started: list[float] = []

    def slow_read(data: bytes, filename: str) -> Any:
        started.append(time.perf_counter())
        time.sleep(1.5)  # stands for parsing a large legitimate workbook
        return real(data, filename)

    monkeypatch.setattr(score_import, "read_marks", slow_read)
    contest = await seated_contest(db, n=2)
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        chief = await login_headers(http, db, "chief", "chief_judge")
        upload = asyncio.create_task(http.post(
            f"/api/console/events/{contest.event_id}/items/LED/scores/import", headers=chief,
            files={"file": ("评分表.xlsx", many_rows(1_000), XLSX)}))
        while not started:
            await asyncio.sleep(0.01)
        waits = []
        while not upload.done():
            t = time.perf_counter()
            assert (await http.get("/health")).status_code == 200
            waits.append(time.perf_counter() - t)
            await asyncio.sleep(0.05)
        refused = await upload
    assert refused.status_code == 422 and refused.json()["code"] == "import_refused"  # unknown judges
    # on the loop, one /health would wait the whole 1.5 s; beside a thread it waits at most for the GIL
    assert len(waits) >= 5 and max(waits) < 1.0, waits
    assert await _score_count(db) == 0
