"""Redis or PostgreSQL going away and coming back (issue #16): the instances keep answering what they can, live
updates resume by themselves (pages hear `resync` and re-read their snapshot), /health names what is missing,
and nothing acknowledged is lost. Real processes: a redis-server of the test's own that it kills and starts
again, and a TCP proxy in front of PostgreSQL that it cuts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from litestar.channels import ChannelsPlugin
from redis.asyncio import Redis
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from contestday.db.engine import create_engine
from contestday.db.outage import DatabaseUnreachable, database_unavailable
from contestday.web.channels import channels_plugin
from contestday.web.outage import outage_refusal
from contestday.web.redis_channels import RESYNC, ResilientRedisBackend
from tests.conftest import _free_port
from tests.judging.test_judging_ws import op
from tests.support import redis_server as redis_support
from tests.support.judging_setup import SECRET, Contest, contest_with_chief, judge_cookie
from tests.support.redis_server import RedisServer
from tests.support.services import pg_database, stop
from tests.support.tcp_proxy import TcpProxy


class _DriverError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("driver says no")
        self.sqlstate = sqlstate


def test_only_a_lost_database_counts_as_an_outage() -> None:
    def dbapi(sqlstate: str | None = None, invalidated: bool = False) -> DBAPIError:
        return DBAPIError("SELECT 1", {}, _DriverError(sqlstate), connection_invalidated=invalidated)

    unreachable = DatabaseUnreachable("ConnectionRefusedError: [Errno 111]")
    assert all(database_unavailable(e) for e in (unreachable, dbapi(invalidated=True), dbapi("08006"),
                                                 dbapi("57P01"), dbapi("57P03"), dbapi("53300")))
    # a statement's own failure, or an OSError that is not a connect, stays what it is (a 409, a 500 …)
    assert not any(database_unavailable(e) for e in (dbapi("23505"), dbapi("40001"), dbapi(), OSError(28, "full"),
                                                     TimeoutError(), IntegrityError("INSERT", {}, _DriverError(
                                                         "23505"))))
    refusal = outage_refusal(unreachable)
    assert refusal is not None and (refusal.status_code, refusal.code) == (503, "database_unavailable")
    assert outage_refusal(ValueError("a bug")) is None


redis_server = redis_support.redis_server  # the fixture


async def _next(queue: asyncio.Queue[bytes], timeout: float = 10) -> bytes:
    return await asyncio.wait_for(queue.get(), timeout)


async def _until(queue: asyncio.Queue[bytes], wanted: bytes, timeout: float = 15) -> list[bytes]:
    """Every event up to and including `wanted`."""
    seen: list[bytes] = []
    async with asyncio.timeout(timeout):
        while True:
            seen.append(await queue.get())
            if seen[-1] == wanted:
                return seen


async def test_the_backend_outlives_publish_and_stream_errors(redis_server: RedisServer) -> None:
    backend = ResilientRedisBackend.from_url(redis_server.url, backoff_s=(0.1, 0.5))
    plugin = channels_plugin(backend=backend)
    heard: dict[str, asyncio.Queue[bytes]] = {"a": asyncio.Queue(), "b": asyncio.Queue()}
    async with plugin, plugin.start_subscription(["a"]) as sub_a, sub_a.run_in_background(heard["a"].put):
        plugin.publish(b"one", ["a"])
        assert await _next(heard["a"]) == b"one"

        # a stream error with Redis up: the listening connection killed under it
        killer = Redis.from_url(redis_server.url)
        assert await killer.client_kill_filter(_type="pubsub") >= 1
        await killer.aclose()
        assert await _next(heard["a"]) == RESYNC  # subscribed again, and told it may have missed something
        plugin.publish(b"two", ["a"])
        assert await _next(heard["a"]) == b"two"

        # Redis gone: publishing drops (the worker lives on), subscribing is kept for later
        redis_server.kill()
        plugin.publish(b"lost", ["a"])
        await asyncio.sleep(0.3)
        assert isinstance(plugin, ChannelsPlugin)
        assert not plugin._pub_task.done() and not plugin._sub_task.done()  # type: ignore[union-attr]
        async with plugin.start_subscription(["b"]) as sub_b, sub_b.run_in_background(heard["b"].put):
            await asyncio.sleep(1.5)  # the listener notices, and retries meanwhile
            assert not backend.up and not await backend.ping(0.5)
            redis_server.start()
            assert RESYNC in await _until(heard["a"], RESYNC)
            assert await _next(heard["b"]) == RESYNC  # "b", subscribed while Redis was down, is live now
            assert backend.up and await backend.ping()
            plugin.publish(b"three", ["a", "b"])
            assert (await _until(heard["a"], b"three"))[-1] == b"three"
            assert (await _until(heard["b"], b"three"))[-1] == b"three"
        assert b"lost" not in [heard["a"].get_nowait() for _ in range(heard["a"].qsize())]


# ---- real servers ----------------------------------------------------------------------------------------------

@pytest.fixture
def pg_url() -> Any:
    with pg_database("cdoutage") as url:
        yield url


def _serve(database_url: str, data_dir: Path, port: int, redis_url: str | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CONTESTDAY_DATABASE_URL": database_url, "CONTESTDAY_DATA_DIR": str(data_dir),
           "CONTESTDAY_SECRET_KEY": SECRET}
    env.pop("CONTESTDAY_REDIS_URL", None)
    if redis_url:
        env["CONTESTDAY_REDIS_URL"] = redis_url
    return subprocess.Popen([sys.executable, "-m", "contestday.cli", "serve", "--port", str(port)], env=env,
                            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def _health(base: str, timeout: float = 5) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.get(f"{base}/health")
    return response.status_code, response.json()


async def _healthy(base: str, timeout: float = 60) -> None:
    last: Any = "no answer"
    try:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    last = await _health(base, 2)
                    if last[0] == 200:
                        return
                except httpx.HTTPError as exc:
                    last = repr(exc)
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"{base}/health not 200 within {timeout} s: {last}") from None


@contextlib.asynccontextmanager
async def _servers(database_url: str, data_dir: Path, n: int, redis_url: str | None = None) -> Any:
    """`n` server processes on one database, started side by side; yields their base URLs."""
    ports = [_free_port() for _ in range(n)]
    processes = [_serve(database_url, data_dir / f"i{k}", port, redis_url) for k, port in enumerate(ports)]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        await asyncio.gather(*(_healthy(base) for base in bases))
        yield bases
    finally:
        stop(*processes)


async def _contest(database_url: str) -> tuple[Contest, str]:
    """The seated LED contest and a chief judge's session cookie."""
    contest, token = await contest_with_chief(database_url)
    return contest, f"contestday_session={token}"


