"""Re-mark requests end: the judge's change of that mark resolves the request in the mark's own transaction,
the judge may keep the mark (`keep_mark`, applied once, replay-safe), the chief judge may close a request with
a note; every resolution is an audit link, reaches the console and the judge's tablet, takes the banner down,
and the publication gate stops counting it (`remark_open`). Over real websockets through the app."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import polars as pl
import pytest
from sqlalchemy import text

from judging.audit import replay_matches, verify_event
from tests.judging.test_judging_ws import connect, op, recv
from tests.results.test_console import _judge, console
from tests.support.helpers import login_headers
from tests.support.judging_setup import Contest, judge_cookie, seated_contest

JUDGES = (("王裁判", "评审中心"), ("李裁判", "评审中心二"))


@pytest.fixture
async def contest(db: Any) -> Contest:
    return await seated_contest(db, n=3, judges=JUDGES)


def keep(op_id: str, remark_id: Any) -> dict[str, Any]:
    return {"type": "op", "op_id": op_id, "kind": "keep_mark", "remark": remark_id}


async def _rows(db: Any, sql: str) -> list[tuple[Any, ...]]:
    async with db() as session:
        return [tuple(r) for r in (await session.exec(text(sql))).all()]  # type: ignore[call-overload]


async def _blockers(http: httpx.AsyncClient, event_id: int) -> list[str]:
    answer = await http.get(f"/api/events/{event_id}/items/LED/publication")
    assert answer.status_code == 200, answer.text
    return [b["code"] for b in answer.json()["blockers"]]


async def _ask(http: httpx.AsyncClient, event_id: int, judge_id: int, seat: str, criterion: str = "A",
               message: str = "请复核") -> dict[str, Any]:
    sent = await http.post(f"/api/console/events/{event_id}/items/LED/remarks",
                           json={"judge_id": judge_id, "seat": seat, "criterion": criterion, "message": message})
    assert sent.status_code == 200, sent.text
    return sent.json()  # type: ignore[no-any-return]


async def _until(sock: Any, kind: str) -> dict[str, Any]:
    while True:
        message = await recv(sock)
        if message["type"] == kind:
            return message


async def test_changing_the_mark_resolves_the_request_everywhere(settings: Any, live_server: str, client: Any,
                                                                 db: Any, contest: Contest) -> None:
    chief = await login_headers(client, db, "chief", "chief_judge")
    wang = (await _judge(db, "王裁判")).id or 0
    s0 = contest.seats[0]
    tablet = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(tablet)
    other = await connect(live_server, judge_cookie(live_server, contest.links["李裁判"]))
    await recv(other)
    board = await console(live_server, contest.event_id, chief["Cookie"])
    await recv(board)
    await tablet.send(json.dumps(op("w1", s0, "33")))
    assert (await recv(tablet))["version"] == 1
    async with httpx.AsyncClient(base_url=live_server, headers=chief) as http:
        sent = await _ask(http, contest.event_id, wang, s0, message="请复核安装调试分")
        assert "remark_open" in await _blockers(http, contest.event_id)
        remark_id = sent["id"]
        assert (await recv(tablet))["type"] == "remark"
        # neither another judge's mark of that cell, another criterion, nor a refused (stale) edit answers it
        await other.send(json.dumps(op("l1", s0, "34")))
        assert (await recv(other))["type"] == "ack"
        await tablet.send(json.dumps(op("w2", s0, "30", criterion="B")))
        assert "resolved" not in await recv(tablet)
        await tablet.send(json.dumps(op("w3", s0, "35", base_version=0)))
        assert (await recv(tablet))["code"] == "stale_version"
        assert (await _rows(db, "SELECT resolved_at FROM remark_request")) == [(None,)]
        # the judge changes the mark: resolved with it
        await tablet.send(json.dumps(op("w4", s0, "35", base_version=1)))
        got = [await recv(tablet), await recv(tablet)]
        ack = next(m for m in got if m["type"] == "ack")
        assert ack["value"] == "35.00" and ack["version"] == 2 and ack["resolved"] == [remark_id]
        assert next(m for m in got if m["type"] == "remark_resolved") == {
            "type": "remark_resolved", "id": remark_id, "item": "LED", "seat": s0, "criterion": "A",
            "resolution": "changed"}
        score = await _until(board, "score")
        while score["criterion"] != "A" or score["judge_id"] != wang or score["version"] != 2:
            score = await _until(board, "score")
        resolved = await recv(board)  # the console hears it right after the mark, next in the audit seq
        assert resolved["type"] == "remark_resolved" and resolved["seq"] == score["seq"] + 1
        assert resolved["id"] == remark_id and resolved["judge_id"] == wang and resolved["by"] == "王裁判"
        assert "remark_open" not in await _blockers(http, contest.event_id)
        snap = (await http.get(f"/api/console/events/{contest.event_id}/items/LED")).json()
        assert snap["remarks"] == []
        assert [(r["id"], r["resolution"], r["resolved_by"]) for r in snap["remarks_resolved"]] == [
            (remark_id, "changed", "王裁判")]
        # a second edit of the same mark finds nothing open: nothing more resolved, nothing more logged
        await tablet.send(json.dumps(op("w5", s0, "36", base_version=2)))
        assert "resolved" not in await recv(tablet)
    again = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    assert (await recv(again))["items"][0]["remarks"] == []  # the banner does not come back on reconnect
    assert await _rows(db, "SELECT resolution, resolved_by FROM remark_request") == [("changed", "王裁判")]
    assert await _rows(db, "SELECT kind, reason FROM score_event WHERE kind IN ('remark', 'resolve') ORDER BY seq") == [
        ("remark", f"{s0}: 请复核安装调试分"), ("resolve", f"{s0} · A 复评请求 #{remark_id}：裁判已修改分数")]
    async with db() as session:
        assert (await verify_event(session, contest.event_id))[1] is None
        assert await replay_matches(session, contest.event_id) == []
    for sock in (tablet, other, board, again):
        await sock.close()


async def test_keep_mark_resolves_without_a_change_once(settings: Any, live_server: str, client: Any, db: Any,
                                                        contest: Contest) -> None:
    chief = await login_headers(client, db, "chief", "chief_judge")
    wang, li = (await _judge(db, "王裁判")).id or 0, (await _judge(db, "李裁判")).id or 0
    s0, s1 = contest.seats[0], contest.seats[1]
    tablet = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(tablet)
    await tablet.send(json.dumps(op("w1", s0, "33.5")))
    await recv(tablet)
    async with httpx.AsyncClient(base_url=live_server, headers=chief) as http:
        mine = (await _ask(http, contest.event_id, wang, s0))["id"]
        theirs = (await _ask(http, contest.event_id, li, s1))["id"]
        await _until(tablet, "remark")
        await tablet.send(json.dumps(keep("k0", "nope")))
        assert (await recv(tablet))["code"] == "invalid_op"
        await tablet.send(json.dumps(keep("k1", theirs)))  # another judge's request is not this tablet's
        assert (await recv(tablet))["code"] == "unknown_remark"
        await tablet.send(json.dumps(keep("k2", mine)))
        got = [await recv(tablet), await recv(tablet)]
        ack = {"type": "ack", "op_id": "k2", "remark": mine, "item": "LED", "resolved": True}
        assert ack in got and {"type": "remark_resolved", "id": mine, "item": "LED", "seat": s0, "criterion": "A",
                               "resolution": "kept"} in got
        await tablet.send(json.dumps(keep("k2", mine)))  # replayed after a lost reply: the same answer, once
        assert await recv(tablet) == ack
        await tablet.send(json.dumps(keep("k3", mine)))  # a second device's keep of a resolved request: acked
        assert (await recv(tablet))["resolved"] is True
        blockers = await _blockers(http, contest.event_id)
        assert blockers.count("remark_open") == 1  # 李's request is still open
    assert await _rows(db, "SELECT value, version FROM score") == [(3350, 1)]  # the mark untouched
    assert await _rows(db, "SELECT id, resolution, resolved_by FROM remark_request ORDER BY id") == [
        (mine, "kept", "王裁判"), (theirs, None, None)]
    assert await _rows(db, "SELECT reason, old_value, new_value FROM score_event WHERE kind = 'resolve'") == [
        (f"{s0} · A 复评请求 #{mine}：裁判确认原分（33.50）", "33.50", "33.50")]
    await tablet.close()


async def test_the_chief_judge_closes_a_request_with_a_note(settings: Any, live_server: str, client: Any, db: Any,
                                                            contest: Contest) -> None:
    chief = await login_headers(client, db, "chief", "chief_judge")
    wang = (await _judge(db, "王裁判")).id or 0
    s0 = contest.seats[0]
    tablet = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(tablet)
    board = await console(live_server, contest.event_id, chief["Cookie"])
    await recv(board)
    base = f"/api/console/events/{contest.event_id}/items"
    async with httpx.AsyncClient(base_url=live_server, headers=chief) as http:
        remark_id = (await _ask(http, contest.event_id, wang, s0, criterion="B"))["id"]
        await _until(tablet, "remark")
        await _until(board, "remark")
        bare = await http.post(f"{base}/LED/remarks/{remark_id}/close", json={"note": "  "})
        assert bare.status_code == 422 and bare.json()["code"] == "reason_required"
        elsewhere = await http.post(f"{base}/WPS/remarks/{remark_id}/close", json={"note": "误发"})
        assert elsewhere.status_code == 404 and elsewhere.json()["code"] == "unknown_remark"
        closed = await http.post(f"{base}/LED/remarks/{remark_id}/close", json={"note": "误发，B 项无误"})
        assert closed.status_code == 200, closed.text
        assert closed.json()["resolution"] == "closed" and closed.json()["note"] == "误发，B 项无误"
        assert await recv(tablet) == {"type": "remark_resolved", "id": remark_id, "item": "LED", "seat": s0,
                                      "criterion": "B", "resolution": "closed"}
        assert (await _until(board, "remark_resolved"))["id"] == remark_id
        twice = await http.post(f"{base}/LED/remarks/{remark_id}/close", json={"note": "再关"})
        assert twice.status_code == 409 and twice.json()["code"] == "already_resolved"
        assert "remark_open" not in await _blockers(http, contest.event_id)
        # a request closed is closed for the tablet too: keeping the mark now changes nothing
        await tablet.send(json.dumps(keep("k1", remark_id)))
        assert (await recv(tablet))["resolved"] is True
    assert await _rows(db, "SELECT reason, actor FROM score_event WHERE kind = 'resolve'") == [
        (f"{s0} · B 复评请求 #{remark_id}：裁判长关闭请求：误发，B 项无误", "chief")]
    assert await _rows(db, "SELECT resolution, resolution_note FROM remark_request") == [("closed", "误发，B 项无误")]
    for sock in (tablet, board):
        await sock.close()


def _workbook(rows: list[tuple[str, str, str, str]]) -> bytes:
    out = io.BytesIO()
    pl.DataFrame(rows, schema=["赛位", "裁判", "评分项", "分数"], orient="row").write_excel(out)
    return out.getvalue()


async def test_a_mark_from_a_workbook_or_a_paper_sheet_resolves_the_request(
        settings: Any, live_server: str, client: Any, db: Any, contest: Contest) -> None:
    chief = await login_headers(client, db, "chief", "chief_judge")
    typist = await login_headers(client, db, "typist", "chief_judge")
    checker = await login_headers(client, db, "checker", "organiser")
    wang, li = (await _judge(db, "王裁判")).id or 0, (await _judge(db, "李裁判")).id or 0
    s0 = contest.seats[0]
    tablet = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(tablet)
    async with httpx.AsyncClient(base_url=live_server, headers=chief) as http:
        by_import = (await _ask(http, contest.event_id, wang, s0))["id"]
        by_paper = (await _ask(http, contest.event_id, li, s0, criterion="B"))["id"]
        await _until(tablet, "remark")
        imported = await http.post(f"/api/console/events/{contest.event_id}/items/LED/scores/import",
                                   files={"file": ("评分表.xlsx", _workbook([(s0, "王裁判", "A", "31")]))})
        assert imported.status_code == 200 and imported.json()["resolved"] == 1, imported.text
        assert await _until(tablet, "remark_resolved") == {"type": "remark_resolved", "id": by_import, "item": "LED",
                                                           "seat": s0, "criterion": "A", "resolution": "import"}
    paper = f"/api/events/{contest.event_id}/items/LED/paper/{li}"
    marks = [{"seat": s0, "criterion": "B", "value": "28"}]
    assert (await client.post(paper, json={"round": 1, "marks": marks}, headers=chief)).status_code == 201
    assert (await client.post(paper, json={"round": 2, "marks": marks}, headers=typist)).status_code == 201
    done = await client.post(f"{paper}/resolve", json={}, headers=checker)
    assert done.status_code == 200 and done.json() == {"applied": 1, "resolved": 1}
    assert await _rows(db, "SELECT id, resolution FROM remark_request ORDER BY id") == [
        (by_import, "import"), (by_paper, "paper")]
    async with db() as session:
        assert (await verify_event(session, contest.event_id))[1] is None
    await tablet.close()
