"""The command line on a real database: event import/export, user add, the demo's data (created once)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner
from sqlalchemy import text

from contestday.cli import main
from contestday.demo import DEMO_EVENT_NAME
from tests.support.helpers import EXAMPLE_EVENT, example_event


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONTESTDAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CONTESTDAY_DATABASE_URL", database_url)
    monkeypatch.setenv("CONTESTDAY_SECRET_KEY", "cli-secret")
    return tmp_path


def test_event_import_then_export_json_and_toml(env: Path) -> None:
    runner = CliRunner()
    source = env / "event.toml"
    source.write_text(tomli_w.dumps(EXAMPLE_EVENT), encoding="utf-8")
    imported = runner.invoke(main, ["event", "import", str(source)])
    assert imported.exit_code == 0, imported.output
    event_id = imported.stdout.strip().splitlines()[-1]
    exported = runner.invoke(main, ["event", "export", event_id])
    assert exported.exit_code == 0 and json.loads(exported.stdout) == EXAMPLE_EVENT
    as_toml = runner.invoke(main, ["event", "export", event_id, "--toml"])
    import tomllib

    assert tomllib.loads(as_toml.stdout)["items"][0]["code"] == "LED"


def test_event_import_refusal_lists_every_error_and_exits_2(env: Path) -> None:
    doc = example_event(kind="nope")
    doc["items"][0]["theory_weight"] = 0.4
    source = env / "bad.json"
    source.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["event", "import", str(source)])
    assert result.exit_code == 2
    assert "event.kind" in result.stderr and "items[0].theory_weight" in result.stderr
    assert "nothing stored" in result.stderr
    missing = CliRunner().invoke(main, ["event", "export", "1"])
    assert missing.exit_code == 2 and "no event 1" in missing.stderr


def test_user_add_and_duplicate(env: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["user", "add", "wang", "--role", "organiser", "--password", "long-enough-pw"])
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(main, ["user", "add", "wang", "--role", "organiser", "--password", "long-enough-pw"])
    assert again.exit_code == 2 and "已存在" in again.stderr
    short = runner.invoke(main, ["user", "add", "li", "--role", "organiser", "--password", "short"])
    assert short.exit_code == 2


def test_demo_creates_its_event_once_and_prints_a_link_per_role(env: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--no-serve"])
    second = runner.invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert first.stdout.splitlines()[0] == second.stdout.splitlines()[0]  # same event id
    for role in ("organiser", "chief judge", "judge", "encryption judge", "check-in"):
        assert role in first.stdout
    assert first.stdout.count("/login/link/") == 5
    tickets = (env / "data" / "demo-tickets.csv").read_text(encoding="utf-8-sig").splitlines()
    assert tickets[0] == "姓名,赛项,组别,单位,参赛凭证码" and len(tickets) > 200
    printed = first.stdout.split("demo ticket codes", 1)[1].splitlines()[1:]
    listed = {row.rsplit(",", 1)[1].replace("-", "") for row in tickets[1:]}
    assert len(printed) == 3 and all(line.split()[0] in listed for line in printed)
    export = runner.invoke(main, ["event", "export", "1"])
    doc = json.loads(export.stdout)
    assert doc["event"]["name"] == DEMO_EVENT_NAME and len(doc["items"]) == 33
    assert all(item["groups"] == ["学生组", "职工组"] for item in doc["items"])
    assert doc["items"][0]["name"] == "LED显示屏应用"


async def test_the_demo_holds_every_stage_of_a_contest(env: Path, db: Any, client: Any) -> None:
    """One demo run (it takes seconds), every stage checked: registrations with review cases, a panel with
    marks and a spread waiting, one item published and final, one in its notice period with an appeal, and
    certificates for the published items."""
    from decimal import Decimal

    # the command runs its own event loop: give it a thread
    result = await asyncio.to_thread(CliRunner().invoke, main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    # registrations include cases for the review queue
    async with db() as session:
        states = dict((await session.exec(text(  # type: ignore[call-overload]
            "SELECT review, count(*) FROM entry WHERE state = 'active' GROUP BY review"))).all())
        flags = {r[0] for r in await session.exec(text("SELECT code FROM entry_flag"))}  # type: ignore[call-overload]
    assert states.get("none", 0) + states.get("pending", 0) >= 200 and states.get("pending", 0) >= 5
    assert {"possible_duplicate", "instructor_conflict", "employee_qualification",
            "retirement_base_unknown"} <= flags
    # has a panel marks and a spread violation waiting
    assert result.stdout.count("/j/") == 7  # six judges and the chief judge
    async with db() as session:
        marks = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT s.entry_id, s.value FROM score s JOIN criterion c ON c.id = s.criterion_id "
            "WHERE c.code = 'B' ORDER BY s.entry_id"))).all()
    by_entry: dict[int, list[Decimal]] = {}
    for entry_id, value in marks:
        by_entry.setdefault(entry_id, []).append(Decimal(value) / 100)
    spreads = [max(v) - min(v) for v in by_entry.values()]
    assert len(by_entry) >= 10 and max(spreads) > 6  # B's max_spread in the demo is 6 (20 % of 30)
    verify = await asyncio.to_thread(CliRunner().invoke, main, ["audit", "verify", "1"])
    assert verify.exit_code == 0 and "intact" in verify.output
    # publishes one item final and one in its notice period with an appeal
    assert "/results/1" in result.stdout and "/board/1" in result.stdout
    async with db() as session:
        rows = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT item_id, version, state FROM publication ORDER BY item_id"))).all()
        appeals = (await session.exec(text("SELECT state FROM appeal"))).all()  # type: ignore[call-overload]
    assert len(rows) == 2 and all(r[1] == 1 and r[2] == "published" for r in rows)
    assert [a[0] for a in appeals] == ["open"]
    public = (await client.get("/api/public/events/1/results")).json()
    published = [i for i in public["items"] if i["view"]]
    assert len(published) == 2 and sorted(i["final"] for i in published) == [False, True]
    assert all(next(g for g in i["view"]["groups"] if g["rows"])["rows"][0]["award"] == "一等奖" for i in published)
    again = await asyncio.to_thread(CliRunner().invoke, main, ["demo", "--no-serve"])
    assert again.exit_code == 0  # idempotent: nothing published twice
    async with db() as session:
        assert len((await session.exec(text("SELECT id FROM publication"))).all()) == 2  # type: ignore[call-overload]
    # issues certificates for its published items
    assert "/kiosk/events/1/certificates" in result.stdout
    async with db() as session:
        rows = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT serial, award, state FROM certificate ORDER BY order_key"))).all()
    assert rows and all(state == "valid" and award for _serial, award, state in rows)
    assert rows[0][1] == "一等奖" and rows[0][0].startswith("E1-")
