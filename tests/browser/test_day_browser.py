"""A whole contest day through the pages alone, on the real demo data set (`contestday demo --no-serve`), in headless
Chromium: a contestant registers on the phone form and gets the ticket; check-in scans it and the contestant draws a
seat; the organiser puts a panel on the item; two judges mark on their tablets; the chief judge sends a re-mark, the
judge changes the mark, the chief judge locks and does 复核; the encryption judge decrypts; the chief judge publishes;
the public results page and the board show it; an appeal is filed with the ticket code and ruled on; the organiser
issues the certificate, whose QR opens the verify page saying it is genuine. The test only reads back through the
server (the certificate PDF); every change is made by a click on a page, as issue #19 asks.

The item is 仓储存储 (SA18): nobody of the demo's 300 contestants entered it, so our contestant is alone in it (一等奖)
and it needs the least set-up (a seat plan exists, a panel does not). Screenshots of each step go to
docs/screenshots/day-NN-<step>.png with UPDATE_SCREENSHOTS=1 (the README's walk-through), else to tmp."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from contestday.settings import DEFAULT_PUBLIC_URL, Settings
from tests.browser.test_pages_browser import _shot
from tests.browser.test_registration_browser import WECHAT_UA
from tests.browser.test_start_pages_browser import demo_output, sign_in_links
from tests.certificates.test_certificates_offline import _tool
from tests.support.idgen import make_id

pytestmark = pytest.mark.browser  # the README walk-through; the whole day (marker `day`) is test_full_day_browser.py

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DEMO_BASE = "http://127.0.0.1:8000"  # what `contestday demo --no-serve` prints links against
ITEM, ITEM_NAME = "SA18", "仓储存储"
NAME, UNIT = "林晓雨", "重庆市轻工业学校"
PHONE = {"viewport": {"width": 390, "height": 844}, "user_agent": WECHAT_UA, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN"}
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "locale": "zh-CN"}
DESK = {"viewport": {"width": 1440, "height": 900}, "locale": "zh-CN"}


def _demo(settings: Settings, tmp_path: Path, base: str) -> tuple[int, dict[str, str], dict[str, str]]:
    """The demo on the test's database: (event id, the sign-in link of each demo user, each judge's personal link),
    pointed at the live server."""
    event_id, printed = demo_output(settings, tmp_path)
    users = {user: link.replace(DEMO_BASE, base) for user, link in sign_in_links(printed).items()}
    judges = {m.group(1): m.group(2).replace(DEMO_BASE, base)
              for m in re.finditer(r"^\s+(\S+): (http\S+/j/\S+)$", printed, re.M)}
    assert {"organiser", "chief", "encrypt", "checkin"} <= set(users), printed
    assert {"张评审", "李评审"} <= set(judges), printed
    return event_id, users, judges


def _started(settings: Settings, event_id: int) -> None:
    """The item's seat sessions began an hour ago (the test's stand-in for waiting until the contest starts)."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel import col

    from contestday.db.types import utcnow
    from registration.checkin.models import SeatSession
    from registration.events.models import Item
    from tests.browser.test_tablet_browser import _run

    async def move_back() -> None:
        engine = create_async_engine(settings.database_url)
        try:
            async with engine.begin() as conn:
                items = sa.select(col(Item.id)).where(col(Item.event_id) == event_id, col(Item.code) == ITEM)
                await conn.execute(sa.update(SeatSession).where(col(SeatSession.item_id).in_(items))
                                   .values(starts_at=utcnow() - timedelta(hours=1)))
        finally:
            await engine.dispose()

    _run(move_back)


class Day:
    """The browser contexts of the day (one per person), the page errors they hit, and the numbered shots."""

    def __init__(self, browser: Any, tmp_path: Path):
        self.browser, self.n = browser, 0
        self.errors: list[str] = []
        self.dir = DOCS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
        self.dir.mkdir(parents=True, exist_ok=True)

    def page(self, device: dict[str, Any]) -> Any:
        page = self.browser.new_context(**device).new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("dialog", lambda dialog: dialog.accept())  # the sealed page's confirm(): the judge says yes
        return page

    def shot(self, page: Any, step: str, *, full_page: bool = True, at: str | None = None,
             block: str = "start") -> Path:
        """The next numbered screenshot; `at` scrolls that element into view first (a long page's one part)."""
        self.n += 1
        if at is not None:
            page.evaluate("""([sel, block]) => { document.querySelector(sel).scrollIntoView({block});
                                                 if (block === 'start') window.scrollBy(0, -16); }""", [at, block])
            full_page = False
        return _shot(page, self.dir / f"day-{self.n:02d}-{step}.png", full_page=full_page)


