"""`python -m contestday` runs the same click group as the `contestday` script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_python_m_contestday_prints_the_chinese_help() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}  # this checkout's code
    result = subprocess.run([sys.executable, "-m", "contestday", "--help"], cwd=ROOT, env=env, capture_output=True,
                            encoding="utf-8", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Usage: python -m contestday" in result.stdout
    assert "职业技能竞赛赛事日系统" in result.stdout and "启动服务（先升级数据库结构）" in result.stdout
