"""bench/scale_out.py end to end at toy size: two `contestday serve` instances on the test PostgreSQL and Redis,
tablets on both, the console on the second. Benchmarks rot unseen (bench/board_fanout.py stopped working when the
audit chain became keyed, and nothing said so); this keeps the scale-out one running and its checks honest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.services import PG_SERVER, REDIS_URL, need

ROOT = Path(__file__).resolve().parents[2]


def test_the_scale_out_bench_runs_and_finds_every_mark_once() -> None:
    need("postgres", "redis")
    assert PG_SERVER is not None and REDIS_URL is not None
    run = subprocess.run(
        [sys.executable, "bench/scale_out.py", "--quick", "--deployments", "postgres2", "--phases", "marks",
         "--tablets", "10", "--duration", "1", "--marks-rate", "50", "--postgres", PG_SERVER, "--redis", REDIS_URL],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    marks = found["runs"]["postgres×2"]["marks"]
    assert (found["lost"], found["duplicated"], found["failed_phases"]) == (0, 0, 0)
    assert (marks["acked"], marks["stored"], marks["errors"]) == (50, 50, 0)
    # every mark acked by the first instance reached the console on the second, through Redis
    assert marks["console_cross_seen"] == 25 and found["console_cross_p99_ms"] is not None
    assert marks["cpu_servers_s"] > 0