def _ws(base: str, path: str) -> str:
    return base.replace("http", "ws", 1) + path


async def _message(sock: Any, kind: str, timeout: float = 10) -> dict[str, Any]:
    """The next message of type `kind` (others skipped: live messages, resyncs)."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await sock.recv())
            if message.get("type") == kind:
                return message


async def _mark(tablet: Any, acked: dict[str, dict[str, Any]], op_id: str, seat: str, value: str,
                base_version: int = 0) -> dict[str, Any]:
    await tablet.send(json.dumps(op(op_id, seat, value, base_version)))
    async with asyncio.timeout(10):
        while True:
            reply = json.loads(await tablet.recv())
            if reply.get("op_id") == op_id:
                break
    assert reply["type"] == "ack", reply
    acked[op_id] = reply
    return reply


async def _stored(database_url: str, acked: dict[str, dict[str, Any]]) -> None:
    """Every acknowledged op stored exactly once: its op_id once, and each mark at the version its acks count."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            ops = (await connection.execute(text("SELECT op_id FROM applied_op"))).scalars().all()
            scores = (await connection.execute(text("SELECT value, version FROM score"))).all()  # hundredths
    finally:
        await engine.dispose()
    assert sorted(ops) == sorted(acked)  # each once (and nothing unacknowledged half-applied)
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for reply in acked.values():
        key = (reply["seat"], reply["criterion"])
        if key not in last or reply["version"] > last[key]["version"]:
            last[key] = reply
    assert sorted((f"{v / 100:.2f}", n) for v, n in scores) == sorted((r["value"], r["version"]) for r in last.values())


