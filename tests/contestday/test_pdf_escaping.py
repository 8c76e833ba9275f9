"""Names are text, never markup (issue #12, finding 5): an event, item and criterion named with `<b>&` render
every list PDF of the item (reportlab's Paragraph parses its text as XML: before, one `<` broke them all),
the poster, the judges' link cards and the certificate, and the PDF's text shows the names literally."""

from __future__ import annotations

import copy
import shutil
import subprocess
from typing import Any

import pytest

from results.list_pdf import table_pdf
from results.lists import KINDS
from tests.certificates.test_certificate_layout import first_serial
from tests.results.test_publication import marked, settle
from tests.support import judging_setup
from tests.support.helpers import login_headers

EVENT, ITEM, CRITERION = "技能<b>&大赛", "LED<b>&显示屏 <i>x</i>", "工艺<与>规范&"


def pdf_text(data: bytes) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils)")
    out = subprocess.run([tool, "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return "".join(out.split())  # a long title may wrap


def test_every_value_of_a_list_is_text() -> None:
    data = table_pdf(f"{ITEM}获奖名单", f"{EVENT} · 第 1 版", ("序号", "姓名<", "单位&"),
                     [["1", "张<b>三</b>", "A&B <br/> 学校"]], footer=ITEM)
    text = pdf_text(data)
    for shown in (f"{ITEM}获奖名单", EVENT, "姓名<", "单位&", "张<b>三</b>", "A&B<br/>学校"):
        assert "".join(shown.split()) in text, shown


async def test_names_with_markup_render_every_pdf(client: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real = judging_setup.reg_event

    def named(**changes: Any) -> dict[str, Any]:
        doc = copy.deepcopy(real(**changes))
        doc["event"]["name"] = EVENT
        doc["items"][0]["name"] = ITEM
        doc["items"][0]["criteria"][1]["name"] = CRITERION
        return doc

    monkeypatch.setattr(judging_setup, "reg_event", named)
    contest = await marked(db)
    chief = await login_headers(client, db, "chief", "chief_judge")
    organiser = await login_headers(client, db, "org", "organiser")
    await settle(db, contest)
    published = await client.post(f"/api/events/{contest.event_id}/items/LED/publication", json={}, headers=chief)
    assert published.status_code == 201, published.text
    for kind in KINDS:
        got = await client.get(f"/api/events/{contest.event_id}/items/LED/lists/{kind}.pdf", headers=organiser)
        assert got.status_code == 200 and got.content.startswith(b"%PDF"), (kind, got.text[:200])
        text = pdf_text(got.content)
        assert "".join(ITEM.split()) in text and EVENT in text, kind
        if kind == "sheets":
            assert f"B{CRITERION}" in text  # the score sheets name every criterion
    poster = await client.get(f"/admin/events/{contest.event_id}/poster.pdf", headers=organiser)
    assert poster.status_code == 200 and EVENT in pdf_text(poster.content)
    cards = await client.get(f"/admin/events/{contest.event_id}/judges/link-cards.pdf", headers=organiser)
    assert cards.status_code == 200 and EVENT in pdf_text(cards.content)
    await client.post(f"/api/events/{contest.event_id}/certificates/issue", json={}, headers=organiser)
    serial = await first_serial(db, contest.event_id)
    certificate = await client.get(f"/certificates/{serial}.pdf", headers=organiser)
    assert certificate.status_code == 200 and f"《{EVENT}》《{''.join(ITEM.split())}》" in pdf_text(certificate.content)
