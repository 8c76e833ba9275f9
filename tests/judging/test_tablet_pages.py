"""The tablet page `/judge`, server side: who may open it (judges and chief judges; anyone else is asked to open
the personal link again, never sent to the organiser login); the shell and its script messages in Chinese and
English; sizes fit a venue's Wi-Fi; no CDN. The queue's pure parts (mark checks, base versions, op ids) run
under Node when it is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contestday.web.i18n import EN
from judging.pages import TABLET_JS
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}
JUDGING = Path(__file__).resolve().parents[2] / "judging"
STATIC = JUDGING / "static"
CONSOLE_STATIC = JUDGING.parent / "results" / "console" / "static"  # the console's script, served beside
LITERAL = re.compile(r"""_\(\s*(?:"([^"]*)"|'([^']*)')\s*[,)]""")


async def _judge_headers(client: Client, db: Any) -> dict[str, str]:
    contest = await seated_contest(db, n=2)
    response = await client.get(f"/j/{contest.links['王裁判']}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/judge"
    token = response.cookies["contestday_session"]
    client.cookies.clear()
    return {"Cookie": f"contestday_session={token}"}


async def test_a_judge_gets_the_shell_with_its_scripts(client: Client, db: Any) -> None:
    headers = await _judge_headers(client, db)
    response = await client.get("/judge", headers={**headers, **HTML})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    for part in ('src="/static/judging/queue.js"', 'src="/static/judging/tablet.js"',
                 'href="/static/judging/tablet.css"', 'data-ws="/ws/judge"', "待发送 0 条", "签字提交"):
        assert part in page, part
    assert re.search(r'data-store="contestday\.tablet\.u\d+"', page)  # one local store per account
    messages = json.loads(re.search(r'<script type="application/json" id="tablet-text">(.*?)</script>', page,
                                    re.S).group(1))  # type: ignore[union-attr]
    assert messages["online"] == "在线" and messages["offline"] == "离线" and messages["pending"] == "待发送 {n} 条"
    for name in ("queue.js", "tablet.js", "tablet.css"):
        assert (await client.get(f"/static/judging/{name}")).status_code == 200


async def test_a_chief_judge_may_open_it_too(client: Client, db: Any) -> None:
    headers = await login_headers(client, db, "chief", "chief_judge")
    assert (await client.get("/judge", headers={**headers, **HTML})).status_code == 200


async def test_without_a_session_the_page_asks_for_the_personal_link_not_the_login(client: Client) -> None:
    response = await client.get("/judge", headers=HTML, follow_redirects=False)
    assert response.status_code == 401 and "location" not in response.headers
    assert "请重新打开您的个人评分链接" in response.text and 'action="/login"' not in response.text
    api = await client.get("/judge", headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("role", ["organiser", "checkin", "encryption_judge"])
async def test_other_roles_are_told_this_account_is_not_a_judge(client: Client, db: Any, role: str) -> None:
    headers = await login_headers(client, db, f"u-{role}", role)
    response = await client.get("/judge", headers={**headers, **HTML})
    assert response.status_code == 403 and "当前账号不是裁判" in response.text
    api = await client.get("/judge", headers={**headers, "Accept": "application/json"})
    assert api.status_code == 403 and api.json()["code"] == "forbidden"


async def test_the_page_speaks_english_when_chosen(client: Client, db: Any) -> None:
    headers = await _judge_headers(client, db)
    page = (await client.get("/judge", headers={**headers, **HTML, "Cookie": headers["Cookie"] + "; lang=en"})).text
    assert '"online": "Online"' in page and '"pending": "{n} waiting to send"' in page and "Sign and submit" in page
    anonymous = (await client.get("/judge", headers={**HTML, "Cookie": "lang=en"})).text
    assert "Please open your personal marking link again" in anonymous


def test_every_message_of_the_tablet_has_english() -> None:
    found = {m.group(1) or m.group(2) for p in (JUDGING / "templates" / "judging").glob("tablet*.html")
             for m in LITERAL.finditer(p.read_text(encoding="utf-8"))}
    assert len(found) >= 10
    found |= set(TABLET_JS.values())
    assert sorted(m for m in found if m not in EN) == []


def test_the_page_is_small_and_needs_no_cdn_or_framework() -> None:
    sizes = {p.name: p.stat().st_size for p in STATIC.iterdir()}
    assert sizes["tablet.js"] + sizes["queue.js"] < 40_000 and sizes["tablet.css"] < 15_000, sizes
    pages = (JUDGING / "templates" / "judging").glob("tablet*.html")
    for path in [*STATIC.iterdir(), *CONSOLE_STATIC.iterdir(), *pages]:
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", source), path
        assert "import " not in source.split("\n", 1)[0] and "require(" not in source, path


NODE_CHECK = r"""
const fs = require("fs");
const store = {};
global.window = { localStorage: { getItem: k => store[k] ?? null, setItem: (k, v) => { store[k] = String(v); } },
                  crypto: undefined };
eval(fs.readFileSync(process.argv[2], "utf8"));
const Q = window.TabletQueue;
const out = {};
out.checks = ["35.5", "40", "40.00", "40.01", "1.234", "abc", "", "３５．５", ".5", "0"]
  .map(v => Q.checkMark(v, "40.00"));
const queue = new Q.Queue(new Q.Store("t"));
const key = Q.markKey("LED", "A01", "A");
out.bases = [queue.baseVersion(key, 2)];
queue.push({kind: "set_score", item: "LED", seat: "A01", criterion: "A", op_id: "x", value: "1.00", base_version: 2});
out.bases.push(queue.baseVersion(key, 2));
queue.push({kind: "set_score", item: "LED", seat: "A01", criterion: "A", op_id: "y", value: "2.00", base_version: 3});
out.bases.push(queue.baseVersion(key, 2), queue.baseVersion(Q.markKey("LED", "A02", "A"), 5));
out.stored = JSON.parse(store["t.queue"]).map(op => op.op_id);
queue.remove("x");
out.afterRemove = new Q.Queue(new Q.Store("t")).ops.map(op => op.op_id);
out.ids = [Q.newOpId(), Q.newOpId()];
console.log(JSON.stringify(out));
"""


def test_queue_checks_marks_and_chains_base_versions(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js not found: .ci/run must install nodejs")
        pytest.skip("Node.js not installed (apt-get install nodejs)")
    script = tmp_path / "check.js"
    script.write_text(NODE_CHECK, encoding="utf-8")
    run = subprocess.run(["node", str(script), str(STATIC / "queue.js")], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout)
    ok = [(c["ok"], c.get("value"), c.get("error")) for c in out["checks"]]
    assert ok == [(True, "35.50", None), (True, "40.00", None), (True, "40.00", None),
                  (False, None, "out_of_range"), (False, None, "too_many_decimals"), (False, None, "bad_number"),
                  (True, None, None), (True, "35.50", None), (True, "0.50", None), (True, "0.00", None)]
    # each queued edit of a mark raises its version by one: the next edit is based on the last one's result
    assert out["bases"] == [2, 3, 4, 5]
    assert out["stored"] == ["x", "y"] and out["afterRemove"] == ["y"]  # in local storage, in order
    uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert all(uuid.match(i) for i in out["ids"]) and out["ids"][0] != out["ids"][1]  # no crypto: the fallback
