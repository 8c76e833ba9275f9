"""Printable seat lists of an item, one block per session (a page each when printed), as rows for the HTML
page and as XLSX. Two kinds, kept apart on purpose:

- blind (盲评座位表): session, seat, occupied or empty; for the organiser and the chief judge;
- named (加密对照表): seat, draw number, names, unit, group; only ever built for the encryption judge's routes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from judging import sealed
from registration.checkin.models import SeatSession

__all__ = ["BLIND_COLUMNS", "NAMED_COLUMNS", "SessionBlock", "blind_blocks", "named_blocks", "xlsx"]

BLIND_COLUMNS = ("场次", "开始时间", "座位号", "状态")
NAMED_COLUMNS = ("场次", "开始时间", "座位号", "抽签号", "姓名", "单位", "组别")


@dataclass
class SessionBlock:
    name: str
    starts_at: datetime | None
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def occupied(self) -> int:
        return sum(1 for r in self.rows if r.get("occupied"))


async def _blocks(session: AsyncSession, item_id: int) -> dict[str, SessionBlock]:
    sessions = (await session.exec(select(SeatSession).where(SeatSession.item_id == item_id)
                                   .order_by(col(SeatSession.position)))).all()
    return {s.name: SessionBlock(s.name, s.starts_at) for s in sessions}


async def blind_blocks(session: AsyncSession, item_id: int) -> list[SessionBlock]:
    """Every seat of every session, occupied (checked in and seated) or empty: no entry, no draw number."""
    blocks = await _blocks(session, item_id)
    for row in await sealed.blind_seats(session, item_id):
        blocks[row["session"]].rows.append({"seat": row["seat"], "occupied": row["occupied"]})
    return list(blocks.values())


async def named_blocks(session: AsyncSession, item_id: int) -> list[SessionBlock]:
    """The sealed mapping per session, in seat order: the encryption judge's list."""
    blocks = await _blocks(session, item_id)
    for row in await sealed.full_mapping(session, item_id):
        blocks[row["session"]].rows.append({
            "seat": row["seat"], "draw_number": row["draw_number"], "names": "、".join(row["names"]),
            "unit": row["unit"], "group": row["group"], "occupied": True})
    return list(blocks.values())


def _start(block: SessionBlock, tz: Any) -> str:
    return block.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if block.starts_at else ""


def xlsx(blocks: Sequence[SessionBlock], named: bool, sheet: str, tz: Any) -> bytes:
    """One sheet, every column text (seat labels like 007 must not turn into numbers)."""
    columns = NAMED_COLUMNS if named else BLIND_COLUMNS
    rows: list[list[str]] = []
    for b in blocks:
        for r in b.rows:
            if named:
                rows.append([b.name, _start(b, tz), r["seat"], str(r["draw_number"]), r["names"], r["unit"],
                             r["group"]])
            else:
                rows.append([b.name, _start(b, tz), r["seat"], "已就座" if r["occupied"] else "空"])
    frame = pl.DataFrame(rows, schema={c: pl.String for c in columns}, orient="row")
    out = io.BytesIO()
    widths: dict[Any, Any] = {c: 200 if c in ("单位", "开始时间") else 90 for c in columns}  # pixels
    frame.write_excel(out, worksheet=sheet[:31], column_formats={c: "@" for c in columns}, column_widths=widths,
                      header_format={"bold": True, "bg_color": "#F2F4F7", "border": 1}, autofilter=True,
                      freeze_panes=(1, 0), table_style=None, include_header=True)
    return out.getvalue()
