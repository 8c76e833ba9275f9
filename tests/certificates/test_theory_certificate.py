"""An item that weighs theory, published end to end (#14 A.3): theory imported and confirmed, times handed in, the
item settled and published; the public page and the board's data show 理论/实操/总成绩, and each certificate
prints the total with its theory and practical parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.certificates.test_certificate_kinds import _pdf_text
from tests.results.test_console import mark
from tests.results.test_publication import settle
from tests.results.test_theory_ranking import _tickets
from tests.support.helpers import login_headers
from tests.support.judging_setup import seated_contest

JUDGES = (("王裁判", "评审中心"), ("张裁判", "评审中心二"))


async def test_an_item_with_theory_is_published_and_its_certificate_shows_the_total(
        client: Any, db: Any, tmp_path: Path) -> None:
    contest = await seated_contest(db, n=3, judges=JUDGES, theory_weight="0.2")
    seats = sorted(contest.seats)
    sheet = {seats[0]: ("30", "40"), seats[1]: ("36", "50"), seats[2]: ("32", "46")}
    for k, (seat, (a, b)) in enumerate(sheet.items()):
        for judge, short in (("王裁判", "王"), ("张裁判", "张")):
            await mark(db, judge, seat, "A", a, f"{short}-a-{k}")
            await mark(db, judge, seat, "B", b, f"{short}-b-{k}")
    chief = await login_headers(client, db, "chief-a", "chief_judge")
    organiser = await login_headers(client, db, "org-b", "organiser")
    e = contest.event_id
    tickets = await _tickets(db, e)
    rows = [{"ticket_code": tickets[seats[0]], "score": "95.50"}, {"ticket_code": tickets[seats[1]], "score": "40"},
            {"ticket_code": tickets[seats[2]], "absent": "缺考"}]
    staged = await client.post(f"/api/events/{e}/items/LED/theory", headers=chief, json={"rows": rows})
    assert staged.status_code == 200, staged.text
    confirmed = await client.post(f"/api/events/{e}/items/LED/theory/{staged.json()['import_id']}/confirm",
                                  headers=organiser)
    assert confirmed.status_code == 200, confirmed.text
    await settle(db, contest)  # times handed in, locked, re-checked, decrypted
    published = await client.post(f"/api/events/{e}/items/LED/publication", json={}, headers=chief)
    assert published.status_code == 201, published.text

    api = (await client.get(f"/api/public/events/{e}/results")).json()
    view = next(i for i in api["items"] if i["code"] == "LED")["view"]
    by_total = [(r["theory"], r["practical"], r["total"]) for g in view["groups"] for r in g["rows"]]
    # 0.2 × theory + 0.8 × practical: seats[1] 40 and 86 → 76.80; seats[0] 95.50 and 70 → 75.10; seats[2] 0 and 78
    assert by_total == [("40.00", "86.00", "76.80"), ("95.50", "70.00", "75.10"), ("0.00", "78.00", "62.40")]
    public = (await client.get(f"/results/{e}/LED")).text
    assert "<th>理论</th><th>实操</th><th>总成绩</th>" in public
    assert '<td class="num">95.50</td><td class="num">70.00</td><td class="num">75.10</td>' in public

    issued = await client.post(f"/api/events/{e}/certificates/issue", json={}, headers=organiser)
    assert issued.json()["issued"] == 3, issued.text
    listed = (await client.get(f"/api/events/{e}/certificates", headers=organiser)).json()
    first = _pdf_text(tmp_path, (await client.get(f"/certificates/{listed[0]['serial']}.pdf",
                                                  headers=organiser)).content, "first")
    assert "总成绩 76.80 分（理论 40.00 · 实操 86.00）" in first and listed[0]["award"] == "一等奖"
    results = _pdf_text(tmp_path, (await client.get(f"/api/events/{e}/items/LED/lists/results.pdf",
                                                    headers=organiser)).content, "results")
    assert "理论成绩" in results and "95.50" in results
