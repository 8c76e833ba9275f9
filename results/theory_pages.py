"""The theory import page (#14 A.1) for the chief judge and the organiser: an item's theory scores (who has a
confirmed one, who of the present entries still lacks one), the sheet's upload with a dry run and a correction
reason, each refused row's problems, and the import waiting for a second person to confirm or discard it.

Plain server-rendered forms with the CSRF token, like the other chief pages: they work without JavaScript.
Every rule stays in results/theory.py (`stage_import`, `confirm_import`, `discard_import`, `theory_state`);
these handlers only read the form, call it, and redirect back (303) or show the page again with the refusal
(its code too) and, for a refused sheet, the report of every problem of every row. Nothing stored changes on a
refusal. Names are masked (张*丰); a seat is shown next to one only once the item is decrypted (layer 2: before
that the seat → person mapping is sealed, and the chief judge's pages are blind).

- `GET  /console/events/{id}/items/{code}/theory`: the state, the upload form, the pending import.
- `POST …/theory` multipart `file` (.xlsx/.csv), `dry_run` "1", `reason`: check, or stage for confirmation.
- `POST …/theory/{import_id}/confirm`: a second person confirms (the importer is refused: `four_eyes`).
- `POST …/theory/{import_id}/discard`: set a pending import aside.
- `GET  …/theory/template.xlsx`: an empty sheet with the columns the import reads, ID and ticket as text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.response import Redirect, Template
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.web import uploads
from contestday.web.downloads import download
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language, register
from contestday.web.sessions import WriteSession
from judging.sealed import stage_of
from registration.checkin.models import Attendance, SeatAssignment
from registration.entries.personal import PersonalData
from registration.entries.public_data import mask_name
from registration.entries.roster import parse_upload
from registration.events.models import Item
from registration.events.service import event_or_404
from results import theory
from results.console.state import item_or_404
from scoring.event_file import CHINA_TZ
from scoring.theory import TheoryRow

__all__ = ["THEORY_PAGES", "TheoryPages", "TheoryUpload", "mask_name", "template_xlsx"]

Req = Request[Any, Any, Any]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DONE = {"staged": "已导入 {n} 行理论成绩，等待另一人确认；确认前不计入成绩。",
        "confirmed": "已确认：{n} 人的理论成绩已计入。", "discarded": "已作废这份导入，其中的成绩不计入。"}


@dataclass
class TheoryUpload:
    """The theory sheet (.xlsx or .csv); `dry_run` "1": only check; `reason`: why confirmed scores change."""

    file: UploadFile | None = None
    dry_run: str = ""
    reason: str = ""


def template_xlsx(item_name: str) -> bytes:
    """The sheet the import reads: 身份证号 and 参赛凭证号 formatted as text (an ID typed into a number cell
    loses its last digits), 姓名, 理论成绩, 缺考原因; a second sheet says how to fill it."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#F2F4F7", "border": 1, "num_format": "@"})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet("理论成绩")
    for n, (title, width, fmt) in enumerate((("身份证号", 22, text), ("参赛凭证号", 30, text), ("姓名", 12, text),
                                             ("理论成绩", 10, None), ("缺考原因", 20, text))):
        sheet.set_column(n, n, width, fmt)
        sheet.write_string(0, n, title, head)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("说明")
    notes.set_column(0, 0, 90)
    for n, tip in enumerate((f"赛项：{item_name}",
                             "每行一人：填写身份证号（或参赛凭证号；团队的凭证号须同时填写队员姓名），姓名与报名信息核对。",
                             "理论成绩 0–100，最多保留 2 位小数；缺考的不填成绩，在“缺考原因”列写明原因（计 0 分）。",
                             "身份证号请保持文本格式（模板已设置），不要让 Excel 转成数字。",
                             "一次导入全部或全不：有一行有误则整份不导入；导入后须由另一人确认才计入成绩。")):
        notes.write_string(n, 0, tip)
    book.close()
    return out.getvalue()


def _local(moment: Any) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def _message(lang: str, exc: Refusal) -> str:
    return exc.message_en if lang == "en" else exc.message


