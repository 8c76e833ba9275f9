"""`contestday serve` as users start it: a subprocess that migrates a fresh database and answers /health."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import _free_port


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {**os.environ, "CONTESTDAY_DATA_DIR": str(tmp_path / "data"), "CONTESTDAY_DATABASE_URL": database_url,
            "CONTESTDAY_SECRET_KEY": "SECRET-KEY-MUST-NOT-LEAK", "CONTESTDAY_ADMIN_TOKEN": "TOKEN-MUST-NOT-LEAK"}


def test_serve_migrates_and_reports_healthy(tmp_path: Path, database_url: str) -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "contestday.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=_env(tmp_path, database_url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, body = time.monotonic() + 30, ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert '"status":"ok"' in body and '"schema":"current"' in body, body
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0].decode()
    assert "MUST-NOT-LEAK" not in output and '"admin_token": "set"' in output


def test_several_workers_need_redis(tmp_path: Path, database_url: str) -> None:
    cmd = [sys.executable, "-m", "contestday.cli", "serve", "--workers", "2", "--port", str(_free_port())]
    result = subprocess.run(cmd, env=_env(tmp_path, database_url), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "CONTESTDAY_REDIS_URL" in result.stderr
