"""Scale-out: two server processes on one PostgreSQL database with Redis pub/sub between them — a mark entered on
one instance reaches a chief judge's console connected to the other."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
import websockets

from tests.conftest import _free_port
from tests.judging.test_judging_durability import _start
from tests.judging.test_judging_ws import op
from tests.support.judging_setup import SECRET, contest_with_chief, judge_cookie
from tests.support.services import REDIS_URL, need, pg_database

REDIS = REDIS_URL


@pytest.fixture
def pg_url() -> Any:
    need("postgres", "redis")
    with pg_database("cdscale") as url:
        yield url


async def test_a_mark_on_one_instance_reaches_a_console_on_the_other(pg_url: str, tmp_path: Any) -> None:
    contest, chief_token = await contest_with_chief(pg_url)

    class Settings:  # what _start needs
        database_url, data_dir, secret_key = pg_url, tmp_path, SECRET

    os.environ["CONTESTDAY_REDIS_URL"] = REDIS or ""
    ports = (_free_port(), _free_port())
    servers = [_start(Settings, port) for port in ports]
    try:
        one, two = (f"http://127.0.0.1:{p}" for p in ports)
        console = await websockets.connect(f"{two.replace('http', 'ws')}/ws/console/{contest.event_id}",
                                           additional_headers={"Cookie": f"contestday_session={chief_token}"})
        assert json.loads(await asyncio.wait_for(console.recv(), 10))["type"] == "snapshot"
        tablet = await websockets.connect(f"{one.replace('http', 'ws')}/ws/judge",
                                          additional_headers={"Cookie": judge_cookie(one, contest.links["王裁判"])})
        await tablet.recv()
        await asyncio.sleep(0.5)  # the console's Redis subscription is in place
        await tablet.send(json.dumps(op("scale-1", contest.seats[0], "31.25")))
        assert json.loads(await asyncio.wait_for(tablet.recv(), 10))["type"] == "ack"
        while True:
            message = json.loads(await asyncio.wait_for(console.recv(), 5))
            if message.get("type") == "score":
                break
        assert (message["seat"], message["value"], message["criterion"]) == (contest.seats[0], "31.25", "A")
        await tablet.close()
        await console.close()
    finally:
        os.environ.pop("CONTESTDAY_REDIS_URL", None)
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
