"""The event page's "二维码中的地址" box in Chromium, at a phone's width and a desk's: the red warning while the
address is loopback (and the poster refused), a bad address refused beside the field, then the address set
through the form, after which the warning is gone and the poster prints. Screenshots under tmp_path."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from contestday.settings import DEFAULT_PUBLIC_URL, Settings
from tests.browser.test_pages_browser import _shot, organiser_page, post_event
from tests.support.helpers import EXAMPLE_EVENT

pytestmark = pytest.mark.browser

LAN = "http://192.168.1.10:8000"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As a real server starts: no CONTESTDAY_ALLOW_LOOPBACK_QR."""
    return dataclasses.replace(settings, allow_loopback_qr=False)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_address_box_warns_refuses_and_sets_the_address(settings: Settings, live_server: str, browser: Any,
                                                             tmp_path: Path, width: int) -> None:
    page, errors = organiser_page(settings, browser, live_server, width)
    event_id = post_event(page, live_server, EXAMPLE_EVENT)
    page.goto(f"{live_server}/admin/events/{event_id}")
    box = page.locator("#public-address")
    warning = page.locator("#public-address-loopback")
    assert box.is_visible() and warning.is_visible()
    assert page.inner_text("#public-address-url") == DEFAULT_PUBLIC_URL
    assert "手机扫码打不开" in warning.inner_text()
    assert box.bounding_box()["width"] <= width  # nothing wider than a phone's screen
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box.screenshot(path=str(tmp_path / f"address-loopback-{width}.png"))
    _shot(page, tmp_path / f"event-page-{width}.png", full_page=False)
    refused = page.request.get(f"{live_server}/admin/events/{event_id}/poster.pdf")
    assert refused.status == 409 and refused.json()["code"] == "public_url_loopback"

    page.fill("#public-address input[name=url]", "ftp://192.168.1.10")
    page.click("#public-address .address-form button[type=submit]")
    error = page.locator("#public-address-error")
    assert error.is_visible() and error.get_attribute("data-code") == "invalid_public_url"
    assert page.input_value("#public-address input[name=url]") == "ftp://192.168.1.10"  # kept to correct

    page.fill("#public-address input[name=url]", "192.168.1.10:8000")
    page.click("#public-address .address-form button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/events/{event_id}?saved=address#public-address")
    assert page.locator("#address-saved").is_visible()
    assert page.inner_text("#public-address-url") == LAN
    assert page.locator("#public-address-loopback").count() == 0
    box.screenshot(path=str(tmp_path / f"address-set-{width}.png"))
    printed = page.request.get(f"{live_server}/admin/events/{event_id}/poster.pdf")
    assert printed.status == 200 and printed.body().startswith(b"%PDF")
    assert errors == []