async def _present_seats(session: AsyncSession, item_id: int) -> dict[int, str]:
    """Entry id → seat label, for the entries of the item seated and checked in as present."""
    rows = (await session.exec(
        select(SeatAssignment.entry_id, SeatAssignment.seat_label)
        .join(Attendance, col(Attendance.entry_id) == SeatAssignment.entry_id)
        .where(SeatAssignment.item_id == item_id, Attendance.status == "present"))).all()
    return dict(rows)


def _report(rows: list[TheoryRow] | None, exc: Refusal | None, answer: dict[str, Any] | None
            ) -> list[dict[str, Any]]:
    """The per-row report for _import_report.html: each problem of a refused sheet (a row with several
    problems has several lines), or each row a checked sheet would change."""
    if exc is not None:
        typed = {r.row: r.name for r in rows or []}
        return [{"number": e["row"], "name": mask_name(typed.get(e["row"], "").strip()) or "—", "ok": False,
                 "code": e["code"], "field": e["field"], "message": e["message"],
                 "message_en": e["message_en"]}
                for e in exc.extra_fields.get("errors", []) if e["row"]]
    return [{"number": c["row"], "name": mask_name(c["name"]), "ok": True, "old": c["old"], "new": c["new"],
             "absent_reason": c["absent_reason"]} for c in (answer or {}).get("changes", [])]


