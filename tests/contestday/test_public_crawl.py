"""R5 (issue 17): personal data never leaves by the wrong door, found by a crawl of every route of the app.

Every GET route and every websocket of the app's route table (not a hand list: a new route is crawled the day it is
added) is fetched with the path parameters of a seeded event (its id, the item code, a ticket code, a certificate
serial with its signature, …). Anonymous, after publication: no response (page, JSON, PDF, spreadsheet, the board's
socket) holds the unmasked ID number or the phone number of any stored contestant. As a judge, before decryption: no
response (the tablet's pages, the judge's websocket snapshot and acks) holds a contestant's name."""

from __future__ import annotations

import io
import itertools
import json
import re
import shutil
import subprocess
import zipfile
from typing import Any

import httpx
import pytest
import websockets
from litestar import Litestar
from litestar.routes import HTTPRoute, WebSocketRoute
from sqlmodel import select

from certificates.store import IssuedCertificate, issue, verify_url
from judging.models import Judge
from registration.entries.models import Entry, EntryMember
from registration.entries.personal import PersonalData
from tests.judging.test_judging_ws import op
from tests.results.test_publication import marked, settle
from tests.support.helpers import login_headers
from tests.support.judging_setup import judge_cookie

_PARAM = re.compile(r"\{(\w+):(\w+)\}")


def _text(response: httpx.Response) -> str:
    """What a reader of the response sees: JSON with its characters unescaped, a PDF's text, a spreadsheet's
    or archive's members; images and fonts are no text."""
    kind = response.headers.get("content-type", "")
    body = response.content
    if "json" in kind:
        try:
            return json.dumps(response.json(), ensure_ascii=False)
        except ValueError:
            return response.text
    if "pdf" in kind or body.startswith(b"%PDF"):
        return subprocess.run([shutil.which("pdftotext") or "pdftotext", "-q", "-", "-"], input=body,
                              capture_output=True, check=True).stdout.decode()
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as zipped:
            return "\n".join(zipped.read(n).decode("utf-8", "replace") for n in zipped.namelist())
    if kind.startswith(("image/", "font/")):
        return ""
    return response.text


def _urls(app: Litestar, values: dict[str, list[str]], queries: dict[str, str]) -> tuple[list[str], list[str]]:
    """(every GET route, every websocket route) of `app` with each combination of the known parameter values
    (an unknown parameter: 1 or "x"); a route with a parameter named in `queries` also with that query."""
    http, sockets = [], []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and "GET" not in route.methods:
            continue
        if not isinstance(route, HTTPRoute | WebSocketRoute):
            continue
        params = _PARAM.findall(route.path)
        choices = [values.get(name, ["1" if kind == "int" else "x"]) for name, kind in params]
        for combination in itertools.product(*choices):
            path = route.path
            for (name, kind), value in zip(params, combination, strict=True):
                path = path.replace(f"{{{name}:{kind}}}", value)
            target = sockets if isinstance(route, WebSocketRoute) else http
            target.append(path)
            target.extend(path + queries[name] for name, _ in params if name in queries)
    return http, sockets


async def _crawl(app: Litestar, base: str, values: dict[str, list[str]], queries: dict[str, str],
                 cookie: str | None) -> dict[str, tuple[int, str]]:
    """url -> (status, text) of every response; the websockets' first message (and the judge's: an ack)."""
    http_urls, socket_urls = _urls(app, values, queries)
    headers = {"Cookie": cookie} if cookie else {}
    seen: dict[str, tuple[int, str]] = {}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for url in http_urls:
            response = await client.get(url)
            seen[url] = (response.status_code, _text(response))
    for url in socket_urls:
        messages = []
        try:
            async with websockets.connect(base.replace("http://", "ws://") + url, additional_headers=headers,
                                          open_timeout=10) as sock:
                messages.append(await sock.recv(decode=True))
                if url == "/ws/judge":
                    first = json.loads(messages[0])
                    seat = first["items"][0]["seats"][0]
                    await sock.send(json.dumps(op("crawl", seat, "12", base_version=1, criterion="A")))
                    messages.append(await sock.recv(decode=True))
        except websockets.exceptions.ConnectionClosed as closed:
            messages.append(f"closed {closed.rcvd.code if closed.rcvd else '?'}")
        seen["ws:" + url] = (101, "\n".join(json.dumps(json.loads(m), ensure_ascii=False) if m.startswith("{")
                                            else m for m in map(str, messages)))
    return seen


@pytest.mark.reliability
async def test_a_crawl_of_every_route_finds_no_unmasked_id_or_phone_in_public_and_no_name_for_judges(
        settings: Any, db: Any, live_server: str, app: Litestar, capsys: pytest.CaptureFixture[str]) -> None:
    contest = await marked(db)
    async with db() as session:
        members = (await session.exec(select(EntryMember))).all()
        entries = (await session.exec(select(Entry))).all()
        judge = (await session.exec(select(Judge))).one()
    personal = PersonalData(settings.secret_key)
    ids = {personal.decrypt(m.id_number_enc) or "" for m in members}
    phones = {m.phone for m in members}
    names = {m.name for m in members}
    assert len(ids) == len(phones) == len(names) == 6 and all(len(i) == 18 for i in ids)
    values = {"event_id": [str(contest.event_id)], "code": ["LED"], "entry_id": [str(entries[0].id)],
              "judge_id": [str(judge.id)], "lang": ["zh"], "position": ["0"]}

    # the judge, before decryption: every route and socket, the tablet's own included
    cookie = judge_cookie(live_server, contest.links["王裁判"])
    as_judge = await _crawl(app, live_server, values, {}, cookie)
    assert as_judge["/judge"][0] == 200 and '"type": "ack"' in as_judge["ws:/ws/judge"][1], as_judge["ws:/ws/judge"]
    leaks = {url: sorted(n for n in names if n in text) for url, (_s, text) in as_judge.items()}
    assert not {url: found for url, found in leaks.items() if found}, "names shown to a judge before decryption"

    # the public, after publication and the certificates: every route and socket, anonymously
    await settle(db, contest)
    async with httpx.AsyncClient(base_url=live_server) as http:
        chief = await login_headers(http, db, "chief", "chief_judge")
        published = await http.post(f"/api/events/{contest.event_id}/items/LED/publication", json={}, headers=chief)
        assert published.status_code == 201, published.text
    async with db() as session:
        assert await issue(session, contest.event_id) == 6
    async with db() as session:
        serial = (await session.exec(select(IssuedCertificate.serial))).first()
    assert serial
    signed = verify_url("", settings.secret_key, serial)
    values |= {"code": ["LED", entries[0].ticket_code], "serial": [serial]}
    public = await _crawl(app, live_server, values, {"serial": "?" + signed.split("?", 1)[1]}, None)
    needles = ids | {i.lower() for i in ids} | phones
    leaks = {url: sorted(n for n in needles if n in text) for url, (_s, text) in public.items()}
    assert not {url: found for url, found in leaks.items() if found}, "ID or phone numbers in public responses"
    answered = [url for url, (status, _t) in public.items() if status == 200]
    results_page = public[f"/results/{contest.event_id}/LED"]
    assert results_page[0] == 200 and all(n in results_page[1] for n in names)  # the crawl saw content
    assert public[f"/t/{entries[0].ticket_code}"][0] == 200 and public[signed][0] == 200
    assert not [url for url, (status, _t) in {**public, **as_judge}.items() if status >= 500]
    with capsys.disabled():
        print(f"\nR5: {len(as_judge)} judge responses without a name, {len(public)} public responses "
              f"({len(answered)} answered 200) without an ID or phone number")
