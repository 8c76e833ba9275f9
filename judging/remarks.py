"""Resolving re-mark requests: a request stays open — on the judge's tablet, on the console, and as the
publication gate's `remark_open` — until the judge changes that mark, keeps it, or the chief judge closes it.

Every way in ends here, in the caller's transaction (a tablet operation's writer job, the paper or import
path, the console's session), so the request is resolved exactly when the mark commits and never otherwise.
The tablet hot path pays one guarded UPDATE (by the judge's index, usually matching nothing); only when it
resolves something does it read the rows back and append their audit links. Each resolution is one `resolve`
link in the audit chain; the messages returned are fanned out after the commit (judging/ws.py
`publish_resolved`): the console channel gets them whole, the judge's tablet a copy without names.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from contestday.db.types import utcnow
from contestday.db.writer import Prepared, table
from judging import audit
from judging.models import RemarkRequest

__all__ = ["HOW", "Cell", "resolve_cell", "resolve_one", "tablet_copy"]

# how a request was resolved → the words of its audit link
HOW = {"changed": "裁判已修改分数", "import": "评分表导入修改了分数", "paper": "纸质评分表修改了分数",
       "kept": "裁判确认原分", "closed": "裁判长关闭请求"}

_RR = table(RemarkRequest)
_SET: dict[str, Any] = {"resolved_at": bindparam("resolved_at"), "resolved_by": bindparam("resolved_by"),
        "resolution": bindparam("resolution"), "resolution_note": bindparam("resolution_note")}
_CELL = (_RR.c.item_id == bindparam("r_item"), _RR.c.judge_id == bindparam("r_judge"),
         _RR.c.seat == bindparam("r_seat"), _RR.c.criterion == bindparam("r_criterion"))
_RESOLVE_CELL = Prepared(update(_RR).where(*_CELL, _RR.c.resolved_at.is_(None)).values(**_SET))
# the rows that UPDATE just resolved: same cell, stamped with that statement's own instant (a row resolved
# earlier carries an earlier instant; no column is needed just to find them again)
_JUST_RESOLVED = Prepared(select(_RR.c.id).where(*_CELL, _RR.c.resolved_at == bindparam("r_at"))
                          .order_by(_RR.c.id))
_RESOLVE_ONE = Prepared(update(_RR).where(_RR.c.id == bindparam("r_id"), _RR.c.resolved_at.is_(None))
                        .values(**_SET))


@dataclass(frozen=True)
class Cell:
    """One judge's mark of one seat and criterion, as both the request and the audit log name it."""

    event_id: int
    item_id: int
    item_code: str
    judge_id: int
    seat: str
    criterion: str
    criterion_id: int | None = None
    entry_id: int | None = None


def _values(how: str, by: str, note: str, at: Any) -> dict[str, Any]:
    return {"resolved_at": at, "resolved_by": by[:80], "resolution": how, "resolution_note": note[:500]}


def _where(cell: Cell) -> dict[str, Any]:
    return {"r_item": cell.item_id, "r_judge": cell.judge_id, "r_seat": cell.seat, "r_criterion": cell.criterion}


def _record(conn: Connection, cell: Cell, remark_id: int, how: str, by: str, device: str, note: str,
            kept: tuple[Decimal | None, int | None] | None) -> dict[str, Any]:
    words = HOW[how] + (f"：{note}" if note else "")
    if kept is not None:
        words += f"（{'空' if kept[0] is None else f'{kept[0]:.2f}'}）"
    link = audit.append_link(conn, cell.event_id, "resolve", actor=by, device=device, item_id=cell.item_id,
                             entry_id=cell.entry_id, criterion_id=cell.criterion_id, judge_id=cell.judge_id,
                             old=kept or (None, None), new=kept or (None, None),
                             reason=f"{cell.seat} · {cell.criterion} 复评请求 #{remark_id}：{words}")
    return {"type": "remark_resolved", "seq": link.seq, "id": remark_id, "item": cell.item_code, "seat": cell.seat,
            "criterion": cell.criterion, "judge_id": cell.judge_id, "resolution": how, "by": by[:80],
            "note": note[:500]}


def resolve_cell(conn: Connection, cell: Cell, *, how: str, by: str, device: str = "") -> list[dict[str, Any]]:
    """The judge's mark of this cell has just changed: resolve every open request for it. Returns the console
    messages (empty, after one statement, when nothing was open)."""
    at = utcnow()
    if _RESOLVE_CELL.execute(conn, {**_values(how, by, "", at), **_where(cell)}).rowcount == 0:
        return []
    ids = _JUST_RESOLVED.execute(conn, {**_where(cell), "r_at": at}).scalars()
    return [_record(conn, cell, rid, how, by, device, "", None) for rid in ids]


def resolve_one(conn: Connection, cell: Cell, remark_id: int, *, how: str, by: str, device: str = "",
                note: str = "", kept: tuple[Decimal | None, int | None] | None = None) -> dict[str, Any] | None:
    """Resolve one request (kept by the judge, closed by the chief judge). None: it was resolved already —
    the guarded UPDATE decides a race between the tablet, another tablet and the console."""
    if _RESOLVE_ONE.execute(conn, {**_values(how, by, note, utcnow()), "r_id": remark_id}).rowcount != 1:
        return None
    return _record(conn, cell, remark_id, how, by, device, note, kept)


def tablet_copy(message: dict[str, Any]) -> dict[str, Any]:
    """What the judge's tablet hears of a resolution: which request, not who closed it."""
    return {k: message[k] for k in ("type", "id", "item", "seat", "criterion", "resolution")}
