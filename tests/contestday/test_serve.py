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
    # where phones reach it: not on 127.0.0.1, and the QR codes' address with what to do about it
    assert f"只有本机能打开 http://127.0.0.1:{port}" in output and "--host 0.0.0.0" in output
    assert "二维码中的地址 / the QR codes carry: http://127.0.0.1:8000（默认 / the default）" in output
    assert "手机扫码打不开" in output and "CONTESTDAY_PUBLIC_URL" in output


def test_several_workers_need_redis(tmp_path: Path, database_url: str) -> None:
    cmd = [sys.executable, "-m", "contestday.cli", "serve", "--workers", "2", "--port", str(_free_port())]
    result = subprocess.run(cmd, env=_env(tmp_path, database_url), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "CONTESTDAY_REDIS_URL" in result.stderr


REPO = Path(__file__).resolve().parents[2]


def _serve_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m contestday.cli serve` of this checkout, started in an empty directory (no `.env`)."""
    environ = {**os.environ, "PYTHONPATH": str(REPO), "CONTESTDAY_DATA_DIR": str(tmp_path / "data"), **env}
    cmd = [sys.executable, "-m", "contestday.cli", "serve", "--port", str(_free_port())]
    return subprocess.run(cmd, env=environ, cwd=tmp_path, capture_output=True, text=True, timeout=60)


def test_a_bad_setting_is_one_message_and_exit_2(tmp_path: Path) -> None:
    result = _serve_with(tmp_path, CONTESTDAY_APPEAL_HOURS="2h")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == ("CONTESTDAY_APPEAL_HOURS=2h 无效：应为 0 到 720 之间的整数（小时） / "
                                     "CONTESTDAY_APPEAL_HOURS=2h is invalid: a whole number of hours from 0 to 720")
    result = _serve_with(tmp_path, CONTESTDAY_APPEAL_HOURS="2h", CONTESTDAY_LOG_LEVEL="verbose")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "CONTESTDAY_APPEAL_HOURS=2h" in result.stderr and "CONTESTDAY_LOG_LEVEL=verbose" in result.stderr


def test_a_data_dir_that_cannot_be_written_is_one_message_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    result = _serve_with(tmp_path, CONTESTDAY_DATA_DIR=str(tmp_path / "file" / "data"),  # keys given: the
                         CONTESTDAY_SECRET_KEY="s" * 40, CONTESTDAY_AUDIT_KEY="a" * 40)  # start-up check says it
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"数据目录 {tmp_path / 'file' / 'data'} 不可写" in result.stderr and "is not writable" in result.stderr
