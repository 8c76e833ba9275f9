"""Background jobs with visible progress, kept in the database (`background_job`, contestday/db/jobs.py): long
work (every list of an event as one ZIP, a batch of certificate PDFs) runs in a server process beside the
requests, and any instance on the database shows any job's progress and serves its file.

- Kinds are registered by the composition root: a kind's name and its runner `async (state, job, params)`,
  where `params` is JSON stored in the row, so whichever instance takes the job can run it (again).
- `submit` stores the job as `queued` in the request's own transaction; each instance runs at most `slots` jobs
  at once and takes waiting ones (its own at once, the others' when it has a free slot).
- While it runs, the runner sets `job.done`/`job.total` as it likes (from a thread too); the row gets them at
  most twice a second and a heartbeat every `heartbeat_s`. A job whose heartbeat is older than `stale_s` (its
  instance was killed) is taken by the next sweep of any instance — at start-up and every `sweep_s` — and run
  from the start, up to `max_attempts` takes in all; then it is failed, saying why. A clean shutdown gives its
  jobs back at once (queued).
- The file is written under another name and renamed into `DATA_DIR/exports/`, so an instance sharing the data
  directory never reads half of it. Done jobs' files are deleted after `CONTESTDAY_EXPORT_KEEP_HOURS` and the
  job marked `expired`.
Every write goes through the app's writer (SQLite's one writer thread), never holding a transaction open while
the work runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.db.jobs import (
    BackgroundJob,
    Taken,
    beat,
    claim_waiting,
    expire_done,
    finish,
    give_back,
    insert_job,
    set_failed,
)
from contestday.db.types import utcnow
from contestday.db.writer import Writer, run_job
from contestday.web.errors import Refusal

__all__ = ["EXPORTS", "JobHandle", "JobView", "Jobs", "Runner", "interrupted"]

log = logging.getLogger("contestday.jobs")
T = TypeVar("T")
EXPORTS = "exports"  # the jobs' files, under DATA_DIR


class JobHandle:
    """What a runner sees of its job: the event, the params, the progress to set and `save` for the file."""

    def __init__(self, taken: Taken, data_dir: Path) -> None:
        self.id, self.event_id, self.params, self.attempt = taken.id, taken.event_id, taken.params, taken.attempt
        self.done = 0
        self.total = 0
        self.result = ""  # the saved file, relative to DATA_DIR
        self._data_dir, self._suffix = data_dir, Path(taken.filename).suffix

    async def save(self, data: bytes) -> None:
        """The finished file, as `exports/<job id><extension of the download>`: written whole under a temporary
        name, flushed to disk, then renamed, so a reader never sees part of it."""
        relative = f"{EXPORTS}/{self.id}{self._suffix}"
        await asyncio.to_thread(_write_whole, self._data_dir / relative, data)
        self.result = relative


def _write_whole(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


Runner = Callable[[Any, JobHandle, dict[str, Any]], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class JobView:
    """A job as its pages show it (read from the row)."""

    id: str
    event_id: int | None
    kind: str
    state: str
    done: int
    total: int
    error: str
    filename: str
    media_type: str
    title: str
    result: str
    keep_hours: int

    def view(self) -> dict[str, Any]:
        return {"job": self.id, "state": self.state, "done": self.done, "total": self.total, "error": self.error,
                "percent": 100 if self.total == 0 else round(100 * self.done / self.total)}


def interrupted(attempts: int) -> str:
    return f"任务因服务重启中断（已尝试 {attempts} 次），请重新开始"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Refusal):
        return f"{exc.message}，请重试"
    return f"生成时出错（{type(exc).__name__}），请重试"


class Jobs:
    """The jobs of one app: `submit` and `find` for the routes; `start`/`stop` from the lifespan (`run=False`
    in the page process: it only reads them)."""

    slots = 2  # jobs one instance runs at once (the drawing is CPU-bound; the rest wait queued)
    max_attempts = 3
    flush_s = 0.5  # progress written at most this often
    heartbeat_s = 2.0
    stale_s = 20.0  # a running job's heartbeat older than this: its instance is gone
    sweep_s = 5.0

    def __init__(self, writer: Writer, data_dir: Path, keep_hours: int, kinds: Mapping[str, Runner], *,
                 run: bool = True) -> None:
        self.writer, self.data_dir, self.keep_hours, self.kinds, self.run = writer, data_dir, keep_hours, kinds, run
        self.instance = f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.context: Any = None  # the app's state, handed to the runners
        self._running: dict[str, tuple[Taken, asyncio.Task[None]]] = {}
        self._claiming = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    # --- for the routes ---------------------------------------------------------------------------------------

    async def submit(self, session: AsyncSession, kind: str, *, event_id: int | None, params: dict[str, Any],
                     owner: str, filename: str, media_type: str, title: str) -> str:
        """Store a new job (committing the request's session) and let it start; its id."""
        if kind not in self.kinds:
            raise ValueError(f"no runner for job kind {kind!r}")
        job_id = secrets.token_urlsafe(12)
        values = {"id": job_id, "kind": kind, "owner": owner[:80], "event_id": event_id, "state": "queued",
                  "params": json.loads(json.dumps(params)), "filename": filename, "media_type": media_type,
                  "title": title, "created_at": utcnow()}
        await run_job(session, insert_job(values))
        self._kick()
        return job_id

    async def find(self, session: AsyncSession, event_id: int, job_id: str) -> JobView | None:
        """The job, if it belongs to this event (a job id from another event's page finds nothing)."""
        row = await session.get(BackgroundJob, job_id)
        if row is None or row.event_id != event_id:
            return None
        return JobView(row.id, row.event_id, row.kind, row.state, row.done, row.total, row.error, row.filename,
                       row.media_type, row.title, row.result, self.keep_hours)

    def path(self, job: JobView) -> Path | None:
        return self.data_dir / job.result if job.result else None

    # --- the lifespan -----------------------------------------------------------------------------------------

    async def start(self, app: Any) -> None:
        self.context = app.state
        if self.run:
            await self.sweep()  # jobs a killed predecessor left behind, expired files
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="job-sweeper")

    async def stop(self, _app: Any = None) -> None:
        """Stop taking jobs, cancel the running ones and give them back (before the writer stops)."""
        self.run = False
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await asyncio.gather(*self._tasks, return_exceptions=True)  # claims under way
        running = list(self._running.values())
        for _taken, task in running:
            task.cancel()
        await asyncio.gather(*(task for _taken, task in running), return_exceptions=True)
        if running:
            back = await self._write(give_back([taken for taken, _task in running], self.instance))
            log.info("jobs given back at shutdown", extra={"jobs": back})

    async def sweep(self) -> None:
        """Expire old files, then take waiting jobs (queued, or stale: their instance is gone); never raises."""
        gone = await self._write(expire_done(utcnow() - timedelta(hours=self.keep_hours)))
        if gone or self._sweeper is None:  # the start-up sweep also clears what killed writers left
            await asyncio.to_thread(self._delete, gone or [])
        await self._claim()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_s)
            await self.sweep()

    def _delete(self, files: list[str]) -> None:
        for relative in files:
            (self.data_dir / relative).unlink(missing_ok=True)
        cutoff = time.time() - self.keep_hours * 3600  # temporary files of writers killed mid-write
        with contextlib.suppress(OSError):
            for stray in (self.data_dir / EXPORTS).glob(".*.part"):
                with contextlib.suppress(OSError):
                    if stray.stat().st_mtime < cutoff:
                        stray.unlink()
        if files:
            log.info("job files expired", extra={"files": len(files)})

    # --- running ----------------------------------------------------------------------------------------------

    async def _write(self, job: Callable[[Connection], T]) -> T | None:
        try:
            return await self.writer.run(job)
        except Exception:  # the database is away: the next heartbeat or sweep tries again
            log.exception("job bookkeeping failed")
            return None

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _kick(self) -> None:
        if self.run:
            self._spawn(self._claim())

    async def _claim(self) -> None:
        async with self._claiming:
            free = self.slots - len(self._running)
            if free <= 0 or not self.run:
                return
            now = utcnow()
            taken = await self._write(claim_waiting(self.instance, now, now - timedelta(seconds=self.stale_s), free,
                                                    self.max_attempts, interrupted)) or []
            for one in taken:
                log.info("job taken", extra={"job": one.id, "kind": one.kind, "attempt": one.attempt})
                task = asyncio.create_task(self._run(one), name=f"job-{one.id}")
                self._running[one.id] = (one, task)

    async def _run(self, taken: Taken) -> None:
        try:
            await self._run_one(taken)
        finally:
            self._running.pop(taken.id, None)
            self._kick()  # a slot is free: take what waits (not while stopping)

    async def _run_one(self, taken: Taken) -> None:
        runner = self.kinds.get(taken.kind)
        if runner is None:
            await self._write(set_failed(taken, self.instance, utcnow(), f"本服务器不认识该任务类型（{taken.kind}）"))
            return
        handle = JobHandle(taken, self.data_dir)
        work = asyncio.create_task(runner(self.context, handle, dict(taken.params)))
        try:
            if not await self._follow(taken, handle, work):
                return
        finally:
            if not work.done():  # cancelled (shutdown) or no longer ours
                work.cancel()
                with contextlib.suppress(BaseException):
                    await work
        if work.cancelled():
            return
        error = work.exception()
        if error is None:
            stored = await self._write(finish(taken, self.instance, utcnow(), handle.done, handle.total,
                                              handle.result))
            log.info("job done", extra={"job": taken.id, "kind": taken.kind, "stored": stored})
        else:
            log.error("job failed", exc_info=error, extra={"job": taken.id, "kind": taken.kind})
            await self._write(set_failed(taken, self.instance, utcnow(), _reason(error)))

    async def _follow(self, taken: Taken, handle: JobHandle, work: asyncio.Task[None]) -> bool:
        """Until `work` ends: its progress into the row at most every `flush_s`, a heartbeat at least every
        `heartbeat_s`. False: the row says the job is no longer this instance's (given up on and taken over)."""
        written, beaten = (0, 0), time.monotonic()
        while True:
            finished, _ = await asyncio.wait({work}, timeout=self.flush_s)
            if finished:
                return True
            progress = (handle.done, handle.total)
            if progress == written and time.monotonic() - beaten < self.heartbeat_s:
                continue
            ours = await self._write(beat(taken, self.instance, utcnow(), *progress))
            if ours is False:
                log.warning("job taken over by another instance", extra={"job": taken.id})
                return False
            if ours:
                written, beaten = progress, time.monotonic()
