"""`contestday user …` as an operator runs it (a subprocess on the test's database file): add with roles per event
and item, list, disable, enable, reset and link; the printed links sign in once; bad input is a Chinese error with
exit code 2 and writes nothing; every change is recorded as by "cli". The ten refusals run the same click command
in this process (a thread: the command runs its own event loop), each subprocess costing ~2 s of start-up."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlmodel import select

from contestday.accounts.models import RoleChange, User
from contestday.cli import main
from contestday.settings import Settings
from tests.support.helpers import EXAMPLE_EVENT

LINK = re.compile(r"(https?://\S+/login/link/(\S+))")


def _env(settings: Settings) -> dict[str, str]:
    return {"CONTESTDAY_DATABASE_URL": settings.database_url, "CONTESTDAY_DATA_DIR": str(settings.data_dir),
            "CONTESTDAY_SECRET_KEY": settings.secret_key, "CONTESTDAY_PUBLIC_URL": "https://contest.example"}


def _cli(settings: Settings, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **_env(settings)}
    env.pop("CONTESTDAY_NEW_PASSWORD", None)
    return subprocess.run([sys.executable, "-m", "contestday.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


async def _cli_here(settings: Settings, *args: str) -> tuple[int, str]:
    """(exit code, stderr) of the same command run in this process."""
    runner = CliRunner(env={**_env(settings), "CONTESTDAY_NEW_PASSWORD": None})
    result = await asyncio.to_thread(runner.invoke, main, list(args))
    return result.exit_code, result.stderr


def _event_file(tmp_path: Path) -> Path:
    doc = copy.deepcopy(EXAMPLE_EVENT)
    second = copy.deepcopy(doc["items"][0])
    second.update(code="WEB", name="网页设计")
    doc["items"].append(second)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _token(printed: str) -> str:
    found = LINK.search(printed)
    assert found and found.group(1).startswith("https://contest.example/login/link/"), printed
    return found.group(2)


async def test_user_commands_on_a_real_database(settings: Settings, tmp_path: Path, app: Litestar, db: Any) -> None:
    imported = _cli(settings, tmp_path, "event", "import", str(_event_file(tmp_path)))
    assert imported.returncode == 0, imported.stderr
    event_id = imported.stdout.strip()

    admin = _cli(settings, tmp_path, "user", "add", "wang", "--role", "organiser", "--password", "long-enough-pw")
    assert admin.returncode == 0 and "全部赛事" in admin.stdout, admin.stderr
    judge = _cli(settings, tmp_path, "user", "add", "li", "--role", "judge", "--event", event_id, "--item", "LED",
                 "--link", "--display-name", "李评审")
    assert judge.returncode == 0, judge.stderr
    first_link = _token(judge.stdout)
    assert "只能用一次" in judge.stdout

    for args, message in [
        (("user", "add", "x1", "--role", "judge", "--role", "encryption_judge", "--event", event_id, "--link"),
         "盲评"),
        (("user", "add", "x2", "--role", "referee", "--event", event_id, "--link"), "未知角色"),
        (("user", "add", "x6", "--role", "judge", "--link"), "只有组委会"),  # server-wide: administrators only
        (("user", "add", "x3", "--role", "judge", "--event", "999", "--link"), "找不到赛事"),
        (("user", "add", "x4", "--role", "judge", "--event", event_id, "--item", "NOPE", "--link"), "没有赛项 NOPE"),
        (("user", "add", "x5", "--role", "checkin", "--event", event_id, "--item", "LED", "--link"), "整个赛事"),
        (("user", "add", "li", "--role", "checkin", "--event", event_id, "--link"), "已存在"),
        (("user", "disable", "nobody"), "找不到用户 nobody"),
        (("user", "link", "nobody"), "找不到用户"),
        (("user", "list", "--event", "999"), "找不到赛事"),
    ]:
        code, stderr = await _cli_here(settings, *args)
        assert code == 2 and message in stderr, (args, code, stderr)

    listed = _cli(settings, tmp_path, "user", "list")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^li\s+李评审\s+是/yes\s+—\s+judge@E\d+:LED$", listed.stdout, re.M), listed.stdout
    assert re.search(r"^wang\s.*organiser@\*$", listed.stdout, re.M)
    assert not re.search(r"^x\d", listed.stdout, re.M)  # refused adds wrote nothing
    only_event = _cli(settings, tmp_path, "user", "list", "--event", event_id).stdout
    assert "li " in only_event and "wang" not in only_event

    async with AsyncTestClient(app=app) as client:
        assert (await client.get(f"/login/link/{first_link}", follow_redirects=False)).status_code == 303
        session_cookie = {"Cookie": f"contestday_session={client.cookies.get('contestday_session')}"}
        client.cookies.clear()
        assert (await client.get("/api/me", headers=session_cookie)).json()["name"] == "李评审"
        again = await client.get(f"/login/link/{first_link}", headers={"Accept": "application/json"})
        assert again.status_code == 401 and again.json()["code"] == "link_used"

        assert _cli(settings, tmp_path, "user", "disable", "li").returncode == 0
        assert (await client.get("/api/me", headers=session_cookie)).status_code == 401  # ended at once
        assert "已启用" in _cli(settings, tmp_path, "user", "enable", "li").stdout
        fresh = _token(_cli(settings, tmp_path, "user", "link", "li").stdout)
        reset = _cli(settings, tmp_path, "user", "reset", "li")
        assert reset.returncode == 0 and "已重置" in reset.stdout
        after_reset = _token(reset.stdout)
        refused = await client.get(f"/login/link/{fresh}", headers={"Accept": "application/json"})
        assert refused.json()["code"] == "invalid_link"  # a reset revokes the older links
        assert (await client.get(f"/login/link/{after_reset}", follow_redirects=False)).status_code == 303
        client.cookies.clear()

    listed = _cli(settings, tmp_path, "user", "list").stdout
    assert re.search(r"^li\s+李评审\s+是/yes\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+judge@E", listed, re.M), listed
    async with db() as session:
        li = (await session.exec(select(User).where(User.name == "li"))).one()
        assert li.password_hash is None
        changes = (await session.exec(select(RoleChange.action, RoleChange.by)
                                      .where(RoleChange.user_id == li.id).order_by(RoleChange.id))).all()
        assert [a for a, _ in changes] == ["create", "grant", "link", "disable", "enable", "link", "reset", "link"]
        assert {by for _, by in changes} == {"cli"}
