"""The whole contest day in headless Chromium, every role through its pages (issue #17): the administrator imports
the event file (LED, theory 30 %, and DUO, a two-person team item) and makes the event's staff accounts; 40 people
register on the phone form (390 px, WeChat), the form refusing a bad ID number, someone too young, a second item of
the event and a unit over its quota in Chinese; the organiser approves a flagged likely duplicate, builds the judge
panels and the seat plans; check-in scans every ticket at the kiosk (one twice, one unknown) and each contestant
draws a seat; six judges mark on tablets (1024 px), one of them offline for a while, its queued marks applied once
when it is back; the chief judge has a panel over its spread re-marked, locks, re-checks (复核); the encryption judge
decrypts; the organiser uploads the theory scores, the chief judge confirms them, orders the tie on the 三等奖
boundary and publishes; the board shows it; a contestant appeals, arbitration rules; the notice period ends; the
certificates are issued and one is verified by the QR in its PDF. Finally the published results equal
`contestday results compute` on the same marks.

Only the tablets' websocket (driven by the tablet page itself) and the kiosk's scanner (typed into the page as a
USB scanner does) stand in for devices; the clock moves on once, by a database update (the end of the notice period;
the seat session is planned to start in 20 minutes, inside its check-in window). The first administrator is made as
`contestday user add` makes one. Screenshots: $CONTESTDAY_DAY_SHOTS (default artifacts/day/, CI keeps it)."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from contestday.settings import DEFAULT_PUBLIC_URL, Settings
from scoring.event_file import CHINA_TZ
from tests.browser.test_day_browser import DESK, PHONE, TABLET, Day, _certificate_qr, _filter_appeals, _follow, _mark
from tests.browser.test_judges_browser import _add_judge
from tests.browser.test_kiosk_browser import _scan
from tests.browser.test_pages_browser import _add_organiser
from tests.browser.test_tablet_browser import _pending
from tests.registration.test_registration_admin import xlsx
from tests.registration.test_registration_api import reg_event
from tests.results.test_theory_page import HEADER
from tests.support.idgen import make_id

pytestmark = [pytest.mark.browser, pytest.mark.day]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("CONTESTDAY_DAY_SHOTS") or ROOT / "artifacts" / "day")
LED, DUO = "LED", "DUO"
N_LED, N_DUO = 24, 8  # 24 individuals and 8 teams of two: 40 people
TIED = (17, 18)  # equal in everything: positions 6 and 7, across the 三等奖 boundary
SPREAD = 0  # its B panel is first marked 35 / 21 / 22 (spread 14 > 10): the chief judge has it re-marked
OFFLINE_FROM = 12  # the B3 tablet marks LED entries from here on while offline
PASSWORD = "pw-12345678"
LINK_HOST = re.compile(r"^https?://[^/]+")


def _event_file(tmp_path: Path) -> Path:
    """Two items: LED for students (theory 30 %), DUO for teams of two; A measured, B judged (mean, spread 10)."""
    import json

    doc = reg_event(starts_on=datetime.now(CHINA_TZ).date().isoformat(), name="第三届“巴渝工匠”杯技能大赛")
    led, duo = doc["items"][0], doc["items"][2]
    for item, groups in ((led, ["学生组"]), (duo, [])):
        item.update(groups=groups, tie_break=["practical", "criterion:B"], criteria=[
            {"code": "A", "name": "安装调试", "max": 40, "kind": "measurement"},
            {"code": "B", "name": "工艺与规范", "max": 60, "kind": "judgement", "aggregate": "mean",
             "max_spread": 10}])
    led["theory_weight"] = 0.3
    doc["items"] = [led, duo]
    path = tmp_path / "赛事.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@dataclass
class Person:
    name: str
    id_number: str
    phone: str


@dataclass
class Entry:
    item: str
    unit: str
    members: list[Person]
    k: int  # index within its item
    code: str = ""
    seat: str = ""
    marks: dict[tuple[str, str], str] = field(default_factory=dict)  # (criterion, judge) → mark
    theory: str = ""


_NAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎"


def _person(n: int) -> Person:
    name = _NAMES[n % 48] + "晓小"[n // 48] + "明红军华丽强芳伟静敏"[n % 10]
    return Person(name, make_id(date(2004, 1 + n % 12, 10), seq=n), f"139{n:08d}")


def _entries() -> list[Entry]:
    """The day's entries with the marks each judge will give and each theory score."""
    led = []
    for k in range(N_LED):
        v = 18 if k in TIED else k
        e = Entry(LED, f"重庆市第{k // 2 + 1}职业学校", [_person(k)], k, theory=f"{50 + v}")
        e.marks = {("A", "J1"): f"{10 + v}", ("B", "J2"): f"{20 + v}", ("B", "J3"): f"{21 + v}",
                   ("B", "J4"): f"{22 + v}"}
        led.append(e)
    duo = []
    for t in range(N_DUO):
        e = Entry(DUO, f"重庆第{t // 2 + 1}机电公司", [_person(40 + 2 * t), _person(41 + 2 * t)], t)
        e.marks = {("A", "J5"): f"{15 + 2 * t}", ("B", "J5"): f"{30 + t}", ("B", "J6"): f"{31 + t}.5"}
        duo.append(e)
    return led + duo


