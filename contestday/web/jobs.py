"""Background jobs with visible progress: long work (every list of an event as one ZIP, a batch of certificate
PDFs) runs in this process beside the requests, updates `done` of `total` as it goes, and writes its file under
`DATA_DIR/<folder>/`; the page that started it polls the job and offers the download when it is done. Jobs and
their progress live in memory: after a restart the organiser starts again (nothing stored is touched)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Job", "find_job", "start_job"]

log = logging.getLogger("contestday.jobs")


@dataclass
class Job:
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
    media_type: str = "application/zip"

    def save(self, data: bytes) -> None:
        """Write the finished file (`folder`/<job id> with the download's extension) and point `path` at it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.id}{Path(self.filename).suffix}"
        path.write_bytes(data)
        self.path = path

    def view(self) -> dict[str, Any]:
        return {"job": self.id, "state": self.state, "done": self.done, "total": self.total, "error": self.error,
                "percent": 100 if self.total == 0 else round(100 * self.done / self.total)}


def start_job(state: Any, event_id: int, work: Callable[[Job], Coroutine[Any, Any, None]], *,
              filename: str, media_type: str, title: str = "导出全部名单") -> Job:
    """Run `work(job)` in the background; it updates `job.total`/`job.done` and sets `job.path` when done. A
    failure is reported on the job (the log has the traceback)."""
    jobs: dict[str, Job] = state.setdefault("export_jobs", {})
    job = Job(secrets.token_urlsafe(12), event_id, filename=filename, media_type=media_type, title=title,
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


def find_job(state: Any, event_id: int, job_id: str) -> Job | None:
    """The job, if it belongs to this event (a job id from another event's page finds nothing)."""
    job = state.get("export_jobs", {}).get(job_id)
    return job if job is not None and job.event_id == event_id else None
