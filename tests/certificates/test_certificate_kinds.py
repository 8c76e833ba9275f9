"""Certificate kinds (#18 point 1): a 专项职业能力证书 has no level, so no 证书等级 and no promotion.

Seed 001 (the special-ability contest) says only "参赛选手成绩合格的,按规定颁发相应专项职业能力证书": a
qualified contestant earns the special-ability certificate, which has no level. Promotion belongs to seed
002's 职业技能等级证书: "在命题等级基础上,可晋升高一等级". So for a special_ability item the offline
RESULTS.csv leaves `cert_level` empty and `promoted` false (qualified as before), the lists say
"专项职业能力证书（合格）" where a level would be, there is no 晋升名单 (409 `no_promotion_list`), and the
public page, the lists' PDFs and the certificates never speak of 晋升 or a level; a skill_level item keeps both.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from sqlmodel import select

from certificates.store import sign
from contestday.cli import main
from registration.entries.exports import LEVEL_NAMES
from registration.events.models import Item
from registration.events.service import event_document
from tests.contestday.test_cli import env  # noqa: F401  (the fixture: the CLI's settings in a temporary directory)
from tests.results.test_publication import marked, settle
from tests.support.helpers import login_headers
from tests.support.judging_setup import SECRET

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NO_LEVEL_WORDS = ("晋升", "等级", *LEVEL_NAMES.values())


def _compute(d: Path) -> list[dict[str, str]]:
    result = CliRunner().invoke(main, ["results", "compute", "--event", str(d / "event.json"), "--entries",
                                       str(d / "entries.csv"), "--scores", str(d / "scores.csv"),
                                       "--out", str(d / "results.csv")])
    assert result.exit_code == 0, result.stderr
    with (d / "results.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_offline_special_ability_item_has_no_cert_level_and_nobody_promoted(tmp_path: Path) -> None:
    """Seed 001: "成绩合格的,按规定颁发相应专项职业能力证书" (no level); seed 002's promotion ("在命题等级基础上,
    可晋升高一等级") needs a 命题等级. The example's LED as a special-ability item: same ranking, awards and
    qualified; cert_level empty and promoted false; the skill-level ROBOT item is untouched."""
    for name in ("entries.csv", "scores.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    doc = json.loads((EXAMPLES / "event.json").read_text(encoding="utf-8"))
    (tmp_path / "event.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    levelled = _compute(tmp_path)
    led = doc["items"][0]
    del led["exam_level"]
    led["certificate"] = "special_ability"
    (tmp_path / "event.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    special = _compute(tmp_path)

    assert any(r["item"] == "LED" and r["promoted"] == "true" and r["cert_level"] == "3" for r in levelled)
    assert len(special) == len(levelled)
    for before, after in zip(levelled, special, strict=True):
        if after["item"] == "LED":
            assert after["cert_level"] == "" and after["promoted"] == "false"
            same = {k: v for k, v in before.items() if k not in ("cert_level", "promoted", "tie_unresolved")}
            assert {k: after[k] for k in same} == same  # qualified, award, ranks as before
        else:
            assert after == before
    # the 5–7 tie still straddles the 三等奖 line (an award boundary), so it stays unresolved
    assert [r["tie_unresolved"] for r in special if r["entry"] in ("S04", "S07", "S08")] == ["true"] * 3
    assert any(r["item"] == "LED" and r["qualified"] == "true" for r in special)


def test_offline_explain_names_the_special_ability_certificate(tmp_path: Path) -> None:
    """The --explain text of a special-ability entry says 专项职业能力证书, no 证书等级 and no 晋升."""
    for name in ("entries.csv", "scores.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    doc = json.loads((EXAMPLES / "event.json").read_text(encoding="utf-8"))
    del doc["items"][0]["exam_level"]
    doc["items"][0]["certificate"] = "special_ability"
    (tmp_path / "event.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["results", "compute", "--event", str(tmp_path / "event.json"), "--entries",
                                       str(tmp_path / "entries.csv"), "--scores", str(tmp_path / "scores.csv"),
                                       "--explain", "S02"])
    assert result.exit_code == 0, result.stderr
    assert "专项职业能力证书（合格）" in result.stdout
    assert "晋升" not in result.stdout and "证书等级" not in result.stdout


async def _special(db: Any, contest: Any, certificate: str) -> None:
    """The seated LED item as the demo's special-ability item (or left a skill-level one); pass mark 50 so that
    all six qualify and, at skill level, all six would be promoted."""
    async with db() as session:
        item = (await session.exec(select(Item).where(Item.id == contest.item_id))).one()
        item.pass_mark = 50  # type: ignore[assignment]
        if certificate == "special_ability":
            item.certificate, item.exam_level = "special_ability", None
        session.add(item)
        await session.commit()


def _pdf_text(tmp_path: Path, data: bytes, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    tool = shutil.which("pdftotext")
    assert tool, "poppler's pdftotext is needed"
    return subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _frame(data: bytes) -> pl.DataFrame:
    return pl.read_excel(io.BytesIO(data), infer_schema_length=0)


@pytest.mark.parametrize("certificate", ["special_ability", "skill_level"])
async def test_published_lists_pages_and_certificates_follow_the_kind(
        client: Any, db: Any, tmp_path: Path, certificate: str) -> None:
    """Seed 001 "按规定颁发相应专项职业能力证书" (no level): the 获奖名单 has no 晋升等级, there is no 晋升名单,
    the 合格人员名单 says "专项职业能力证书（合格）"; seed 002's skill-level item ("可晋升高一等级") keeps them."""
    special = certificate == "special_ability"
    contest = await marked(db)
    await _special(db, contest, certificate)
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    organiser = await login_headers(client, db, "org", "organiser")
    e = contest.event_id
    published = await client.post(f"/api/events/{e}/items/LED/publication", json={}, headers=chief)
    assert published.status_code == 201, published.text

    async def get(name: str, who: dict[str, str] = chief) -> Any:
        return await client.get(f"/api/events/{e}/items/LED/lists/{name}", headers=who)

    awards = _frame((await get("awards.xlsx")).content)
    assert awards.height == 6
    qualified = _frame((await get("qualified.xlsx", organiser)).content)
    results = _frame((await get("results.xlsx")).content)
    promotions = await get("promotions.xlsx")
    publish_page = (await client.get(f"/console/events/{e}/publish", headers=organiser)).text
    public = (await client.get(f"/results/{e}/LED")).text
    api = (await client.get(f"/api/public/events/{e}/results")).json()
    rows = [r for i in api["items"] if i["code"] == "LED" for g in i["view"]["groups"] for r in g["rows"]]
    assert len(rows) == 6
    pdfs = {name: _pdf_text(tmp_path, (await get(f"{name}.pdf", organiser)).content, name)
            for name in ("awards", "qualified", "results")}

    issue = await client.post(f"/api/events/{e}/certificates/issue", json={}, headers=organiser)
    assert issue.json()["issued"] == 6
    listed = (await client.get(f"/api/events/{e}/certificates", headers=organiser)).json()
    serial = listed[0]["serial"]
    verify = (await client.get(f"/api/certificates/{serial}", params={"s": sign(SECRET, serial)})).json()
    certificate_pdf = _pdf_text(tmp_path, (await client.get(f"/certificates/{serial}.pdf", headers=organiser)).content,
                                "certificate")

    if special:
        assert "晋升等级" not in awards.columns and awards.columns[-1] == "指导教师"
        assert promotions.status_code == 409 and promotions.json()["code"] == "no_promotion_list"
        assert "专项职业能力证书" in promotions.json()["message"]
        assert qualified.height == 6 and set(qualified["证书"].to_list()) == {"专项职业能力证书（合格）"}
        assert "证书等级" not in qualified.columns and "证书等级" not in results.columns
        assert set(results["证书"].to_list()) == {"专项职业能力证书（合格）"}
        assert "lists/promotions" not in publish_page and "lists/awards" in publish_page
        assert "专项职业能力证书" in public and "晋升" not in public
        for text in [*pdfs.values(), certificate_pdf]:
            assert not [w for w in NO_LEVEL_WORDS if w in text], text
        assert "专项职业能力证书（合格）" in pdfs["qualified"]
        assert all(r["cert_level"] is None and not r["promoted"] for r in rows)
    else:
        assert awards.columns[-1] == "晋升等级" and set(awards["晋升等级"].to_list()) == {"三级/高级工"}
        assert promotions.status_code == 200 and _frame(promotions.content).height == 6
        assert set(qualified["证书等级"].to_list()) == {"三级/高级工"}
        assert "lists/promotions" in publish_page and "晋升三级/高级工" in public
        assert "晋升" in pdfs["awards"]
    assert not any(w in json.dumps(verify, ensure_ascii=False) for w in NO_LEVEL_WORDS)


