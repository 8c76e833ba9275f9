"""The address in every QR code (#15): printing posters, ticket PDFs, judges' link cards and certificates is refused
while it is loopback; an administrator sets it on the event page (stored for the server), after which every QR
carries it; CONTESTDAY_PUBLIC_URL fixes it; the page warns; what `serve` says about the machine's addresses.

These tests run without the CONTESTDAY_ALLOW_LOOPBACK_QR=1 the other tests' `settings` carry."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from contestday.accounts.service import add_user
from contestday.app import create_app
from contestday.db.server_settings import ServerSetting
from contestday.settings import DEFAULT_PUBLIC_URL, Settings, load_settings
from contestday.web import addresses
from contestday.web.addresses import is_loopback, parse_public_url, same_origin, serve_lines
from contestday.web.errors import Refusal
from contestday.web.public_address import load_address
from registration.events import address_box
from tests.certificates.test_certificates_server import published
from tests.registration.test_registration_api import make_event, person
from tests.registration.test_registration_pages import form, submit
from tests.support.helpers import finished_job, login_headers, sign_in_headers

ZBAR = shutil.which("zbarimg")
LAN = "http://192.168.1.10:8000"
HTML = {"Accept": "text/html"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As a real server starts: no override, the loopback default."""
    return dataclasses.replace(settings, allow_loopback_qr=False)


def decode(png: bytes, tmp_path: Path) -> str:
    assert ZBAR, "zbarimg (zbar-tools) is needed to read the QR codes"
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    return subprocess.run([ZBAR, "-q", "--raw", str(path)], capture_output=True, text=True).stdout.strip()


def pdf_qr(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "doc.pdf"),
                    str(tmp_path / "page")], check=True)
    return decode((tmp_path / "page.png").read_bytes(), tmp_path)


# --- addresses ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "loopback"), [
    ("http://127.0.0.1:8000", True), ("http://127.8.9.1", True), ("http://localhost:8000", True),
    ("http://LOCALHOST.", True), ("http://app.localhost", True), ("http://[::1]:8000", True),
    ("http://0.0.0.0:8000", True), ("http://169.254.10.2", True), ("127.0.0.1", True), ("::1", True),
    ("http://192.168.1.10:8000", False), ("http://10.0.0.5", False), ("https://contest.example.cn", False),
    ("http://[2001:db8::5]:8000", False),
])
def test_what_counts_as_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_an_address_as_typed_is_checked_with_stable_codes() -> None:
    assert parse_public_url(" 192.168.1.10:8000/ ") == LAN
    assert parse_public_url("HTTPS://Contest.Example.CN/day") == "https://contest.example.cn/day"
    for raw, code in (("", "missing_public_url"), ("ftp://x.cn", "invalid_public_url"),
                      ("http://x.cn:99999", "invalid_public_url"), ("http://u:p@x.cn", "invalid_public_url"),
                      ("http://x.cn/?a=1", "invalid_public_url"), ("http://x.cn/#a", "invalid_public_url"),
                      ("http://127.0.0.1:8000", "public_url_loopback"), ("localhost", "public_url_loopback")):
        with pytest.raises(Refusal) as caught:
            parse_public_url(raw)
        assert caught.value.code == code and caught.value.status_code == 422, raw
        assert caught.value.extra_fields["field"] == "url"
    assert parse_public_url("http://127.0.0.1:8000", allow_loopback=True) == DEFAULT_PUBLIC_URL
    assert same_origin("http://a.cn:80/x", "HTTP://A.cn") and not same_origin(LAN, "http://192.168.1.10:8001")


def test_lan_addresses_leave_out_loopback_link_local_and_dockers_bridge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(addresses, "_route_address", lambda: ["192.168.1.10"])
    monkeypatch.setattr(addresses, "_interface_addresses", lambda: ["127.0.0.1", "10.0.0.7", "192.168.1.10"])
    monkeypatch.setattr(addresses, "_host_addresses", lambda: ["172.17.0.1", "169.254.1.1", "10.0.0.7", "bad"])
    assert addresses.lan_addresses() == ["192.168.1.10", "10.0.0.7"]


def test_the_real_machines_addresses_are_plain_ipv4() -> None:
    for address in addresses.lan_addresses():
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", address) and not is_loopback(address)


def test_what_serve_says_about_where_phones_reach_it() -> None:
    local = serve_lines("127.0.0.1", 8000, ["192.168.1.10"], DEFAULT_PUBLIC_URL, "default")
    assert "--host 0.0.0.0" in local[0] and "只有本机" in local[0]
    assert local[1] == "二维码中的地址 / the QR codes carry: http://127.0.0.1:8000（默认 / the default）"
    assert "手机扫码打不开" in local[2] and LAN in local[2]
    everywhere = serve_lines("0.0.0.0", 8000, ["192.168.1.10", "10.0.0.7"], LAN, "stored")
    assert everywhere[1:3] == ["  http://192.168.1.10:8000", "  http://10.0.0.7:8000"]
    assert everywhere[-1].endswith(f"{LAN}（赛事页面上设置的 / set on the event page）")  # no warning: reachable
    assert "未找到本机的局域网地址" in serve_lines("0.0.0.0", 8000, [], LAN, "env")[0]
    assert serve_lines("10.0.0.7", 9000, [], LAN, "env")[1] == "  http://10.0.0.7:9000"


