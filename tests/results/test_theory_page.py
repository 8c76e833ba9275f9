"""The theory import page (results/theory_pages.py) over HTTP, as a browser without JavaScript posts it: a sheet
refused row by row shows every problem and stores nothing; a dry run stores nothing; an accepted sheet waits
for confirmation, the importer's own confirmation is refused (四眼), a second person's makes the scores count
(the publish blocker goes); a pending import can be discarded; names are masked, seats shown only once the
item is decrypted; the template sheet reads back as a theory sheet; the publish page links here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import col, select

from contestday.web.i18n import EN
from registration.checkin.models import SeatAssignment
from registration.entries.models import Entry, EntryMember
from results.theory import read_theory_sheet
from results.theory_pages import mask_name
from tests.registration.test_registration_admin import xlsx
from tests.registration.test_registration_api import make_id
from tests.results.test_publication import decrypt, lock
from tests.support.helpers import login_headers
from tests.support.judging_setup import Contest, seated_contest

HEADER = ["参赛凭证号", "姓名", "身份证号", "理论成绩", "缺考原因"]


def _url(contest: Contest, tail: str = "") -> str:
    return f"/console/events/{contest.event_id}/items/LED/theory{tail}"


async def people(db: Any, contest: Contest) -> list[dict[str, str]]:
    """Each seated contestant: seat, ticket code, name (seat order)."""
    async with db() as session:
        rows = (await session.exec(select(SeatAssignment.seat_label, Entry.ticket_code, EntryMember.name)
                                   .join(Entry, col(Entry.id) == SeatAssignment.entry_id)
                                   .join(EntryMember, col(EntryMember.entry_id) == Entry.id)
                                   .where(Entry.event_id == contest.event_id)
                                   .order_by(col(SeatAssignment.seat_label)))).all()
    return [{"seat": s, "ticket": t, "name": n} for s, t, n in rows]


async def _count(db: Any, table: str) -> int:
    async with db() as session:
        return int((await session.exec(text(f"SELECT count(*) FROM {table}"))).one()[0])  # type: ignore[call-overload]


def _csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    return ("参赛凭证号,姓名,理论成绩,缺考原因\n" + "".join(f"{t},{n},{s},{a}\n" for t, n, s, a in rows)).encode()


def _report_rows(page: str) -> list[tuple[int, str]]:
    """(row, code) of each refused line of the report."""
    report = page.split('id="report"', 1)[1].split("</section>", 1)[0]
    return [(int(row), code) for row, code in re.findall(
        r'<tr class="bad" data-row="(\d+)">.*?<code>(\w+)</code>', report, re.S)]


async def _setup(client: Any, db: Any) -> tuple[Contest, list[dict[str, str]], dict[str, str], dict[str, str]]:
    contest = await seated_contest(db, n=3, theory_weight="0.2")
    return (contest, await people(db, contest), await login_headers(client, db, "chief-a", "chief_judge"),
            await login_headers(client, db, "org-b", "organiser"))


async def test_a_sheet_refused_row_by_row_shows_every_problem_and_stores_nothing(client: Any, db: Any) -> None:
    contest, (a, b, c), first, _second = await _setup(client, db)
    page = await client.get(_url(contest), headers=first)
    assert page.status_code == 200, page.text
    assert 'data-blocking="3"' in page.text and "有 3 名到场选手缺理论成绩" in page.text
    sheet = xlsx([[a["ticket"], "别人", "", "88", ""],                      # 2: name mismatch
                  [b["ticket"], b["name"], "", "70", ""],                  # 3: fine
                  [b["ticket"], b["name"], "", "71", ""],                  # 4: the same person again
                  ["", "", make_id(), "60", ""],                           # 5: nobody entered has this ID
                  [c["ticket"], c["name"], "", "100.5", ""],               # 6: out of range
                  ["", "", int(make_id()[:17] + "0"), "60", ""]],          # 7: the ID typed as a number
                 header=HEADER)
    refused = await client.post(_url(contest), headers=first, files={"file": ("理论成绩.xlsx", sheet)},
                                data={"reason": "先填的原因"})
    assert refused.status_code == 422, refused.text
    assert _report_rows(refused.text) == [(2, "name_mismatch"), (4, "duplicate_row"), (5, "unknown_person"),
                                          (6, "out_of_range"), (7, "numeric_cell")]
    assert "未导入任何成绩" in refused.text and "<code>theory_refused</code>" in refused.text
    assert "有问题 5 行" in refused.text and "理论成绩.xlsx" in refused.text
    assert 'value="先填的原因"' in refused.text  # what was typed stays in the form
    assert await _count(db, "theory_import") == 0 and await _count(db, "theory_score") == 0
    for files, code in (({"file": ("x.csv", b"a,b\n1,2\n")}, "no_header"),
                        ({"other": ("x.csv", b"")}, "missing_file")):
        answer = await client.post(_url(contest), headers=first, files=files)
        assert answer.status_code == 422 and f"<code>{code}</code>" in answer.text, answer.text
        assert "不能导入：" in answer.text


async def test_a_dry_run_reports_the_rows_and_stores_nothing(client: Any, db: Any) -> None:
    contest, (a, b, c), first, _second = await _setup(client, db)
    sheet = _csv([(a["ticket"], a["name"], "88.5", ""), (b["ticket"], b["name"], "70", ""),
                  (c["ticket"], c["name"], "", "病假")])
    checked = await client.post(_url(contest), headers=first, files={"file": ("theory.csv", sheet)},
                                data={"dry_run": "1"})
    assert checked.status_code == 200, checked.text
    report = checked.text.split('id="report"', 1)[1].split("</section>", 1)[0]
    assert "检查结果（未导入）" in report and "可以导入 3 行" in report and "其中缺考 1 人" in report
    assert report.count('<tr class="ok"') == 3 and "88.50" in report and "病假" in report
    assert 'name="dry_run" value="1" checked' in checked.text
    assert await _count(db, "theory_import") == 0 and 'id="pending"' not in checked.text


async def test_accepted_pending_the_importer_cannot_confirm_a_second_person_does(client: Any, db: Any) -> None:
    contest, (a, b, c), first, second = await _setup(client, db)
    sheet = _csv([(a["ticket"], a["name"], "88.5", ""), (b["ticket"], b["name"], "70", ""),
                  (c["ticket"], c["name"], "", "病假")])
    staged = await client.post(_url(contest), headers=first, files={"file": ("theory.csv", sheet)},
                               follow_redirects=False)
    assert staged.status_code == 303 and staged.headers["location"].startswith(_url(contest, "?done=staged&n=3"))
    assert await _count(db, "theory_import") == 1 and await _count(db, "theory_score") == 0
    page = await client.get(_url(contest), headers=first)
    pending = page.text.split('id="pending"', 1)[1].split("</section>", 1)[0]
    assert "theory.csv" in pending and "chief-a" in pending and pending.count("<tr data-row=") == 3
    assert "须由另一人" in pending  # the importer is told before trying
    import_id = re.search(r'data-import="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    again = await client.post(_url(contest), headers=second, files={"file": ("theory.csv", sheet)})
    assert again.status_code == 409 and "<code>theory_import_pending</code>" in again.text

    same = await client.post(_url(contest, f"/{import_id}/confirm"), headers=first, follow_redirects=False)
    assert same.status_code == 409 and "理论成绩须由导入人以外的另一人确认" in same.text
    assert "<code>four_eyes</code>" in same.text and 'id="pending"' in same.text  # still waiting
    assert await _count(db, "theory_score") == 0

    confirmed = await client.post(_url(contest, f"/{import_id}/confirm"), headers=second, follow_redirects=False)
    assert confirmed.status_code == 303 and "done=confirmed" in confirmed.headers["location"]
    assert await _count(db, "theory_score") == 3
    page = await client.get(confirmed.headers["location"], headers=second)
    assert "已确认：3 人的理论成绩已计入" in page.text and "到场选手均已有确认的理论成绩" in page.text
    assert 'id="pending"' not in page.text and "88.50" in page.text and "病假" in page.text
    gate = await client.get(f"/api/events/{contest.event_id}/items/LED/publication", headers=second)
    assert "theory_missing" not in {b["code"] for b in gate.json()["blockers"]}  # the scores count
    decided = await client.post(_url(contest, f"/{import_id}/confirm"), headers=second)
    assert decided.status_code == 409 and "<code>import_decided</code>" in decided.text


async def test_a_pending_import_is_discarded_and_a_correction_needs_a_reason(client: Any, db: Any) -> None:
    contest, (a, _b, _c), first, second = await _setup(client, db)
    staged = await client.post(_url(contest), headers=first, follow_redirects=False,
                               files={"file": ("t.csv", _csv([(a["ticket"], a["name"], "80", "")]))})
    assert staged.status_code == 303
    page = await client.get(_url(contest), headers=first)
    import_id = re.search(r'data-import="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    discarded = await client.post(_url(contest, f"/{import_id}/discard"), headers=first, follow_redirects=False)
    assert discarded.status_code == 303 and "done=discarded" in discarded.headers["location"]
    page = await client.get(discarded.headers["location"], headers=first)
    assert 'id="pending"' not in page.text and "已作废这份导入" in page.text
    assert await _count(db, "theory_score") == 0 and await _count(db, "theory_import") == 1  # kept, as discarded

    staged = await client.post(_url(contest), headers=first, follow_redirects=False,
                               files={"file": ("t.csv", _csv([(a["ticket"], a["name"], "80", "")]))})
    page = await client.get(_url(contest), headers=first)
    import_id = re.search(r'data-import="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    assert (await client.post(_url(contest, f"/{import_id}/confirm"), headers=second,
                              follow_redirects=False)).status_code == 303
    fix = _csv([(a["ticket"], a["name"], "82.5", "")])
    no_reason = await client.post(_url(contest), headers=first, files={"file": ("fix.csv", fix)},
                                  data={"dry_run": "1"})
    assert no_reason.status_code == 422 and "<code>reason_required</code>" in no_reason.text
    assert 'class="invalid"' in no_reason.text  # the reason field is marked
    checked = await client.post(_url(contest), headers=first, files={"file": ("fix.csv", fix)},
                                data={"dry_run": "1", "reason": "阅卷复核漏计 2.5 分"})
    assert checked.status_code == 200 and "80.00 → <strong>82.50</strong>" in checked.text
    staged = await client.post(_url(contest), headers=first, files={"file": ("fix.csv", fix)},
                               data={"reason": "阅卷复核漏计 2.5 分"}, follow_redirects=False)
    assert staged.status_code == 303
    pending = (await client.get(_url(contest), headers=second)).text.split('id="pending"', 1)[1]
    assert "阅卷复核漏计 2.5 分" in pending and "80.00 → 82.50" in pending


async def test_names_are_masked_and_seats_shown_only_once_decrypted(client: Any, db: Any) -> None:
    contest, everyone, first, _second = await _setup(client, db)
    page = (await client.get(_url(contest), headers=first)).text
    for p in everyone:
        assert mask_name(p["name"]) in page and f"<td>{p['name']}</td>" not in page
        assert f'<td class="mono">{p["seat"]}</td>' not in page  # sealed: no seat next to a person
    assert "赛位在解密后显示" in page
    await lock(db, contest)
    await decrypt(db, contest)
    page = (await client.get(_url(contest), headers=first)).text
    assert all(f'<td class="mono">{p["seat"]}</td>' in page for p in everyone)
    assert mask_name("张三丰") == "张*丰" and mask_name("李华") == "李*" and mask_name("王") == "王"


async def test_the_template_reads_back_and_the_publish_page_links_here(client: Any, db: Any) -> None:
    contest, _everyone, first, _second = await _setup(client, db)
    sheet = await client.get(_url(contest, "/template.xlsx"), headers=first)
    assert sheet.status_code == 200 and sheet.content.startswith(b"PK")
    assert "attachment" in sheet.headers["content-disposition"]
    assert read_theory_sheet(sheet.content, "t.xlsx") == []  # the header is what the import reads
    publish = await client.get(f"/console/events/{contest.event_id}/publish", headers=first)
    blocker = publish.text.split('data-code="theory_missing"', 1)[1].split("</li>", 1)[0]
    assert f'href="{_url(contest)}"' in blocker and "导入理论成绩" in blocker
    anonymous = await client.get(_url(contest), follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)


async def test_every_message_of_the_page_has_english(client: Any, db: Any) -> None:
    template = Path(__file__).resolve().parents[2] / "results" / "templates" / "results" / "theory.html"
    literals = re.findall(r"""_\(\s*"([^"]*)"\s*[,)]""", template.read_text(encoding="utf-8"))
    assert len(literals) > 30 and [m for m in literals if m not in EN] == []
    contest, _everyone, first, _second = await _setup(client, db)
    page = await client.get(_url(contest), headers={**first, "Cookie": first["Cookie"] + "; lang=en"})
    assert "Import theory scores" in page.text and "Upload a theory sheet" in page.text
