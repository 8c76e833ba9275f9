"""What every benchmark shares: a free loopback port, `contestday serve` as a subprocess on a data dir, and the
figures printed (one per line, then the JSON object on the last line)."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ROOT", "Instance", "collector_paused", "free_port", "open_files", "print_figures", "served", "serving"]

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass(frozen=True)
class Instance:
    base: str
    pid: int  # the server's process (its page and render processes are its children): whose CPU time counts


@contextlib.contextmanager
def served(data_dir: Path, code: Path = ROOT, **env: str) -> Iterator[str]:
    """`contestday serve` (see `serving`); yields its base URL."""
    with serving(data_dir, code, **env) as instance:
        yield instance.base


@contextlib.contextmanager
def serving(data_dir: Path, code: Path = ROOT, **env: str) -> Iterator[Instance]:
    """`contestday serve` on a free port (logs at WARNING: a log line per request would be measured too), from
    the tree `code` (another checkout to measure "before" beside "after"), once /health answers; stops it
    afterwards. Its stderr goes to `serve-<port>.log` in the data dir, for when it does not start."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = {**os.environ, "CONTESTDAY_DATA_DIR": str(data_dir), "CONTESTDAY_LOG_LEVEL": "WARNING",
               "CONTESTDAY_PUBLIC_URL": base, "PYTHONPATH": str(code), **env}
    log = data_dir / f"serve-{port}.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen([sys.executable, "-m", "contestday.cli", "serve", "--port", str(port)],
                                  env=environ, cwd=code, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        for _ in range(150):
            if server.poll() is not None:
                raise RuntimeError(f"contestday serve exited with {server.returncode}: see {log}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield Instance(base, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The load process's own garbage collector off while it measures: its full collections (tens of
    thousands of responses kept for the figures) stall every client at once, and the stall would be
    counted as server latency."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def open_files(need: int) -> int:
    """Raise this process's soft limit of open files towards `need` (servers started afterwards inherit it);
    returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        soft = min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def print_figures(figures: dict[str, Any]) -> None:
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:>{width}}: {value}")
    print(json.dumps(figures, ensure_ascii=False))
