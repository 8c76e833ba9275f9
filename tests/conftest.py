"""Shared fixtures: a migrated database per test (a SQLite file under tmp_path, or a fresh PostgreSQL
database when CONTESTDAY_TEST_DATABASE_URL is set), the app, HTTP clients, a live server and Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.pool import NullPool

from contestday.app import create_app
from contestday.db.engine import create_engine, create_sessionmaker
from contestday.db.migrate import upgrade
from contestday.settings import Settings, load_settings
from judging import audit

ADMIN_TOKEN = "test-admin-token"
PG_URL = os.environ.get("CONTESTDAY_TEST_DATABASE_URL")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With CONTESTDAY_TEST_DATABASE_URL (the PostgreSQL pass) only the tests that go through the database
    under test run: the others (pure rules, PDFs, the offline command, tests on their own SQLite file) do
    not touch it and have run in the SQLite pass already. CONTESTDAY_TEST_ALL=1 runs everything anyway."""
    if not PG_URL or os.environ.get("CONTESTDAY_TEST_ALL"):
        return
    chosen = [item for item in items if "database_url" in getattr(item, "fixturenames", ())]
    if len(chosen) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in chosen])
        items[:] = chosen


def _pg_admin_url(url: str) -> tuple[str, str]:
    """(url of the server's maintenance database for asyncpg, base url for SQLAlchemy)."""
    base = url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    return f"{base}/postgres", url.rsplit("/", 1)[0]


@contextlib.contextmanager
def fresh_pg_database(server_url: str, prefix: str = "cdtest") -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of `server_url` (dropped afterwards); yields its URL."""
    import asyncpg

    admin, base = _pg_admin_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if not PG_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    with fresh_pg_database(PG_URL) as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    upgrade(database_url)
    made = load_settings({
        "CONTESTDAY_DATA_DIR": str(tmp_path / "data"),
        "CONTESTDAY_DATABASE_URL": database_url,
        "CONTESTDAY_ADMIN_TOKEN": ADMIN_TOKEN,
        "CONTESTDAY_SECRET_KEY": "test-secret-key",
        # the tests print posters, tickets and certificates on the loopback default and follow its links;
        # tests/contestday/test_public_address.py checks the refusal without this
        "CONTESTDAY_ALLOW_LOOPBACK_QR": "1",
    }, dotenv=False)
    if made.audit_key is not None:  # as the composition root does: the test's own writes sign their audit links
        audit.use_key(made.audit_key)
    return made


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Any]:
    """A sessionmaker for the test's own reads and writes. The app runs its lifespan on the test client's
    event loop, so its pooled connections must not be used from the test's loop (asyncpg refuses)."""
    engine = create_engine(settings.database_url, poolclass=NullPool)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as c:
        yield c


class _Authed:
    """The same client (one app lifespan) with the bearer token added to every request."""

    def __init__(self, client: AsyncTestClient[Litestar], token: str):
        self._client, self._auth = client, {"Authorization": f"Bearer {token}"}
        self.app = client.app

    async def request(self, method: str, url: str, **kwargs: Any) -> Any:
        kwargs["headers"] = {**self._auth, **(kwargs.get("headers") or {})}
        return await self._client.request(method, url, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Any:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Any:
        return await self.request("PUT", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Any:
        return await self.request("DELETE", url, **kwargs)


@pytest.fixture
def admin(client: AsyncTestClient[Litestar]) -> Any:
    """The test client authenticated with the bearer token of contracts §1 (organiser role)."""
    return _Authed(client, ADMIN_TOKEN)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                            ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (no browser download: the system one)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run must install it")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=zh-CN"])
        yield b
        b.close()
