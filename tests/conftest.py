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
from tests.support import signature_cache

signature_cache.install()  # each handler's signature parsed once per test process, not once per test's app

ADMIN_TOKEN = "test-admin-token"
PG_URL = os.environ.get("CONTESTDAY_TEST_DATABASE_URL")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With CONTESTDAY_TEST_DATABASE_URL (the PostgreSQL pass) only the tests that go through the database
    under test run: the others (pure rules, PDFs, the offline command, tests on their own SQLite file) do
    not touch it and have run in the SQLite pass already. Of the page tests in Chromium (`browser`) only the
    whole day (`day`) runs there: the others drive the same routes whose data the API tests check on
    PostgreSQL, and took a third of that pass. CONTESTDAY_TEST_ALL=1 runs everything anyway.

    The longest tests go first (the whole day, the reliability figures, then the other browser tests): pytest-xdist
    hands tests out in this order, so the last ones a worker takes are short and the two workers end together
    instead of one finishing a 90 s test alone."""
    items.sort(key=_weight)  # stable: the files' order within each group
    if not PG_URL or os.environ.get("CONTESTDAY_TEST_ALL"):
        return

    def on_postgres(item: pytest.Item) -> bool:
        if "database_url" not in getattr(item, "fixturenames", ()):
            return False
        return item.get_closest_marker("browser") is None or item.get_closest_marker("day") is not None

    chosen = [item for item in items if on_postgres(item)]
    if len(chosen) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in chosen])
        items[:] = chosen


def _weight(item: pytest.Item) -> int:
    for rank, marker in enumerate(("day", "reliability", "browser")):
        if item.get_closest_marker(marker) is not None:
            return rank
    return 3


def _pg_admin_url(url: str) -> tuple[str, str]:
    """(url of the server's maintenance database for asyncpg, base url for SQLAlchemy)."""
    base = url.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    return f"{base}/postgres", url.rsplit("/", 1)[0]


def _pg_execute(server_url: str, *statements: str) -> None:
    """Run statements one by one on the server's maintenance database (CREATE/DROP DATABASE cannot be in a
    transaction)."""
    import asyncpg

    admin, _base = _pg_admin_url(server_url)

    async def run() -> None:
        conn = await asyncpg.connect(admin)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextlib.contextmanager
def fresh_pg_database(server_url: str, prefix: str = "cdtest", template: str | None = None) -> Iterator[str]:
    """A new database on the PostgreSQL server of `server_url` (dropped afterwards), empty or a copy of
    `template`; yields its URL."""
    _admin, base = _pg_admin_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _pg_execute(server_url, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    if template:
        _MIGRATED.add(f"{base}/{name}")
    try:
        yield f"{base}/{name}"
    finally:
        _pg_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# One database per test process brought to the newest schema by the real migrations, then copied for each test
# that wants a migrated database (`settings`): running the eighteen migrations for every test cost more CPU than
# many of the tests themselves. Tests of the migrations themselves take `database_url` (empty) and upgrade it.
_TEMPLATE: dict[str, str] = {}
_MIGRATED: set[str] = set()  # PostgreSQL databases made from the template


def _sqlite_template() -> Path:
    import atexit
    import sqlite3
    import tempfile

    if "sqlite" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="cdtemplate-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "template.sqlite3"
        upgrade(f"sqlite+aiosqlite:///{path}")
        with contextlib.closing(sqlite3.connect(path)) as conn:  # everything into the main file: it is copied alone
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _TEMPLATE["sqlite"] = str(path)
    return Path(_TEMPLATE["sqlite"])


def _pg_template(server_url: str) -> str:
    import atexit

    if "pg" not in _TEMPLATE:
        _admin, base = _pg_admin_url(server_url)
        name = f"cdtemplate_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _pg_execute(server_url, f'CREATE DATABASE "{name}"')
        atexit.register(lambda: _pg_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        upgrade(f"{base}/{name}")
        _TEMPLATE["pg"] = name
    return _TEMPLATE["pg"]


def migrate_for_test(database_url: str) -> None:
    """Bring the test's fresh, empty database to the newest schema: a copy of this process's migrated template
    (byte for byte what `upgrade` makes), or `upgrade` itself where the database is not fresh."""
    if database_url.startswith("sqlite+aiosqlite:///"):
        target = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
        if target.exists():
            upgrade(database_url)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template(), target)
        return
    if database_url in _MIGRATED:
        return
    upgrade(database_url)


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The database under test, empty (a test of the migrations upgrades it itself); made from the migrated
    template at once when the test also takes `settings`."""
    if not PG_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    template = _pg_template(PG_URL) if "settings" in request.fixturenames else None
    with fresh_pg_database(PG_URL, template=template) as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    migrate_for_test(database_url)
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


@contextlib.contextmanager
def served(settings: Settings, port: int | None = None) -> Iterator[str]:
    """The real app under uvicorn on loopback `port` (default a free one), in a thread; yields its base URL.
    A test that needs the address in its settings (the public URL) picks the port first."""
    import uvicorn

    port = port or _free_port()
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
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a thread; yields its base URL."""
    with served(settings) as url:
        yield url


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
