"""The background jobs' table (`background_job`) and the statements that move a job through its states, each a
writer job (a plain function of a synchronous `Connection`, contestday/db/writer.py) so it runs on SQLite's one
writer thread or PostgreSQL's pool like every other write.

A row is the whole truth about a job, so any instance on the database can show its progress and any can take it
over: `queued` (waiting for an instance with a free slot) → `running` (`instance` runs it and writes
`heartbeat_at` every few seconds) → `done` (the file under DATA_DIR, `result`) | `failed` (`error`, Chinese) →
`expired` (the file deleted after the keep time). Every change of hands is a conditional UPDATE on the state and
the attempt number: two instances that both see a job to take, or a heartbeat of an instance that was given up on,
find one of them answered "0 rows" and step back. `event_id` is a plain integer (no foreign key): the kernel does
not know the events' table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, and_, or_, select, update
from sqlmodel import Field, SQLModel

from contestday.db.types import UTCDateTime
from contestday.db.writer import table

__all__ = ["ACTIVE", "BackgroundJob", "Taken", "beat", "claim_waiting", "expire_done", "finish", "give_back",
           "insert_job", "set_failed"]

ACTIVE = ("queued", "running")


class BackgroundJob(SQLModel, table=True):
    __tablename__ = "background_job"

    id: str = Field(primary_key=True, max_length=32)  # a random token: the progress page's address
    kind: str = Field(max_length=64)  # what runs it: a runner registered by a feature
    owner: str = Field(default="", max_length=80)  # who started it
    event_id: int | None = Field(default=None)
    state: str = Field(default="queued", max_length=16, index=True)  # queued|running|done|failed|expired
    done: int = 0
    total: int = 0
    result: str = Field(default="", max_length=255)  # the finished file, relative to DATA_DIR
    filename: str = Field(max_length=200)  # the download's name
    media_type: str = Field(max_length=100)
    title: str = Field(max_length=100)
    error: str = Field(default="", max_length=500)  # why it failed, in Chinese
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # what the runner needs to run it again
    attempts: int = 0  # how many times an instance took it
    instance: str = Field(default="", max_length=80)  # which process runs (or last ran) it
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


_T = table(BackgroundJob)
_C = _T.c


@dataclass(frozen=True)
class Taken:
    """A job this instance now runs: its attempt number makes every later write of it conditional."""

    id: str
    kind: str
    event_id: int | None
    params: dict[str, Any]
    filename: str
    attempt: int


def insert_job(values: dict[str, Any]) -> Callable[[Connection], None]:
    def job(conn: Connection) -> None:
        conn.execute(_T.insert().values(values))
    return job


def _mine(job_id: str, instance: str, attempt: int) -> Any:
    return and_(_C.id == job_id, _C.state == "running", _C.instance == instance, _C.attempts == attempt)


def claim_waiting(instance: str, now: datetime, stale_before: datetime, slots: int,
                  max_attempts: int, reason: Callable[[int], str]) -> Callable[[Connection], list[Taken]]:
    """Take up to `slots` jobs that nobody runs: queued ones, and running ones whose heartbeat is older than
    `stale_before` (their instance was killed). A stale one that has been taken `max_attempts` times already is
    failed with `reason(attempts)` instead of taken again."""

    def job(conn: Connection) -> list[Taken]:
        waiting = conn.execute(
            select(_C.id, _C.kind, _C.event_id, _C.params, _C.filename, _C.state, _C.attempts)
            .where(or_(_C.state == "queued",
                       and_(_C.state == "running", or_(_C.heartbeat_at.is_(None), _C.heartbeat_at < stale_before))))
            .order_by(_C.created_at)).all()
        taken: list[Taken] = []
        for job_id, kind, event_id, params, filename, state, attempts in waiting:
            same = and_(_C.id == job_id, _C.state == state, _C.attempts == attempts)
            if attempts >= max_attempts:
                conn.execute(update(_T).where(same).values(state="failed", error=reason(attempts), finished_at=now))
                continue
            if len(taken) >= slots:
                continue
            claimed = conn.execute(update(_T).where(same).values(
                state="running", instance=instance, attempts=attempts + 1, heartbeat_at=now, started_at=now,
                done=0, error=""))
            if claimed.rowcount == 1:
                taken.append(Taken(job_id, kind, event_id, dict(params or {}), filename, attempts + 1))
        return taken
    return job


def beat(taken: Taken, instance: str, now: datetime, done: int, total: int) -> Callable[[Connection], bool]:
    """The heartbeat with the progress; False: the job is no longer this instance's (given up on, taken over)."""

    def job(conn: Connection) -> bool:
        return conn.execute(update(_T).where(_mine(taken.id, instance, taken.attempt)).values(
            heartbeat_at=now, done=done, total=total)).rowcount == 1
    return job


def finish(taken: Taken, instance: str, now: datetime, done: int, total: int,
           result: str) -> Callable[[Connection], bool]:
    def job(conn: Connection) -> bool:
        return conn.execute(update(_T).where(_mine(taken.id, instance, taken.attempt)).values(
            state="done", done=done, total=total, result=result, heartbeat_at=now, finished_at=now)).rowcount == 1
    return job


def set_failed(taken: Taken, instance: str, now: datetime, error: str) -> Callable[[Connection], bool]:
    def job(conn: Connection) -> bool:
        return conn.execute(update(_T).where(_mine(taken.id, instance, taken.attempt)).values(
            state="failed", error=error[:500], finished_at=now)).rowcount == 1
    return job


def give_back(taken: list[Taken], instance: str) -> Callable[[Connection], int]:
    """At a clean shutdown: the jobs this instance runs wait again (queued), for whichever instance is free first
    (this one after its restart), without waiting for their heartbeat to go stale."""

    def job(conn: Connection) -> int:
        return sum(conn.execute(update(_T).where(_mine(t.id, instance, t.attempt)).values(
            state="queued", heartbeat_at=None)).rowcount for t in taken)
    return job


def expire_done(finished_before: datetime) -> Callable[[Connection], list[str]]:
    """Mark expired the done jobs finished before `finished_before`; their files (relative paths) to delete."""

    def job(conn: Connection) -> list[str]:
        rows = conn.execute(select(_C.id, _C.result).where(
            _C.state == "done", _C.finished_at < finished_before)).all()
        gone = []
        for job_id, result in rows:
            if conn.execute(update(_T).where(_C.id == job_id, _C.state == "done").values(
                    state="expired")).rowcount == 1 and result:
                gone.append(result)
        return gone
    return job
