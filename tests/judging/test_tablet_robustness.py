"""The tablet socket cannot be stuck or hijacked (issue #12, findings 3, 4 and 7's websocket Origin), over real
websockets through the app: every malformed message gets a refusal (the op_id echoed whenever one was sent) and
the socket stays open, so a tablet's queue always drains; a refusal is not stored and comes back the same when
replayed; revoking a judge's link closes the tablets already connected (4403), and a socket that missed that
message has its next mark refused; another site's page cannot open the signed-in sockets."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text
from sqlmodel import select

from contestday.db.server_settings import write_setting
from contestday.settings import DEFAULT_PUBLIC_URL
from contestday.web.ws_origin import origin_allowed
from judging.models import Judge
from judging.panels import personal_link_token, revoke_link
from judging.service import JudgeRef, apply_op
from tests.conftest import ADMIN_TOKEN, _free_port
from tests.contestday import test_scale_out
from tests.judging.test_judging_ws import connect, op, recv, ws_url
from tests.support.judging_setup import SECRET, Contest, judge_cookie, seated_contest

EVIL = "http://evil.example"


@pytest.fixture
async def contest(db: Any) -> Contest:
    return await seated_contest(db)


async def _rows(db: Any, sql: str) -> list[tuple[Any, ...]]:
    async with db() as session:
        return [tuple(r) for r in (await session.exec(text(sql))).all()]  # type: ignore[call-overload]


def _cases(seat: str) -> list[tuple[str, str | bytes, dict[str, Any]]]:
    """(what, the frame as sent, what the reply must hold)."""
    good = op("x", seat, "10")

    def mark(**fields: Any) -> str:
        return json.dumps({**good, **fields}, ensure_ascii=False)

    def refused(op_id: Any, code: str = "invalid_op", kind: str = "nack") -> dict[str, Any]:
        return {"type": kind, "op_id": op_id, "code": code}

    return [
        ("value NaN", mark(op_id="nan", value="NaN"), refused("nan", "invalid_score")),
        ("value Infinity", mark(op_id="inf", value="Infinity"), refused("inf", "invalid_score")),
        ("value -Infinity", mark(op_id="ninf", value="-Infinity"), refused("ninf", "invalid_score")),
        ("value 1e999", mark(op_id="big", value="1e999"), refused("big", "invalid_score")),
        ("value sNaN", mark(op_id="snan", value="sNaN"), refused("snan", "invalid_score")),
        ("value a JSON number", mark(op_id="num", value=35.5), refused("num")),
        ("value a list", mark(op_id="list", value=["1"]), refused("list")),
        ("value an object", mark(op_id="obj", value={"v": 1}), refused("obj")),
        ("value true", mark(op_id="bool", value=True), refused("bool")),
        ("value too long", mark(op_id="longv", value="1" * 500), refused("longv")),
        ("no op_id", json.dumps({k: v for k, v in good.items() if k != "op_id"}), refused(None)),
        ("op_id a number", mark(op_id=7), refused(7)),
        ("op_id empty", mark(op_id=""), refused("")),
        ("op_id too long", mark(op_id="o" * 65), refused("o" * 65)),
        ("item too long", mark(op_id="longi", item="L" * 5000), refused("longi")),
        ("seat not a string", mark(op_id="seatn", seat=12), refused("seatn")),
        ("seat with NUL", mark(op_id="nul", seat="A\u000001"), refused("nul")),
        ("seat a lone surrogate", json.dumps({**good, "op_id": "sur", "seat": "\ud800"}), refused("sur")),
        ("base_version a string", mark(op_id="bv", base_version="1"), refused("bv")),
        ("base_version huge", mark(op_id="bvh", base_version=10**20), refused("bvh")),
        ("kind unknown", mark(op_id="kind", kind="delete_all"), refused("kind", "unknown_op")),
        ("kind a list", mark(op_id="kindl", kind=["set_score"]), refused("kindl", "unknown_op")),
        ("signature too long", json.dumps({"type": "op", "op_id": "sig", "kind": "submit_sheet", "item": "LED",
                                           "signature": "王" * 65}), refused("sig")),
        ("remark huge", json.dumps({"type": "op", "op_id": "rem", "kind": "keep_mark", "item": "LED",
                                    "remark": 10**20}), refused("rem")),
        ("a list instead of an object", json.dumps([good]), refused(None, kind="error")),
        ("malformed JSON", '{"type": "op", "op_id": "cut", ', refused(None, kind="error")),
        ("a NaN literal", json.dumps({**good, "op_id": "lit"}).replace('"10"', "NaN"), refused("lit")),
        ("null", "null", refused(None, kind="error")),
        ("a string", '"op"', refused(None, kind="error")),
        ("nested too deep", "[" * 30000 + "]" * 30000, refused(None, kind="error")),
        ("too big", json.dumps({**good, "op_id": "huge", "pad": "x" * 70000}), refused(None, kind="error")),
        ("a binary frame", json.dumps({**good, "op_id": "bin"}).encode(), refused(None, kind="error")),
    ]


async def test_every_malformed_message_is_refused_and_the_socket_stays_open(
        settings: Any, live_server: str, contest: Contest, db: Any) -> None:
    sock = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    assert (await recv(sock))["type"] == "snapshot"
    seat = contest.seats[0]
    for n, (what, frame, expected) in enumerate(_cases(seat)):
        for _attempt in range(2):  # replayed (as a tablet does on every reconnect): the same refusal again
            await sock.send(frame)
            reply = await recv(sock)
            assert {k: reply.get(k) for k in expected} == expected, what
            assert reply["message"] and reply.get("message_en"), what
        # the socket is still open and a following good op is applied
        await sock.send(json.dumps(op(f"good-{n}", seat, f"{n}.5", base_version=n)))
        ack = await recv(sock)
        assert (ack["type"], ack["op_id"], ack["version"]) == ("ack", f"good-{n}", n + 1), what
    await sock.close()
    cases = len(_cases(seat))
    assert await _rows(db, "SELECT value, version FROM score") == [((cases - 1) * 100 + 50, cases)]
    stored = {r[0] for r in await _rows(db, "SELECT op_id FROM applied_op")}
    assert stored == {f"good-{n}" for n in range(cases)}  # no refusal at the boundary is stored


async def test_a_tablet_replaying_a_queue_with_a_bad_op_first_drains_it(
        settings: Any, live_server: str, contest: Contest, db: Any) -> None:
    """The finding as the tablet lives it: the bad op leads the queue on every reconnect."""
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    queue = [op("q-nan", contest.seats[0], "NaN"), op("q-1", contest.seats[0], "12.50"),
             op("q-2", contest.seats[1], "13")]
    for _reconnect in range(2):
        sock = await connect(live_server, cookie)
        await recv(sock)
        for queued in queue:
            await sock.send(json.dumps(queued))
        replies = [await recv(sock) for _ in queue]
        await sock.close()
        assert [(r["type"], r["op_id"]) for r in replies] == [("nack", "q-nan"), ("ack", "q-1"), ("ack", "q-2")]
    assert sorted(await _rows(db, "SELECT value, version FROM score")) == [(1250, 1), (1300, 1)]


async def _judge(db: Any, name: str = "王裁判") -> Judge:
    async with db() as session:
        return (await session.exec(select(Judge).where(Judge.name == name))).one()


async def _closed_with(sock: Any, timeout: float = 3) -> int | None:
    """The close code the server sent, waiting at most `timeout` (skipping messages still on their way)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            await asyncio.wait_for(sock.recv(), timeout=max(0.01, deadline - time.monotonic()))
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None
    return None