def _certificate_qr(day: Day, pdf: Path, serial: str) -> str:
    """The certificate PDF as a picture (the day's next screenshot) and the URL its QR code holds, which must
    verify `serial` at the public address."""
    day.n += 1
    image = day.dir / f"day-{day.n:02d}-certificate"
    subprocess.run([_tool("pdftoppm"), "-png", "-r", "110", "-singlefile", str(pdf), str(image)], check=True)
    qr = subprocess.run([_tool("zbarimg"), "--raw", "-q", f"{image}.png"], capture_output=True,
                        text=True).stdout.strip()
    assert qr.startswith(f"{DEFAULT_PUBLIC_URL}/verify/{serial}?s="), qr
    return qr


def _sign_in(page: Any, link: str, base: str) -> None:
    """The demo's printed sign-in link lands on the role's start page (/start)."""
    page.goto(link)
    assert page.url == f"{base}/start", page.url
    assert page.locator("h1").inner_text() == "我的工作台"


def _follow(page: Any, href: str) -> None:
    """Click the link to `href` in the page's main part (it must be there: the page leads on), opening the folded
    section that holds it first, as a user would (the chief judge's start page folds each item's links)."""
    wanted = f'a[href="{href}"], a[href^="{href}#"]'  # to the page, or to a part of it
    link = page.locator(f"main :is({wanted})").first
    assert link.count() == 1, (page.url, href)
    folded = page.locator(f"main details:not([open]):has(:is({wanted})) > summary")
    if folded.count():
        folded.first.click()
    link.click()
    page.wait_for_load_state()


def _filter_appeals(page: Any, item: str) -> None:
    """The appeals page's own filter: the cases of one item."""
    page.select_option("#filter select[name=item]", item)
    page.click("#filter button[type=submit]")
    page.wait_for_url(f"**/appeals?*item={item}*")
    assert page.locator("section.appeal").count() == 1


def _mark(page: Any, seat: str, criterion: str, value: str) -> None:
    page.tap(f".t-seat[data-seat='{seat}']")
    field = page.locator(f".t-input[data-criterion='{criterion}']")
    field.tap()
    field.fill(value)
    field.press("Enter")
    page.wait_for_selector(f".t-row[data-criterion='{criterion}'] .t-status[data-state=saved]")


def _tablet(day: Day, link: str) -> Any:
    """A judge's personal link opens the tablet; the judge picks the day's item from the tabs."""
    page = day.page(TABLET)
    page.goto(link)
    assert page.url.endswith("/judge"), page.url
    page.wait_for_selector("#net[data-state=online]")
    page.click(f"#tabs .t-tab:has-text('{ITEM_NAME}')")
    return page