class TheoryPages(Controller):
    path = "/console/events/{event_id:int}/items/{code:str}/theory"
    guards = [requires("chief_judge", "organiser")]
    include_in_schema = False

    async def _page(self, request: Req, session: AsyncSession, event_id: int, code: str, status: int = 200,
                    **context: Any) -> Template:
        lang = preferred_language(request)
        event = await event_or_404(session, event_id)
        item = await item_or_404(session, event_id, code)
        state = await theory.theory_state(session, item)
        decrypted = (await stage_of(session, item.id or 0)).revealed_layer >= 2
        seats = await _present_seats(session, item.id or 0)
        names = {p["member_id"]: p["name"] for p in [*state["scores"], *state["missing"]]}

        def seat(entry_id: int) -> str:
            return seats.get(entry_id, "") if decrypted else ""

        missing = [{"seat": seat(m["entry_id"]), "name": mask_name(m["name"]), "present": m["entry_id"] in seats}
                   for m in state["missing"]]
        missing.sort(key=lambda m: (not m["present"], m["seat"]))
        scores = [{"seat": seat(s["entry_id"]), "name": mask_name(s["name"]), "theory": s["theory"],
                   "absent_reason": s["absent_reason"], "confirmed_by": s["confirmed_by"]} for s in state["scores"]]
        scores.sort(key=lambda s: s["seat"])
        pending = await self._pending(session, state, names)
        principal = await current_principal(request)
        return Template("results/theory.html", status_code=status, context={
            "lang": lang, "principal": principal, "event": event, "item": item,
            "weighs": item.theory_weight > 0, "decrypted": decrypted, "missing": missing,
            "blocking": sum(1 for m in missing if m["present"]), "scores": scores, "pending": pending,
            "mine": pending is not None and principal is not None and pending["imported_by"] == principal.name,
            "done": context.pop("done", ""), "error": context.pop("error", ""),
            "error_code": context.pop("error_code", ""), "error_field": context.pop("error_field", ""),
            "report": context.pop("report", None), "form": context.pop("form", {"dry_run": False, "reason": ""}),
            **context}, headers={"Cache-Control": "no-store"})

    @staticmethod
    async def _pending(session: AsyncSession, state: dict[str, Any], names: dict[int, str]
                       ) -> dict[str, Any] | None:
        if state["pending"] is None:
            return None
        staged = await session.get(theory.TheoryImport, state["pending"]["import_id"])
        if staged is None:
            return None
        current = {s["member_id"]: s for s in state["scores"]}
        rows = []
        for m in staged.marks:
            old = current.get(m["member_id"])
            same = old is not None and old["theory"] == m["value"] and old["absent_reason"] == m["absent_reason"]
            rows.append({"row": m["row"], "name": mask_name(names.get(m["member_id"], "")), "value": m["value"],
                         "absent_reason": m["absent_reason"], "old": None if old is None else old["theory"],
                         "same": same})
        return {"import_id": staged.id, "imported_by": staged.imported_by, "at": _local(staged.imported_at),
                "filename": staged.filename, "reason": staged.reason, "rows": rows,
                "changed": sum(1 for r in rows if not r["same"])}

    def _url(self, event_id: int, code: str, query: str = "") -> str:
        return f"/console/events/{event_id}/items/{code}/theory" + (f"?{query}" if query else "")

    @get("/")
    async def page(self, request: Req, event_id: FromPath[int], code: FromPath[str]) -> Template:
        lang = preferred_language(request)
        text = DONE.get(request.query_params.get("done", ""))
        done = gettext(text, lang).format(n=request.query_params.get("n", "")) if text else ""
        async with request.app.state.read_session() as session:  # no write lock for a look
            return await self._page(request, session, event_id, code, done=done)

    @post("/", status_code=303, request_max_body_size=uploads.FORM_LIMIT)
    async def upload(self, request: Req, event_id: FromPath[int], code: FromPath[str], write_session: WriteSession,
                     data: MultipartBody[TheoryUpload]) -> Redirect | Template:
        """A body over FORM_LIMIT is refused before this runs (413 `upload_too_large`, naming the limit)."""
        lang = preferred_language(request)
        dry_run, reason = (data.dry_run or "") in ("1", "true", "on"), (data.reason or "")
        form = {"dry_run": dry_run, "reason": reason}
        filename = data.file.filename if data.file else ""
        rows: list[TheoryRow] | None = None
        try:
            rows = await parse_upload(data.file, theory.read_theory_sheet, "理论成绩表", "a theory sheet")
            item = await item_or_404(write_session, event_id, code)
            answer = await theory.stage_import(
                write_session, item, rows, PersonalData(request.app.state.settings.secret_key),
                await actor_name(request), filename=filename, reason=reason, dry_run=dry_run)
        except Refusal as exc:
            await write_session.rollback()  # nothing of this sheet is stored; a pending import stays as it was
            report = None
            if exc.code == "theory_refused":
                report = {"refused": True, "filename": filename, "dry_run": dry_run, "rows": len(rows or []),
                          "results": _report(rows, exc, None),
                          "bad_rows": len({e["row"] for e in exc.extra_fields.get("errors", []) if e["row"]})}
            return await self._page(request, write_session, event_id, code, exc.status_code, form=form,
                                    error=_message(lang, exc), error_code=exc.code, upload_failed=True,
                                    error_field=str(exc.extra_fields.get("field", "")), report=report)
        if dry_run:
            await write_session.rollback()
            report = {"refused": False, "filename": filename, "dry_run": True, "rows": answer["rows"],
                      "absent": answer["absent"], "results": _report(rows, None, answer),
                      "unchanged": answer["rows"] - len(answer["changes"])}
            return await self._page(request, write_session, event_id, code, 200, form=form, report=report)
        await write_session.commit()
        return Redirect(self._url(event_id, code, f"done=staged&n={answer['rows']}#pending"), status_code=303)

    @post("/{import_id:int}/confirm", status_code=303)
    async def confirm(self, request: Req, event_id: FromPath[int], code: FromPath[str], import_id: FromPath[int],
                      write_session: WriteSession) -> Redirect | Template:
        return await self._decide(request, write_session, event_id, code, import_id, "confirmed")

    @post("/{import_id:int}/discard", status_code=303)
    async def discard(self, request: Req, event_id: FromPath[int], code: FromPath[str], import_id: FromPath[int],
                      write_session: WriteSession) -> Redirect | Template:
        return await self._decide(request, write_session, event_id, code, import_id, "discarded")

    async def _decide(self, request: Req, session: AsyncSession, event_id: int, code: str, import_id: int,
                      outcome: str) -> Redirect | Template:
        try:
            item: Item = await item_or_404(session, event_id, code)
            by = await actor_name(request)
            if outcome == "confirmed":
                answer = await theory.confirm_import(session, item, import_id, by)
            else:
                answer = await theory.discard_import(session, item, import_id, by)
        except Refusal as exc:
            await session.rollback()
            return await self._page(request, session, event_id, code, exc.status_code,
                                    error=_message(preferred_language(request), exc), error_code=exc.code)
        await session.commit()
        return Redirect(self._url(event_id, code, f"done={outcome}&n={answer.get('rows', '')}"), status_code=303)

    @get("/template.xlsx")
    async def template(self, request: Req, event_id: FromPath[int], code: FromPath[str]) -> Response[bytes]:
        async with request.app.state.read_session() as session:
            item = await item_or_404(session, event_id, code)
        return download(template_xlsx(item.name), f"理论成绩模板-{item.code}.xlsx", XLSX, ascii_stem="theory")


