"""Background jobs kept in the database (contestday/web/jobs.py, contestday/db/jobs.py): one instance takes a job
whose instance is gone, an instance given up on stops, a clean shutdown gives its jobs back, the keep time expires
files; and on real servers, a batch followed and downloaded on the other instance (PostgreSQL, one data directory
shared) and a batch interrupted by kill -9, taken up again at the restart or failed with the reason."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import insert, literal, null, select, update

from certificates import store
from certificates.store import IssuedCertificate
from contestday.app import create_app
from contestday.db.engine import create_engine, create_sessionmaker, create_writer
from contestday.db.jobs import BackgroundJob
from contestday.db.types import utcnow
from contestday.settings import Settings
from contestday.web.jobs import JobHandle, Jobs, interrupted
from judging import audit
from registration.events.service import create_event
from results.publication import publish
from scoring.event_file import parse_event_document
from tests.conftest import ADMIN_TOKEN, _free_port
from tests.results.test_publication import marked, settle
from tests.support.helpers import example_event
from tests.support.judging_setup import SECRET
from tests.support.services import pg_database

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
AUDIT_KEY = b"the-audit-key-of-the-two-instances-test-0123456789"
LONG_AGO = timedelta(hours=1)


def _row(**given: Any) -> dict[str, Any]:
    return {"kind": "test.wait", "owner": "测试", "state": "queued", "filename": "结果.pdf",
            "media_type": "application/pdf", "title": "打印荣誉证书", "params": {}, "created_at": utcnow(), **given}


async def _add(db: Any, **given: Any) -> None:
    async with db() as session:
        session.add(BackgroundJob(**_row(**given)))
        await session.commit()


async def _get(db: Any, job_id: str) -> BackgroundJob:
    async with db() as session:
        row = await session.get(BackgroundJob, job_id)
    assert row is not None
    return row


async def _set(db: Any, job_id: str, **values: Any) -> None:
    async with db() as session:
        await session.exec(update(BackgroundJob).where(BackgroundJob.id == job_id).values(**values))  # type: ignore[arg-type]
        await session.commit()


async def _until(check: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


# --- in one process: two Jobs on one database stand for two instances ------------------------------------------

async def test_one_instance_takes_a_stale_job_and_an_instance_given_up_on_stops(settings: Settings, db: Any) -> None:
    gate = asyncio.Event()
    ran: list[tuple[str, int]] = []

    async def wait(context: Any, job: JobHandle, params: dict[str, Any]) -> None:
        ran.append((context, job.attempt))
        job.total = 2
        job.done = 1
        await gate.wait()
        job.done = 2
        await job.save(f"{params['word']}-{job.attempt}".encode())

    engine = create_engine(settings.database_url)
    writers = [create_writer(settings.database_url, engine) for _ in range(2)]
    one, two = (Jobs(w, settings.data_dir, 24, {"test.wait": wait}) for w in writers)
    for jobs, name in ((one, "one"), (two, "two")):
        jobs.context, jobs.flush_s, jobs.heartbeat_s = name, 0.02, 0.05
    try:
        # killed mid-run: running, heartbeat long ago; both instances sweep at once, exactly one takes it
        await _add(db, id="stale", state="running", attempts=1, instance="gone:1:abc",
                   heartbeat_at=utcnow() - LONG_AGO, params={"word": "证书"})
        await asyncio.gather(one.sweep(), two.sweep())
        owners = [jobs for jobs in (one, two) if "stale" in jobs._running]
        assert len(owners) == 1
        winner, loser = owners[0], (two if owners[0] is one else one)
        row = await _get(db, "stale")
        assert (row.state, row.attempts, row.instance) == ("running", 2, winner.instance)
        await _until(lambda: _progress(db, "stale", 1))  # its progress reaches the row

        # the winner is given up on (it stalls; its heartbeat made stale by hand): the other takes the job, and
        # the winner, at its next heartbeat, finds the job no longer its own and stops
        winner.heartbeat_s = 60.0
        await asyncio.sleep(0.1)  # a heartbeat under way lands before the row is changed
        await _set(db, "stale", heartbeat_at=utcnow() - LONG_AGO, done=0)
        await loser.sweep()
        assert "stale" in loser._running
        winner.heartbeat_s = 0.05
        await _until(lambda: _gone(winner, "stale"))
        gate.set()
        await _until(lambda: _state(db, "stale", "done"))
        row = await _get(db, "stale")
        assert (row.attempts, row.instance, row.done, row.total) == (3, loser.instance, 2, 2)
        assert (settings.data_dir / row.result).read_bytes() == "证书-3".encode()
        assert row.result == "exports/stale.pdf" and row.finished_at is not None
        assert sorted(ran) == sorted([(winner.context, 2), (loser.context, 3)])

        # taken max_attempts times already: failed with the reason, never left running
        await _add(db, id="worn", state="running", attempts=3, instance="gone:1:abc",
                   heartbeat_at=utcnow() - LONG_AGO)
        await one.sweep()
        row = await _get(db, "worn")
        assert (row.state, row.error) == ("failed", interrupted(3)) and "请重新开始" in row.error

        # a clean shutdown gives a running job back at once (queued), and the other instance takes it
        gate.clear()
        await _add(db, id="handed", params={"word": "名单"})
        await one.sweep()
        await two.sweep()
        holder, other = (one, two) if "handed" in one._running else (two, one)
        await holder.stop()
        row = await _get(db, "handed")
        assert (row.state, row.attempts, row.heartbeat_at) == ("queued", 1, None)
        await other.sweep()
        gate.set()
        await _until(lambda: _state(db, "handed", "done"))
        assert (await _get(db, "handed")).attempts == 2
    finally:
        gate.set()
        for jobs in (one, two):
            await jobs.stop()
        for writer in writers:
            await writer.stop()
        await engine.dispose()


async def _progress(db: Any, job_id: str, done: int) -> bool:
    return (await _get(db, job_id)).done == done


async def _state(db: Any, job_id: str, state: str) -> bool:
    return (await _get(db, job_id)).state == state


async def _gone(jobs: Jobs, job_id: str) -> bool:
    return job_id not in jobs._running


async def test_pages_read_the_row_files_expire_and_other_events_jobs_are_not_found(settings: Settings,
                                                                                    db: Any) -> None:
    """The progress page and JSON and the download answer from the row (another instance's job reads the same);
    a done job past CONTESTDAY_EXPORT_KEEP_HOURS loses its file and says so; another event's job id is 404."""
    async with db() as session:
        mine = await create_event(session, parse_event_document(example_event(name="甲赛事")))
        other = await create_event(session, parse_event_document(example_event(name="乙赛事")))
        await session.commit()
    exports = settings.data_dir / "exports"
    exports.mkdir(parents=True)
    (exports / "fresh.pdf").write_bytes(b"%PDF-fresh")
    (exports / "old.pdf").write_bytes(b"%PDF-old")
    stray = exports / ".old.pdf.1234abcd.part"  # a writer killed mid-write, long ago
    stray.write_bytes(b"half")
    os.utime(stray, (time.time() - 3 * 86400, time.time() - 3 * 86400))
    now = utcnow()
    await _add(db, id="fresh", event_id=mine, state="done", done=6, total=6, result="exports/fresh.pdf",
               finished_at=now - timedelta(hours=23))
    await _add(db, id="old", event_id=mine, state="done", done=6, total=6, result="exports/old.pdf",
               finished_at=now - timedelta(hours=25))
    # another instance runs this one (fresh heartbeat): shown, not taken
    await _add(db, id="busy", event_id=mine, state="running", done=3, total=8, attempts=1, instance="other:2:def",
               heartbeat_at=now + timedelta(minutes=5))
    await _add(db, id="broke", event_id=mine, state="failed", error=interrupted(3), attempts=3)

    async with AsyncTestClient(app=create_app(settings)) as client:  # its start-up sweep expires "old"
        base = f"/console/events/{mine}/exports"
        assert not (exports / "old.pdf").exists() and not stray.exists()
        assert (await _get(db, "old")).state == "expired"
        assert (await client.get(f"{base}/old/progress.json", headers=ADMIN)).json()["state"] == "expired"
        page = await client.get(f"{base}/old", headers=ADMIN)
        assert page.status_code == 200 and "已过期删除（完成后保留 24 小时）" in page.text
        assert "archive.zip" not in page.text
        gone = await client.get(f"{base}/old/archive.zip", headers=ADMIN)
        assert gone.status_code == 410 and gone.json()["code"] == "export_expired"

        fresh = await client.get(f"{base}/fresh/archive.zip", headers=ADMIN)
        assert fresh.status_code == 200 and fresh.content == b"%PDF-fresh"
        assert "filename*=UTF-8''%E7%BB%93%E6%9E%9C.pdf" in fresh.headers["content-disposition"]
        assert "已完成：6 份" in (await client.get(f"{base}/fresh", headers=ADMIN)).text

        busy = (await client.get(f"{base}/busy/progress.json", headers=ADMIN)).json()
        assert busy == {"job": "busy", "state": "running", "done": 3, "total": 8, "error": "", "percent": 38}
        assert "正在生成：3 / 8" in (await client.get(f"{base}/busy", headers=ADMIN)).text
        early = await client.get(f"{base}/busy/archive.zip", headers=ADMIN)
        assert early.status_code == 409 and early.json()["code"] == "export_not_ready"
        broke = await client.get(f"{base}/broke", headers=ADMIN)
        assert "任务因服务重启中断（已尝试 3 次），请重新开始" in broke.text

        for path in ("/fresh", "/fresh/progress.json", "/fresh/archive.zip", "/nope", "/nope/progress.json"):
            there = f"/console/events/{other}/exports{path}" if path.startswith("/fresh") else f"{base}{path}"
            answer = await client.get(there, headers=ADMIN)
            assert answer.status_code == 404 and answer.json()["code"] == "unknown_export", there
        assert (await client.get(f"{base}/fresh/progress.json")).status_code == 401
    assert (await _get(db, "busy")).instance == "other:2:def"


# --- real servers ---------------------------------------------------------------------------------------------

async def _seed_certificates(db: Any, copies: int) -> int:
    """A published item with its 6 certificates issued, then `copies` more of each (other serials): a batch
    that takes a few seconds to draw. The event's id."""
    contest = await marked(db)
    await settle(db, contest)
    async with db() as session:
        await publish(session, contest.event_id, "LED", "裁判长")
        assert await store.issue(session, contest.event_id) == 6
    table: Any = IssuedCertificate.__table__  # type: ignore[attr-defined]
    names = [c.name for c in table.columns if c.name != "id"]
    async with db() as session:
        for k in range(copies):
            chosen = [table.c.serial.concat(literal(f"-{k}")) if n == "serial" else null() if n == "active_key"
                      else table.c[n] for n in names]
            await session.exec(insert(table).from_select(names, select(*chosen).where(
                table.c.event_id == contest.event_id, table.c.serial.not_like("%-%-%-%-%"))))
        await session.commit()
    return contest.event_id


def _serve(database_url: str, data_dir: Path, *ports: int,
           audit_key: bytes | None = None) -> list[subprocess.Popen[bytes]]:
    """`contestday serve` on each port (started together: each takes a couple of seconds), once they answer."""
    env = {**os.environ, "CONTESTDAY_DATABASE_URL": database_url, "CONTESTDAY_DATA_DIR": str(data_dir),
           "CONTESTDAY_SECRET_KEY": SECRET, "CONTESTDAY_ADMIN_TOKEN": ADMIN_TOKEN, "CONTESTDAY_PAGE_PROCESS": "0",
           "CONTESTDAY_ALLOW_LOOPBACK_QR": "1", **({"CONTESTDAY_AUDIT_KEY": audit_key.decode()} if audit_key else {})}
    env.pop("CONTESTDAY_REDIS_URL", None)
    procs = [subprocess.Popen([sys.executable, "-m", "contestday.cli", "serve", "--port", str(port)], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    deadline = time.monotonic() + 20
    for port in ports:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                for proc in procs:
                    proc.kill()
                raise RuntimeError("server did not start")
            time.sleep(0.05)
    return procs


def _stop(servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        if server.poll() is None:
            server.terminate()
    for server in servers:
        server.wait(timeout=10)


def _print(base: str, event_id: int) -> str:
    """Start a certificate batch of the item on the server at `base`: the job page's path."""
    started = httpx.post(f"{base}/console/events/{event_id}/certificates/print", data={"item": "LED"},
                         headers=ADMIN, follow_redirects=False, timeout=10)
    assert started.status_code == 303, started.text
    return str(started.headers["location"])


def _watch(base: str, path: str, until: Any, seconds: float = 20.0) -> list[dict[str, Any]]:
    """Every view of the job's progress JSON read until `until(view)`."""
    views: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while True:
        views.append(httpx.get(f"{base}{path}/progress.json", headers=ADMIN, timeout=10).json())
        if until(views[-1]):
            return views
        assert time.monotonic() < deadline, views[-1]
        time.sleep(0.05)


def _finished(view: dict[str, Any]) -> bool:
    return view["state"] not in ("queued", "running")


def _pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ")


async def test_batches_cut_by_kill_are_run_again_at_the_restart_or_failed_once_worn(settings: Settings,
                                                                                    db: Any) -> None:
    """SQLite: a server killed with SIGKILL while it draws two batches. At the restart (both heartbeats stale by
    then) the first is taken up again and finished; the second had been taken as often as allowed, so the
    restarted server fails it, saying why, instead of leaving it running."""
    event_id = await _seed_certificates(db, copies=99)  # 600 certificates a batch: seconds of drawing
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    servers = _serve(settings.database_url, settings.data_dir, port)
    try:
        first, second = _print(base, event_id), _print(base, event_id)
        for path in (first, second):  # both run at once (two slots)
            _watch(base, path, lambda v: v["state"] == "running" and v["done"] > 0)
        servers[0].send_signal(signal.SIGKILL)  # no shutdown: the jobs stay "running" with their last heartbeat
        servers[0].wait(timeout=10)
        resumed, worn = (path.rsplit("/", 1)[1] for path in (first, second))
        for job_id in (resumed, worn):
            row = await _get(db, job_id)
            assert (row.state, row.attempts) == ("running", 1) and 0 < row.done < row.total == 600, row
        assert not list((settings.data_dir / "exports").glob(f"{resumed}*"))
        # as if the stale time had passed while the server was down; the second was taken twice before
        await _set(db, resumed, heartbeat_at=utcnow() - LONG_AGO)
        await _set(db, worn, heartbeat_at=utcnow() - LONG_AGO, attempts=3)

        servers = _serve(settings.database_url, settings.data_dir, port)
        view = httpx.get(f"{base}{second}/progress.json", headers=ADMIN).json()  # the start-up sweep decided
        assert (view["state"], view["error"]) == ("failed", interrupted(3)), view
        page = httpx.get(f"{base}{second}", headers=ADMIN)
        assert "任务因服务重启中断（已尝试 3 次），请重新开始" in page.text and "archive.zip" not in page.text
        view = _watch(base, first, _finished)[-1]
        assert (view["state"], view["done"], view["total"]) == ("done", 600, 600), view
        assert (await _get(db, resumed)).attempts == 2
        pdf = httpx.get(f"{base}{first}/archive.zip", headers=ADMIN, timeout=30)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and _pages(pdf.content) == 600
    finally:
        _stop(servers)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with pg_database("cdjobs") as url:
        yield url


async def test_a_batch_started_on_one_instance_is_followed_and_downloaded_on_the_other(pg_url: str,
                                                                                     tmp_path: Path) -> None:
    """Two servers on one PostgreSQL database and one data directory: the job started on the first shows its
    progress on the second while it runs, and the second serves the finished PDF."""
    audit.use_key(AUDIT_KEY)  # the seed's audit links, signed with the key the servers get (not the settings fixture)
    engine = create_engine(pg_url)
    try:
        event_id = await _seed_certificates(create_sessionmaker(engine), copies=74)  # 450 certificates
    finally:
        await engine.dispose()
    ports = (_free_port(), _free_port())
    servers = _serve(pg_url, tmp_path / "data", *ports, audit_key=AUDIT_KEY)
    try:
        one, two = (f"http://127.0.0.1:{port}" for port in ports)
        path = _print(one, event_id)
        views = _watch(two, path, _finished)
        assert any(v["state"] == "running" and 0 < v["done"] < v["total"] for v in views), views
        assert (views[-1]["state"], views[-1]["done"], views[-1]["total"]) == ("done", 450, 450), views[-1]
        page = httpx.get(f"{two}{path}", headers=ADMIN)
        assert "已完成：450 份" in page.text and "archive.zip" in page.text
        pdf = httpx.get(f"{two}{path}/archive.zip", headers=ADMIN, timeout=30)
        assert pdf.status_code == 200 and _pages(pdf.content) == 450
        assert httpx.get(f"{two}/console/events/{event_id + 1}/exports/{path.rsplit('/', 1)[1]}/progress.json",
                         headers=ADMIN).status_code == 404
    finally:
        _stop(servers)
