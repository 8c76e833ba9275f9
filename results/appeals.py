"""Appeals (申诉) and arbitration (仲裁) during the notice period, and when results become final.

- A contestant files an appeal with their ticket code (the bearer secret on their ticket) until
  `appeal_hours` (default 2, `CONTESTDAY_APPEAL_HOURS`) after the item ends, taken as the moment its scores
  were locked; before that it is open. The organiser records a paper appeal at any time.
- The arbitration committee (the organiser role) rules: dismissed, or upheld; an upheld ruling that changes
  the results publishes the corrected results as a new version in the same step (refused with the
  blockers while the corrections are not complete and locked), its reason naming the appeal.
- Results are final (`final`) once the latest version is published, its notice period is over and no
  appeal of the item is open.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.types import UTCDateTime, utcnow
from contestday.web.errors import Refusal
from judging.sealed import stage_of
from registration.entries.models import Entry
from registration.entries.tickets import normalise_code
from registration.events.models import Item
from results.console.state import item_or_404
from results.publication import Publication, current, publish

__all__ = ["Appeal", "appeal_deadline", "appeal_view", "file_appeal", "final", "is_final", "list_appeals",
           "open_appeals", "open_appeals_by_item", "rule"]

RULINGS = {"upheld": "申诉成立", "dismissed": "申诉不成立"}


class Appeal(SQLModel, table=True):
    __tablename__ = "appeal"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=Column(Integer, ForeignKey("event.id", ondelete="CASCADE"), nullable=False,
                                           index=True))
    item_id: int = Field(sa_column=Column(Integer, ForeignKey("item.id", ondelete="CASCADE"), nullable=False))
    entry_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("entry.id", ondelete="SET NULL"),
                                                                nullable=True))
    source: str = Field(max_length=16)  # contestant | paper
    filed_by: str = Field(max_length=80)
    text: str = Field(max_length=2000)
    filed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state: str = Field(default="open", max_length=16)  # open | upheld | dismissed
    ruling: str = Field(default="", max_length=2000)
    ruled_by: str | None = Field(default=None, max_length=80)
    ruled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int | None = None  # the publication version an upheld ruling produced


async def appeal_deadline(session: AsyncSession, item_id: int, hours: int) -> datetime | None:
    """The end of the contestants' window (None: the item has not ended yet, the window is open)."""
    locked = (await stage_of(session, item_id)).scores_locked_at
    return None if locked is None else locked + timedelta(hours=hours)


def _clean(text: str) -> str:
    text = text.strip()
    if not text:
        raise Refusal(422, "missing_field", "请写明申诉事项和理由", "the appeal needs its grounds", field="text")
    if len(text) > 2000:
        raise Refusal(422, "too_long", "申诉内容不超过 2000 字", "at most 2000 characters", field="text")
    return text


async def file_appeal(session: AsyncSession, event_id: int, *, text: str, hours: int, ticket_code: str = "",
                      item_code: str = "", by: str = "", now: datetime | None = None) -> Appeal:
    """A contestant's appeal (with `ticket_code`, inside the window) or, without one, the organiser's record
    of a paper appeal for `item_code` (`by` names who filed it). Commits."""
    body = _clean(text)
    moment = now or utcnow()
    if ticket_code:
        entry = (await session.exec(select(Entry).where(Entry.ticket_code == normalise_code(ticket_code)))).first()
        if entry is None or entry.event_id != event_id or entry.state != "active":
            raise Refusal(404, "unknown_ticket", "凭证号有误：查无此报名", "unknown ticket code", field="ticket_code")
        deadline = await appeal_deadline(session, entry.item_id, hours)
        if deadline is not None and moment > deadline:
            raise Refusal(422, "appeal_window_closed",
                           f"申诉时限已过（赛项结束后 {hours} 小时内）", f"appeals close {hours} h after the item ends")
        row = Appeal(event_id=event_id, item_id=entry.item_id, entry_id=entry.id, source="contestant",
                     filed_by="选手", text=body, filed_at=moment)
    else:
        item = await item_or_404(session, event_id, item_code)
        if not by.strip():
            raise Refusal(422, "missing_field", "请填写申诉人", "who filed the appeal", field="filed_by")
        row = Appeal(event_id=event_id, item_id=item.id or 0, source="paper", filed_by=by.strip()[:80], text=body,
                     filed_at=moment)
    session.add(row)
    await session.commit()
    return row


