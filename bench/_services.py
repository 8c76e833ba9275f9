"""The services a scaled-out deployment needs, for benchmarks: a throw-away PostgreSQL cluster and redis-server
on free ports (stopped afterwards), and the CPU time each side spends, read from /proc (no psutil) — on a
machine where more instances cannot be faster, CPU-seconds per operation is what compares deployments."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from bench._server import free_port

__all__ = ["PG_BIN", "postgres_cluster", "postmaster_pid", "redis_cpu", "redis_server", "tree_cpu"]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
_TICK = os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def postgres_cluster(bin_dir: Path = PG_BIN) -> Iterator[str]:
    """initdb + pg_ctl into a temp dir, trust auth on loopback only; yields the maintenance database's URL."""
    folder = Path(tempfile.mkdtemp(prefix="contestday-pg-"))
    data, port = folder / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: as the system's postgres user
        import pwd

        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    stop = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
    try:
        subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E",
                        "UTF8", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
        # max_connections: every instance's pool and its page process's; fsync stays on, as in production
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                        "-w", "start"], check=True, stdout=subprocess.DEVNULL)
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:  # (a cluster that never started: pg_ctl stop says so, harmlessly)
        subprocess.run(stop, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(folder, ignore_errors=True)

@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Its own redis-server on a free port, nothing persisted; yields its URL."""
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # after "pid (comm) ": field 3 (state) is index 0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def tree_cpu(pids: Iterable[int]) -> float:
    """CPU seconds (user + system) of these processes and all their descendants, living or reaped by their
    parent (a finished child's time is in its parent's cutime/cstime)."""
    tree, total, todo = _children(), 0, list(pids)
    while todo:
        pid = todo.pop()
        fields = _stat(pid)
        if fields is not None:
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            todo.extend(tree.get(pid, ()))
    return total / _TICK


def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server's main process, if it runs on this machine: the parent of our own backend."""
    import asyncpg

    async def parent() -> int | None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:  # while our backend lives; on another machine its pid is some other process here, or none
            pid = int(await conn.fetchval("SELECT pg_backend_pid()"))
            fields = _stat(pid)
            with contextlib.suppress(OSError):
                if fields is not None and Path(f"/proc/{pid}/comm").read_text().startswith("postgres"):
                    return int(fields[1])
            return None
        finally:
            await conn.close()

    return asyncio.run(parent())


def redis_cpu(url: str) -> float:
    """Redis's own account of its CPU seconds (works for a Redis on another machine too)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        info: dict[str, Any] = client.info("cpu")  # type: ignore[assignment]  # the sync client's answer
    finally:
        client.close()
    return float(sum(info[k] for k in ("used_cpu_sys", "used_cpu_user", "used_cpu_sys_children",
                                       "used_cpu_user_children")))