async def test_revoking_the_link_closes_open_tablets_at_once(settings: Any, live_server: str, contest: Contest,
                                                              db: Any) -> None:
    judge = await _judge(db)
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    tablets = [await connect(live_server, cookie), await connect(live_server, cookie)]  # two devices
    for sock in tablets:
        await recv(sock)
    await tablets[0].send(json.dumps(op("before", contest.seats[0], "20")))
    assert (await recv(tablets[0]))["type"] == "ack"
    async with httpx.AsyncClient(base_url=live_server, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
        started = time.monotonic()
        response = await http.post(f"/admin/events/{contest.event_id}/judges/{judge.id}/revoke")
    assert response.status_code == 303, response.text
    for sock in tablets:
        assert await _closed_with(sock) == 4403
    assert time.monotonic() - started < 3
    with pytest.raises(websockets.ConnectionClosed):
        await tablets[0].send(json.dumps(op("after", contest.seats[1], "21")))
        await recv(tablets[0])
    assert await _rows(db, "SELECT value FROM score") == [(2000,)]
    reopened = await connect(live_server, cookie)  # the old session is gone too
    assert await _closed_with(reopened) == 4401


async def test_disabling_the_account_closes_its_open_tablet(live_server: str, contest: Contest,
                                                                       db: Any) -> None:
    """账号与角色 → 停用账号: the judge's tablet closes 4403 "signed out" at once."""
    judge = await _judge(db)
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    tablet = await connect(live_server, cookie)
    await recv(tablet)
    async with httpx.AsyncClient(base_url=live_server, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
        started = time.monotonic()
        response = await http.post(f"/admin/accounts/{judge.user_id}/disable", data={})
    assert response.status_code in (200, 303), response.text
    try:
        await asyncio.wait_for(tablet.recv(), 3)
        raise AssertionError("the tablet stayed open")
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None and (closed.rcvd.code, closed.rcvd.reason) == (4403, "signed out")
    assert time.monotonic() - started < 3
    with pytest.raises(websockets.ConnectionClosed):
        await tablet.send(json.dumps(op("after", contest.seats[0], "21")))
        await recv(tablet)
    assert await _rows(db, "SELECT count(*) FROM score") == [(0,)]


async def test_a_socket_that_missed_the_revocation_has_its_next_mark_refused(
        settings: Any, live_server: str, contest: Contest, db: Any) -> None:
    """Belt and braces: the link revoked without the message (another instance's channel down, say); the op is
    refused in the mark's own transaction, the socket closed, and nothing stored — not even the refusal, so the
    judge's queue goes through once the new link is opened."""
    sock = await connect(live_server, judge_cookie(live_server, contest.links["王裁判"]))
    await recv(sock)
    async with db() as session:
        judge = (await session.exec(select(Judge).where(Judge.name == "王裁判"))).one()
        await revoke_link(session, judge)  # no publish
        await session.commit()
        await session.refresh(judge)
        new_link = personal_link_token(SECRET, judge)
    mark = op("missed", contest.seats[0], "22")
    await sock.send(json.dumps(mark))
    assert await _closed_with(sock) == 4403
    assert await _rows(db, "SELECT count(*) FROM score") == [(0,)]
    assert await _rows(db, "SELECT count(*) FROM applied_op") == [(0,)]
    fresh = await connect(live_server, judge_cookie(live_server, new_link))
    await recv(fresh)
    await fresh.send(json.dumps(mark))
    assert (await recv(fresh))["type"] == "ack"
    await fresh.close()


async def test_apply_op_refuses_a_mark_under_an_older_link_version(db: Any, contest: Contest) -> None:
    judge = await _judge(db)
    stale = JudgeRef(judge.id or 0, judge.event_id, judge.name, judge.unit_key, judge.link_version - 1)
    async with db() as session:
        refused = await apply_op(session, stale, op("old", contest.seats[0], "5"))
    assert refused.revoked and refused.reply["code"] == "link_revoked" and refused.changed is None
    async with db() as session:
        assert (await apply_op(session, judge, op("old", contest.seats[0], "5"))).reply["type"] == "ack"


# ---- Origin ------------------------------------------------------------------------------------------------

async def _open(url: str, cookie: str | None = None, origin: str | None = None) -> Any:
    headers = {"Cookie": cookie} if cookie else {}
    return await websockets.connect(url, additional_headers=headers, origin=origin,  # type: ignore[arg-type]
                                    open_timeout=10)


async def test_the_tablet_socket_refuses_another_sites_page(settings: Any, live_server: str,
                                                             contest: Contest) -> None:
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    for origin in (EVIL, "null", live_server.replace("127.0.0.1", "127.0.0.1.evil.example"),
                   live_server.replace("http://", "https://"), live_server + "0"):
        sock = await _open(ws_url(live_server), cookie, origin)
        assert await _closed_with(sock) == 4403, origin  # before any snapshot
    for origin in (live_server, DEFAULT_PUBLIC_URL, None):
        sock = await _open(ws_url(live_server), cookie, origin)
        assert (await recv(sock))["type"] == "snapshot", origin
        await sock.close()


async def test_the_tablet_socket_accepts_the_address_set_on_the_event_page(settings: Any, live_server: str,
                                                                           db: Any, contest: Contest) -> None:
    """The QR codes carry the stored public address, so the tablets' pages come from it: its Origin is the app's."""
    lan = "http://192.168.1.10:8000"
    async with db() as session:
        await write_setting(session, "public_url", lan, "admin")
        await session.commit()
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    sock = await _open(ws_url(live_server), cookie, lan)
    assert (await recv(sock))["type"] == "snapshot"
    await sock.close()
    sock = await _open(ws_url(live_server), cookie, "http://192.168.1.11:8000")
    assert await _closed_with(sock) == 4403


async def test_the_console_socket_refuses_another_sites_page(settings: Any, live_server: str, client: Any,
                                                              db: Any, contest: Contest) -> None:
    from tests.support.helpers import login_headers

    chief = (await login_headers(client, db, "chief", "chief_judge"))["Cookie"]
    url = live_server.replace("http://", "ws://") + f"/ws/console/{contest.event_id}?item=LED"
    sock = await _open(url, chief, EVIL)
    assert await _closed_with(sock) == 4403
    for origin in (live_server, None):
        sock = await _open(url, chief, origin)
        assert (await recv(sock))["type"] == "snapshot"
        await sock.close()


async def test_the_public_board_socket_takes_any_origin(settings: Any, live_server: str, contest: Contest) -> None:
    """Deliberately open: no sign-in, published results only (kiosk/board.py)."""
    sock = await _open(live_server.replace("http://", "ws://") + f"/ws/board/{contest.event_id}", None, EVIL)
    assert (await recv(sock))["type"] == "snapshot"
    await sock.close()


@pytest.mark.parametrize(("origin", "scheme", "host", "public", "allowed"), [
    (None, "ws", "a.example", None, True),
    ("http://a.example", "ws", "a.example", None, True),
    ("http://a.example:80", "ws", "A.EXAMPLE", None, True),
    ("https://a.example", "wss", "a.example:443", None, True),
    ("https://a.example", "ws", "a.example", None, False),  # the page was https, the socket came in plain
    ("http://a.example:8080", "ws", "a.example", None, False),
    ("https://score.school.cn", "ws", "10.0.0.5:8000", "https://score.school.cn", True),  # behind a proxy
    ("https://score.school.cn.evil.example", "ws", "10.0.0.5:8000", "https://score.school.cn", False),
    ("http://user@a.example", "ws", "a.example", None, False),
    ("http://a.example/path", "ws", "a.example", None, False),
    ("null", "ws", "a.example", None, False),
    ("file://", "ws", "a.example", None, False),
    ("http://a.example:99999", "ws", "a.example", None, False),
    ("http://a.example", "ws", None, None, False),
])
def test_origin_rule(origin: str | None, scheme: str, host: str | None, public: str | None, allowed: bool) -> None:
    assert origin_allowed(origin, scheme, host, public) is allowed


# ---- two instances ---------------------------------------------------------------------------------------

pg_url = test_scale_out.pg_url  # a fresh migrated PostgreSQL database; skips without PostgreSQL and Redis


async def test_revoking_on_one_instance_closes_the_tablet_on_the_other(pg_url: str, tmp_path: Any) -> None:
    from contestday.db.engine import create_engine, create_sessionmaker
    from tests.judging.test_judging_durability import _start

    engine = create_engine(pg_url)
    contest = await seated_contest(create_sessionmaker(engine))
    async with create_sessionmaker(engine)() as session:
        judge_id = (await session.exec(select(Judge))).one().id
    await engine.dispose()

    class Settings:  # what _start needs
        database_url, data_dir, secret_key = pg_url, tmp_path, SECRET

    saved = {k: os.environ.get(k) for k in ("CONTESTDAY_REDIS_URL", "CONTESTDAY_ADMIN_TOKEN")}
    os.environ.update(CONTESTDAY_REDIS_URL=test_scale_out.REDIS or "", CONTESTDAY_ADMIN_TOKEN=ADMIN_TOKEN)
    servers = []
    try:
        ports = (_free_port(), _free_port())
        servers = [_start(Settings, p) for p in ports]
        one, two = (f"http://127.0.0.1:{p}" for p in ports)
        tablet = await connect(two, judge_cookie(two, contest.links["王裁判"]))
        await recv(tablet)
        await asyncio.sleep(0.5)  # the tablet's Redis subscription is in place
        async with httpx.AsyncClient(base_url=one, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
            response = await http.post(f"/admin/events/{contest.event_id}/judges/{judge_id}/revoke")
        assert response.status_code == 303, response.text
        assert await _closed_with(tablet) == 4403
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