async def test_redis_stopped_and_started_while_tablets_mark(pg_url: str, tmp_path: Path,
                                                            redis_server: RedisServer) -> None:
    contest, chief = await _contest(pg_url)
    event = contest.event_id
    seats = contest.seats
    async with _servers(pg_url, tmp_path, 2, redis_server.url) as (one, two):
        console = await websockets.connect(_ws(two, f"/ws/console/{event}"), additional_headers={"Cookie": chief})
        await _message(console, "snapshot")
        judge = await asyncio.to_thread(judge_cookie, one, contest.links["王裁判"])
        tablet = await websockets.connect(_ws(one, "/ws/judge"), additional_headers={"Cookie": judge})
        await _message(tablet, "snapshot")
        await asyncio.sleep(0.3)  # the console's subscription reached Redis
        acked: dict[str, dict[str, Any]] = {}
        await _mark(tablet, acked, "r1", seats[0], "11.25")
        assert (await _message(console, "score"))["value"] == "11.25"  # live, across instances

        redis_server.kill()
        await _mark(tablet, acked, "r2", seats[1], "12.25")  # acks keep coming
        status, body = await _health(one)
        assert (status, body["redis"], body["database"]) == (503, "unreachable", "ok")
        # sockets still open while Redis is away (their subscription waits for it)
        late = await websockets.connect(_ws(two, f"/ws/console/{event}"), additional_headers={"Cookie": chief})
        await _message(late, "snapshot")
        second = await websockets.connect(_ws(one, "/ws/judge"), additional_headers={"Cookie": judge})
        await _message(second, "snapshot")
        await _mark(second, acked, "r3", seats[2], "13.25")
        await asyncio.sleep(1)  # the listeners notice and retry meanwhile

        redis_server.start()
        await _message(console, "resync", timeout=15)
        await console.send(json.dumps({"type": "hello"}))
        snapshot = json.dumps(await _message(console, "snapshot"))
        assert '"12.25"' in snapshot and '"13.25"' in snapshot  # what the live messages missed
        await _message(late, "resync", timeout=15)
        await _mark(tablet, acked, "r4", seats[0], "14.25", base_version=1)
        assert (await _message(console, "score"))["value"] == "14.25"  # live again
        assert (await _message(late, "score"))["value"] == "14.25"  # subscribed while Redis was down
        await asyncio.gather(_healthy(one, 10), _healthy(two, 10))
        for sock in (tablet, second, console, late):
            await sock.close()
    await _stored(pg_url, acked)


async def _closed_with(sock: Any, timeout: float = 10) -> int | None:
    """Read until the server closes `sock`: its close code (no ack may come meanwhile)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await sock.recv())
                assert message.get("type") != "ack", message
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


async def _reconnect(base: str, cookie: str, timeout: float = 15) -> Any:
    """A tablet's reconnect loop: until a socket gives a snapshot."""
    async with asyncio.timeout(timeout):
        while True:
            sock = await websockets.connect(_ws(base, "/ws/judge"), additional_headers={"Cookie": cookie})
            try:
                await _message(sock, "snapshot")
                return sock
            except websockets.ConnectionClosed:
                await asyncio.sleep(0.3)


async def test_postgresql_going_away_and_coming_back(pg_url: str, tmp_path: Path) -> None:
    contest, _chief = await _contest(pg_url)
    real = make_url(pg_url)
    with TcpProxy(real.host or "127.0.0.1", real.port or 5432, _free_port()) as proxy:
        via_proxy = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        async with _servers(via_proxy, tmp_path, 1) as (base,):
            judge = await asyncio.to_thread(judge_cookie, base, contest.links["王裁判"])
            tablet = await websockets.connect(_ws(base, "/ws/judge"), additional_headers={"Cookie": judge})
            await _message(tablet, "snapshot")
            acked: dict[str, dict[str, Any]] = {}
            first = await _mark(tablet, acked, "p1", contest.seats[0], "21.50")

            proxy.cut()
            started = time.monotonic()
            status, body = await _health(base)
            assert (status, body["database"]) == (503, "unreachable") and time.monotonic() - started < 3
            assert body["detail"] == "ConnectionRefusedError"
            async with httpx.AsyncClient(timeout=10) as client:
                page = await client.get(f"{base}/board/{contest.event_id}")
            assert page.status_code == 503 and page.headers["retry-after"] == "5"
            assert page.json()["code"] == "database_unavailable" and "数据库" in page.json()["message"]
            async with httpx.AsyncClient(timeout=10, headers={"Accept": "text/html"}) as client:
                page = await client.get(f"{base}/board/{contest.event_id}")
            assert page.status_code == 503 and "数据库暂时无法连接" in page.text  # the page, in Chinese
            # the op cannot be committed: no ack, the socket closes with a code the tablet reconnects on
            await tablet.send(json.dumps(op("p2", contest.seats[1], "22.50")))
            assert await _closed_with(tablet) == 1013
            again = await websockets.connect(_ws(base, "/ws/judge"), additional_headers={"Cookie": judge})
            assert await _closed_with(again) == 1013  # and so does a new one, before any snapshot

            proxy.cut(blackhole=True)  # the host vanished: connects hang rather than fail
            started = time.monotonic()
            status, body = await _health(base)
            assert (status, body["database"]) == (503, "unreachable") and time.monotonic() - started < 3.5

            proxy.restore()
            tablet = await _reconnect(base, judge)  # the pool recovers: the replay goes through
            for queued in (op("p1", contest.seats[0], "21.50"), op("p2", contest.seats[1], "22.50")):
                await tablet.send(json.dumps(queued))
            replies = [await _message(tablet, "ack"), await _message(tablet, "ack")]
            assert replies[0] == first  # p1 again: the stored reply, applied once
            acked["p2"] = replies[1]
            await _mark(tablet, acked, "p3", contest.seats[1], "23.50", base_version=1)
            await _healthy(base, 10)
            await tablet.close()
    await _stored(pg_url, acked)
