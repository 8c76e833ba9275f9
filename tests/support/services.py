"""The PostgreSQL server and Redis that the tests of several instances take for themselves (a database of their
own, not the one under test): from CONTESTDAY_TEST_DATABASE_URL when it is PostgreSQL, else
CONTESTDAY_TEST_POSTGRES_URL, and CONTESTDAY_TEST_REDIS_URL. A test that needs one it cannot find skips with the
reason here and fails under CI, which must provide it; so do the programs (caddy, docker-compose)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from contestday.db.migrate import upgrade
from tests.conftest import fresh_pg_database

__all__ = ["PG_SERVER", "REDIS_URL", "need", "pg_database", "stop"]

PG_SERVER = next((url for url in (os.environ.get("CONTESTDAY_TEST_DATABASE_URL"),
                                  os.environ.get("CONTESTDAY_TEST_POSTGRES_URL"))
                  if url and url.startswith("postgresql")), None)
REDIS_URL = os.environ.get("CONTESTDAY_TEST_REDIS_URL")
_WHAT = {"postgres": ("PostgreSQL (CONTESTDAY_TEST_POSTGRES_URL)", lambda: PG_SERVER),
         "redis": ("Redis (CONTESTDAY_TEST_REDIS_URL)", lambda: REDIS_URL),
         "caddy": ("caddy (apt-get install caddy)", lambda: shutil.which("caddy")),
         "docker-compose": ("docker-compose (apt-get install docker-compose)", lambda: shutil.which("docker-compose"))}


def need(*services: str) -> None:
    missing = [_WHAT[s][0] for s in services if not _WHAT[s][1]()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)}")


@contextlib.contextmanager
def pg_database(prefix: str, *, migrated: bool = True) -> Iterator[str]:
    """A new database on the test PostgreSQL server (dropped afterwards), at the newest schema unless
    `migrated` is False."""
    need("postgres")
    assert PG_SERVER is not None
    with fresh_pg_database(PG_SERVER, prefix) as url:
        if migrated:
            upgrade(url)
        yield url


def stop(*processes: subprocess.Popen[bytes]) -> None:
    """Terminate each server, then wait for all (killing one that does not end within 10 s)."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
