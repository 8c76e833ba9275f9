"""The message catalog: every Chinese message of the templates has its English, and the organiser pages
rendered in English show no Chinese of their own (only the data, and the deliberate exceptions)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contestday.accounts import service as accounts
from contestday.web.i18n import EN, gettext
from registration.events.pages import LABELS
from tests.support.helpers import post_login

TEMPLATES = Path(__file__).resolve().parents[2] / "registration" / "templates"
LITERAL = re.compile(r"""_\(\s*(?:"([^"]*)"|'([^']*)')\s*[,)]""")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
# Chinese that stays in English on purpose: the language switch, the group names as stored in event
# files (shown next to their English), and the search examples of the catalog picker (the catalog is Chinese).
ALLOWED = ("中文", "学生组", "职工组", "电工", "美容")


def template_messages() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        for match in LITERAL.finditer(path.read_text(encoding="utf-8")):
            message = match.group(1) if match.group(1) is not None else match.group(2)
            found.setdefault(message, []).append(str(path.relative_to(TEMPLATES)))
    return found


def test_templates_use_the_catalog() -> None:
    assert len(template_messages()) > 80  # the scan does find the messages


def test_every_template_message_has_english() -> None:
    missing = {m: where for m, where in template_messages().items() if m not in EN}
    assert missing == {}, f"add these to contestday/web/i18n.py EN: {missing}"


def test_every_label_the_templates_translate_has_english() -> None:
    missing = [label for labels in LABELS for label in labels.values() if label not in EN]
    assert missing == []


def test_gettext_falls_back_to_chinese_and_keeps_chinese_for_zh() -> None:
    assert gettext("保存赛事", "en") == "Save event" and gettext("保存赛事", "zh") == "保存赛事"
    assert gettext("没有这条消息", "en") == "没有这条消息"


class _VisibleText(HTMLParser):
    """Text a reader sees: element text outside <style>, plus placeholders, titles and labels for
    assistive technology. Script text counts too, except JSON data blocks are checked the same way."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style" or (tag == "script" and ("type", "application/json") not in attrs):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def untranslated(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for allowed in ALLOWED:
        text = text.replace(allowed, "")
    return sorted({line.strip() for line in text.splitlines() if HAN.search(line)})


ASCII_EVENT = {
    "event": {"name": "Demo Cup", "kind": "district", "starts_on": "2026-10-20",
              "award_policy": {"rule": "total_within_30pct", "ratio": 0.3}, "organiser": "Demo Bureau"},
    "items": [{"code": "E1", "name": "Electrician", "exam_level": 3, "groups": ["Open"],
               "criteria": [{"code": "A", "name": "Wiring", "max": 60, "kind": "measurement"},
                            {"code": "B", "name": "Finish", "max": 40, "kind": "judgement", "aggregate": "median"},
                            {"code": "S", "name": "Safety", "max": 5, "kind": "deduction"}],
               "tie_break": ["practical", "criterion:B"]}],
}


@pytest.fixture
async def english(app: Litestar, db: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with db() as session:  # the test's own connection: the app's pool lives on the client's loop
        await accounts.add_user(session, "org", "pw-12345678", ["organiser"])
        await session.commit()
    async with AsyncTestClient(app=app) as client:
        await post_login(client, {"name": "org", "password": "pw-12345678", "next": "/"})
        client.cookies.set("lang", "en")
        client.headers["Accept"] = "text/html"
        yield client


async def test_organiser_pages_in_english_show_no_untranslated_chinese(english: AsyncTestClient[Litestar]) -> None:
    csrf = (await english.get("/api/me")).json()["csrf_token"]
    created = await english.post("/api/events", json=ASCII_EVENT, headers={"X-CSRF-Token": csrf})
    event_id = created.json()["id"]
    pages = {
        "list": await english.get("/admin/events"),
        "new": await english.get("/admin/events/new"),
        "edit": await english.get(f"/admin/events/{event_id}"),
        "edit with errors": await english.post(f"/admin/events/{event_id}",
                                               data={"document": '{"event": {}, "items": []}', "csrf_token": csrf}),
        "import with errors": await english.post("/admin/events/import", data={"csrf_token": csrf},
                                                 files={"file": ("x.toml", b"items = 3", "application/toml")}),
        "login": await english.get("/login"),
        "home": await english.get("/"),
    }
    for name, response in pages.items():
        assert response.status_code in (200, 422), name
        assert '<html lang="en">' in response.text, name
        assert untranslated(response.text) == [], f"{name} page shows untranslated Chinese"
    assert "Save event" in pages["edit"].text and "is required" in pages["edit with errors"].text
    english.cookies.set("lang", "zh")
    assert "赛事设置" in untranslated((await english.get(f"/admin/events/{event_id}")).text)  # the check can fail
