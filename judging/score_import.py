"""Scores from paper: the chief judge imports an item's scores workbook (XLSX or CSV: 赛位, 裁判, 评分项, 分数,
one mark per row). Every row goes through the tablet's own rules (`set_score_job`: the judge on the item's
panel, the criterion theirs, the item and criterion not locked, the sheet not signed, someone in the seat, no
conflict of interest, 0…max with 2 decimals or the 0–3 scale) and into the audit log (device "import").
All or nothing: one refused row and nothing is stored; the answer lists every refused row. The file is
bounded like every upload (contestday.web.uploads), and to MAX_MARKS marks: one import is one transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.writer import run_in_session
from contestday.web import uploads
from contestday.web.errors import Refusal
from judging.models import Judge
from judging.service import Applied, JudgeRef, set_score_job
from registration.entries import roster

__all__ = ["MAX_MARKS", "ImportRefused", "import_scores", "read_marks"]

_HEADERS = {"赛位": "seat", "座位号": "seat", "seat": "seat", "裁判": "judge", "裁判姓名": "judge", "judge": "judge",
            "评分项": "criterion", "评分项代码": "criterion", "criterion": "criterion", "分数": "value",
            "得分": "value", "value": "value", "score": "value"}
REQUIRED = ("seat", "judge", "criterion", "value")
# one import is one transaction holding SQLite's write lock (~2 ms a mark): 3,000 marks keep the tablets'
# writes waiting a few seconds at most; a paper session of an item is far fewer (30 seats × 10 criteria × 3)
MAX_MARKS = 3_000


@dataclass(frozen=True)
class Mark:
    row: int
    seat: str
    judge: str
    criterion: str
    value: str


class ImportRefused(Exception):
    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(f"{len(errors)} row(s) refused")
        self.errors = errors


def _key(header: str) -> str | None:
    text = header.strip()
    return _HEADERS.get(text.lower(), _HEADERS.get(text))


def read_marks(data: bytes, filename: str) -> list[Mark]:
    rows, _ignored, _present = roster.keyed_rows(
        roster.read_cells(data, filename), _key, set(REQUIRED),
        roster.RosterError("no_header", "找不到表头行（应含“赛位”“裁判”“评分项”“分数”四列）",
                           "no header row with seat, judge, criterion and value columns"))
    if len(rows) > MAX_MARKS:
        raise uploads.too_complex(f"一次最多导入 {MAX_MARKS} 条评分（本文件 {len(rows)} 条），请按场次分成几个文件",
                                  f"at most {MAX_MARKS} marks per import ({len(rows)} in this file): split it",
                                  max_marks=MAX_MARKS)
    return [Mark(r.number, r.text("seat"), r.text("judge"), r.text("criterion"), r.text("value")) for r in rows]


async def import_scores(session: AsyncSession, event_id: int, item_code: str, marks: list[Mark],
                        by: str) -> tuple[int, list[dict[str, Any]]]:
    """Store every mark or none (ImportRefused with every refused row); returns how many were applied and the
    re-mark requests the changed marks resolved (to fan out after the commit). Runs in the caller's session,
    which is committed on success."""
    if not marks:
        raise Refusal(422, "empty_file", "文件中没有评分行", "the file holds no marks")
    judges = {j.name: JudgeRef.of(j) for j in (await session.exec(select(Judge).where(Judge.event_id == event_id)))}
    digest = hashlib.sha256(repr(marks).encode()).hexdigest()[:12]

    def job(conn: Connection) -> tuple[int, list[dict[str, Any]]]:
        errors: list[dict[str, Any]] = []
        resolved: list[dict[str, Any]] = []
        for m in marks:
            judge = judges.get(m.judge)
            if judge is None:
                errors.append({"row": m.row, "code": "unknown_judge", "message": f"本赛事没有裁判“{m.judge}”"})
                continue
            applied: Applied = set_score_job(conn, judge, {
                "op_id": f"import:{digest}:{m.row}", "kind": "set_score", "item": item_code, "seat": m.seat,
                "criterion": m.criterion, "value": m.value}, f"import:{by}"[:80])
            if applied.reply["type"] != "ack":
                errors.append({"row": m.row, "code": applied.reply["code"], "message": applied.reply["message"]})
            resolved.extend(applied.resolved)
        if errors:
            raise ImportRefused(errors)
        return len(marks), resolved

    return await run_in_session(session, job)