def test_a_contest_day_through_the_pages(settings: Settings, live_server: str, browser: Any, tmp_path: Path) -> None:
    base = live_server
    event_id, users, judges = _demo(settings, tmp_path, base)
    e = event_id
    day = Day(browser, tmp_path)

    # 1. the contestant registers on the phone form and gets the ticket
    phone = day.page(PHONE)
    phone.goto(f"{base}/r/{e}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.select_option("#item", label=ITEM_NAME)
    phone.select_option("#group", "学生组")
    assert phone.input_value("#identity") == "student"
    phone.fill("#unit", UNIT)
    id_number = make_id(date(2005, 4, 12), male=False)
    phone.fill("#m0_name", NAME)
    phone.fill("#m0_id_number", id_number)
    phone.fill("#m0_phone", "13800138000")
    phone.select_option("#m0_education", "中专/技校")
    phone.fill("#ins0_name", "何老师")
    phone.fill("#ins0_phone", "13912345678")
    phone.check("#confirm")
    day.shot(phone, "register")
    phone.click("button[type=submit]")
    phone.wait_for_url(lambda url: "/t/" in url)
    ticket = phone.inner_text("main")
    assert "报名成功" in ticket and NAME in ticket and f"{ITEM_NAME}（{ITEM}）" in ticket and "学生组" in ticket
    assert phone.locator("svg[aria-label=QR]").is_visible()
    assert id_number not in phone.content() and "13800138000" not in phone.content()  # masked on the ticket
    code = re.search(r"/t/([0-9A-Z]+)", phone.url).group(1)  # type: ignore[union-attr]
    grouped = "-".join(code[k:k + 4] for k in range(0, len(code), 4))
    assert grouped in ticket  # the code in groups of four, for reading out at the door
    day.shot(phone, "ticket")

    # 2. check-in: sign-in link → start page → kiosk; the ticket is scanned and the contestant draws a seat
    kiosk = day.page({"viewport": {"width": 1024, "height": 768}, "locale": "zh-CN"})
    _sign_in(kiosk, users["checkin"], base)
    _follow(kiosk, f"/kiosk/events/{e}/checkin")
    if kiosk.locator("#station-dialog").is_visible():  # a new device asks which door it stands at
        kiosk.fill("#station-input", "A门")
        kiosk.click("#station-form button[type=submit]")
    kiosk.wait_for_function("document.getElementById('net').dataset.state === 'online'")
    kiosk.wait_for_function("document.activeElement && document.activeElement.id === 'scan'")
    kiosk.keyboard.type(code)  # what a USB scanner does
    kiosk.keyboard.press("Enter")
    kiosk.wait_for_selector("#panel.state-ok")
    assert kiosk.locator("#state-text").inner_text() == "检录成功"
    assert kiosk.locator("#name").inner_text() == NAME
    assert kiosk.locator("#item").inner_text() == f"{ITEM_NAME}（{ITEM}）"
    kiosk.click("#draw")
    kiosk.wait_for_selector("#seat-box:not([hidden])")
    seat = kiosk.locator("#seat").inner_text()
    assert re.fullmatch(r"A\d\d", seat), seat
    assert kiosk.locator("#seat-when").inner_text().startswith("第1场")
    day.shot(kiosk, "checkin-seat", full_page=False)

    # 3. the organiser: hub → 裁判管理 → the item's 裁判组: two judges and the chief judge; the seat plan is there
    org = day.page(DESK)
    _sign_in(org, users["organiser"], base)
    _follow(org, f"/admin/events/{e}")
    _follow(org, f"/admin/events/{e}/judges")
    _follow(org, f"/admin/events/{e}/items/{ITEM}/panel")
    assert "裁判组还没有成员" in org.inner_text("table.panel")
    for judge, role, only in (("张评审", "judge", None), ("李评审", "judge", "B"), ("陈裁判长", "chief_judge", None)):
        org.select_option("#assign select[name=judge_id]", label=next(
            t for t in org.locator("#assign select[name=judge_id] option").all_inner_texts() if t.startswith(judge)))
        org.select_option("#assign select[name=role]", role)
        if only:
            org.check(f"#assign input[name=criteria][value={only}]")
        org.click("#assign button[type=submit]")
        org.wait_for_url("**/panel?done=assigned")
    panel = org.inner_text("table.panel")
    assert all(name in panel for name in ("张评审", "李评审", "陈裁判长")) and "裁判长" in panel
    warnings = org.locator(".panel-warnings").inner_text() if org.locator(".panel-warnings").count() else ""
    assert "裁判长应为" not in warnings and "还没有裁判" not in warnings, warnings
    day.shot(org, "panel")
    _follow(org, f"/admin/events/{e}")
    _follow(org, f"/admin/events/{e}/checkin")
    _follow(org, f"/admin/events/{e}/items/{ITEM}/seat-plan")
    assert org.input_value("input[name=s0_name]") == "第1场" and org.input_value("input[name=s0_seat_count]") == "10"
    assert "座位安排已固定" in org.inner_text("main")  # a seat is drawn: the plan can no longer change
    day.shot(org, "seat-plan")

    # 4. the judges mark on their tablets (personal links), blind: by seat only
    zhang = _tablet(day, judges["张评审"])
    assert zhang.locator(".t-seat").all_inner_texts()[0].startswith(seat) and zhang.locator(".t-seat").count() == 1
    assert NAME not in zhang.content()
    _mark(zhang, seat, "A", "52.5")
    _mark(zhang, seat, "B", "24")
    _mark(zhang, seat, "S", "1")
    assert f"{ITEM_NAME}：已录入 2 / 2 项" in zhang.inner_text("#total")
    day.shot(zhang, "tablet", full_page=False)
    li = _tablet(day, judges["李评审"])
    assert li.locator(".t-input").count() == 1  # 李评审 marks B only
    _mark(li, seat, "B", "25.5")

    # 5. the chief judge: console → re-mark to 李评审 → 李评审 changes the mark → lock → 复核
    chief = day.page(DESK)
    _sign_in(chief, users["chief"], base)
    _follow(chief, f"/console/events/{e}?item={ITEM}")
    chief.wait_for_selector("#net[data-state=online]")
    li_id = chief.evaluate("""() => [...document.querySelectorAll('#matrix td[data-key]')]
                              .find(td => td.title.startsWith('李评审')).dataset.key.split('|')[2]""")
    cell = f'td[data-key="{seat}|B|{li_id}"]'
    assert chief.locator(cell).inner_text() == "25.50"
    chief.locator(cell).click()
    chief.fill("#dialog-text", "B 项与张评审相差 1.5 分，请再看一下作品")
    chief.click("#dialog-ok")
    chief.wait_for_selector(f"{cell}.remark")
    findings = chief.inner_text("#findings")
    assert "请再看一下作品" in findings and not re.search(r"\b[a-z]+_[a-z_]+\b", findings), findings
    chief.wait_for_function("!document.getElementById('toast').classList.contains('show')", timeout=6000)
    day.shot(chief, "console-remark", full_page=False)

    li.wait_for_selector("#remarks .t-remark")  # reaches the open tablet
    remarks = li.inner_text("#remarks")
    assert "裁判长要求复核" in remarks and seat in remarks and "请再看一下作品" in remarks
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", remarks), remarks  # every label in words, no text keys
    day.shot(li, "tablet-remark", full_page=False)
    li.tap("#remarks .t-remark")
    _mark(li, seat, "B", "24.5")
    li.wait_for_selector("#remarks .t-remark", state="detached")  # the change answers the request
    chief.wait_for_function(f"""() => {{ const td = document.querySelector('{cell}');
                                return td.textContent === '24.50' && !td.classList.contains('remark'); }}""")
    # 交卷: the contestant hands in (the item breaks ties by the time used, so the gate needs it); the demo's
    # session starts in two hours, so the clock moves on first: its start is put an hour back
    _started(settings, e)
    chief.once("dialog", lambda dialog: dialog.accept())
    chief.click(f".c-hand-in[data-seat='{seat}']")
    chief.wait_for_selector(f".c-handed[data-seat='{seat}']")
    assert "已交卷 · 用时" in chief.inner_text(f".c-handed[data-seat='{seat}']")
    chief.click("#item-lock-button")
    chief.wait_for_function("document.getElementById('item-lock').textContent.includes('已锁定')")
    assert "赛项成绩已锁定" in chief.inner_text("#item-bar")

    chief.goto(f"{base}/start")  # the console links nowhere else: back to the start page
    _follow(chief, f"/console/events/{e}/publish")
    assert "复核尚未完成" in chief.inner_text(f"#item-{ITEM}")
    _follow(chief, f"/console/events/{e}/items/{ITEM}/recheck")
    chief.click("#start-form button[type=submit]")
    chief.wait_for_url("**/recheck?done=started")
    row = chief.locator(f"#seat-{seat}")
    assert "获奖区" in row.inner_text() and "75.75" in row.inner_text()  # 52.50 + mean(24, 24.5) − 1
    row.locator("button[value=ok]").click()
    chief.wait_for_url("**/recheck?done=recorded*")
    assert "已完成" in chief.locator("#recheck-status").inner_text()
    assert chief.locator(f"#seat-{seat}").get_attribute("data-outcome") == "ok"
    day.shot(chief, "recheck")

    # 6. the encryption judge decrypts both layers on the sealed page
    sealed = day.page(DESK)
    _sign_in(sealed, users["encrypt"], base)
    _follow(sealed, f"/sealed/events/{e}")
    for layer, shown in ((1, "已解密第 1 层"), (2, "已全部解密")):
        with sealed.expect_navigation():  # confirm() accepted, then the page reloads
            sealed.click(f"tr[data-item={ITEM}] button.reveal[data-layer='{layer}']")
        assert sealed.locator(f"tr[data-item={ITEM}] td.layer").inner_text() == shown
    day.shot(sealed, "sealed", at=f"tr[data-item={ITEM}]", block="center")

    # 7. the chief judge publishes (the board is already up on the big screen and shows it as it happens)
    board = day.page({"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"})
    board.goto(f"{base}/board/{e}")
    board.wait_for_selector("#board section.item")
    _follow(chief, f"/console/events/{e}/publish")
    publish = chief.locator(f"#item-{ITEM}")
    assert publish.locator("ul.blockers").count() == 0, publish.inner_text()
    publish.locator("button[type=submit]").click()
    chief.wait_for_url("**/publish?done=published*")
    assert "已发布 第 1 版" in chief.inner_text(f"#item-{ITEM}")
    day.shot(chief, "publish", at=f"#item-{ITEM}")

    # 8. the public results page and the board
    public = day.page(PHONE)
    public.goto(f"{base}/results/{e}/{ITEM}")
    results = public.inner_text("main")
    assert "第 1 版" in results and "公示至" in results
    first = public.locator("table tbody tr").first.inner_text()
    assert NAME in first and UNIT in first and "75.75" in first and "一等奖" in first
    assert id_number not in public.content()
    day.shot(public, "results")
    board.wait_for_selector(f"#board section.item[data-item={ITEM}]", timeout=10_000)
    assert NAME in board.inner_text("#board") and "一等奖" in board.inner_text("#board")
    day.shot(board, "board", full_page=False)

    # 9. an appeal with the ticket code (public, on the phone), ruled on by the organiser (仲裁)
    _follow(public, f"/appeal/{e}")
    public.fill("input[name=ticket_code]", grouped)
    public.fill("textarea[name=text]", "我认为 B 项“作品质量与职业素养”的评分偏低，请求复核。")
    public.click("main button")
    public.wait_for_load_state()
    filed = re.search(r"申诉已提交（第 (\d+) 号）", public.inner_text("main"))
    assert filed, public.inner_text("main")
    day.shot(public, "appeal")
    _follow(org, f"/admin/events/{e}")
    _follow(org, f"/console/events/{e}/appeals")
    _filter_appeals(org, ITEM)
    case = org.locator(f"#appeal-{filed.group(1)}")
    assert ITEM_NAME in case.inner_text() and "林*雨" in case.inner_text() and "待裁定" in case.inner_text()
    case.locator("input[name=ruling][value=dismissed]").check()
    case.locator("textarea[name=text]").fill("经仲裁委员会调阅评分记录和复核记录，B 项评分无误，维持原成绩。")
    case.locator("button[type=submit]").click()
    org.wait_for_url("**/appeals?done=ruled*")
    case = org.locator(f"#appeal-{filed.group(1)}")
    assert "申诉不成立" in case.inner_text() and "维持原成绩" in case.inner_text()
    _filter_appeals(org, ITEM)  # the redirect shows every case again
    assert "申诉不成立" in org.locator(f"#appeal-{filed.group(1)}").inner_text()
    day.shot(org, "ruling")

    # 10. the organiser issues the certificate, opens its PDF; its QR opens the verify page: genuine
    _follow(org, f"/admin/events/{e}")
    _follow(org, f"/console/events/{e}/certificates")
    org.locator(f"#item-{ITEM} button.issue").click()
    org.wait_for_load_state()
    cert_row = org.locator(f'tr[data-serial^="E{e}-{ITEM}-0001-"]')  # then the serial's random part
    serial = cert_row.get_attribute("data-serial") or ""
    assert "林*雨" in cert_row.inner_text() and "一等奖" in cert_row.inner_text() and "有效" in cert_row.inner_text()
    day.shot(org, "certificates", at=f"#item-{ITEM}")
    pdf_href = cert_row.locator("a.pdf").get_attribute("href")
    verify_href = cert_row.locator("a.verify").get_attribute("href")
    response = org.request.get(base + pdf_href)  # read back what the link opens
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert all(part in text for part in (NAME, UNIT, ITEM_NAME, "一等奖", serial)), text
    qr = _certificate_qr(day, pdf, serial)
    assert qr.endswith(verify_href), (qr, verify_href)  # the page's 核验页 link is the QR's URL
    check = day.page(PHONE)
    check.goto(qr.replace(DEFAULT_PUBLIC_URL, base))
    verdict = check.inner_text("main")
    assert "证书有效" in verdict and "二维码签名正确" in verdict and "林*雨" in verdict and NAME not in verdict
    assert f"{ITEM_NAME}（学生组）" in verdict and "一等奖" in verdict
    day.shot(check, "verify")

    assert day.errors == [], day.errors
