"""Several instances as deploy/compose.yaml runs them: two `contestday serve` processes with the compose file's own
environment (its hosts mapped to this machine's PostgreSQL and Redis) behind Caddy running deploy/Caddyfile, and
`contestday serve --workers 2` on one port. Every page and socket may land on either process: the sign-in limits
count the client's address (forwarded by the proxy) on both, and a mark made through one reaches consoles on both.
Two instances migrating one fresh database at once: one migrates, the other waits and finds it current."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
import yaml

from contestday.db.engine import create_engine
from contestday.db.migrate import current_revision, head_revision, upgrade
from tests.conftest import _free_port
from tests.judging.test_judging_ws import op
from tests.support.judging_setup import SECRET, contest_with_chief, judge_cookie
from tests.support.services import REDIS_URL, need, pg_database, stop

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
REDIS = REDIS_URL


@pytest.fixture
def pg_url() -> Iterator[str]:
    need("postgres", "redis")
    with pg_database("cdproxy", migrated=False) as url:
        yield url


def compose_environment(replace: dict[str, str]) -> dict[str, str]:
    """The contestday services' environment in deploy/compose.yaml, `${VAR:?…}` filled from `replace`, and the
    compose network's host names (postgres, redis) and paths made this machine's by `replace` as well."""
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = document["services"]
    one, two = services["contestday1"], services["contestday2"]
    assert one["environment"] == two["environment"] and one["command"] == two["command"]
    assert one["command"][:2] == ["contestday", "serve"]
    env: dict[str, str] = {}
    for name, value in one["environment"].items():
        text = str(value)
        text = re.sub(r"\$\{(\w+)(?::[?-][^}]*)?\}", lambda m: replace[m.group(1)], text)
        env[name] = replace.get(name, text)
    return env


def _start(env: dict[str, str], port: int, *extra: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "contestday.cli", "serve", "--host", "127.0.0.1", "--port",
                             str(port), *extra], env={**os.environ, "PYTHONPATH": str(ROOT), **env}, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_healthy(f"http://127.0.0.1:{port}", proc)
    return proc


def _wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(proc.stderr.read() if proc.stderr else b'').decode()[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


async def _seed(pg_url: str) -> tuple[Any, str]:
    await asyncio.to_thread(upgrade, pg_url)
    return await contest_with_chief(pg_url)


async def _mark_reaches_every_console(base: str, contest: Any, chief_token: str, consoles: int) -> None:
    """A tablet and `consoles` consoles, each a new connection to `base` (the proxy or the workers' port): the mark
    is acked and every console hears it, whichever process each socket landed on."""
    ws = base.replace("http", "ws")
    tablet = await websockets.connect(f"{ws}/ws/judge",
                                      additional_headers={"Cookie": judge_cookie(base, contest.links["王裁判"])})
    await tablet.recv()
    watching = []
    for _ in range(consoles):
        console = await websockets.connect(f"{ws}/ws/console/{contest.event_id}",
                                           additional_headers={"Cookie": f"contestday_session={chief_token}"})
        assert json.loads(await asyncio.wait_for(console.recv(), 10))["type"] == "snapshot"
        watching.append(console)
    await asyncio.sleep(0.5)  # every console's Redis subscription is in place
    await tablet.send(json.dumps(op("proxy-1", contest.seats[0], "31.25")))
    assert json.loads(await asyncio.wait_for(tablet.recv(), 10))["type"] == "ack"
    for console in watching:
        while True:
            message = json.loads(await asyncio.wait_for(console.recv(), 5))
            if message.get("type") == "score":
                break
        assert (message["seat"], message["value"]) == (contest.seats[0], "31.25")
        await console.close()
    await tablet.close()


def _instances(base: str, n: int = 8) -> set[str]:
    return {httpx.get(f"{base}/health", timeout=5).json()["instance"] for _ in range(n)}


async def test_two_instances_behind_caddy_with_the_compose_files_settings(pg_url: str, tmp_path: Path) -> None:
    need("caddy")
    contest, chief_token = await _seed(pg_url)
    proxy_port, ports = _free_port(), (_free_port(), _free_port())
    proxy = f"http://127.0.0.1:{proxy_port}"
    env = compose_environment({
        "POSTGRES_PASSWORD": "unused", "CONTESTDAY_SECRET_KEY": SECRET,
        "CONTESTDAY_AUDIT_KEY": "a-shared-audit-key-for-both-instances-0123456789",
        "CONTESTDAY_PUBLIC_URL": proxy,
        "CONTESTDAY_DATABASE_URL": pg_url, "CONTESTDAY_REDIS_URL": REDIS or "",
        "CONTESTDAY_DATA_DIR": str(tmp_path / "data"),  # the one volume both instances mount
        "CONTESTDAY_TRUSTED_PROXIES": "127.0.0.1",  # Caddy's address here, as the compose network's there
    })
    assert env["CONTESTDAY_BACKUP_MINUTES"] == "30"  # the compose file's own values come through
    servers = [_start(env, port) for port in ports]
    caddy_env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "caddy"), "XDG_CONFIG_HOME": str(tmp_path / "caddy"),
                 "CONTESTDAY_LISTEN": f":{proxy_port}",
                 "CONTESTDAY_UPSTREAMS": " ".join(f"127.0.0.1:{p}" for p in ports)}
    caddy = subprocess.Popen(["caddy", "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                             env=caddy_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(proxy, caddy)
        assert len(_instances(proxy)) == 2  # the proxy spreads requests over both processes

        # sign-in links guessed from one phone through the proxy, landing on both instances in turn: the twenty-first
        # is refused; another phone behind the same proxy is not (addresses of this run only: the counters in Redis
        # outlive it)
        async def guesses(source: str, n: int) -> list[int]:
            transport = httpx.AsyncHTTPTransport(local_address=source)
            async with httpx.AsyncClient(transport=transport, base_url=proxy) as phone:
                return [(await phone.get(f"/login/link/{i}:1.forged", headers={"Accept": "application/json"}))
                        .status_code for i in range(n)]

        phone, other = (f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}"
                        for _ in range(2))
        assert await guesses(phone, 21) == [401] * 20 + [429]
        assert await guesses(other, 1) == [401]

        await _mark_reaches_every_console(proxy, contest, chief_token, consoles=3)
    finally:
        stop(caddy, *servers)


async def test_serve_with_two_workers(pg_url: str, tmp_path: Path) -> None:
    contest, chief_token = await _seed(pg_url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"CONTESTDAY_DATABASE_URL": pg_url, "CONTESTDAY_REDIS_URL": REDIS or "", "CONTESTDAY_SECRET_KEY": SECRET,
           "CONTESTDAY_DATA_DIR": str(tmp_path / "data"), "CONTESTDAY_PUBLIC_URL": base}
    server = _start(env, port, "--workers", "2")
    try:
        deadline = time.monotonic() + 20
        seen: set[str] = set()
        while len(seen) < 2 and time.monotonic() < deadline:  # the second worker may still be starting
            seen |= _instances(base, 4)
        assert len(seen) == 2
        await _mark_reaches_every_console(base, contest, chief_token, consoles=4)
    finally:
        stop(server)


async def test_two_instances_migrating_one_new_database_at_once(pg_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CONTESTDAY_DATABASE_URL": pg_url, "CONTESTDAY_SECRET_KEY": SECRET,
           "CONTESTDAY_DATA_DIR": str(tmp_path)}
    runs = [subprocess.Popen([sys.executable, "-m", "contestday.cli", "db", "upgrade"], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outcomes = await asyncio.to_thread(lambda: [run.communicate(timeout=120) for run in runs])
    assert [run.returncode for run in runs] == [0, 0], [err.decode()[-1500:] for _out, err in outcomes]
    engine = create_engine(pg_url)
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


def test_the_compose_file_is_valid_for_docker_compose(tmp_path: Path) -> None:
    """`docker-compose config` checks deploy/compose.yaml against the Compose schema with deploy/env.example's
    values (CI installs Debian's docker-compose; no Docker engine is needed to check a file)."""
    need("docker-compose")
    program = shutil.which("docker-compose") or "docker-compose"
    done = subprocess.run([program, "-p", "contestday", "-f", str(DEPLOY / "compose.yaml"), "--env-file",
                           str(DEPLOY / "env.example"), "config"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    assert set(config["services"]) == {"postgres", "redis", "contestday1", "contestday2", "proxy"}
    assert config["services"]["contestday1"]["environment"]["CONTESTDAY_PUBLIC_URL"] == "http://192.168.1.10"
    (tmp_path / "empty.env").write_text("# nothing set\n")
    missing = subprocess.run([program, "-p", "contestday", "-f", str(DEPLOY / "compose.yaml"), "--env-file",
                              str(tmp_path / "empty.env"), "config"], capture_output=True, text=True, timeout=60,
                             env={k: v for k, v in os.environ.items()
                                  if not k.startswith(("CONTESTDAY_", "POSTGRES_"))})
    assert missing.returncode != 0 and "set POSTGRES_PASSWORD in deploy/.env" in missing.stderr
