"""The chief judge's console: who may open it, what its snapshot holds (marks, findings, severity), the actions
reaching the tablets over real websockets (re-mark, lock, unlock with a reason, reopen), their audit links, and
the provisional ranking held equal to `contestday results compute` on the same marks."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text
from sqlmodel import select

from judging.analysis import distribution, severity
from judging.models import Judge
from judging.service import apply_op
from registration.events.service import event_document
from scoring.event_file import CriterionSpec
from tests.judging.test_judging_ws import connect, op, recv
from tests.support.helpers import login_headers
from tests.support.judging_setup import Contest, judge_cookie, seated_contest
from tests.support.results_cases import offline_results

JUDGES = (("王裁判", "评审中心"), ("李裁判", "单位1"), ("张裁判", "评审中心二"))


@pytest.fixture
async def contest(db: Any) -> Contest:
    return await seated_contest(db, n=4, judges=JUDGES)


async def _judge(db: Any, name: str) -> Judge:
    async with db() as session:
        return (await session.exec(select(Judge).where(Judge.name == name))).one()


async def mark(db: Any, name: str, seat: str, criterion: str, value: str | None, op_id: str,
               base: int = 0) -> dict[str, Any]:
    """A mark through the tablet's own service (applied once, committed, audited)."""
    judge = await _judge(db, name)
    async with db() as session:
        applied = await apply_op(session, judge, op(op_id, seat, value, base, criterion))
    assert applied.reply["type"] == "ack", applied.reply
    return applied.reply


def console_url(base: str, event_id: int) -> str:
    return base.replace("http://", "ws://") + f"/ws/console/{event_id}"


async def console(base: str, event_id: int, cookie: str | None, item: str = "LED") -> Any:
    headers = {"Cookie": cookie} if cookie else {}
    return await websockets.connect(f"{console_url(base, event_id)}?item={item}", additional_headers=headers,
                                    open_timeout=10)


async def _audit(db: Any) -> list[tuple[Any, ...]]:
    async with db() as session:
        rows = (await session.exec(text(  # type: ignore[call-overload]
            "SELECT kind, criterion_id IS NOT NULL, judge_id IS NOT NULL, reason FROM score_event "
            "WHERE kind <> 'set' ORDER BY seq"))).all()
    return [tuple(r) for r in rows]


async def test_console_is_for_the_chief_judge_and_the_organiser(settings: Any, live_server: str, client: Any,
                                                                admin: Any, db: Any, contest: Contest) -> None:
    page = f"/console/events/{contest.event_id}"
    api = f"/api/console/events/{contest.event_id}/items/LED"
    assert (await client.get(api)).status_code == 401
    judge = await login_headers(client, db, "judge", "judge")
    assert (await client.get(page, headers=judge)).status_code == 403
    assert (await client.get(api, headers=judge)).status_code == 403
    chief = await login_headers(client, db, "chief", "chief_judge")
    shown = await client.get(page, headers=chief)
    assert shown.status_code == 200 and "console.js" in shown.text and "LED显示屏应用" in shown.text
    assert (await admin.get(api)).json()["item"]["code"] == "LED"
    assert (await client.get(f"{page}?item=NOPE", headers=chief)).status_code == 404
    english = (await client.get(page, headers={**chief, "Cookie": chief["Cookie"] + "; lang=en"})).text
    shell = re.sub(r"<script.*?</script>|<title>.*?</title>|<span class=\"c-event\">.*?</span>|<h1.*?</h1>|中文", "",
                   english, flags=re.S)
    assert "Marking progress" in english and not re.search(r"[\u4e00-\u9fff]", shell), shell
    words = json.loads(re.search(r'id="console-text">(.*?)</script>', english, re.S).group(1))  # type: ignore[union-attr]
    assert [k for k, v in words.items() if re.search(r"[\u4e00-\u9fff]", v)] == []

    refused = {}
    for who, cookie in (("anonymous", None), ("judge", judge["Cookie"]),
                        ("tablet", judge_cookie(live_server, contest.links["王裁判"]))):
        sock = await console(live_server, contest.event_id, cookie)
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await recv(sock)
        assert closed.value.rcvd is not None
        refused[who] = closed.value.rcvd.code
    assert refused == {"anonymous": 4401, "judge": 4403, "tablet": 4403}
    sock = await console(live_server, contest.event_id, chief["Cookie"])
    snapshot = await recv(sock)
    assert snapshot["type"] == "snapshot" and snapshot["item"]["code"] == "LED" and snapshot["seq"] == 0
    await sock.send(json.dumps({"type": "hello", "item": "WPS"}))
    assert (await recv(sock))["item"]["code"] == "WPS"
    await sock.close()


