"""A consistent copy of the database while the server writes, and putting one back.

SQLite: the online backup API copies the database in one step inside one read transaction (under WAL the
writers go on; every commit acknowledged before it began is in the copy, none after), into a file of its own
(journal_mode=DELETE: no -wal beside it). It is put back the same way, into the target file through SQLite's
locks, so a stale -wal next to the target can never be replayed over it.

PostgreSQL: `pg_dump --format=custom` on a snapshot exported from a REPEATABLE READ transaction in which the row
counts and the schema revision are read too, so the counts describe exactly the dump. Put back by piping
`pg_restore` into `psql --single-transaction` after dropping the tables of the current schema: either the whole
archive is in or nothing changed. Both tools come with the PostgreSQL client (`postgresql-client`), which must
be at least the server's version."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy

__all__ = ["DUMP_NAMES", "BackupError", "Dump", "Kind", "database_kind", "dump_database", "inspect_database",
           "load_database", "sqlite_counts"]

Kind = Literal["sqlite", "postgresql"]
DUMP_NAMES: dict[Kind, str] = {"sqlite": "contestday.sqlite3", "postgresql": "contestday.pgdump"}
REVISION_TABLE = "alembic_version"


class BackupError(Exception):
    """A backup or restore that will not go on: a stable `code`, the reason in Chinese and English."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.code, self.zh, self.en = code, zh, en


@dataclass(frozen=True)
class Dump:
    kind: Kind
    path: Path
    revision: str | None
    counts: dict[str, int] = field(default_factory=dict)  # rows per table, the revision table included
    server_version: str | None = None


def database_kind(database_url: str) -> Kind:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def _sqlite_path(database_url: str) -> Path:
    path = sqlalchemy.make_url(database_url).database
    if not path or path == ":memory:":
        raise BackupError("backup_no_database_file", "内存数据库无法备份或恢复",
                          "an in-memory database cannot be backed up or restored")
    return Path(path)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- SQLite ---------------------------------------------------------------------------------------------------

def sqlite_counts(connection: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
    """(schema revision, rows per table) of an open SQLite database."""
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    counts = {t: int(connection.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0]) for t in tables}
    revision = None
    if REVISION_TABLE in counts:
        row = connection.execute(f"SELECT version_num FROM {REVISION_TABLE}").fetchone()
        revision = row[0] if row else None
    return revision, counts


def _sqlite_dump(source: Path, out: Path) -> Dump:
    if not source.is_file():
        raise BackupError("backup_no_database", f"数据库文件 {source} 不存在",
                          f"the database file {source} does not exist")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)  # pages=-1: all in one step, one read transaction: one moment's database
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError("backup_integrity", f"数据库完整性检查失败：{problems[0]}",
                              f"the database fails its integrity check: {problems[0]}")
        revision, counts = sqlite_counts(dst)
    finally:
        dst.close()
        src.close()
    return Dump("sqlite", out, revision, counts, sqlite3.sqlite_version)


def _sqlite_load(target: Path, source: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # through the target's locks and journal: the old -wal, if any, is superseded, not replayed
        dst.execute("PRAGMA journal_mode=WAL")
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError("restore_integrity", f"恢复后的数据库完整性检查失败：{problems[0]}",
                              f"the restored database fails its integrity check: {problems[0]}")
    finally:
        dst.close()
        src.close()


def _sqlite_inspect(path: Path, counts: bool) -> tuple[str | None, dict[str, int]] | None:
    if not path.is_file():
        return None
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        if counts:
            return sqlite_counts(connection)
        has_revision = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                                          (REVISION_TABLE,)).fetchone()[0]
        row = connection.execute(f"SELECT version_num FROM {REVISION_TABLE}").fetchone() if has_revision else None
        return (row[0] if row else None), {}
    except sqlite3.DatabaseError as exc:
        raise BackupError("database_unreadable", f"{path} 不是可读的 SQLite 数据库：{exc}",
                          f"{path} is not a readable SQLite database: {exc}") from exc
    finally:
        connection.close()


# --- PostgreSQL -----------------------------------------------------------------------------------------------

def _pg_dsn(database_url: str) -> str:
    return sqlalchemy.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_env(database_url: str) -> dict[str, str]:
    """libpq's variables for pg_dump/pg_restore/psql: the password never on a command line (`ps` shows those)."""
    url = sqlalchemy.make_url(database_url)
    env = dict(os.environ)
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[name] = str(value)
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = ssl
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError("backup_pg_client_missing",
                          f"找不到 {name}：PostgreSQL 的备份与恢复需要 PostgreSQL 客户端（postgresql-client），"
                          "版本不低于数据库服务器",
                          f"{name} not found: backing up and restoring PostgreSQL needs the PostgreSQL client "
                          "(postgresql-client), at least the server's version")
    return path


