"""Test helpers: the contract's example event file and small builders."""

from __future__ import annotations

import copy
from typing import Any

EXAMPLE_EVENT: dict[str, Any] = {
    "event": {
        "name": "“巴渝工匠”杯重庆市第二届专项职业能力技能大赛",
        "kind": "city_industry",
        "starts_on": "2026-10-20",
        "award_policy": {"rule": "merit_if_over_30", "ratio": 0.3, "threshold": 30, "count": "people"},
        "one_item_per_person": True,
        "unit_quota_per_group": 2,
        "unit_quota_mode": "enforce",
        "registration_closes": "2026-10-10T18:00:00+08:00",
        # the defaults of #18's fields, explicit as the API gives them back
        "identities": ["student", "employee", "teacher", "flexible"],
        "group_identities": {"学生组": ["student"], "职工组": ["employee", "teacher", "flexible"]},
        "photo_required": False,
        "student_major_required": False,
    },
    "items": [
        {
            "code": "LED",
            "name": "LED显示屏应用",
            "team_size": 1,
            "certificate": "skill_level",
            "exam_level": 4,
            "pass_mark": 60,
            "groups": ["学生组", "职工组"],
            "theory_weight": 0,
            "criteria": [
                {"code": "A", "name": "安装调试", "max": 40, "kind": "measurement"},
                {"code": "B", "name": "工艺与规范", "max": 60, "kind": "judgement",
                 "aggregate": "trimmed_mean", "trim_min_judges": 5, "max_spread": 10},
                {"code": "S", "name": "安全违规扣分", "max": 10, "kind": "deduction"},
            ],
            "tie_break": ["practical", "criterion:B", "time_used", "theory"],
            "promotion_top": 6,
        }
    ],
}


def example_event(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLE_EVENT)
    doc["event"].update(changes)
    return doc


async def finished_job(client: Any, job: str, headers: dict[str, str]) -> dict[str, Any]:
    """Poll a background job's progress page (up to 10 s) until it is no longer queued or running; its last
    view."""
    import asyncio

    for _ in range(100):
        view: dict[str, Any] = (await client.get(f"{job}/progress.json", headers=headers)).json()
        if view["state"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.1)
    return view


async def post_login(client: Any, form: dict[str, str], **kwargs: Any) -> Any:
    """POST /login as the sign-in page does: GET it first for the CSRF token (its cookie stays in the jar)."""
    page = await client.get("/login")
    token = page.cookies.get("contestday_login_csrf") or client.cookies.get("contestday_login_csrf")
    return await client.post("/login", data={"csrf_token": token or "", **form}, **kwargs)


async def login_headers(client: Any, db: Any, name: str, *roles: str) -> dict[str, str]:
    """Create a user with `roles`, sign in through the real form, and return headers that act as that user
    (session cookie + CSRF token), leaving the shared client's cookie jar empty."""
    from contestday.accounts.service import add_user

    async with db() as session:
        await add_user(session, name, "pw-12345678", list(roles))
        await session.commit()
    return await sign_in_headers(client, name)


async def sign_in_headers(client: Any, name: str, password: str = "pw-12345678") -> dict[str, str]:
    """Sign in through the form; headers acting as that person (session cookie + CSRF token), the shared
    client's cookie jar left empty."""
    response = await post_login(client, {"name": name, "password": password, "next": "/"}, follow_redirects=False)
    token = response.cookies.get("contestday_session")
    client.cookies.clear()
    assert token, response.text
    headers = {"Cookie": f"contestday_session={token}"}
    me = await client.get("/api/me", headers=headers)
    return {**headers, "X-CSRF-Token": me.json()["csrf_token"]}


def process_running(pid: int) -> bool:
    """Running (a zombie nobody reaped has ended)."""
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def assert_child_ends_with_killed_server(script: str, folder: Any, settle_s: float = 0.0) -> None:
    """Run `script` (a server that starts a child process and prints its pid), kill it (no shutdown, nobody
    stops the child) and check the child ends by itself within 30 s."""
    import os
    import subprocess
    import sys
    import textwrap
    import time
    from pathlib import Path

    path = Path(folder) / "server.py"
    path.write_text(textwrap.dedent(script))
    root = str(Path(__file__).resolve().parents[2])
    server = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, text=True, cwd=root,
                              env={**os.environ, "PYTHONPATH": root})
    try:
        assert server.stdout is not None
        child = int(server.stdout.readline())
        assert process_running(child)
        time.sleep(settle_s)
        server.kill()
        server.wait(10)
        deadline = time.monotonic() + 30
        while process_running(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not process_running(child), "the child outlived the server"
    finally:
        server.kill()