THEORY_PAGES = (TheoryPages,)


register({
    "导入理论成绩": "Import theory scores",
    "已导入 {n} 行理论成绩，等待另一人确认；确认前不计入成绩。":
        "Imported {n} theory row(s): waiting for a second person to confirm; nothing counts before that.",
    "已确认：{n} 人的理论成绩已计入。": "Confirmed: the theory scores of {n} row(s) count now.",
    "已作废这份导入，其中的成绩不计入。": "The import is discarded: none of its scores count.",
    "理论成绩表一次导入全部或全不：每一行都须能对上本赛项的参赛选手，有一行有误则整份不导入。导入后须由导入人以外的另一人确认，才计入成绩；每次更改都记入审计日志。":
        "A theory sheet is imported all or nothing: every row must match a contestant of this item, and one "
        "wrong row refuses the whole sheet. A second person (not the one who imported it) must confirm it "
        "before it counts; every change goes into the audit log.",
    "本赛项不计理论成绩（理论权重为 0），导入的成绩不影响排名。":
        "This item does not weigh theory (weight 0): imported scores do not change the ranking.",
    "理论权重": "Theory weight",
    "已确认": "Confirmed",
    "缺理论成绩": "Missing",
    "待确认": "Waiting for confirmation",
    "到场选手均已有确认的理论成绩。": "Every present contestant has a confirmed theory score.",
    "有 {n} 名到场选手缺理论成绩，成绩不能发布。": "{n} present contestant(s) lack a theory score: the results "
                                               "cannot be published.",
    "到场（影响发布）": "present (blocks publishing)",
    "未到场": "not present",
    "赛位在解密后显示。": "Seats are shown once the item is decrypted.",
    "确认人": "Confirmed by",
    "尚无确认的理论成绩。": "No confirmed theory score yet.",
    "上传理论成绩表": "Upload a theory sheet",
    "理论成绩表（.xlsx、.xls 或 .csv）": "Theory sheet (.xlsx, .xls or .csv)",
    "仅检查（不导入）": "Only check (import nothing)",
    "更正原因（更改已确认的成绩时必填）": "Reason for the correction (required when a confirmed score changes)",
    "下载理论成绩模板": "Download the theory template",
    "须先确认或作废待确认的导入，才能再导入。": "Confirm or discard the waiting import before importing again.",
    "错误代码": "Error code",
    "不能导入：": "Cannot import: ",
    "不能导入的行": "Rows refused",
    "有问题 {n} 行": "{n} row(s) with problems",
    "其中缺考 {n} 人": "{n} absent",
    "与已确认成绩相同 {n} 行": "{n} row(s) same as confirmed",
    "检查通过：没有会改变的成绩。": "Checked: no score would change.",
    "列": "Column",
    "新增": "new",
    "更正": "correction",
    "待确认的导入": "Import waiting for confirmation",
    "文件": "File",
    "逐行核对": "Row by row",
    "行数": "Rows",
    "导入人": "Imported by",
    "更正原因": "Reason",
    "理论成绩（新）": "Theory (new)",
    "原成绩": "Before",
    "不变": "unchanged",
    "您导入了这份成绩：须由另一人（裁判长或组织方的另一账号）确认。":
        "You imported this sheet: someone else (another chief judge or organiser account) must confirm it.",
    "请核对以上各行后确认；确认后这些成绩计入排名。": "Check the rows above, then confirm: the scores count in the "
                                                  "ranking from then on.",
    "确认": "Confirm",
    "作废导入": "Discard the import",
    "可以导入 {n} 行": "{n} row(s) can be imported",
    "已确认的理论成绩": "Confirmed theory scores",
    "缺理论成绩的选手": "Contestants without a theory score",
    "导入理论成绩（{item}）": "Import theory scores ({item})",
    "其中 {n} 行会改变成绩": "{n} row(s) change a score",
})