# --- which address --------------------------------------------------------------------------------------------

async def test_the_environment_wins_over_the_stored_address_which_wins_over_the_default(
        settings: Settings, db: Any) -> None:
    async with db() as session:
        assert (await load_address(session, settings)).source == "default"
        session.add(ServerSetting(key="public_url", value=LAN, updated_by="admin"))
        await session.commit()
        stored = await load_address(session, settings)
        assert (stored.url, stored.source, stored.is_loopback, stored.updated_by) == (LAN, "stored", False, "admin")
        fixed = await load_address(session, dataclasses.replace(settings, public_url="https://contest.example.cn"))
        assert (fixed.url, fixed.source) == ("https://contest.example.cn", "env")
    made = load_settings({"CONTESTDAY_DATA_DIR": str(settings.data_dir), "CONTESTDAY_ALLOW_LOOPBACK_QR": "yes"},
                         dotenv=False)
    assert made.public_url is None and made.allow_loopback_qr


# --- printing refused while loopback, then allowed once set -----------------------------------------------------

async def test_posters_tickets_and_judge_cards_are_refused_until_the_event_page_sets_the_address(
        admin: Any, client: Any, tmp_path: Path) -> None:
    event_id = await make_event(admin)
    code = (await submit(client, event_id, form(person()))).headers["location"].split("/")[2].split("?")[0]
    judge = await admin.post(f"/admin/events/{event_id}/judges", follow_redirects=False,
                             data={"name": "李考评", "unit": "某评审中心", "phone": "13900000001", "id_number": ""})
    judge_page = judge.headers["location"].split("?")[0]
    printed = [f"/admin/events/{event_id}/poster.pdf", f"/admin/events/{event_id}/qr.png",
               f"/admin/events/{event_id}/judges/link-cards.pdf", f"{judge_page}/qr.png"]
    for path in printed:
        refused = await admin.get(path)
        assert refused.status_code == 409, path
        body = refused.json()
        assert body["code"] == "public_url_loopback" and body["public_url"] == DEFAULT_PUBLIC_URL, path
        assert "手机扫码打不开" in body["message"] and "赛事页面" in body["message"] and "phone" in body["message_en"]
    as_page = await admin.get(f"/admin/events/{event_id}/poster.pdf", headers=HTML)
    assert as_page.status_code == 409 and "二维码中的地址" in as_page.text  # a page, not JSON, in a browser
    ticket_pdf = await client.get(f"/t/{code}.pdf")
    assert ticket_pdf.status_code == 409 and "暂时不能下载凭证 PDF" in ticket_pdf.text
    ticket = await client.get(f"/t/{code}")  # on screen the ticket and its QR stay: check-in reads the code
    assert ticket.status_code == 200 and "<svg" in ticket.text and f"/t/{code}.pdf" not in ticket.text

    page = await admin.get(f"/admin/events/{event_id}", headers=HTML)
    assert 'id="public-address-loopback"' in page.text and DEFAULT_PUBLIC_URL in page.text
    saved = await admin.post(f"/admin/events/{event_id}/public-address", data={"url": "192.168.1.10:8000"},
                             follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=address#public-address")
    page = await admin.get(f"/admin/events/{event_id}?saved=address", headers=HTML)
    assert 'id="address-saved"' in page.text and 'id="public-address-loopback"' not in page.text
    assert f'<code id="public-address-url">{LAN}</code>' in page.text and "由 api-token 于" in page.text

    assert decode((await admin.get(f"/admin/events/{event_id}/qr.png")).content, tmp_path) == f"{LAN}/r/{event_id}"
    poster = await admin.get(f"/admin/events/{event_id}/poster.pdf")
    assert poster.status_code == 200 and pdf_qr(poster.content, tmp_path) == f"{LAN}/r/{event_id}"
    ticket_pdf = await client.get(f"/t/{code}.pdf")
    assert ticket_pdf.status_code == 200 and pdf_qr(ticket_pdf.content, tmp_path) == f"{LAN}/t/{code}"
    assert f"/t/{code}.pdf" in (await client.get(f"/t/{code}")).text
    assert decode((await admin.get(f"{judge_page}/qr.png")).content, tmp_path).startswith(f"{LAN}/j/")
    assert (await admin.get(f"/admin/events/{event_id}/judges/link-cards.pdf")).status_code == 200
    registered = await client.post(f"/api/events/{event_id}/registrations", json=person(name="赵六"))
    assert registered.json()["ticket_url"].startswith(f"{LAN}/t/")


async def test_certificates_are_refused_while_loopback_and_print_after(client: Any, db: Any) -> None:
    contest, organiser = await published(client, db)
    event_id = contest.event_id
    await client.post(f"/api/events/{event_id}/certificates/issue", json={}, headers=organiser)
    batch = await client.post(f"/console/events/{event_id}/certificates/print", data={"item": "LED"},
                              headers={**organiser, **HTML}, follow_redirects=False)
    assert batch.status_code == 409 and "手机扫码打不开" in batch.text and "public_url_loopback" in batch.text
    listed = (await client.get(f"/api/events/{event_id}/certificates", headers=organiser)).json()
    one = await client.get(f"/certificates/{listed[0]['serial']}.pdf", headers=organiser)
    assert one.status_code == 409 and one.json()["code"] == "public_url_loopback"

    admin = await login_headers(client, db, "admin", "organiser")  # server-wide: may set the address
    assert (await client.post(f"/admin/events/{event_id}/public-address", data={"url": LAN}, headers=admin,
                              follow_redirects=False)).status_code == 303
    started = await client.post(f"/console/events/{event_id}/certificates/print", data={"item": "LED"},
                                headers=organiser, follow_redirects=False)
    assert started.status_code == 303
    view = await finished_job(client, started.headers["location"], organiser)
    assert view["state"] == "done" and view["total"] == 6
    assert (await client.get(f"/certificates/{listed[0]['serial']}.pdf", headers=organiser)).status_code == 200


async def test_a_bad_address_is_refused_beside_the_field_and_nothing_is_stored(admin: Any, db: Any,
                                                                                settings: Settings) -> None:
    event_id = await make_event(admin)
    for raw, code in (("ftp://x.cn", "invalid_public_url"), ("http://localhost:8000", "public_url_loopback"),
                      ("", "missing_public_url")):
        page = await admin.post(f"/admin/events/{event_id}/public-address", data={"url": raw}, headers=HTML)
        assert page.status_code == 422, raw
        assert f'data-code="{code}"' in page.text and 'id="public-address-loopback"' in page.text
        assert f'value="{raw}"' in page.text  # what was typed stays in the field
    async with db() as session:
        assert (await load_address(session, settings)).source == "default"


async def test_only_administrators_set_it_and_an_events_organiser_sees_why(client: Any, db: Any, admin: Any) -> None:
    event_id = await make_event(admin)
    async with db() as session:
        await add_user(session, "org1", "pw-12345678", ["organiser"], event_id=event_id)
        await session.commit()
    own = await sign_in_headers(client, "org1")
    page = await client.get(f"/admin/events/{event_id}", headers={**own, **HTML})
    assert 'id="public-address-admin-only"' in page.text and 'action="/admin/events/' not in page.text.split(
        'id="public-address"')[1].split("</section>")[0]
    refused = await client.post(f"/admin/events/{event_id}/public-address", data={"url": LAN}, headers=own)
    assert refused.status_code == 403


async def test_the_environment_fixes_the_address(settings: Settings, tmp_path: Path) -> None:
    fixed = create_app(dataclasses.replace(settings, public_url="https://contest.example.cn"))
    async with AsyncTestClient(app=fixed) as client:
        admin = {"Authorization": "Bearer test-admin-token"}
        event_id = await make_event(_Bearer(client, admin))
        page = await client.get(f"/admin/events/{event_id}", headers={**admin, **HTML})
        assert 'id="public-address-fixed"' in page.text and "<form method=\"post\" action=\"/admin/events/" \
            f"{event_id}/public-address\"" not in page.text
        refused = await client.post(f"/admin/events/{event_id}/public-address", data={"url": LAN}, headers=admin)
        assert refused.status_code == 409 and 'id="public-address-fixed"' in refused.text
        qr = await client.get(f"/admin/events/{event_id}/qr.png", headers=admin)
        assert decode(qr.content, tmp_path) == f"https://contest.example.cn/r/{event_id}"


class _Bearer:
    def __init__(self, client: Any, headers: dict[str, str]):
        self.client, self.headers = client, headers

    async def post(self, url: str, **kwargs: Any) -> Any:
        return await self.client.post(url, headers=self.headers, **kwargs)


async def test_the_page_warns_when_the_browser_used_another_address(admin: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(address_box, "lan_addresses", lambda: ["10.0.0.9"])
    event_id = await make_event(admin)
    await admin.post(f"/admin/events/{event_id}/public-address", data={"url": LAN})
    same = await admin.get(f"/admin/events/{event_id}", headers={**HTML, "Host": "192.168.1.10:8000"})
    assert 'id="public-address-differs"' not in same.text
    other = await admin.get(f"/admin/events/{event_id}", headers={**HTML, "Host": "10.0.0.7:8000"})
    assert 'id="public-address-differs"' in other.text and "http://10.0.0.7:8000" in other.text
    assert 'value="http://10.0.0.7:8000"></label>' in other.text  # the browser's address, ready to save
    assert 'name="url" value="http://10.0.0.9:8000"' in other.text  # this machine's: a one-click choice
    local = await admin.get(f"/admin/events/{event_id}", headers={**HTML, "Host": "127.0.0.1:8000"})
    assert 'id="public-address-differs"' not in local.text  # on the server itself: no warning
