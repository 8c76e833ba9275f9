"""Login flood (#12): does a crowd posting wrong passwords freeze the server, and can names be found by timing?

Starts `contestday serve` on a fresh data dir over loopback, adds one account, then:
1. times sign-ins with a wrong password for the known name and for unknown names (median each: a gap means
   names can be found by timing);
2. times `GET /health` with nothing else going on;
3. floods for --seconds each while `/health` is timed every 50 ms (median / p99 / max): --clients clients,
   each from its own loopback address (127.0.0.2, 127.0.0.3, …), post wrong passwords under fresh names
   (every one runs argon2: the worst case for the event loop); then the same from one address (127.0.0.1,
   the limiter answers 429 once the address's failures are used up); last the issue's attack, every client
   guessing the known account's password (the account's limit).
--code DIR serves another checkout (e.g. `git archive HEAD | tar -x -C /tmp/before`) to compare before/after.
Prints one figure a line, the last line one JSON object. Only loopback addresses are used.

    python bench/login_flood.py [--clients 32] [--seconds 10] [--code DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import print_figures, served  # noqa: E402

PASSWORD = "bench-password-1"


@contextlib.contextmanager
def with_account(code: Path, data_dir: Path) -> Iterator[str]:
    """The server from `code`, with one known account to guess at."""
    with served(data_dir, code, CONTESTDAY_NEW_PASSWORD=PASSWORD) as base:
        env = {**os.environ, "CONTESTDAY_DATA_DIR": str(data_dir), "PYTHONPATH": str(code),
               "CONTESTDAY_NEW_PASSWORD": PASSWORD}
        subprocess.run([sys.executable, "-m", "contestday.cli", "user", "add", "bench-known", "--role", "organiser",
                        "--password", PASSWORD], env=env, cwd=code, check=True, capture_output=True)
        yield base


def _client(base: str, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, timeout=60,
                             transport=httpx.AsyncHTTPTransport(local_address=address))


async def _token(client: httpx.AsyncClient) -> str:
    page = await client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    return found.group(1) if found else ""  # a server without the form's token ignores the field


async def _sign_in(client: httpx.AsyncClient, token: str, name: str) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.post("/login", data={"csrf_token": token, "name": name, "password": "wrong-password",
                                                 "next": "/"})
    return response.status_code, time.perf_counter() - started


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered) * 1000, 1),
            "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
            "max": round(ordered[-1] * 1000, 1)}


async def _health(base: str, stop: asyncio.Event) -> list[float]:
    times: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        while not stop.is_set():
            started = time.perf_counter()
            await client.get("/health")
            times.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
    return times


async def _flood(base: str, clients: int, seconds: float, spread: bool,
                 known: bool = False) -> tuple[list[float], Counter[int]]:
    stop, statuses = asyncio.Event(), Counter[int]()

    async def one(i: int) -> None:
        async with _client(base, f"127.0.0.{2 + i}" if spread else "127.0.0.1") as client:
            token, n = await _token(client), 0
            while not stop.is_set():
                status, _ = await _sign_in(client, token, "bench-known" if known else f"flood-{int(spread)}-{i}-{n}")
                statuses[status] += 1
                n += 1

    health = asyncio.create_task(_health(base, stop))
    workers = [asyncio.create_task(one(i)) for i in range(clients)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*workers)
    return await health, statuses


async def measure(base: str, clients: int, seconds: float) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    async with _client(base, "127.0.0.200") as known_client, _client(base, "127.0.0.201") as unknown_client:
        k_token, u_token = await _token(known_client), await _token(unknown_client)
        await _sign_in(known_client, k_token, "bench-known")  # warm up
        known = [(await _sign_in(known_client, k_token, "bench-known"))[1] for _ in range(7)]
        unknown = [(await _sign_in(unknown_client, u_token, f"nobody-{i}"))[1] for i in range(7)]
    figures["wrong password, known name ms (median)"] = round(statistics.median(known) * 1000, 1)
    figures["wrong password, unknown name ms (median)"] = round(statistics.median(unknown) * 1000, 1)
    stop = asyncio.Event()
    idle = asyncio.create_task(_health(base, stop))
    await asyncio.sleep(3)
    stop.set()
    figures["/health idle ms"] = _ms(await idle)
    for spread, known, label in ((True, False, f"{clients} addresses"), (False, False, "one address"),
                                 (True, True, f"{clients} addresses, the known name")):
        health, statuses = await _flood(base, clients, seconds, spread, known)
        figures[f"/health under flood from {label} ms"] = _ms(health)
        figures[f"sign-in answers from {label}"] = dict(sorted(statuses.items()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cd-login-flood-") as tmp, \
            with_account(args.code.resolve(), Path(tmp)) as base:
        figures = {"code": str(args.code), "clients": args.clients, "seconds": args.seconds}
        figures.update(asyncio.run(measure(base, args.clients, args.seconds)))
    print_figures(figures)


if __name__ == "__main__":
    main()
