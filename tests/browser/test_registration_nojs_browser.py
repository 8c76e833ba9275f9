"""The QR form with JavaScript off (some WeChat builds, old phones): one submit of an empty form reports
every missing or invalid field at once, each next to its field and listed at the top; the API keeps its
first error (`code`, `message`, `field`) and lists all of them in `errors`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contestday.settings import Settings
from tests.browser.test_registration_browser import _event, _phone, _shot
from tests.registration.test_registration_api import make_event, person, post

Client = AsyncTestClient[Litestar]
SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots/F"))


@pytest.mark.browser
def test_an_empty_form_without_javascript_marks_every_field_at_once(settings: Settings, live_server: str,
                                                                     browser: Any, tmp_path: Path) -> None:
    event_id = _event(live_server)
    page = _phone(browser, javascript=False)
    page.goto(f"{live_server}/r/{event_id}")
    page.select_option("#item", "LED")
    page.fill("#m0_name", "张 三")  # against the rule, besides everything left empty
    page.fill("#m0_id_number", "500103199506151234")  # a wrong check character
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("button[type=submit]")
    assert posted.value.status == 422
    page.wait_for_selector("#top-error")
    expected = {"group": "请选择组别", "identity": "必填", "unit": "必填", "m0_name": "空格",
                "m0_id_number": "校验位不符", "m0_phone": "必填", "confirm": "请勾选确认"}
    for field, words in expected.items():
        shown = page.locator(f"#e-{field}")
        assert shown.is_visible() and words in shown.inner_text(), (field, shown.inner_text())
        if field != "confirm":  # the checkbox has its message only
            assert "err-in" in (page.get_attribute(f"#{field}", "class") or "")
    listed = page.locator("#top-error li").all_inner_texts()
    assert page.inner_text("#top-error").startswith(f"有 {len(expected)} 处需要修改")
    assert len(listed) == len(expected) and listed[0].startswith("组别") and listed[-1].startswith("确认声明")
    assert page.get_attribute("#top-error li a >> nth=0", "href") == "#group"
    assert page.input_value("#m0_name") == "张 三" and page.input_value("#item") == "LED"  # typing is kept
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        _shot(page, SHOTS / f"nojs-all-errors-{width}.png")

    # fixing everything in one go gets the ticket
    body = person()
    page.select_option("#group", "学生组")
    page.select_option("#identity", "student")
    page.fill("#m0_name", body["name"])
    page.fill("#m0_id_number", body["id_number"])
    page.fill("#m0_phone", body["phone"])
    page.fill("#unit", body["unit"])
    page.check("#confirm")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/t/**")
    assert body["name"] in page.inner_text("main")


async def test_the_api_lists_every_bad_field_and_keeps_the_first_in_front(admin: Any, client: Client) -> None:
    event_id = await make_event(admin)
    refused = await post(client, event_id, person(name="", phone="123", unit=""))
    assert refused.status_code == 422
    body = refused.json()
    assert (body["code"], body["field"]) == ("missing_field", "name") and body["message"].startswith("name：")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [
        ("missing_field", "name"), ("invalid_phone", "phone"), ("missing_field", "unit")]
    assert all(e["message"] and e["message_en"] for e in body["errors"])
    one = (await post(client, event_id, person(phone="123"))).json()
    assert one["code"] == "invalid_phone" and [e["field"] for e in one["errors"]] == ["phone"]