def _tool_failed(code: str, name: str, stderr: bytes) -> BackupError:
    detail = stderr.decode("utf-8", "replace").strip().splitlines()
    shown = "; ".join(detail[-3:]) or "?"
    return BackupError(code, f"{name} 失败：{shown}", f"{name} failed: {shown}")


async def _pg_connect(database_url: str) -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(_pg_dsn(database_url))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        shown = f"{type(exc).__name__}: {exc}"
        raise BackupError("database_unreachable", f"无法连接数据库：{shown}",
                          f"cannot connect to the database: {shown}") from exc


async def _pg_counts(connection: Any) -> tuple[str | None, dict[str, int]]:
    tables = [r[0] for r in await connection.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]
    counts = {t: int(await connection.fetchval(f"SELECT count(*) FROM {_quote(t)}")) for t in tables}
    revision = await connection.fetchval(f"SELECT version_num FROM {REVISION_TABLE}") if REVISION_TABLE in counts \
        else None
    return revision, counts


async def _pg_dump(database_url: str, out: Path) -> Dump:
    pg_dump = _tool("pg_dump")
    connection = await _pg_connect(database_url)
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            revision, counts = await _pg_counts(connection)
            version = await connection.fetchval("SHOW server_version")
            # the exporting transaction stays open until pg_dump is done: it reads the very same snapshot
            process = await asyncio.create_subprocess_exec(
                pg_dump, "--format=custom", f"--snapshot={snapshot}", "--file", str(out),
                env=_pg_env(database_url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, stderr = await process.communicate()
            if process.returncode != 0:
                raise _tool_failed("backup_pg_dump_failed", "pg_dump", stderr)
    finally:
        await connection.close()
    return Dump("postgresql", out, revision, counts, str(version))


# the tables, sequences and enum types of the current schema go first, in the same transaction as the restore
_PG_CLEAR = """DO $$DECLARE r record; BEGIN
FOR r IN SELECT tablename AS n FROM pg_tables WHERE schemaname = current_schema() LOOP
  EXECUTE format('DROP TABLE IF EXISTS %I.%I CASCADE', current_schema(), r.n); END LOOP;
FOR r IN SELECT sequence_name AS n FROM information_schema.sequences WHERE sequence_schema = current_schema() LOOP
  EXECUTE format('DROP SEQUENCE IF EXISTS %I.%I CASCADE', current_schema(), r.n); END LOOP;
FOR r IN SELECT t.typname AS n FROM pg_type t JOIN pg_namespace s ON s.oid = t.typnamespace
         WHERE s.nspname = current_schema() AND t.typtype = 'e' LOOP
  EXECUTE format('DROP TYPE IF EXISTS %I.%I CASCADE', current_schema(), r.n); END LOOP;
END$$;
"""


def _pg_load(database_url: str, source: Path) -> None:
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    env = _pg_env(database_url)
    script = source.with_suffix(".sql")
    made = subprocess.run([pg_restore, "--no-owner", "--no-privileges", "--file", str(script), str(source)],
                          env=env, capture_output=True)
    if made.returncode != 0:
        raise _tool_failed("restore_failed", "pg_restore", made.stderr)
    try:
        ran = subprocess.run([psql, "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction",
                              "--command", _PG_CLEAR, "--file", str(script)],
                             env=env, capture_output=True)
    finally:
        script.unlink(missing_ok=True)
    if ran.returncode != 0:
        raise _tool_failed("restore_failed", "psql", ran.stderr)


async def _pg_inspect(database_url: str, counts: bool) -> tuple[str | None, dict[str, int]]:
    connection = await _pg_connect(database_url)
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            if counts:
                return await _pg_counts(connection)
            has_revision = await connection.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1", REVISION_TABLE)
            return (await connection.fetchval(f"SELECT version_num FROM {REVISION_TABLE}") if has_revision
                    else None), {}
    finally:
        await connection.close()


# --- either ---------------------------------------------------------------------------------------------------

def dump_database(database_url: str, folder: Path) -> Dump:
    """A consistent copy of the database into `folder` (named by `DUMP_NAMES`); blocking."""
    kind = database_kind(database_url)
    out = folder / DUMP_NAMES[kind]
    if kind == "sqlite":
        return _sqlite_dump(_sqlite_path(database_url), out)
    return asyncio.run(_pg_dump(database_url, out))


def load_database(database_url: str, source: Path) -> None:
    """Put the copy `source` (a file `dump_database` wrote for a database of the same kind) in place of the
    database's content; blocking."""
    if database_kind(database_url) == "sqlite":
        _sqlite_load(_sqlite_path(database_url), source)
    else:
        _pg_load(database_url, source)


def inspect_database(database_url: str, *, counts: bool = True) -> tuple[str | None, dict[str, int]] | None:
    """(schema revision, rows per table) of the database as it is, or None when there is no SQLite file yet;
    `counts` False: the revision only (the rows left empty)."""
    if database_kind(database_url) == "sqlite":
        return _sqlite_inspect(_sqlite_path(database_url), counts)
    return asyncio.run(_pg_inspect(database_url, counts))
