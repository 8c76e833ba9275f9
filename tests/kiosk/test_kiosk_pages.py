"""The kiosk package's pages, server side: who may open each; the organiser's check-in desk (status, marking
no-shows absent, the seat plan form, seat moves, sign-in links); the printable seat lists with and without
names, as HTML and XLSX; the encryption judge's page."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from contestday.web.i18n import EN
from judging.sealed import lock_scores
from kiosk import seat_lists
from tests.registration.test_checkin import contest, scan
from tests.support.helpers import login_headers

Client = AsyncTestClient[Litestar]
HTML = {"Accept": "text/html"}
KIOSK = Path(__file__).resolve().parents[2] / "kiosk"


async def _seated(admin: Any, client: Client, entries: int = 3, seated: int = 3,
                  **plan_args: Any) -> tuple[int, list[str]]:
    """A contest whose first `seated` contestants checked in and drew a seat."""
    event_id, codes = await contest(admin, client, entries=entries, **plan_args)
    for n, code in enumerate(codes[:seated]):
        assert (await scan(admin, event_id, code, f"s{n}")).status_code == 200
        drawn = await admin.post(f"/api/events/{event_id}/draws", json={"ticket_code": code, "station": "A门"})
        assert drawn.status_code == 200, drawn.text
    return event_id, codes


async def _names(admin: Any, client: Client, db: Any, event_id: int) -> set[str]:
    crypt = await login_headers(client, db, "enc-names", "encryption_judge")
    rows = (await client.get(f"/api/events/{event_id}/items/LED/mapping", headers=crypt)).json()
    return {n for r in rows for n in r["names"]}


def _badge(page: str, item: str, kind: str) -> int:
    row = re.search(rf'<tr data-item="{item}">(.*?)</tr>', page, re.S)
    assert row, page
    found = re.search(rf'class="badge[a-z ]* {kind}">(\d+)<', row.group(1))
    assert found, row.group(1)
    return int(found.group(1))


# who may open what ---------------------------------------------------------------------------------------------
async def test_each_page_admits_its_roles(admin: Any, client: Client, db: Any) -> None:
    event_id, _ = await contest(admin, client, entries=1)
    who = {role: await login_headers(client, db, f"u-{role}", role)
           for role in ("checkin", "judge", "chief_judge", "encryption_judge", "organiser")}
    pages = {
        f"/kiosk/events/{event_id}/checkin": {"checkin", "organiser"},
        f"/admin/events/{event_id}/checkin": {"organiser"},
        f"/admin/events/{event_id}/items/LED/seat-plan": {"organiser"},
        f"/admin/events/{event_id}/items/LED/seats.html": {"organiser", "chief_judge"},
        f"/admin/events/{event_id}/items/LED/seats.xlsx": {"organiser", "chief_judge"},
        f"/sealed/events/{event_id}": {"encryption_judge"},
        f"/sealed/events/{event_id}/items/LED/seats.html": {"encryption_judge"},
        f"/sealed/events/{event_id}/items/LED/seats.xlsx": {"encryption_judge"},
    }
    for url, allowed in pages.items():
        for role, headers in who.items():
            response = await client.get(url, headers={**headers, **HTML}, follow_redirects=False)
            assert response.status_code == (200 if role in allowed else 403), (url, role, response.status_code)
        anonymous = await client.get(url, headers=HTML, follow_redirects=False)
        assert anonymous.status_code in (302, 303) and "/login?next=" in anonymous.headers["location"], url


async def test_kiosk_page_is_a_shell_for_the_script(admin: Any, client: Client, db: Any) -> None:
    event_id, _ = await contest(admin, client, entries=1)
    staff = await login_headers(client, db, "desk", "checkin")
    page = (await client.get(f"/kiosk/events/{event_id}/checkin?station=A门", headers=staff)).text
    assert 'src="/static/kiosk/kiosk.js"' in page and 'id="scan"' in page and 'data-station="A门"' in page
    assert f'data-csrf="{staff["X-CSRF-Token"]}"' in page  # the script sends it with every POST
    assert "cdn" not in page.lower() and "<script>" not in page  # the script's text is a JSON data block
    script = (await client.get("/static/kiosk/kiosk.js")).text
    assert "BarcodeDetector" in script and "randomUUID" in script and "/health" in script


# the organiser's check-in desk ------------------------------------------------------------------------------
async def test_status_per_item_and_mark_absent_with_the_button(admin: Any, client: Client, db: Any) -> None:
    event_id, codes = await contest(admin, client, entries=3)
    await scan(admin, event_id, codes[0], "p")
    org = await login_headers(client, db, "org", "organiser")
    page = (await client.get(f"/admin/events/{event_id}/checkin", headers=org)).text
    assert (_badge(page, "LED", "present"), _badge(page, "LED", "absent"), _badge(page, "LED", "not-yet")) == (1, 0, 2)
    action = f"/admin/events/{event_id}/items/LED/absent"
    assert f'action="{action}"' in page and "开赛：未检录者记为缺考" in page and "确认记为缺考" in page
    cookie_only = {"Cookie": org["Cookie"]}
    refused = await client.post(action, headers=cookie_only, data={}, follow_redirects=False)
    assert refused.status_code == 403  # the form carries the CSRF token; without it nothing happens
    done = await client.post(action, headers=cookie_only, data={"csrf_token": org["X-CSRF-Token"]},
                             follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=absent&n=2")
    page = (await client.get(done.headers["location"], headers=org)).text
    assert "已将未检录者记为缺考：2 人" in page
    assert (_badge(page, "LED", "present"), _badge(page, "LED", "absent"), _badge(page, "LED", "not-yet")) == (1, 2, 0)
    status = (await admin.get(f"/api/events/{event_id}/checkin/status")).json()
    assert status == [{"item": "LED", "item_name": "LED显示屏应用", "present": 1, "absent": 2, "not_yet": 0}]
    late = await scan(admin, event_id, codes[1], "late")
    assert late.json()["code"] == "marked_absent"


async def test_seat_plan_form_errors_next_to_fields(admin: Any, client: Client) -> None:
    event_id, _ = await contest(admin, client, entries=1, seats=12)
    url = f"/admin/events/{event_id}/items/LED/seat-plan"
    page = (await admin.get(url)).text
    assert 'name="s0_seat_count"' in page and 'value="12"' in page and 'name="s2_name"' in page  # + 2 blank rows

    good = {"s0_name": "上午场", "s0_starts_at": "2026-10-20T09:00", "s0_seat_count": "20", "s0_prefix": "A",
            "s0_before": "45", "s0_after": "10"}
    bad_time = await admin.post(url, data={**good, "s0_starts_at": "明天上午"})
    assert bad_time.status_code == 422
    assert re.search(r'name="s0_starts_at"[^>]*class="invalid"', bad_time.text)
    assert 'id="s0_starts_at-error">应为日期时间' in bad_time.text
    assert 'value="明天上午"' in bad_time.text  # what was typed stays in the form

    second = {"s1_name": "下午场", "s1_starts_at": "2026-10-20T14:00", "s1_seat_count": "很多", "s1_prefix": "B"}
    bad_count = await admin.post(url, data={**good, "s1_name": "", "s1_starts_at": "", "s1_seat_count": "",
                                            "s2_name": "下午场", "s2_starts_at": "2026-10-20T14:00",
                                            "s2_seat_count": "很多", "s2_prefix": "B"})
    assert bad_count.status_code == 422 and 'id="s2_seat_count-error"' in bad_count.text  # the form's row, not 1
    same_prefix = await admin.post(url, data={**good, **second, "s1_seat_count": "5", "s1_prefix": "A"})
    assert same_prefix.status_code == 422 and "不同场次的座位号重复" in same_prefix.text

    saved = await admin.post(url, data={**good, **second, "s1_seat_count": "5"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/checkin?done=plan")
    stored = (await admin.get(f"/api/events/{event_id}/items/LED/seat-plan")).json()["sessions"]
    assert [(s["name"], s["starts_at"], s["seat_count"], s["checkin_opens_at"]) for s in stored] == [
        ("上午场", "2026-10-20T01:00:00+00:00", 20, "2026-10-20T00:15:00+00:00"),
        ("下午场", "2026-10-20T06:00:00+00:00", 5, "2026-10-20T05:00:00+00:00")]
    again = (await admin.get(url)).text
    assert 'value="2026-10-20T09:00"' in again and 'value="45"' in again  # Beijing time and minutes, round trip


async def test_seat_plan_is_fixed_once_drawn(admin: Any, client: Client) -> None:
    event_id, _ = await _seated(admin, client, entries=1, seated=1)
    url = f"/admin/events/{event_id}/items/LED/seat-plan"
    assert "座位安排已固定" in (await admin.get(url)).text
    refused = await admin.post(url, data={"s0_name": "x", "s0_starts_at": "2026-10-20T09:00", "s0_seat_count": "9"})
    assert refused.status_code == 409 and "已有选手抽签，不能再修改座位安排" in refused.text


async def test_seat_move_by_seat_with_reason(admin: Any, client: Client, db: Any) -> None:
    event_id, _ = await _seated(admin, client, entries=2, seated=2, seats=4)
    async with db() as session:
        taken = [r[0] for r in (await session.exec(text("SELECT seat_label FROM seat_assignment ORDER BY id"))).all()]  # type: ignore[call-overload]
    free = next(s for s in ("A01", "A02", "A03", "A04") if s not in taken)
    url = f"/admin/events/{event_id}/checkin/move"
    form = {"item": "LED", "contestant": taken[0].lower(), "seat": free, "reason": "", "minutes": "6"}
    no_reason = await admin.post(url, data=form)
    assert no_reason.status_code == 422
    assert re.search(r'name="reason"[^>]*class="invalid"', no_reason.text) and "调整座位须填写理由" in no_reason.text
    empty = next(s for s in ("A01", "A02", "A03", "A04") if s not in taken and s != free)
    nobody = await admin.post(url, data={**form, "contestant": empty, "reason": "电源故障"})
    assert nobody.status_code == 404 and re.search(r'name="contestant"[^>]*class="invalid"', nobody.text)
    onto_taken = await admin.post(url, data={**form, "seat": taken[1], "reason": "电源故障"})
    assert onto_taken.status_code == 409 and "目标座位已有选手" in onto_taken.text
    moved = await admin.post(url, data={**form, "reason": "电源故障"}, follow_redirects=False)
    assert moved.status_code == 303
    page = (await admin.get(moved.headers["location"])).text
    assert f"已调整座位：{taken[0]} → {free}" in page
    assert re.search(rf"<td>{taken[0]}</td><td>{free}</td>\s*<td>电源故障</td><td class=\"num\">6</td>", page)
    for name in await _names(admin, client, db, event_id):
        assert name not in page  # the organiser's desk never puts names next to seats


async def test_sign_in_links_for_check_in_staff_open_the_kiosk(admin: Any, client: Client, db: Any) -> None:
    event_id, _ = await contest(admin, client, entries=1)
    await login_headers(client, db, "desk-1", "checkin")
    page = (await admin.get(f"/admin/events/{event_id}/checkin")).text
    link = re.search(r'value="(https?://[^"]+/login/link/[^"]+)"', page)
    assert link and "desk-1" in page
    path = link.group(1).split("://", 1)[1].split("/", 1)[1]
    signed_in = await client.get("/" + path.replace("&amp;", "&"), follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == f"/kiosk/events/{event_id}/checkin"
    kiosk = await client.get(signed_in.headers["location"])
    client.cookies.clear()
    assert kiosk.status_code == 200 and 'id="scan"' in kiosk.text


# printable seat lists ---------------------------------------------------------------------------------------
async def test_blind_seat_list_has_no_names(admin: Any, client: Client, db: Any) -> None:
    event_id, _ = await _seated(admin, client, entries=3, seated=2, seats=4, sessions=2)
    names = await _names(admin, client, db, event_id)
    chief = await login_headers(client, db, "chief", "chief_judge")
    page = (await client.get(f"/admin/events/{event_id}/items/LED/seats.html?names=0", headers=chief)).text
    assert page.count('<section class="sheet">') == 2  # one printed page per session
    assert "共 4 个座位" in page and page.count('class="occupied"') == 2 and page.count('class="vacant"') == 6
    assert all(label in page for label in ("A01", "A04", "B01", "B04"))
    assert not [n for n in names if n in page] and "抽签号" not in page
    css = (await client.get("/static/kiosk/print.css")).text
    assert "size: A4" in css and "@media print" in css and "break-after: page" in css

    xlsx = await client.get(f"/admin/events/{event_id}/items/LED/seats.xlsx", headers=chief)
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    frame = pl.read_excel(io.BytesIO(xlsx.content))
    assert tuple(frame.columns) == seat_lists.BLIND_COLUMNS == ("场次", "开始时间", "座位号", "状态")
    assert frame.height == 8 and frame["状态"].to_list().count("已就座") == 2
    assert frame["座位号"].to_list()[:2] == ["A01", "A02"]

    named = await client.get(f"/admin/events/{event_id}/items/LED/seats.html?names=1", headers=chief,
                             follow_redirects=False)
    assert named.status_code == 303 and named.headers["location"] == f"/sealed/events/{event_id}/items/LED/seats.html"


async def test_named_seat_list_only_for_the_encryption_judge(admin: Any, client: Client, db: Any) -> None:
    event_id, _ = await _seated(admin, client, entries=3, seated=3, seats=10)
    crypt = await login_headers(client, db, "enc", "encryption_judge")
    mapping = (await client.get(f"/api/events/{event_id}/items/LED/mapping", headers=crypt)).json()
    base = f"/sealed/events/{event_id}/items/LED"
    page = await client.get(f"{base}/seats.html", headers=crypt)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for row in mapping:
        assert re.search(rf'<td class="seat">{row["seat"]}</td><td class="num">{row["draw_number"]}</td>'
                         rf'<td>{row["names"][0]}</td><td>{row["unit"]}</td><td>{row["group"]}</td>', page.text)
    xlsx = await client.get(f"{base}/seats.xlsx", headers=crypt)
    frame = pl.read_excel(io.BytesIO(xlsx.content))
    assert tuple(frame.columns) == seat_lists.NAMED_COLUMNS
    assert seat_lists.NAMED_COLUMNS == ("场次", "开始时间", "座位号", "抽签号", "姓名", "单位", "组别")
    assert sorted(frame["姓名"].to_list()) == sorted(r["names"][0] for r in mapping)
    assert frame["抽签号"].to_list() == [str(r["draw_number"]) for r in mapping]

    others = [await login_headers(client, db, f"x-{role}", role) for role in ("judge", "chief_judge", "organiser")]
    for headers in [*others, {"Authorization": admin._auth["Authorization"]}]:
        for url in (f"{base}/seats.html", f"{base}/seats.xlsx", f"/sealed/events/{event_id}"):
            response = await client.get(url, headers=headers)
            assert response.status_code == 403, (url, headers)
            assert not [r for r in mapping if r["names"][0] in response.text]


async def test_sealed_page_reveal_buttons_wait_for_the_lock(admin: Any, client: Client, db: Any) -> None:
    event_id, _ = await _seated(admin, client, entries=1, seated=1)
    crypt = await login_headers(client, db, "enc", "encryption_judge")

    def buttons(page: str) -> list[tuple[str, bool]]:
        row = re.search(r'<tr data-item="LED".*?</tr>', page, re.S)
        assert row
        tag = re.compile(r'<button type="button" class="reveal[^"]*" data-layer="(\d)"[^>]*>')
        return [(m.group(1), "disabled" in m.group(0)) for m in tag.finditer(row.group(0))]

    page = (await client.get(f"/sealed/events/{event_id}", headers=crypt)).text
    assert buttons(page) == [("1", True), ("2", True)] and "未锁定" in page
    assert 'src="/static/kiosk/sealed.js"' in page and f'data-csrf="{crypt["X-CSRF-Token"]}"' in page
    async with db() as session:
        item_id = (await session.exec(text("SELECT id FROM item WHERE code = 'LED'"))).first()[0]  # type: ignore[call-overload]
        await lock_scores(session, item_id, "chief")
        await session.commit()
    page = (await client.get(f"/sealed/events/{event_id}", headers=crypt)).text
    assert buttons(page) == [("1", False), ("2", True)] and "已锁定" in page
    await client.post(f"/api/events/{event_id}/items/LED/reveal", json={"layer": 1}, headers=crypt)
    page = (await client.get(f"/sealed/events/{event_id}", headers=crypt)).text
    assert buttons(page) == [("1", True), ("2", False)] and "已解密第 1 层" in page


# the pages' English ------------------------------------------------------------------------------------------
LITERAL = re.compile(r"""_\(\s*(?:"([^"]*)"|'([^']*)')\s*[,)]""")


def test_every_kiosk_message_has_english() -> None:
    import kiosk.messages as messages

    found = {m.group(1) or m.group(2) for p in (KIOSK / "templates").rglob("*.html")
             for m in LITERAL.finditer(p.read_text(encoding="utf-8"))}
    found |= set(messages.KIOSK_JS.values())
    assert len(found) > 80
    assert sorted(m for m in found if m not in EN) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_kiosk_page_speaks_the_chosen_language(admin: Any, client: Client, lang: str) -> None:
    event_id, _ = await contest(admin, client, entries=1)
    page = (await admin.get(f"/kiosk/events/{event_id}/checkin", headers={"Cookie": f"lang={lang}"})).text
    assert ("请出示参赛凭证二维码" in page) == (lang == "zh")
    assert ('"ok": "Checked in"' in page) == (lang == "en")