async def test_snapshot_holds_marks_versions_and_findings(settings: Any, admin: Any, db: Any,
                                                          contest: Contest) -> None:
    s0, s1 = contest.seats[0], contest.seats[1]
    await mark(db, "王裁判", s0, "A", "30", "w1")
    await mark(db, "王裁判", s0, "A", "30.5", "w2", base=1)
    await mark(db, "张裁判", s0, "A", "31", "z1")  # a measurement the judges disagree on
    await mark(db, "王裁判", s0, "B", "50", "w3")
    await mark(db, "张裁判", s0, "B", "38", "z2")  # spread 12 > max_spread 10
    snap = (await admin.get(f"/api/console/events/{contest.event_id}/items/LED")).json()
    judges = {j["name"]: j["id"] for j in snap["judges"]}
    assert set(judges) == {"王裁判", "李裁判", "张裁判"} and snap["seats"] == sorted(contest.seats)
    assert {(s["seat"], s["criterion"], s["judge_id"], s["value"], s["version"]) for s in snap["scores"]} == {
        (s0, "A", judges["王裁判"], "30.50", 2), (s0, "A", judges["张裁判"], "31.00", 1),
        (s0, "B", judges["王裁判"], "50.00", 1), (s0, "B", judges["张裁判"], "38.00", 1)}
    assert snap["seq"] == 5 and [c["code"] for c in snap["criteria"]] == ["A", "B", "S"]
    found = {(f["seat"], f["criterion"], f["code"]): f for f in snap["findings"]}
    assert found[(s0, "A", "measurement_disagreement")]["values"] == ["30.50", "31.00"]
    assert found[(s0, "B", "spread_exceeded")]["judges"] == [judges["王裁判"], judges["张裁判"]]
    # 李裁判 has marked nothing: missing at s0; s1's contestant is from 李's own unit (单位1), so never expected there
    assert contest.units[1] == "单位1"
    assert found[(s0, "A", "missing_marks")]["judges"] == [judges["李裁判"]]
    assert found[(s1, "B", "missing_marks")]["judges"] == [judges["王裁判"], judges["张裁判"]]
    assert not any(f["criterion"] == "S" for f in snap["findings"])  # no deduction rows: nothing taken off
    assert {(r["judge_id"], r["criterion"]) for r in snap["severity"]} == {
        (judges["王裁判"], "A"), (judges["张裁判"], "A"), (judges["王裁判"], "B"), (judges["张裁判"], "B")}


def test_severity_and_distribution_on_a_worked_example() -> None:
    b = CriterionSpec("B", "工艺", Decimal(60), "judgement", "mean", None, Decimal(10))
    marks = {
        ("A01", "B"): [(1, Decimal(50)), (2, Decimal(40)), (3, Decimal(45))],  # panel mean 45: +5, −5, 0
        ("A02", "B"): [(1, Decimal(30)), (2, Decimal(20))],                    # panel mean 25: +5, −5
        ("A03", "B"): [(1, Decimal(10))],                                      # alone: says nothing
        ("A04", "B"): [(1, Decimal(33)), (2, Decimal(30)), (3, Decimal(30))],  # panel mean 31: +2, −1, −1
    }
    assert severity([b], marks) == [
        {"judge_id": 1, "criterion": "B", "n": 3, "mean_deviation": "4.00"},    # (5 + 5 + 2) / 3
        {"judge_id": 2, "criterion": "B", "n": 3, "mean_deviation": "-3.67"},   # (−5 − 5 − 1) / 3
        {"judge_id": 3, "criterion": "B", "n": 2, "mean_deviation": "-0.50"}]   # (0 − 1) / 2
    # ten bins over 0 … 60: 10 → bin 1, 20 → 3, 30 → 5 (three of them), 33 → 5, 40 → 6, 45 → 7, 50 → 8
    assert distribution([b], marks) == [{"criterion": "B", "max": "60.00",
                                         "counts": [0, 1, 0, 1, 0, 4, 1, 1, 1, 0]}]


