"""Every list of every published item in one ZIP, built in the background with its progress visible: the
event's archive (XLSX and PDF of each list, the score sheets as PDF). A job runs in this process and writes
`DATA_DIR/exports/<job>.zip`; its progress (lists done of total) is polled by the page, which refreshes
itself until the download appears. Jobs and their progress live in memory: after a restart, start again."""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
import zipfile
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from registration.entries.personal import PersonalData
from registration.events.models import Item
from registration.events.service import event_or_404
from results import lists
from results.publication import current

__all__ = ["ExportJob", "find_job", "start_export", "start_job"]

log = logging.getLogger("contestday.results")
Opener = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@dataclass
class ExportJob:
    id: str
    event_id: int
    total: int = 0
    done: int = 0
    state: str = "running"  # running | done | failed
    error: str = ""
    path: Path | None = None
    names: list[str] = field(default_factory=list)
    filename: str = "export.zip"
    title: str = "导出全部名单"
    folder: Path = Path("exports")

    def save(self, data: bytes) -> None:
        """Write the finished file (`folder`/<job id> with the download's extension) and point `path` at it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.id}{Path(self.filename).suffix}"
        path.write_bytes(data)
        self.path = path
    media_type: str = "application/zip"

    def view(self) -> dict[str, Any]:
        return {"job": self.id, "state": self.state, "done": self.done, "total": self.total, "error": self.error,
                "percent": 100 if self.total == 0 else round(100 * self.done / self.total)}


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


async def _run(job: ExportJob, opener: Opener, personal: PersonalData) -> None:
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
                data = await asyncio.to_thread(lists.sheet_xlsx if ext == "xlsx" else lists.sheet_pdf, sheet)
                name = f"{code}/{sheet.title}.{ext}"
                archive.writestr(name, data)
                job.names.append(name)
                job.done += 1
    job.save(buffer.getvalue())


def start_job(state: Any, event_id: int, work: Callable[[ExportJob], Coroutine[Any, Any, None]], *,
              filename: str, media_type: str, title: str = "导出全部名单") -> ExportJob:
    """Run `work(job)` in the background; it updates `job.total`/`job.done` and sets `job.path` when done."""
    jobs: dict[str, ExportJob] = state.setdefault("export_jobs", {})
    job = ExportJob(secrets.token_urlsafe(12), event_id, filename=filename, media_type=media_type, title=title,
                    folder=Path(state.settings.data_dir) / "exports")
    jobs[job.id] = job

    async def guarded() -> None:
        try:
            await work(job)
            job.state = "done"
        except Exception as exc:  # reported on the page; the log has the traceback
            log.exception("export failed", extra={"event_id": job.event_id, "job": job.id})
            job.state, job.error = "failed", type(exc).__name__

    task = asyncio.get_running_loop().create_task(guarded())
    state.setdefault("export_tasks", set()).add(task)  # keep a reference until it finishes
    task.add_done_callback(state["export_tasks"].discard)
    return job


def start_export(state: Any, event_id: int) -> ExportJob:
    personal = PersonalData(state.settings.secret_key)
    return start_job(state, event_id, lambda job: _run(job, state.read_session, personal),
                     filename=f"成绩名单-{event_id}.zip", media_type="application/zip")


def find_job(state: Any, event_id: int, job_id: str) -> ExportJob | None:
    job = state.get("export_jobs", {}).get(job_id)
    return job if job is not None and job.event_id == event_id else None
