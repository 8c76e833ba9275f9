"""`contestday backup` / `contestday restore` through the real command line (subprocesses of this checkout), on
SQLite and on PostgreSQL (the second database a fresh one on the same server): a full demo contest survives the
round trip (every row, the keys, the uploads; its published results, a ticket, a judge's link, a certificate's QR
and the audit chain still hold); a backup taken while registrations pour in (or a tablet marks) holds every
one acknowledged before it began; bad archives and occupied targets are refused with nothing changed; `serve`
backs up before it migrates; the server's periodic backups keep the newest K, once per data directory."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import contestday.models  # noqa: F401  every table, for comparing two databases row by row
from certificates.store import verify_url
from contestday import backup_schedule
from contestday.app import create_app
from contestday.backup_schedule import PeriodicBackups, prune
from contestday.cli import main
from contestday.db.engine import create_engine
from contestday.db.migrate import head_revision, upgrade
from contestday.db.snapshot import inspect_database
from contestday.settings import Settings, load_settings
from registration.entries.personal import PersonalData
from tests.conftest import PG_URL, _free_port, fresh_pg_database
from tests.registration.test_registration_api import person, reg_event

ROOT = Path(__file__).resolve().parents[2]
HEAD = head_revision()


def cli_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTESTDAY_")}
    return {**env, "PYTHONPATH": str(ROOT), "CONTESTDAY_DATA_DIR": str(data_dir),
            "CONTESTDAY_DATABASE_URL": database_url, "CONTESTDAY_PAGE_PROCESS": "0", **extra}


def run(env: dict[str, str], *args: str | Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """`contestday ARGS…` in a subprocess, from an empty directory (no .env)."""
    cwd = Path(env["CONTESTDAY_DATA_DIR"]).parent
    cwd.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "contestday", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    if ok:
        assert done.returncode == 0, f"contestday {args}: {done.stdout}\n{done.stderr}"
    return done


class Ran:
    def __init__(self, code: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = code, stdout, stderr


def cli(env: dict[str, str], *args: str | Path, ok: bool = True) -> Ran:
    """The same command in this process (click's runner; the environment of `env` only): for the many short
    refusals, where a subprocess would only add its start-up."""
    environ: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CONTESTDAY_")}
    environ.update({k: v for k, v in env.items() if k.startswith("CONTESTDAY_")})
    result = CliRunner().invoke(main, [str(a) for a in args], env=environ, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, f"contestday {args}: {result.output}"
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the in-process commands read no .env


@pytest.fixture
def target_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind to restore into."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'b' / 'contestday.sqlite3'}"
        return
    assert PG_URL
    with fresh_pg_database(PG_URL, "cdrestore") as url:
        yield url


def manifest_of(archive: Path) -> dict[str, Any]:
    with zipfile.ZipFile(archive) as zipped:
        return dict(json.loads(zipped.read("manifest.json")))


async def every_row(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return {table.name: [tuple(r) for r in (await connection.execute(
                select(table).order_by(*table.primary_key.columns))).all()]
                for table in SQLModel.metadata.sorted_tables}
    finally:
        await engine.dispose()


def column(rows: dict[str, list[tuple[Any, ...]]], table: str, name: str) -> list[Any]:
    columns = list(SQLModel.metadata.tables[table].columns)
    index = [c.name for c in columns].index(name)
    return [row[index] for row in rows[table]]


def app_for(data_dir: Path, database_url: str) -> Any:
    return create_app(load_settings({"CONTESTDAY_DATA_DIR": str(data_dir), "CONTESTDAY_DATABASE_URL": database_url},
                                    dotenv=False))


# --- the round trip -----------------------------------------------------------------------------------------

async def test_a_demo_contest_survives_backup_and_restore_into_a_fresh_data_dir(database_url: str, target_url: str,
                                                                                tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a = cli_env(a_dir / "data", database_url)
    demo = run(a, "demo", "--no-serve").stdout
    event_id = int(re.search(r"demo event #(\d+)", demo).group(1))  # type: ignore[union-attr]
    judge_tokens = re.findall(r"/j/(\S+)", demo)
    uploads = {"photos/1-0.jpg": os.urandom(3000), f"certificates/event-{event_id}/design.png": os.urandom(2000),
               f"certificates/event-{event_id}/template.json": b'{"overprint": false}'}
    for name, data in uploads.items():
        (a_dir / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        (a_dir / "data" / name).write_bytes(data)
    (a_dir / "data" / "photos" / ".2-0.jpg.tmp").write_bytes(b"half-written")

    archive = tmp_path / "contest.zip"
    made = run(a, "backup", "--out", archive)
    assert made.stdout.strip() == str(archive) and "完成 / done" in made.stderr
    manifest = manifest_of(archive)
    assert manifest["format"] == "contestday-backup" and manifest["schema_revision"] == HEAD
    assert manifest["database"] == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
    assert manifest["keys"] == {"secret_key": "file", "audit_key": "file"}
    assert manifest["counts"]["event"] == 1 and manifest["counts"]["certificate"] > 0
    assert set(manifest["files"]) == {manifest["database_file"], "keys/secret_key", "keys/audit_key", *uploads}
    assert not list(tmp_path.glob(".contest.zip*"))  # the temporary name is gone
    assert archive.stat().st_mode & 0o077 == 0  # keys and personal data: the owner's only

    b = cli_env(b_dir / "data", target_url)
    restored = run(b, "restore", archive)
    assert f"schema {HEAD}" in restored.stdout, restored.stdout
    for key in ("secret_key", "audit_key"):
        assert (b_dir / "data" / key).read_text().strip() == (a_dir / "data" / key).read_text().strip()
        assert (b_dir / "data" / key).stat().st_mode & 0o077 == 0
    for name, data in uploads.items():
        assert (b_dir / "data" / name).read_bytes() == data
    assert not (b_dir / "data" / "photos" / ".2-0.jpg.tmp").exists()
    assert not list((b_dir / "data").glob(".restore-*")) and not list((b_dir / "data").glob(".backup-*"))

    rows = await every_row(target_url)
    assert rows == await every_row(database_url)  # every table, row by row
    audit = run(b, "audit", "verify", str(event_id))
    assert "完好 / intact" in audit.stdout and "密钥不符" not in audit.stderr, audit.stdout + audit.stderr

    secret = (b_dir / "data" / "secret_key").read_text().strip()
    personal = PersonalData(secret)
    assert all(len(personal.decrypt(enc) or "") == 18 for enc in column(rows, "entry_member", "id_number_enc"))

    tickets = list(csv.reader(io.StringIO((a_dir / "data" / "demo-tickets.csv").read_text(encoding="utf-8-sig"))))
    name, code = tickets[1][0], tickets[1][-1].replace("-", "")
    serial = column(rows, "certificate", "serial")[0]
    check = verify_url("", secret, serial)
    async with AsyncTestClient(app=app_for(a_dir / "data", database_url)) as old, \
            AsyncTestClient(app=app_for(b_dir / "data", target_url)) as new:
        published = (await new.get(f"/api/public/events/{event_id}/results")).json()
        assert published == (await old.get(f"/api/public/events/{event_id}/results")).json()
        assert published["items"], published
        ticket = await new.get(f"/t/{code}")
        assert ticket.status_code == 200 and name in ticket.text
        link = await new.get(f"/j/{judge_tokens[0]}", follow_redirects=False)
        assert link.status_code == 303 and link.headers["location"] == "/judge", link.text
        assert (await new.get(f"/api/certificates/{serial}?{check.split('?', 1)[1]}")).json()["qr_genuine"] is True


@pytest.mark.reliability
async def test_a_backup_while_2_writers_register_holds_every_acknowledged_one_and_the_same_results(
        settings: Settings, live_server: str, db: Any, target_url: str, tmp_path: Path) -> None:
    """R7 (issue 17): LED of an event is marked and published; 2 writers register into its WPS item while
    `contestday backup` runs. The restored copy holds every registration acknowledged before the backup began,
    and its results are the same: the published results, the public results page and the chief judge's computed
    ranking, compared whole (not row counts)."""
    from tests.results.test_publication import marked, settle
    from tests.support.helpers import login_headers, sign_in_headers

    contest = await marked(db)
    await settle(db, contest)
    event_id = contest.event_id
    async with httpx.AsyncClient(base_url=live_server) as http:
        chief = await login_headers(http, db, "chief", "chief_judge")
        assert (await http.post(f"/api/events/{event_id}/items/LED/publication", json={},
                                headers=chief)).status_code == 201
    acknowledged: list[tuple[float, str]] = []
    stop, failures = threading.Event(), []

    def register() -> None:
        with httpx.Client(base_url=live_server, timeout=30) as client:
            while not stop.is_set():
                answer = client.post(f"/api/events/{event_id}/registrations",
                                     json=person(item="WPS", unit=f"单位{time.time_ns()}"))
                if answer.status_code != 201:
                    failures.append(answer.text)
                    return
                acknowledged.append((time.monotonic(), answer.json()["ticket_code"]))

    writers = [threading.Thread(target=register, daemon=True) for _ in range(2)]
    for writer in writers:
        writer.start()
    try:
        while len(acknowledged) < 20 and not failures:
            await asyncio.sleep(0.05)
        started = time.monotonic()
        before = {code for _, code in list(acknowledged)}
        archive = tmp_path / "busy.zip"
        await asyncio.to_thread(run, cli_env(settings.data_dir, settings.database_url,
                                             CONTESTDAY_SECRET_KEY=settings.secret_key), "backup", "--out", archive)
        finished = time.monotonic()
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=30)
    assert not failures, failures[0]
    during = [code for at, code in acknowledged if started < at < finished]
    assert during, "the registrations went on while the backup ran"
    manifest = manifest_of(archive)
    assert manifest["keys"]["secret_key"] == "environment"

    b_dir = tmp_path / "b" / "data"
    run(cli_env(b_dir, target_url, CONTESTDAY_SECRET_KEY=settings.secret_key), "restore", archive)
    restored = set(column(await every_row(target_url), "entry", "ticket_code"))
    assert before <= restored, f"{len(before - restored)} acknowledged registrations lost"
    assert len(restored) == manifest["counts"]["entry"] < len(acknowledged) + len(contest.seats) + 1
    if target_url.startswith("sqlite"):
        with sqlite3.connect(target_url.split(":///", 1)[1]) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored_app = create_app(load_settings({"CONTESTDAY_DATA_DIR": str(b_dir), "CONTESTDAY_DATABASE_URL": target_url,
                                             "CONTESTDAY_SECRET_KEY": settings.secret_key}, dotenv=False))
    async with httpx.AsyncClient(base_url=live_server) as old, AsyncTestClient(app=restored_app) as new:
        old_chief, new_chief = await sign_in_headers(old, "chief"), await sign_in_headers(new, "chief")
        published = f"/api/public/events/{event_id}/results"
        assert (await new.get(published)).json() == (await old.get(published)).json()
        computed = f"/api/console/events/{event_id}/items/LED"
        ranking = (await new.get(computed, headers=new_chief)).json()
        assert ranking == (await old.get(computed, headers=old_chief)).json()
        assert [g for g in ranking["ranking"]["groups"] if g["rows"]], ranking
        page = f"/results/{event_id}/LED"
        assert (await new.get(page)).text == (await old.get(page)).text




async def test_a_backup_while_tablets_score_holds_every_acknowledged_mark(
        settings: Settings, live_server: str, db: Any, target_url: str, tmp_path: Path) -> None:
    """Each ack raises its mark's version by one (a new mark is version 1), so the versions in the restored
    database add up to the marks applied by the backup's moment: at least every mark acknowledged before the
    backup began, at most every one acknowledged at all."""
    from tests.judging.test_judging_ws import connect, op, recv
    from tests.support.judging_setup import judge_cookie, seated_contest

    contest = await seated_contest(db)
    acks: list[float] = []
    versions: dict[str, int] = {}
    stop = asyncio.Event()

    async def tablet() -> None:
        sock = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
        await recv(sock)  # the snapshot
        n = 0
        while not stop.is_set():
            seat = contest.seats[n % len(contest.seats)]
            await sock.send(json.dumps(op(f"b{n}", seat, f"{n % 40}.5", base_version=versions.get(seat, 0))))
            reply = await recv(sock)
            assert reply["type"] == "ack", reply
            versions[seat] = reply["version"]
            acks.append(time.monotonic())
            n += 1
        await sock.close()

    marking = asyncio.create_task(tablet())
    while len(acks) < 20 and not marking.done():
        await asyncio.sleep(0.05)
    started = time.monotonic()
    before = len(acks)
    archive = tmp_path / "scoring.zip"
    await asyncio.to_thread(run, cli_env(settings.data_dir, settings.database_url,
                                         CONTESTDAY_SECRET_KEY=settings.secret_key), "backup", "--out", archive)
    finished = time.monotonic()
    stop.set()
    await marking
    assert any(started < at < finished for at in acks), "the marks went on while the backup ran"

    run(cli_env(tmp_path / "b" / "data", target_url, CONTESTDAY_SECRET_KEY=settings.secret_key), "restore", archive)
    applied = sum(column(await every_row(target_url), "score", "version"))
    assert before <= applied <= len(acks), (before, applied, len(acks))


# --- refusals -----------------------------------------------------------------------------------------------

@pytest.fixture
def small(database_url: str, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A data dir holding one imported event, and its backup."""
    env = cli_env(tmp_path / "a" / "data", database_url)
    source = tmp_path / "event.json"
    source.write_text(json.dumps(reg_event(), ensure_ascii=False), encoding="utf-8")
    cli(env, "event", "import", source)
    archive = tmp_path / "small.zip"
    cli(env, "backup", "--out", archive)
    return env, archive


def rewritten(archive: Path, out: Path, change: Any) -> Path:
    """A copy of `archive` with `change(name, data) -> data | None` (None: the member left out)."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info.filename))
            if data is not None:
                target.writestr(info, data)
    return out


def refused(env: dict[str, str], *args: str | Path) -> str:
    done = cli(env, *args, ok=False)
    assert done.returncode == 2, done.stdout + done.stderr
    return done.stderr


def test_a_bad_archive_is_refused_before_anything_changes(small: tuple[dict[str, str], Path], target_url: str,
                                                                tmp_path: Path) -> None:
    _, archive = small
    b_dir = tmp_path / "b" / "data"
    b = cli_env(b_dir, target_url)
    manifest = manifest_of(archive)

    def flip(name: str, data: bytes) -> bytes:
        return data[:100] + bytes([data[100] ^ 1]) + data[101:] if name == manifest["database_file"] else data

    cases = {
        rewritten(archive, tmp_path / "flipped.zip", flip): "[backup_corrupt]",
        rewritten(archive, tmp_path / "no-key.zip", lambda n, d: None if n == "keys/secret_key" else d):
            "[backup_corrupt]",
        rewritten(archive, tmp_path / "extra.zip", lambda n, d: d): "[backup_corrupt]",
        rewritten(archive, tmp_path / "no-manifest.zip", lambda n, d: None if n == "manifest.json" else d):
            "[backup_foreign]",
        rewritten(archive, tmp_path / "future.zip", lambda n, d: d.replace(b'"format_version": 1',
                                                                           b'"format_version": 9')
                  if n == "manifest.json" else d): "[backup_too_new]",
        tmp_path / "missing.zip": "[backup_not_found]",
    }
    with zipfile.ZipFile(tmp_path / "extra.zip", "a") as zipped:
        zipped.writestr("photos/smuggled.jpg", b"x")
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    cases[cut] = "[backup_corrupt]"
    text = tmp_path / "notes.zip"
    text.write_text("not a backup")
    cases[text] = "[backup_foreign]"
    for bad, code in cases.items():
        message = refused(b, "restore", bad)
        assert code in message and " / " in message, (bad.name, message)
        assert "损坏" in message or "不是" in message or "不存在" in message or "更新" in message, message
    assert "keys/secret_key" in refused(b, "restore", "--check", tmp_path / "no-key.zip")
    assert inspect_database(target_url) in (None, (None, {}))  # no SQLite file made, no PostgreSQL table
    assert not (b_dir / "photos").exists() and not (b_dir / "audit_key").exists()


def test_an_archive_of_the_other_database_kind_or_a_newer_schema_is_refused(
        small: tuple[dict[str, str], Path], target_url: str, tmp_path: Path) -> None:
    _, archive = small
    b = cli_env(tmp_path / "b" / "data", target_url)
    manifest = manifest_of(archive)
    other = {"sqlite": "postgresql", "postgresql": "sqlite"}[manifest["database"]]

    def with_manifest(**changes: Any) -> Any:
        return lambda n, d: json.dumps({**manifest, **changes}).encode() if n == "manifest.json" else d

    message = refused(b, "restore", rewritten(archive, tmp_path / "other.zip", with_manifest(database=other)))
    assert "[restore_kind_mismatch]" in message and "same kind" in message
    message = refused(b, "restore", rewritten(archive, tmp_path / "newer.zip", with_manifest(schema_revision="9999")))
    assert "[backup_too_new]" in message and "9999" in message


def test_a_target_holding_data_is_refused_and_force_backs_it_up_first(small: tuple[dict[str, str], Path],
                                                                       tmp_path: Path) -> None:
    env, archive = small
    data_dir = Path(env["CONTESTDAY_DATA_DIR"])
    source = tmp_path / "second.json"
    second = reg_event()
    second["event"]["name"] = "第二个赛事"
    source.write_text(json.dumps(second, ensure_ascii=False), encoding="utf-8")
    cli(env, "event", "import", source)  # after the backup: the target now holds more than the archive
    message = refused(env, "restore", archive)
    assert "[restore_not_empty]" in message and "2 个赛事" in message and "--force" in message
    assert not (data_dir / "backups").exists()

    forced = cli(env, "restore", archive, "--force")
    kept = sorted((data_dir / "backups").glob("pre-restore-*.zip"))
    assert len(kept) == 1 and str(kept[0]) in forced.stdout
    assert manifest_of(kept[0])["counts"]["event"] == 2  # what was there, before it was overwritten
    assert events(env) == 1
    again = cli(env, "restore", kept[0], "--force")  # and back
    assert "已恢复 / restored" in again.stdout and len(list((data_dir / "backups").glob("pre-restore-*.zip"))) == 2
    assert events(env) == 2


def events(env: dict[str, str]) -> int:
    found = inspect_database(env["CONTESTDAY_DATABASE_URL"])
    assert found is not None
    return found[1]["event"]


def test_an_existing_out_file_is_refused_unless_forced(small: tuple[dict[str, str], Path]) -> None:
    env, archive = small
    before = archive.read_bytes()
    assert "[backup_exists]" in refused(env, "backup", "--out", archive)
    assert archive.read_bytes() == before
    cli(env, "backup", "--out", archive, "--force")
    assert manifest_of(archive)["created_at"] >= manifest_of_bytes(before)["created_at"]
    into_folder = cli(env, "backup", "--out", archive.parent).stdout.strip()
    assert re.fullmatch(r"contestday-\d{8}-\d{6}\.zip", Path(into_folder).name), into_folder


def manifest_of_bytes(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return dict(json.loads(zipped.read("manifest.json")))


def test_a_key_given_by_the_environment_that_differs_is_a_loud_warning(small: tuple[dict[str, str], Path],
                                                                       target_url: str, tmp_path: Path) -> None:
    env, archive = small
    b_dir = tmp_path / "b" / "data"
    done = cli(cli_env(b_dir, target_url, CONTESTDAY_SECRET_KEY="another-key"), "restore", archive)
    assert "CONTESTDAY_SECRET_KEY 与备份中的密钥不同" in done.stderr and "unset CONTESTDAY_SECRET_KEY" in done.stderr
    original = (Path(env["CONTESTDAY_DATA_DIR"]) / "secret_key").read_text().strip()
    assert (b_dir / "secret_key").read_text().strip() == original  # the backup's key, where the server reads it


# --- serve, and the server's own backups ----------------------------------------------------------------------

def test_serve_backs_up_a_database_behind_the_schema_before_it_migrates(database_url: str, target_url: str,
                                                                        tmp_path: Path) -> None:
    previous = "0017"
    upgrade(database_url, previous)
    data_dir = tmp_path / "a" / "data"
    env = cli_env(data_dir, database_url)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "contestday", "serve", "--port", str(port)], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body, deadline = "", time.monotonic() + 60
        while time.monotonic() < deadline and '"schema":"current"' not in body:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = response.read().decode()
            except OSError:
                time.sleep(0.2)
        assert '"schema":"current"' in body, body
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=20)
    kept = list((data_dir / "backups").glob(f"pre-upgrade-{previous}-*.zip"))
    assert len(kept) == 1 and str(kept[0]) in err, err
    assert manifest_of(kept[0])["schema_revision"] == previous
    run(env, "db", "upgrade")  # current now: no second backup
    assert len(list((data_dir / "backups").iterdir())) == 1
    # the pre-upgrade archive restores (into a fresh database) and is upgraded on the way
    restored = run(cli_env(tmp_path / "b" / "data", target_url), "restore", kept[0])
    assert f"{previous} → {HEAD}" in restored.stderr, restored.stderr


def test_a_fresh_database_is_migrated_without_a_backup(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "a" / "data"
    cli(cli_env(data_dir, database_url), "db", "upgrade")
    assert not (data_dir / "backups").exists()


async def test_periodic_backups_keep_the_newest_k_and_one_process_takes_them(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backup_schedule, "MINUTE", 0.3)  # CONTESTDAY_BACKUP_MINUTES=1 is 0.3 s here
    periodic = dataclasses.replace(settings, backup_minutes=1, backup_keep=2)
    folder = settings.data_dir / "backups"
    app = create_app(periodic)
    async with AsyncTestClient(app=app):
        backups: PeriodicBackups = app.state.backups
        deadline = time.monotonic() + 60
        while backups.taken < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert backups.taken >= 4
        other = PeriodicBackups(periodic)  # a second worker on the same data directory
        assert await other.once() is None
    assert await other.once() is not None  # the first one stopped: its lock went with it
    await other.stop()
    kept = sorted(p.name for p in folder.glob("contestday-*.zip"))
    assert len(kept) == 2
    for path in folder.glob("contestday-*.zip"):
        assert manifest_of(path)["schema_revision"] == HEAD


def test_prune_orders_by_the_time_in_the_name(tmp_path: Path) -> None:
    names = ["contestday-20261207-101500.zip", "contestday-20261207-101500-1.zip", "contestday-20261207-101500-2.zip",
             "contestday-20261207-101459.zip", "pre-upgrade-0017-20260101-000000.zip", "notes.txt"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    removed = prune(tmp_path, 2)
    assert sorted(p.name for p in removed) == ["contestday-20261207-101459.zip", "contestday-20261207-101500.zip"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(names) - {p.name for p in removed})


async def test_a_failing_periodic_backup_is_logged_and_the_server_goes_on(settings: Settings) -> None:
    (settings.data_dir / "backups").parent.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "backups").write_text("a file where the folder should be")
    backups = PeriodicBackups(dataclasses.replace(settings, backup_minutes=1))
    assert await backups.once() is None
    await backups.stop()


def test_a_name_freed_by_pruning_is_not_taken_again_within_its_second(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the periodic test under load: the 4th backup of a second was named like the 1st (pruned by then),
    sorted oldest and was pruned at once."""
    from contestday import backup as backup_module

    monkeypatch.setattr(backup_module, "stamp", lambda: "20261207-132342")
    for name in ("contestday-20261207-132342-1.zip", "contestday-20261207-132342-2.zip"):
        (tmp_path / name).write_bytes(b"")
    made = backup_module.new_backup_path(tmp_path, "contestday")
    assert made.name == "contestday-20261207-132342-3.zip"
    made.write_bytes(b"")
    assert made not in prune(tmp_path, 2) and made.exists()
    assert backup_module.new_backup_path(tmp_path / "empty", "contestday").name == "contestday-20261207-132342.zip"
