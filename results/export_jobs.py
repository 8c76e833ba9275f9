"""Every list of every published item in one ZIP, built in the background with its progress visible: the
event's archive (XLSX and PDF of each list, the score sheets as PDF). A job runs in this process and writes
`DATA_DIR/exports/<job>.zip`; its progress (lists done of total) is polled by the page, which refreshes
itself until the download appears. The job itself (progress, file, memory only) is contestday/web/jobs.py."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.admission import render_off_loop
from contestday.web.jobs import Job, start_job
from registration.entries.personal import PersonalData
from registration.events.models import Item
from registration.events.service import event_or_404
from results import lists
from results.publication import current

__all__ = ["start_export"]

Opener = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def _items(session: AsyncSession, event_id: int) -> list[tuple[str, str]]:
    """(code, certificate kind) of every published item."""
    codes = []
    for item in (await session.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all():
        latest = await current(session, item.id or 0)
        if latest is not None and latest.state == "published":
            codes.append((item.code, item.certificate))
    return codes


def _parts(event_kind: str, certificate: str | None = None) -> list[tuple[str, str]]:
    return [(kind, ext) for kind in lists.KINDS for ext in ("xlsx", "pdf")
            if not (kind == "sheets" and ext == "xlsx") and lists.offered(kind, event_kind, certificate)]


async def _run(job: Job, opener: Opener, personal: PersonalData) -> None:
    async with opener() as session:
        codes = await _items(session, job.event_id)
        event_kind = (await event_or_404(session, job.event_id)).kind
    job.total = sum(len(_parts(event_kind, certificate)) for _code, certificate in codes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for code, certificate in codes:
            for kind, ext in _parts(event_kind, certificate):
                async with opener() as session:  # a short session per list: never one long transaction
                    sheet = await lists.build(session, job.event_id, code, kind, personal)
                data = await render_off_loop(lists.sheet_xlsx if ext == "xlsx" else lists.sheet_pdf, sheet)
                name = f"{code}/{sheet.title}.{ext}"
                archive.writestr(name, data)
                job.names.append(name)
                job.done += 1
    job.save(buffer.getvalue())


def start_export(state: Any, event_id: int) -> Job:
    personal = PersonalData(state.settings.secret_key)
    return start_job(state, event_id, lambda job: _run(job, state.read_session, personal),
                     filename=f"成绩名单-{event_id}.zip", media_type="application/zip")