async def rule(session: AsyncSession, event_id: int, appeal_id: int, ruling: str, text: str, changes: bool,
               by: str, now: datetime | None = None) -> tuple[Appeal, Publication | None]:
    """Arbitration's ruling on an open appeal; an upheld one that changes the results publishes them again
    (the gate applies). Commits."""
    row = await session.get(Appeal, appeal_id)
    if row is None or row.event_id != event_id:
        raise Refusal(404, "unknown_appeal", "没有该申诉", "no such appeal")
    if row.state != "open":
        raise Refusal(409, "already_ruled", "该申诉已有裁定", "this appeal has been ruled on")
    if ruling not in RULINGS:
        raise Refusal(422, "invalid_ruling", "裁定只能是“申诉成立”或“申诉不成立”", "ruling: upheld or dismissed")
    reasons = _clean(text)
    if changes and ruling != "upheld":
        raise Refusal(422, "invalid_ruling", "只有成立的申诉才能改变成绩", "only an upheld appeal changes results")
    published = None
    if changes:
        item = await session.get(Item, row.item_id)
        assert item is not None
        published = await publish(session, event_id, item.code, by,
                                  f"仲裁裁定（申诉第 {appeal_id} 号）：{reasons[:400]}", now=now)
        row = await session.get(Appeal, appeal_id) or row
    row.state, row.ruling, row.ruled_by, row.ruled_at = ruling, reasons, by[:80], now or utcnow()
    row.version = published.version if published else None
    session.add(row)
    await session.commit()
    return row, published


async def open_appeals(session: AsyncSession, item_id: int) -> int:
    return int((await session.exec(select(func.count()).select_from(Appeal).where(
        Appeal.item_id == item_id, Appeal.state == "open"))).one())


async def open_appeals_by_item(session: AsyncSession, event_id: int) -> dict[int, int]:
    """item id → its open appeals (items without any are absent)."""
    rows = await session.exec(select(Appeal.item_id, func.count()).where(
        Appeal.event_id == event_id, Appeal.state == "open").group_by(col(Appeal.item_id)))
    return {item_id: int(n) for item_id, n in rows.all()}


def final(latest: Publication | None, open_count: int, now: datetime | None = None) -> bool:
    """Published, its notice period over, and no appeal open."""
    return (latest is not None and latest.state == "published" and latest.notice_ends_at is not None
            and (now or utcnow()) >= latest.notice_ends_at and not open_count)


async def is_final(session: AsyncSession, item_id: int, now: datetime | None = None) -> bool:
    return final(await current(session, item_id), await open_appeals(session, item_id), now)


def appeal_view(row: Appeal) -> dict[str, Any]:
    """For the organiser and arbitration (names the entry by id, never an ID number)."""
    return {"id": row.id, "item_id": row.item_id, "entry_id": row.entry_id, "source": row.source,
            "filed_by": row.filed_by, "text": row.text, "filed_at": row.filed_at.isoformat(), "state": row.state,
            "ruling": row.ruling, "ruled_by": row.ruled_by,
            "ruled_at": row.ruled_at.isoformat() if row.ruled_at else None, "version": row.version}


async def list_appeals(session: AsyncSession, event_id: int) -> list[dict[str, Any]]:
    rows = (await session.exec(select(Appeal).where(Appeal.event_id == event_id).order_by(col(Appeal.id)))).all()
    return [appeal_view(r) for r in rows]