async def test_remark_reaches_the_tablet_and_the_console(settings: Any, live_server: str, client: Any, db: Any,
                                                         contest: Contest) -> None:
    chief = await login_headers(client, db, "chief", "chief_judge")
    tablet = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(tablet)
    board = await console(live_server, contest.event_id, chief["Cookie"])
    assert (await recv(board))["seq"] == 0
    seat = contest.seats[0]
    await tablet.send(json.dumps(op("m1", seat, "33")))
    assert (await recv(tablet))["type"] == "ack"
    live = await recv(board)  # the mark reaches the console, stamped with the audit seq
    wang = (await _judge(db, "王裁判")).id
    assert live == {"type": "score", "seq": 1, "item": "LED", "seat": seat, "criterion": "A", "judge_id": wang,
                    "value": "33.00", "version": 1}
    async with httpx.AsyncClient(base_url=live_server, headers=chief) as http:
        refused = await http.post(f"/api/console/events/{contest.event_id}/items/LED/remarks",
                                  json={"judge_id": wang, "seat": seat, "criterion": "A", "message": " "})
        assert refused.status_code == 422 and refused.json()["code"] == "message_required"
        sent = await http.post(f"/api/console/events/{contest.event_id}/items/LED/remarks",
                               json={"judge_id": wang, "seat": seat, "criterion": "A", "message": "请复核安装调试分"})
        assert sent.status_code == 200, sent.text
    remark = await recv(tablet)
    assert remark == {"type": "remark", "id": remark["id"], "item": "LED", "seat": seat, "criterion": "A",
                      "message": "请复核安装调试分"}
    assert (await recv(board))["type"] == "remark"
    await board.send(json.dumps({"type": "hello"}))
    snap = await recv(board)
    assert snap["seq"] == 2 and snap["remarks"][0]["message"] == "请复核安装调试分"
    assert not snap["remarks"][0]["answered"]
    again = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    assert (await recv(again))["items"][0]["remarks"][0]["message"] == "请复核安装调试分"  # in the tablet's snapshot
    await tablet.send(json.dumps(op("m2", seat, "34", base_version=1)))
    assert {(await recv(tablet))["type"], (await recv(tablet))["type"]} == {"ack", "remark_resolved"}
    assert (await recv(again))["type"] == "remark_resolved"  # every device of the judge takes the banner down
    assert [(await recv(board))["type"], (await recv(board))["type"]] == ["score", "remark_resolved"]
    await board.send(json.dumps({"type": "hello"}))
    snap = await recv(board)
    assert snap["remarks"] == [] and snap["remarks_resolved"][0]["resolution"] == "changed"
    assert await _audit(db) == [("remark", True, True, f"{seat}: 请复核安装调试分"),
                                ("resolve", True, True, f"{seat} · A 复评请求 #{remark['id']}：裁判已修改分数")]
    for sock in (tablet, board, again):
        await sock.close()


async def test_lock_unlock_with_reason_and_reopen_reach_the_tablet(settings: Any, live_server: str, client: Any,
                                                                   db: Any, contest: Contest) -> None:
    chief = await login_headers(client, db, "chief", "chief_judge")
    base = f"/api/console/events/{contest.event_id}/items/LED"
    seat = contest.seats[0]
    tablet = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(tablet)
    async with httpx.AsyncClient(base_url=live_server, headers=chief) as http:
        assert (await http.post(f"{base}/criteria/A/lock")).status_code == 200
        assert await recv(tablet) == {"type": "locked", "item": "LED", "criterion": "A"}
        assert (await http.post(f"{base}/criteria/A/lock")).json()["code"] == "already_locked"
        await tablet.send(json.dumps(op("l1", seat, "30")))
        assert (await recv(tablet))["code"] == "locked"  # the tablet's next op on A is refused
        await tablet.send(json.dumps(op("l2", seat, "45", criterion="B")))
        assert (await recv(tablet))["type"] == "ack"  # B is still open
        for body in ({}, {"reason": "   "}):
            refused = await http.post(f"{base}/criteria/A/unlock", json=body)
            assert refused.status_code == 422 and refused.json()["code"] == "reason_required"
        unlocked = await http.post(f"{base}/criteria/A/unlock", json={"reason": "王裁判录入有误，重新测量"})
        assert unlocked.status_code == 200
        assert await recv(tablet) == {"type": "unlocked", "item": "LED", "criterion": "A"}
        await tablet.send(json.dumps(op("l3", seat, "30")))
        assert (await recv(tablet))["type"] == "ack"

        # the item lock (the decryption gate) waits for every mark
        blocked = await http.post(f"{base}/lock")
        assert blocked.status_code == 409 and blocked.json()["code"] == "unresolved_findings"
        for k, s in enumerate(contest.seats):
            for name in ("王裁判", "李裁判", "张裁判"):
                if name == "李裁判" and contest.units[k] == "单位1":
                    continue  # conflict of interest: never expected
                for crit, value in (("A", "30"), ("B", "45")):
                    if not (name == "王裁判" and s == seat):
                        await mark(db, name, s, crit, value, f"{name}-{s}-{crit}")
        assert (await http.post(f"{base}/lock")).status_code == 200, (await http.get(base)).json()["findings"]
        assert await recv(tablet) == {"type": "locked", "item": "LED", "criterion": None}
        await tablet.send(json.dumps(op("l4", seat, "31", base_version=1)))
        assert (await recv(tablet))["code"] == "locked"
        assert (await http.post(f"{base}/unlock", json={})).json()["code"] == "reason_required"
        assert (await http.post(f"{base}/unlock", json={"reason": "复核发现 A 项漏计"})).status_code == 200
        assert await recv(tablet) == {"type": "unlocked", "item": "LED", "criterion": None}

        await tablet.send(json.dumps({"type": "op", "op_id": "sign", "kind": "submit_sheet", "item": "LED"}))
        assert (await recv(tablet))["submitted"] is True
        wang = (await _judge(db, "王裁判")).id
        assert (await http.post(f"{base}/sheets/{wang}/reopen", json={})).json()["code"] == "reason_required"
        assert (await http.post(f"{base}/sheets/{wang}/reopen", json={"reason": "B 项需复评"})).status_code == 200
        assert await recv(tablet) == {"type": "reopened", "item": "LED"}
        await tablet.send(json.dumps(op("l5", seat, "31", base_version=1)))
        assert (await recv(tablet))["type"] == "ack"  # open again
        assert (await http.post(f"{base}/sheets/{wang}/reopen", json={"reason": "x"})).json()["code"] == "not_submitted"
    await tablet.close()
    assert await _audit(db) == [
        ("lock", True, False, ""), ("unlock", True, False, "王裁判录入有误，重新测量"),
        ("lock", False, False, ""), ("unlock", False, False, "复核发现 A 项漏计"),
        ("submit", False, True, "签字：王裁判"), ("reopen", False, True, "B 项需复评")]