PANELS = {"J1": (LED, "A"), "J2": (LED, "B"), "J3": (LED, "B"), "J4": (LED, "B"), "J5": (DUO, "A,B"),
          "J6": (DUO, "B")}


def _sign_in_form(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{base}/start")


def _open_link(page: Any, link: str, base: str) -> None:
    """A one-time sign-in link (printed against the public address) opened on this server: /start."""
    page.goto(LINK_HOST.sub(base, link))
    assert page.url == f"{base}/start", page.url


def _db(settings: Settings, statement: Any) -> None:
    """The test's stand-in for the clock moving on: one UPDATE."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from tests.browser.test_tablet_browser import _run

    async def go() -> None:
        engine = create_async_engine(settings.database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(statement)
        finally:
            await engine.dispose()

    _run(go)


def _fill_member(page: Any, n: int, p: Person, identity: str) -> None:
    page.fill(f"#m{n}_name", p.name)
    page.fill(f"#m{n}_id_number", p.id_number)
    page.fill(f"#m{n}_phone", p.phone)
    if identity == "student":
        page.select_option(f"#m{n}_education", "中专/技校")
    elif page.locator(f"#m{n}_skill_level").is_visible():
        page.select_option(f"#m{n}_skill_level", "3")


def _form(page: Any, base: str, e: int, item: str, unit: str, members: list[Person]) -> None:
    page.goto(f"{base}/r/{e}")
    page.select_option("#item", item)
    if item == LED:
        page.select_option("#group", "学生组")
    else:
        page.select_option("#identity", "employee")
    identity = page.input_value("#identity")
    page.fill("#unit", unit)
    for n, p in enumerate(members):
        _fill_member(page, n, p, identity)
    page.check("#confirm")


def _register(page: Any, base: str, e: int, entry: Entry) -> None:
    _form(page, base, e, entry.item, entry.unit, entry.members)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/t/" in url)
    assert "报名" in page.inner_text("main")
    entry.code = re.search(r"/t/([0-9A-Z]+)", page.url).group(1)  # type: ignore[union-attr]


def _refused(page: Any, base: str, e: int, item: str, unit: str, p: Person, words: str) -> str:
    """The form refuses it with the server's Chinese message by the field or on top: nothing is stored."""
    _form(page, base, e, item, unit, [p])
    page.click("button[type=submit]")
    page.wait_for_selector("#top-error")
    text = page.inner_text("main")
    assert words in text, text
    assert page.url.endswith(f"/r/{e}")
    return text


def _new_account(page: Any, accounts: str, name: str, display: str, role: str, scope: str) -> str:
    """A staff account on 账号与角色: its one-time sign-in link."""
    page.goto(accounts)
    page.fill("form.new-account input[name=name]", name)
    page.fill("form.new-account input[name=display_name]", display)
    page.select_option("select[name=role_0]", role)
    page.select_option("select[name=scope_0]", scope)
    page.click("form.new-account button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#new-link").is_visible(), page.inner_text("main")
    return str(page.locator("#new-link input.link-url").input_value())


def _seat_plan(page: Any, base: str, e: int, item: str, prefix: str, starts: datetime) -> None:
    page.goto(f"{base}/admin/events/{e}/items/{item}/seat-plan")
    page.fill("input[name=s0_name]", "第1场")
    page.fill("input[name=s0_starts_at]", starts.astimezone(CHINA_TZ).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=s0_seat_count]", "30")
    page.fill("input[name=s0_prefix]", prefix)
    page.click("form.seat-plan button[type=submit]")
    page.wait_for_url("**/checkin?done=plan")


def _assign(page: Any, base: str, e: int, item: str, name: str, criteria: str) -> None:
    page.goto(f"{base}/admin/events/{e}/items/{item}/panel")
    form = page.locator("form.assign-form")
    form.locator("select[name=judge_id]").select_option(
        label=page.locator(f"form.assign-form option:has-text('{name}')").inner_text())
    form.locator("select[name=role]").select_option("judge")
    for code in criteria.split(","):
        form.locator(f"input[name=criteria][value={code}]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/panel?done=assigned")


def _tablet(day: Day, link: str, base: str, item_name: str) -> Any:
    page = day.page(TABLET)
    page.goto(LINK_HOST.sub(base, link))
    assert page.url.endswith("/judge"), page.url
    page.wait_for_selector("#net[data-state=online]")
    page.click(f"#tabs .t-tab:has-text('{item_name}')")
    return page


def _recheck(chief: Any, base: str, e: int, item: str) -> None:
    chief.goto(f"{base}/console/events/{e}/items/{item}/recheck")
    chief.click("#start-form button[type=submit]")
    chief.wait_for_url("**/recheck?done=started")
    rows = chief.locator("#round-seats tbody tr")
    for seat in [rows.nth(k).get_attribute("data-seat") for k in range(rows.count())]:
        chief.locator(f'tr[data-seat="{seat}"] button[value=ok]').click()
        chief.wait_for_selector(f'tr[data-seat="{seat}"][data-outcome="ok"]')
    assert "已完成" in chief.locator("#recheck-status").inner_text()


def _downloads(page: Any, base: str, e: int) -> dict[tuple[str, str], Any]:
    """成绩总表 and 评分表存档 of each item as XLSX, by the publish page's links: (item, list) → frame."""
    import io

    import polars as pl

    page.goto(f"{base}/console/events/{e}/publish")
    frames = {}
    for item in (LED, DUO):
        for kind in ("results", "sheets"):
            href = page.locator(f"#item-{item} p.links a[href$='/lists/{kind}.xlsx']").get_attribute("href")
            response = page.request.get(base + href)
            assert response.status == 200, (href, response.text())
            frames[(item, kind)] = pl.read_excel(io.BytesIO(response.body()), infer_schema_length=0)
    return frames


def _offline_results(tmp_path: Path, event_file: Path, frames: dict[tuple[str, str], Any]) -> list[dict[str, str]]:
    """`contestday results compute`, the real command as an organiser runs it, on ENTRIES and SCORES made from the
    server's exports: the people, units and theory of 成绩总表, every judge's mark of 评分表存档."""
    people, scores = tmp_path / "entries.csv", tmp_path / "scores.csv"
    with people.open("w", newline="", encoding="utf-8") as f, scores.open("w", newline="", encoding="utf-8") as g:
        w, marks = csv.writer(f), csv.writer(g)
        w.writerow(["entry", "name", "unit", "item", "group", "theory", "time_used_s", "status"])
        marks.writerow(["entry", "criterion", "judge", "score"])
        for item in (LED, DUO):
            for r in frames[(item, "results")].iter_rows(named=True):
                for name in r["姓名"].split("、"):
                    w.writerow([r["赛位"], name, r["单位"], item, r["组别"] or "", r.get("理论成绩") or "", "",
                                "present"])
            for r in frames[(item, "sheets")].iter_rows(named=True):
                for given in (r["各裁判评分"] or "").split("；"):
                    if given:
                        judge, mark = given.rsplit(" ", 1)
                        marks.writerow([r["赛位"], r["评分项"].split(" ")[0], judge, mark])
    out = tmp_path / "results.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "contestday.cli", "results", "compute", "--event", str(event_file),
                           "--entries", str(people), "--scores", str(scores), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


COLUMNS = ("position", "rank", "award", "unit", "theory", "practical", "total", "qualified", "cert_level", "promoted")


def _published(final: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(item, seat) → names and the RESULTS columns, from the public results (every item final)."""
    rows = {}
    for item in final["items"]:
        assert item["final"] is True, item["code"]
        for group in item["view"]["groups"]:
            for r in group["rows"]:
                values = [str(r.get(c) if r.get(c) is not None else "").lower() for c in COLUMNS]
                rows[(item["code"], r["seat"])] = (group["group"], tuple(sorted(r["names"])), *values)
    return rows


def _expected(offline: list[dict[str, str]], order: list[str]) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The command's rows by (item, entry = seat), its one unresolved tie placed in the chief judge's `order`: the
    seat put first takes the block's first position (and its award), the next the one after."""
    rows: dict[tuple[str, str], tuple[Any, ...]] = {}
    names: dict[tuple[str, str], list[str]] = {}
    for r in offline:
        key = (r["item"], r["entry"])
        names.setdefault(key, []).append(r["name"])
        rows[key] = (r["group"], *[r[c] for c in COLUMNS])
    tied = [r for r in offline if r["tie_unresolved"] == "true"]
    assert sorted(r["entry"] for r in tied) == sorted(order) and len({r["rank"] for r in tied}) == 1, tied
    by_position = sorted(tied, key=lambda r: int(r["position"]))
    for seat, at in zip(order, by_position, strict=True):
        group, *values = rows[(at["item"], seat)]
        values[0:3] = [at["position"], at["position"], at["award"]]
        values[8:10] = [at["cert_level"], at["promoted"]]
        rows[(at["item"], seat)] = (group, *values)
    return {key: (row[0], tuple(sorted(names[key])), *row[1:]) for key, row in rows.items()}


def test_the_whole_contest_day_through_the_pages(settings: Settings, live_server: str, browser: Any,
                                                 tmp_path: Path) -> None:
    base = live_server
    _add_organiser(settings)  # the server's administrator, as `contestday user add org --role organiser` makes
    day = Day(browser, tmp_path)
    day.dir = SHOTS
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("day-*.png"):
        old.unlink()
    entries = _entries()
    led = [en for en in entries if en.item == LED]
    duo = [en for en in entries if en.item == DUO]

    # 1. the administrator imports the event file and makes the event's staff accounts
    admin = day.page(DESK)
    _sign_in_form(admin, base, "org")
    admin.goto(f"{base}/admin/events")
    event_file = _event_file(tmp_path)
    admin.set_input_files("form.import-form input[name=file]", str(event_file))
    admin.click("form.import-form button[type=submit]")
    admin.wait_for_url(re.compile(r".*/admin/events/\d+(\?.*)?$"))
    e = int(re.search(r"/admin/events/(\d+)", admin.url).group(1))  # type: ignore[union-attr]
    day.shot(admin, "event", full_page=False)
    accounts = f"{base}/admin/events/{e}/accounts"
    links = {name: _new_account(admin, accounts, name, display, role, scope) for name, display, role, scope in (
        ("zuwei", "组委会陈老师", "organiser", f"E{e}"), ("jianlu", "检录员小王", "checkin", f"E{e}"),
        ("caipan", "刘裁判长", "chief_judge", f"E{e}"), ("jiami", "加密裁判周老师", "encryption_judge", f"E{e}"))}
    day.shot(admin, "accounts")

    org = day.page(DESK)
    _open_link(org, links["zuwei"], base)

    # 2. registration on the phone: 32 entries (40 people), four refusals, one likely duplicate
    phone = day.page(PHONE)
    twin = Person(led[0].members[0].name, make_id(date(2004, 1, 10), seq=99), led[0].members[0].phone)
    for n, en in enumerate(entries):
        if n == N_LED - 1:  # the last LED entry: the first one's name and phone, another ID number
            en.members = [twin]
        _register(phone, base, e, en)
        if n == 0:
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            day.shot(phone, "ticket")
    _form(phone, base, e, LED, "重庆市第1职业学校", [_person(90)])
    good = make_id(date(2004, 1, 10), seq=90)
    phone.fill("#m0_id_number", good[:-1] + ("0" if good[-1] != "0" else "1"))  # a wrong check character
    phone.focus("#unit")
    assert "校验位不正确" in phone.inner_text("#e-m0_id_number")
    phone.click("button[type=submit]")  # refused in the page: nothing is sent
    assert phone.url.endswith(f"/r/{e}")
    young = Person("冯小小", make_id(date(2013, 5, 1), seq=91), "13900000091")
    _refused(phone, base, e, LED, "重庆市第9职业学校", young, "未满 16 周岁")
    _refused(phone, base, e, LED, "重庆市第9职业学校", duo[0].members[0], "每人只能报名一个赛项")
    text = _refused(phone, base, e, LED, led[0].unit, _person(92), "报名名额（2 名）已满")
    day.shot(phone, "refused-quota")
    assert "unit_quota" not in text

    # 3. the organiser approves the flagged duplicate (the same name and phone under another ID number)
    _follow(org, f"/admin/events/{e}")
    org.goto(f"{base}/admin/events/{e}/registrations/review")
    case = org.locator(".review-case")
    assert case.count() == 1 and "疑似重复报名" in case.inner_text(), org.inner_text("main")
    assert org.locator("table.side-by-side").is_visible()
    day.shot(org, "review")
    case.locator("button.approve").click()
    org.wait_for_url("**/review?done=approve*")
    assert org.locator(".review-case").count() == 0

    # 4. the organiser: judges, panels, seat plans (the session starts in 20 minutes: check-in is open)
    judges: dict[str, str] = {}
    for n, code in enumerate(PANELS, start=1):
        _add_judge(org, f"{base}/admin/events/{e}", f"评审{code}", f"评审单位{n}", f"1370000000{n}")
        judges[code] = org.locator("input.link-url").input_value()
    for code, (item, criteria) in PANELS.items():
        _assign(org, base, e, item, f"评审{code}", criteria)
    day.shot(org, "panel")
    starts = datetime.now(UTC) + timedelta(minutes=20)
    _seat_plan(org, base, e, LED, "A", starts)
    _seat_plan(org, base, e, DUO, "D", starts)

    # 5. check-in: every ticket scanned and a seat drawn; one ticket twice, one unknown
    kiosk = day.page({"viewport": {"width": 1024, "height": 768}, "locale": "zh-CN"})
    _open_link(kiosk, links["jianlu"], base)
    _follow(kiosk, f"/kiosk/events/{e}/checkin")
    if kiosk.locator("#station-dialog").is_visible():
        kiosk.fill("#station-input", "A门")
        kiosk.click("#station-form button[type=submit]")
    kiosk.wait_for_function("document.getElementById('net').dataset.state === 'online'")
    for en in entries:
        kiosk.wait_for_function("document.activeElement && document.activeElement.id === 'scan'")
        _scan(kiosk, en.code)
        kiosk.wait_for_selector("#panel.state-ok")
        assert kiosk.locator("#name").inner_text().startswith(en.members[0].name[0])
        kiosk.click("#draw")
        kiosk.wait_for_selector("#seat-box:not([hidden])")
        en.seat = kiosk.locator("#seat").inner_text()
        if en is entries[0]:
            day.shot(kiosk, "checkin-seat", full_page=False)
    assert len({en.seat for en in entries}) == len(entries)
    kiosk.wait_for_function("document.activeElement && document.activeElement.id === 'scan'")
    _scan(kiosk, entries[0].code)
    kiosk.wait_for_selector("#panel.state-already")
    assert kiosk.locator("#state-text").inner_text() == "已检录" and kiosk.locator("#seat").inner_text() == \
        entries[0].seat
    kiosk.wait_for_function("document.activeElement && document.activeElement.id === 'scan'")
    _scan(kiosk, "ABCDEFGHJKMNPQRSTUVWXYZ234")
    kiosk.wait_for_selector("#panel.state-refused")
    assert kiosk.locator("#refused-title").inner_text() == "无效凭证"
    day.shot(kiosk, "checkin-unknown", full_page=False)

    # 6. six judges mark on their tablets; B3 (J4) loses the network halfway and comes back
    first = led[SPREAD]
    first.marks[("B", "J2")] = "35"  # wide: corrected after the chief judge's request
    for code, (item, _criteria) in PANELS.items():
        tablet = _tablet(day, judges[code], base, "LED显示屏应用" if item == LED else "双人赛项")
        mine = [(en, c, v) for en in entries for (c, j), v in en.marks.items() if j == code]
        for n, (en, criterion, value) in enumerate(mine):
            if code == "J4" and en.k == OFFLINE_FROM:
                tablet.context.set_offline(True)
                tablet.evaluate("window.__tablet.dropSocket()")
                tablet.wait_for_selector("#net[data-state=offline]")
            if code == "J4" and en.k >= OFFLINE_FROM:
                tablet.tap(f".t-seat[data-seat='{en.seat}']")
                box = tablet.locator(f".t-input[data-criterion='{criterion}']")
                box.fill(value)
                box.press("Enter")
                tablet.wait_for_function(f"document.querySelector('#pending').dataset.n === '{n - OFFLINE_FROM + 1}'")
            else:
                _mark(tablet, en.seat, criterion, value)
        if code == "J4":
            assert _pending(tablet) == N_LED - OFFLINE_FROM and "离线" in tablet.inner_text("#net")
            day.shot(tablet, "tablet-offline", full_page=False)
            tablet.context.set_offline(False)
            tablet.wait_for_function("document.querySelector('#pending').dataset.n === '0'", timeout=20_000)
            tablet.wait_for_selector("#net[data-state=online]")
        if code == "J2":
            j2 = tablet
        elif code != "J4":
            tablet.context.close()
    first.marks[("B", "J2")] = "20"

    # 7. the chief judge: the wide panel goes back to J2, who changes the mark; then each item is locked
    chief = day.page(DESK)
    _open_link(chief, links["caipan"], base)
    _follow(chief, f"/console/events/{e}?item={LED}")
    chief.wait_for_selector("#net[data-state=online]")
    j4_cells = chief.evaluate("""() => [...document.querySelectorAll('#matrix td[data-key]')]
                                 .filter(td => td.title.startsWith('评审J4') && td.textContent.trim()).length""")
    assert j4_cells == N_LED  # the queued marks arrived, each once
    findings = chief.inner_text("#findings")
    assert f"{first.seat} · B" in findings and "分差 14 超过允许的 10" in findings, findings
    j2_id = chief.evaluate("""() => [...document.querySelectorAll('#matrix td[data-key]')]
                              .find(td => td.title.startsWith('评审J2')).dataset.key.split('|')[2]""")
    cell = f'td[data-key="{first.seat}|B|{j2_id}"]'
    assert chief.locator(cell).inner_text() == "35.00"
    day.shot(chief, "console-spread", full_page=False)
    chief.locator(cell).click()
    chief.fill("#dialog-text", "B 项三位裁判相差 14 分，请再看一下作品")
    chief.click("#dialog-ok")
    chief.wait_for_selector(f"{cell}.remark")
    j2.wait_for_selector("#remarks .t-remark")
    j2.tap("#remarks .t-remark")
    _mark(j2, first.seat, "B", "20")
    j2.wait_for_selector("#remarks .t-remark", state="detached")
    chief.wait_for_function(f"""() => {{ const td = document.querySelector('{cell}');
                                return td.textContent === '20.00' && !td.classList.contains('remark'); }}""")
    for item in (LED, DUO):
        chief.goto(f"{base}/console/events/{e}?item={item}")
        chief.wait_for_selector("#net[data-state=online]")
        chief.click("#item-lock-button")
        chief.wait_for_function("document.getElementById('item-lock').textContent.includes('已锁定')")
    day.shot(chief, "console-locked", full_page=False)

    # 8. 复核 of each item
    for item in (LED, DUO):
        _recheck(chief, base, e, item)
    day.shot(chief, "recheck")

    # 9. the encryption judge decrypts both layers of both items
    sealed = day.page(DESK)
    _open_link(sealed, links["jiami"], base)
    _follow(sealed, f"/sealed/events/{e}")
    for item in (LED, DUO):
        for layer in (1, 2):
            with sealed.expect_navigation():
                sealed.click(f"tr[data-item={item}] button.reveal[data-layer='{layer}']")
        assert sealed.locator(f"tr[data-item={item}] td.layer").inner_text() == "已全部解密"
    day.shot(sealed, "sealed")

    # 10. theory: the organiser uploads the sheet, the chief judge confirms it (another person)
    sheet = tmp_path / "理论成绩.xlsx"
    sheet.write_bytes(xlsx([[en.code, en.members[0].name, "", en.theory, ""] for en in led], header=HEADER))
    theory = f"/console/events/{e}/items/{LED}/theory"
    org.goto(f"{base}{theory}")
    org.set_input_files("#upload-form input[name=file]", str(sheet))
    org.click("#upload-form button[type=submit]")
    org.wait_for_url("**done=staged**")
    day.shot(org, "theory-staged")
    chief.goto(f"{base}{theory}")
    chief.click("#confirm-form button")
    chief.wait_for_url("**done=confirmed**")
    assert f"已确认：{N_LED} 人的理论成绩已计入" in chief.inner_text("[role=status]")

    # 11. the tie on the boundary: the chief judge orders it; then both items are published (the board watches)
    board = day.page({"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"})
    board.goto(f"{base}/board/{e}")
    publish = f"/console/events/{e}/publish"
    chief.goto(f"{base}{publish}")
    chief.locator(f'#item-{LED} li[data-code="tie_unresolved"] a').click()
    chief.wait_for_url(f"**/items/{LED}/ties")
    block = chief.locator(".tie-block")
    tied = sorted(led[k].seat for k in TIED)
    assert block.count() == 1 and sorted((block.get_attribute("data-seats") or "").split(",")) == tied
    order = [led[TIED[1]].seat, led[TIED[0]].seat]
    for place, seat in enumerate(order, start=1):
        chief.select_option(f'select[name="pos_{seat}"]', str(place))
    chief.fill("textarea[name=reason]", "按操作规范，B 项作品完成度高者在前")
    day.shot(chief, "tie")
    chief.click(".tie-block button[type=submit]")
    chief.wait_for_url("**/ties?done=decided")
    chief.goto(f"{base}{publish}")
    for item in (LED, DUO):
        part = chief.locator(f"#item-{item}")
        assert part.locator("ul.blockers").count() == 0, part.inner_text()
        part.locator("button[type=submit]").click()
        chief.wait_for_url("**/publish?done=published*")
    day.shot(chief, "publish")
    board.wait_for_selector(f"#board section.item[data-item={LED}], #board section.item[data-item={DUO}]",
                            timeout=10_000)
    board.wait_for_function("document.getElementById('board').innerText.includes('一等奖')", timeout=10_000)
    day.shot(board, "board", full_page=False)

    # 12. a contestant appeals on the phone; arbitration dismisses it
    winner = led[N_LED - 2]
    phone.goto(f"{base}/results/{e}/{LED}")
    assert winner.members[0].name in phone.inner_text("main")
    day.shot(phone, "results")
    _follow(phone, f"/appeal/{e}")
    phone.fill("input[name=ticket_code]", led[TIED[0]].code)
    phone.fill("textarea[name=text]", "我与并列选手总分相同却未获三等奖，请求复核名次。")
    phone.click("main button")
    phone.wait_for_load_state()
    filed = re.search(r"申诉已提交（第 (\d+) 号）", phone.inner_text("main"))
    assert filed, phone.inner_text("main")
    org.goto(f"{base}/console/events/{e}/appeals")
    _filter_appeals(org, LED)
    case = org.locator(f"#appeal-{filed.group(1)}")
    case.locator("input[name=ruling][value=dismissed]").check()
    case.locator("textarea[name=text]").fill("并列名次已由裁判长依 B 项作品质量裁定，理由记录在案，维持原名次。")
    case.locator("button[type=submit]").click()
    org.wait_for_url("**/appeals?done=ruled*")
    day.shot(org, "ruling")

    # 13. the notice period ends (the clock moved on), and the results are final
    import sqlalchemy as sa

    from results.publication import Publication

    _db(settings, sa.update(Publication).values(notice_ends_at=datetime.now(UTC) - timedelta(minutes=1)))
    final = org.request.get(f"{base}/api/public/events/{e}/results").json()

    # 14. certificates: issued, one PDF's QR opens the verify page
    org.goto(f"{base}/console/events/{e}/certificates")
    for item in (LED, DUO):
        org.locator(f"#item-{item} button.issue").click()
        org.wait_for_load_state()
    day.shot(org, "certificates")
    row = org.locator(f'tr[data-serial^="E{e}-{LED}-0001-"]')
    serial = row.get_attribute("data-serial") or ""
    response = org.request.get(base + row.locator("a.pdf").get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.body())
    qr = _certificate_qr(day, pdf, serial)
    check = day.page(PHONE)
    check.goto(qr.replace(DEFAULT_PUBLIC_URL, base))
    verdict = check.inner_text("main")
    assert "证书有效" in verdict and "二维码签名正确" in verdict and "一等奖" in verdict
    day.shot(check, "verify")

    # 15. the published results equal the offline command's on the same marks
    offline = _offline_results(tmp_path, event_file, _downloads(chief, base, e))
    assert len(offline) == 40
    with (tmp_path / "scores.csv").open(encoding="utf-8") as f:
        exported = sorted(tuple(r) for r in csv.reader(f))[:-1]  # the header sorts last
    typed = sorted((en.seat, c, f"评审{j}", f"{Decimal(v):.2f}") for en in entries for (c, j), v in en.marks.items())
    assert exported == typed  # every mark the tablets sent, once, the offline tablet's too
    assert _published(final) == _expected(offline, order)
    assert day.errors == [], day.errors
