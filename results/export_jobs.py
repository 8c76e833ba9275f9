"""Every list of every published item in one ZIP, built in the background with its progress visible: the
event's archive (XLSX and PDF of each list, the score sheets as PDF). The job (kind `results.export`, no params:
the event is the job's) is kept in the database and run by whichever instance takes it (contestday/web/jobs.py);
it writes `DATA_DIR/exports/<job>.zip`, and its page polls the row until the download appears."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.web.admission import render_off_loop
from contestday.web.jobs import JobHandle, Jobs
from registration.entries.personal import PersonalData
from registration.events.models import Item
from registration.events.service import event_or_404
from results import lists
from results.publication import current

__all__ = ["KIND", "run_export", "start_export"]

KIND = "results.export"


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


async def run_export(state: Any, job: JobHandle, _params: dict[str, Any]) -> None:
    """The runner: a short read session per list (never one long transaction), each drawing off the loop."""
    assert job.event_id is not None
    personal = PersonalData(state.settings.secret_key)
    async with state.read_session() as session:
        codes = await _items(session, job.event_id)
        event_kind = (await event_or_404(session, job.event_id)).kind
    job.total = sum(len(_parts(event_kind, certificate)) for _code, certificate in codes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for code, certificate in codes:
            for kind, ext in _parts(event_kind, certificate):
                async with state.read_session() as session:
                    sheet = await lists.build(session, job.event_id, code, kind, personal)
                data = await render_off_loop(lists.sheet_xlsx if ext == "xlsx" else lists.sheet_pdf, sheet)
                archive.writestr(f"{code}/{sheet.title}.{ext}", data)
                job.done += 1
    await job.save(buffer.getvalue())


async def start_export(state: Any, session: AsyncSession, event_id: int, owner: str) -> str:
    """Store the job (committing `session`); its id."""
    jobs: Jobs = state.jobs
    return await jobs.submit(session, KIND, event_id=event_id, params={}, owner=owner,
                             filename=f"成绩名单-{event_id}.zip", media_type="application/zip", title="导出全部名单")