async def test_provisional_ranking_equals_the_offline_command(admin: Any, db: Any, tmp_path: Path) -> None:
    contest = await seated_contest(db, n=7, judges=(("王裁判", "评审中心"), ("张裁判", "评审中心二")))
    seats = sorted(contest.seats)
    # (A measurement, B by 王, B by 张, S deduction or None): seats 1 and 2 tie exactly across the 一/二等奖 line
    sheet = [("30", "40", "41", None), ("36", "50", "52", "2"), ("36", "50", "52", "2"), ("30", "41.5", "40", None),
             ("25", "30", "31.25", "1.5"), ("39.5", "20", "22", None), ("12", "18", "19", "10")]
    order = [1, 0, 2, 3, 4, 5, 6]  # not seat order: the ENTRIES order must still be the seat order
    scores = []
    for k in order:
        seat, (a, b1, b2, s) = seats[k], sheet[k]
        await mark(db, "王裁判", seat, "A", a, f"w-a-{k}")
        await mark(db, "张裁判", seat, "A", a, f"z-a-{k}")
        await mark(db, "王裁判", seat, "B", b1, f"w-b-{k}")
        await mark(db, "张裁判", seat, "B", b2, f"z-b-{k}")
        scores += [[seat, "A", "王", a], [seat, "A", "张", a], [seat, "B", "王", b1], [seat, "B", "张", b2]]
        if s is not None:  # both judges on the panel mark the deduction and agree (#18: a blank would disagree)
            await mark(db, "王裁判", seat, "S", s, f"w-s-{k}")
            await mark(db, "张裁判", seat, "S", s, f"z-s-{k}")
            scores += [[seat, "S", "王", s], [seat, "S", "张", s]]
    live = (await admin.get(f"/api/console/events/{contest.event_id}/items/LED")).json()["ranking"]

    async with db() as session:
        event = await event_document(session, contest.event_id)
    offline = offline_results(tmp_path, event, [[seat, seat, "", "LED", "学生组", "", "", "present"] for seat in seats],
                              scores)

    rows = [r for g in live["groups"] for r in g["rows"]]
    assert live["complete"] and live["basis"] == "total" and len(rows) == 7
    as_offline = [{"entry": r["seat"], "position": str(r["position"]), "rank": str(r["rank"]), "award": r["award"],
                   "practical": r["practical"], "practical_pct": r["practical_pct"], "total": r["total"],
                   "qualified": str(r["qualified"]).lower(), "cert_level": str(r["cert_level"] or ""),
                   "promoted": str(r["promoted"]).lower(), "tie_unresolved": str(r["tie_unresolved"]).lower()}
                  for r in rows]
    assert as_offline == [{k: row[k] for k in as_offline[0]} for row in offline]
    assert [r["tie_unresolved"] for r in rows][:2] == [True, True] and rows[0]["rank"] == rows[1]["rank"] == 1
    assert rows[0]["criteria"] == {"A": "36.00", "B": "51.00", "S": "2.00"}


async def test_incomplete_seats_are_pending_not_ranked(admin: Any, db: Any, contest: Contest) -> None:
    s0 = contest.seats[0]
    await mark(db, "王裁判", s0, "A", "30", "p1")
    ranking = (await admin.get(f"/api/console/events/{contest.event_id}/items/LED")).json()["ranking"]
    assert not ranking["complete"] and {p["seat"] for p in ranking["pending"]} == set(contest.seats)
    assert all(not g["rows"] for g in ranking["groups"])