async def test_the_server_and_the_offline_command_agree_on_a_special_ability_item(
        client: Any, db: Any, tmp_path: Path) -> None:
    """Seed 001's certificate has no level: the published snapshot and `contestday results compute` over the
    same event file and marks give the same qualified, award, cert_level (none) and promoted (false)."""
    contest = await marked(db)
    await _special(db, contest, "special_ability")
    await settle(db, contest)
    chief = await login_headers(client, db, "chief", "chief_judge")
    e = contest.event_id
    body = (await client.post(f"/api/events/{e}/items/LED/publication", json={}, headers=chief)).json()
    async with db() as session:
        publication = await _body(session, contest.item_id)
        doc = await event_document(session, e)
    assert body and doc is not None
    assert "exam_level" not in doc["items"][0] and doc["items"][0]["certificate"] == "special_ability"
    (tmp_path / "event.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    seats = sorted(contest.seats)
    with (tmp_path / "entries.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["entry", "name", "unit", "item", "group", "theory", "time_used_s", "status"])
        w.writerows([[s, s, "", "LED", "学生组", "", "", "present"] for s in seats])
    with (tmp_path / "scores.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["entry", "criterion", "judge", "score"])
        for k, seat in enumerate(contest.seats):  # as tests.results.test_publication.marked gives them
            w.writerows([[seat, "A", "王", f"{20 + k}"], [seat, "B", "王", f"{30 + k % 7}"]])
    offline = {r["entry"]: r for r in _compute(tmp_path)}
    server = {r["seat"]: r for g in publication["groups"] for r in g["rows"]}
    assert set(server) == set(offline)
    for seat, r in server.items():
        assert (str(r["position"]), r["award"], str(r["qualified"]).lower(), str(r["cert_level"] or ""),
                str(r["promoted"]).lower()) == (offline[seat]["position"], offline[seat]["award"],
                                                offline[seat]["qualified"], offline[seat]["cert_level"],
                                                offline[seat]["promoted"])
    assert all(r["qualified"] == "true" and r["cert_level"] == "" and r["promoted"] == "false"
               for r in offline.values())


async def _body(session: Any, item_id: int) -> dict[str, Any]:
    from results.publication import current

    row = await current(session, item_id)
    assert row is not None and row.body is not None
    return row.body


@pytest.mark.browser
def test_editor_certificate_kind_follows_the_picker_and_hides_level_fields(
        settings: Any, live_server: str, browser: Any) -> None:
    """Seed 001's items are special abilities ("颁发相应专项职业能力证书", no level): picking one from the
    special-ability catalog selects 专项职业能力证书 and hides 命题等级 and 晋升名额; picking an occupation
    selects 职业技能等级证书 (seed 002: "在命题等级基础上,可晋升高一等级") and shows them again. Saved
    documents follow: no exam_level for the special-ability item."""
    from tests.browser.test_pages_browser import organiser_page

    shots = Path("/tmp/shots/A")
    shots.mkdir(parents=True, exist_ok=True)
    page, errors = organiser_page(settings, browser, live_server, 1024)
    cert, level = '[data-path="items[0].certificate"]', '[data-path="items[0].exam_level"]'
    top = '[data-path="items[0].promotion_top"]'
    assert page.input_value(cert) == "skill_level" and page.is_visible(level) and page.is_visible(top)

    def pick(query: str, kind_label: str) -> str:
        page.fill(".item .picker-q", query)
        button = page.locator(".item .picker-results button.pick", has_text=kind_label).first
        button.wait_for()
        name = button.locator("strong").inner_text()
        button.click()
        return name

    name = pick("汽车美容", "专项")
    assert page.input_value('[data-path="items[0].name"]') == name == "汽车美容"
    assert page.input_value(cert) == "special_ability"
    assert not page.is_visible(level) and not page.is_visible(top) and page.is_disabled(level)
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.locator(".item .grid").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"editor-special-{width}.png"))
    page.set_viewport_size({"width": 1024, "height": 900})

    page.fill('[data-path="event.name"]', "专项职业能力技能大赛")
    page.fill('[data-path="event.starts_on"]', "2026-10-20")
    page.fill('[data-path="items[0].code"]', "SA01")
    page.fill('[data-path="items[0].criteria[0].name"]', "操作技能")
    page.fill('[data-path="items[0].criteria[0].max"]', "100")
    page.click("#save")
    page.wait_for_url(lambda url: "saved=1" in url)
    event_id = int(page.url.split("/")[-1].split("?")[0])
    stored = page.request.get(f"{live_server}/api/events/{event_id}").json()["items"][0]
    assert stored["certificate"] == "special_ability" and "exam_level" not in stored
    assert page.input_value(cert) == "special_ability" and not page.is_visible(level)  # the reloaded page too

    pick("电工", "职业")
    assert page.input_value(cert) == "skill_level" and page.is_visible(level) and page.is_visible(top)
    page.select_option(level, "3")
    page.evaluate("document.querySelector('#save-status').textContent = ''")
    page.click("#save")
    page.wait_for_function("document.querySelector('#save-status').textContent === '已保存'")
    stored = page.request.get(f"{live_server}/api/events/{event_id}").json()["items"][0]
    assert stored["certificate"] == "skill_level" and stored["exam_level"] == 3
    page.select_option(cert, "special_ability")  # chosen by hand, without the picker
    assert not page.is_visible(level) and not page.is_visible(top)
    assert errors == [], errors


async def _published_special(settings: Any) -> tuple[int, str]:
    """The seeded LED item as a special-ability item, marked, settled and published by the chief judge
    (whose session token is returned too)."""
    from sqlalchemy.pool import NullPool

    from contestday.accounts import service as accounts
    from contestday.db.engine import create_engine, create_sessionmaker
    from results.publication import publish

    engine = create_engine(settings.database_url, poolclass=NullPool)
    db = create_sessionmaker(engine)
    try:
        contest = await marked(db)
        await _special(db, contest, "special_ability")
        await settle(db, contest)
        async with db() as session:
            await publish(session, contest.event_id, "LED", "裁判长")
            chief = await accounts.add_user(session, "chief", "pw-12345678", ["chief_judge"])
            token, _csrf = await accounts.start_session(session, chief)
            await session.commit()
        return contest.event_id, token
    finally:
        await engine.dispose()


@pytest.mark.browser
def test_board_and_public_page_show_the_certificate_without_level(
        settings: Any, live_server: str, browser: Any) -> None:
    """Seed 001: "成绩合格的,按规定颁发相应专项职业能力证书": the board's and the public page's last column is
    证书 (合格), never 晋升 or a level; the publish page offers no 晋升名单."""
    from tests.browser.test_console_browser import _run

    event_id, token = _run(_published_special(settings))
    shots = Path("/tmp/shots/A")
    shots.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/board/{event_id}")
    page.wait_for_selector("section.item[data-item='LED']")
    board = page.inner_text("#board")
    assert "证书" in board and "合格" in board and "一等奖" in board
    assert not [w for w in NO_LEVEL_WORDS if w in board], board
    page.screenshot(path=str(shots / "board-special-1920.png"))
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/results/{event_id}/LED")
        text = page.inner_text("main")
        assert "专项职业能力证书" in text and not [w for w in NO_LEVEL_WORDS if w in text], text
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(shots / f"public-special-{width}.png"), full_page=True)
    # the chief judge's publish page links every list but the 晋升名单
    page.context.add_cookies([{"name": "contestday_session", "value": token, "url": live_server}])
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/console/events/{event_id}/publish")
        links = page.locator("#item-LED a, .item a, a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        assert any("/lists/awards.xlsx" in (h or "") for h in links)
        assert not any("/lists/promotions" in (h or "") for h in links)
        page.screenshot(path=str(shots / f"publish-special-{width}.png"), full_page=True)
    assert errors == [], errors


async def test_the_demo_special_ability_contest_publishes_no_levels_or_promotions(
        env: Path, db: Any, client: Any, tmp_path: Path) -> None:  # noqa: F811
    """The demo is seed 001's contest ("按规定颁发相应专项职业能力证书"): its published items give nobody a
    certificate level or a promotion, its 获奖名单 has no 晋升等级, it has no 晋升名单, and its 合格人员名单 says
    专项职业能力证书（合格）."""
    result = await asyncio.to_thread(CliRunner().invoke, main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    public = (await client.get("/api/public/events/1/results")).json()
    published = [i for i in public["items"] if i["view"]]
    assert len(published) == 2
    rows = [r for i in published for g in i["view"]["groups"] for r in g["rows"]]
    assert rows and any(r["qualified"] for r in rows) and any(r["award"] for r in rows)
    assert all(r["cert_level"] is None and not r["promoted"] and not r["cert_level_name"] for r in rows)
    assert all(i["view"]["certificate"] == "special_ability" for i in published)
    chief = await login_headers(client, db, "kinds-chief", "chief_judge")
    organiser = await login_headers(client, db, "kinds-org", "organiser")
    for item in published:
        base = f"/api/events/1/items/{item['code']}/lists"
        awards = _frame((await client.get(f"{base}/awards.xlsx", headers=chief)).content)
        assert awards.height and "晋升等级" not in awards.columns
        refused = await client.get(f"{base}/promotions.pdf", headers=chief)
        assert refused.status_code == 409 and refused.json()["code"] == "no_promotion_list"
        qualified = _frame((await client.get(f"{base}/qualified.xlsx", headers=organiser)).content)
        assert qualified.height and set(qualified["证书"].to_list()) == {"专项职业能力证书（合格）"}
        text = _pdf_text(tmp_path, (await client.get(f"{base}/awards.pdf", headers=chief)).content, item["code"])
        assert not [w for w in NO_LEVEL_WORDS if w in text]
        page = (await client.get(f"/results/1/{item['code']}")).text
        assert "晋升" not in page and "专项职业能力证书" in page
