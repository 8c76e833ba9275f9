"""Organiser pages of judging under /admin/events/{id}: the judge registry (list, add, edit with the whole
ID number, examiner cards, XLSX import, personal links with QR codes, revocation, the A4 link cards) and
each item's panel. Thin: use cases live in judge_registry, files in judge_import and link_cards."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import col, select

from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.pdf.fonts import FontNotFound
from contestday.web import uploads
from contestday.web.downloads import download
from contestday.web.errors import Refusal
from contestday.web.i18n import gettext, preferred_language
from contestday.web.public_address import printable_address, public_address
from contestday.web.sessions import DbSession, WriteSession
from judging import judge_import, link_cards
from judging import judge_registry as svc
from judging.admin_messages import DONE
from judging.judge_import import parse_date
from judging.models import Judge
from judging.panels import PANEL_ROLES, personal_link_token, revoke_link
from judging.ws import publish_revoked
from registration.entries import roster
from registration.entries.personal import PersonalData, normalise_phone
from registration.entries.qr import qr_png, qr_svg
from registration.events.models import Event, Item
from registration.events.service import event_or_404
from scoring.identity import InvalidIdNumber, parse_id_number
from scoring.skill_levels import LEVEL_NAMES

__all__ = ["CardForm", "ImportUpload", "JudgeAdminPages", "JudgeForm", "SeatForm"]

Req = Request[Any, Any, Any]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- bodies ---
@dataclass
class JudgeForm:
    """Adding or editing a judge (judges.html, judge.html): checked here, so a refusal shows the form again."""

    name: str = ""
    unit: str = ""
    phone: str = ""
    id_number: str = ""


@dataclass
class CardForm:
    """An examiner card (judge.html): occupation, level 1–5 or "", number, valid until (YYYY-MM-DD)."""

    occupation: str = ""
    level: str = ""
    number: str = ""
    valid_until: str = ""


@dataclass
class SeatForm:
    """A seat on an item's panel (panel.html); `criteria` are ticked boxes (one, several or none)."""

    judge_id: str = ""
    role: str = ""
    criteria: str | list[str] = ""


@dataclass
class ImportUpload:
    """A judge list (.xlsx or .csv) to import, posted as multipart (judges.html)."""

    file: UploadFile | None = None


def _judge_fields(form: JudgeForm, lang: str) -> tuple[dict[str, str], dict[str, str], str | None]:
    """(values as typed, errors by field, the normalised ID number or None)."""
    values = {k: v.strip() for k, v in dataclasses.asdict(form).items()}
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "请填写姓名"
    elif len(values["name"]) > 64:
        errors["name"] = "姓名过长"
    phone = normalise_phone(values["phone"])
    if phone and not re.fullmatch(r"1\d{10}", phone):
        errors["phone"] = "手机号码应为 11 位"
    id_number = None
    if values["id_number"]:
        try:
            id_number = parse_id_number(values["id_number"]).number
        except InvalidIdNumber as exc:
            errors["id_number"] = exc.en if lang == "en" else exc.zh
    return values, errors, id_number


def _seat_label(seat: svc.Seat, lang: str = "zh") -> str:
    role = gettext(svc.ROLE_NAMES[seat.member.role], lang)
    return f"{seat.item.name} · {role}" + (f" {'、'.join(seat.member.criteria)}" if seat.member.criteria else "")


class JudgeAdminPages(Controller):
    path = "/admin/events/{event_id:int}"
    guards = [requires("organiser")]
    include_in_schema = False

    async def _event(self, db: DbSession, event_id: int) -> Event:
        return await event_or_404(db, event_id)

    async def _page(self, request: Req, db: DbSession, event_id: int, template: str, status: int = 200,
                    **context: Any) -> Template:
        event = await self._event(db, event_id)
        lang = preferred_language(request)
        items = (await db.exec(select(Item).where(Item.event_id == event_id).order_by(col(Item.position)))).all()
        return Template(f"judging/admin/{template}", status_code=status, context={
            "lang": lang, "principal": await current_principal(request), "event": event,
            "items": items, "role_names": svc.ROLE_NAMES, "roles": PANEL_ROLES,
            "seat_label": lambda seat: _seat_label(seat, lang),
            "level_names": LEVEL_NAMES,
            "done": DONE.get(request.query_params.get("done", "")), **context})

    def _personal(self, request: Req) -> PersonalData:
        return PersonalData(request.app.state.settings.secret_key)

    def _link(self, request: Req, base: str, judge: Judge) -> str:
        """The judge's personal link on `base`: `public_address` on screen, `printable_address` for a QR or a card
        (refused while it is loopback)."""
        return f"{base}/j/{personal_link_token(request.app.state.settings.secret_key, judge)}"

    # the registry ------------------------------------------------------------------------------------------
    async def _list(self, request: Req, db: DbSession, event_id: int, status: int = 200, **context: Any) -> Template:
        event = await self._event(db, event_id)
        views = await svc.judge_views(db, event)
        try:  # names with characters the PDF font lacks print blank on the link cards: say so before printing
            blank = link_cards.unprintable_names([link_cards.LinkCard(v.judge.name, "", (), "") for v in views])
        except FontNotFound:
            blank = []
        context = {"values": {}, "errors": {}, "results": None, "import_error": "", **context}
        return await self._page(request, db, event_id, "judges.html", status, views=views, unprintable=blank,
                                **context)

    @get("/judges")
    async def judges(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        return await self._list(request, db_session, event_id)

    @post("/judges", status_code=303)
    async def add(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                  data: URLEncodedBody[JudgeForm]) -> Redirect | Template:
        values, errors, id_number = _judge_fields(data, preferred_language(request))
        await self._event(write_session, event_id)
        if not errors:
            try:
                judge = await svc.create_judge(write_session, self._personal(request), event_id, values["name"],
                                               values["unit"], values["phone"], id_number)
            except Refusal as exc:
                errors["id_number"] = exc.message_en if preferred_language(request) == "en" else exc.message
            else:
                await write_session.commit()
                return Redirect(f"/admin/events/{event_id}/judges/{judge.id}?done=added", status_code=303)
        await write_session.rollback()
        return await self._list(request, write_session, event_id, 422, values=values, errors=errors)

    async def _judge(self, request: Req, db: DbSession, event_id: int, judge_id: int, status: int = 200,
                     **context: Any) -> Template:
        event = await self._event(db, event_id)
        view = next((v for v in await svc.judge_views(db, event) if v.judge.id == judge_id), None)
        if view is None:
            raise Refusal(404, "unknown_judge", "找不到该裁判", "no such judge")
        link = self._link(request, (await public_address(request, db)).url, view.judge)
        if "values" not in context:  # the one page with the whole ID number: the judge's own
            number = await svc.id_number_of(db, self._personal(request), view.judge)
            context["values"] = {"name": view.judge.name, "unit": view.judge.unit, "phone": view.judge.phone,
                                 "id_number": number}
        context = {"errors": {}, "card_values": {}, "card_errors": {}, **context}
        return await self._page(request, db, event_id, "judge.html", status, v=view, link=link,
                                qr=qr_svg(link, size="180"), **context)

    @get("/judges/{judge_id:int}")
    async def judge(self, request: Req, event_id: FromPath[int], judge_id: FromPath[int],
                    db_session: DbSession) -> Template:
        return await self._judge(request, db_session, event_id, judge_id)

    @post("/judges/{judge_id:int}", status_code=303)
    async def edit(self, request: Req, event_id: FromPath[int], judge_id: FromPath[int],
                   write_session: WriteSession, data: URLEncodedBody[JudgeForm]) -> Redirect | Template:
        values, errors, id_number = _judge_fields(data, preferred_language(request))
        judge = await svc.judge_of_event(write_session, event_id, judge_id)
        if not errors:
            try:
                await svc.update_judge(write_session, self._personal(request), judge, values["name"], values["unit"],
                                       values["phone"], id_number)
            except Refusal as exc:
                errors["id_number"] = exc.message_en if preferred_language(request) == "en" else exc.message
            else:
                await write_session.commit()
                return Redirect(f"/admin/events/{event_id}/judges/{judge_id}?done=saved", status_code=303)
        await write_session.rollback()
        return await self._judge(request, write_session, event_id, judge_id, 422, values=values, errors=errors)

    @post("/judges/{judge_id:int}/cards", status_code=303)
    async def add_card(self, request: Req, event_id: FromPath[int], judge_id: FromPath[int],
                       write_session: WriteSession, data: URLEncodedBody[CardForm]) -> Redirect | Template:
        values = {k: v.strip() for k, v in dataclasses.asdict(data).items()}
        judge = await svc.judge_of_event(write_session, event_id, judge_id)
        errors = {k: "必填" for k in ("occupation", "number", "valid_until") if not values[k]}
        valid_until = None
        try:
            valid_until = parse_date(roster.Cell(values["valid_until"]))
        except ValueError:
            errors["valid_until"] = "日期格式应如 2027-06-30"
        level = int(values["level"]) if values["level"].isdigit() and 1 <= int(values["level"]) <= 5 else None
        if errors or valid_until is None:
            return await self._judge(request, write_session, event_id, judge_id, 422, card_values=values,
                                     card_errors=errors)
        await svc.add_card(write_session, judge, values["occupation"], level, values["number"], valid_until)
        await write_session.commit()
        return Redirect(f"/admin/events/{event_id}/judges/{judge_id}?done=card_added#cards", status_code=303)

    @post("/judges/{judge_id:int}/cards/{card_id:int}/delete", status_code=303)
    async def remove_card(self, event_id: FromPath[int], judge_id: FromPath[int], card_id: FromPath[int],
                          write_session: WriteSession) -> Redirect:
        await svc.remove_card(write_session, await svc.judge_of_event(write_session, event_id, judge_id), card_id)
        await write_session.commit()
        return Redirect(f"/admin/events/{event_id}/judges/{judge_id}?done=card_removed#cards", status_code=303)

    # personal links ----------------------------------------------------------------------------------------
    @post("/judges/{judge_id:int}/revoke", status_code=303)
    async def revoke(self, request: Req, event_id: FromPath[int], judge_id: FromPath[int],
                     write_session: WriteSession) -> Redirect:
        await revoke_link(write_session, await svc.judge_of_event(write_session, event_id, judge_id))
        await write_session.commit()
        # after the commit: the tablets still connected through the old link close now (4403), on every instance
        publish_revoked(request.app.plugins.get(ChannelsPlugin), judge_id)
        return Redirect(f"/admin/events/{event_id}/judges/{judge_id}?done=revoked#link", status_code=303)

    @get("/judges/{judge_id:int}/qr.png")
    async def qr(self, request: Req, event_id: FromPath[int], judge_id: FromPath[int],
                 db_session: DbSession) -> Response[bytes]:
        judge = await svc.judge_of_event(db_session, event_id, judge_id)
        base = await printable_address(request, db_session)
        return download(qr_png(self._link(request, base, judge)), f"{judge.name}-评分链接.png", "image/png",
                        inline=True, ascii_stem="judges")

    @get("/judges/link-cards.pdf")
    async def cards_pdf(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Response[bytes]:
        event = await self._event(db_session, event_id)
        base = await printable_address(request, db_session)
        cards = [link_cards.LinkCard(v.judge.name, v.judge.unit, tuple(_seat_label(s) for s in v.seats),
                                     self._link(request, base, v.judge))
                 for v in await svc.judge_views(db_session, event)]
        missing = link_cards.unprintable_names(cards)
        response = download(link_cards.link_cards_pdf(event.name, cards), "裁判个人链接卡.pdf", "application/pdf",
                            inline=True, ascii_stem="judges")
        if missing:  # names that print blank: the organiser writes them by hand
            response.headers["X-Unprintable-Names"] = quote("、".join(missing))
        return response

    # import ----------------------------------------------------------------------------------------------
    @post("/judges/import", status_code=200, request_max_body_size=uploads.FORM_LIMIT)
    async def import_file(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                          data: MultipartBody[ImportUpload]) -> Template:
        """A body over FORM_LIMIT is refused before this runs (413 `upload_too_large`, naming the limit)."""
        lang = preferred_language(request)
        upload = data.file
        if upload is None or not upload.filename:
            return await self._list(request, write_session, event_id, 422,
                                    import_error=gettext("请选择要导入的裁判名单文件", lang))
        try:
            rows, ignored = await uploads.off_loop(judge_import.read_table, await upload.read(), upload.filename)
        except (roster.RosterError, uploads.UploadRefused) as exc:
            status = exc.status_code if isinstance(exc, uploads.UploadRefused) else 422
            return await self._list(request, write_session, event_id, status, filename=upload.filename,
                                    import_error=exc.en if lang == "en" else exc.zh)
        await self._event(write_session, event_id)
        results = await judge_import.import_judges(write_session, self._personal(request), event_id, rows)
        await write_session.commit()
        return await self._list(request, write_session, event_id, results=results, ignored=ignored,
                                filename=upload.filename, ok=sum(r.ok for r in results),
                                failed=sum(not r.ok for r in results))

    @get("/judges/template.xlsx")
    async def template(self) -> Response[bytes]:
        return download(judge_import.template_xlsx(), "裁判名单模板.xlsx", XLSX, ascii_stem="judges")

    # panels ----------------------------------------------------------------------------------------------
    async def _item(self, db: DbSession, event_id: int, code: str) -> Item:
        item = (await db.exec(select(Item).where(Item.event_id == event_id, Item.code == code))).first()
        if item is None:
            raise Refusal(404, "unknown_item", "找不到该赛项", "no such item")
        return item

    async def _panel(self, request: Req, db: DbSession, event_id: int, code: str, status: int = 200,
                     error: str = "") -> Template:
        event = await self._event(db, event_id)
        view = await svc.panel_view(db, event, await self._item(db, event_id, code))
        return await self._page(request, db, event_id, "panel.html", status, p=view, error=error)

    @get("/items/{code:str}/panel")
    async def panel(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                    db_session: DbSession) -> Template:
        return await self._panel(request, db_session, event_id, code)

    @post("/items/{code:str}/panel", status_code=303)
    async def assign(self, request: Req, event_id: FromPath[int], code: FromPath[str],
                     write_session: WriteSession, data: URLEncodedBody[SeatForm]) -> Redirect | Template:
        item = await self._item(write_session, event_id, code)
        judge_id = data.judge_id
        ticked = [data.criteria] if isinstance(data.criteria, str) else data.criteria
        criteria = [c for c in ticked if c]  # none ticked: every criterion
        try:
            if not judge_id.isdigit():
                raise Refusal(422, "no_judge", "请选择裁判", "choose a judge")
            await svc.assign_seat(write_session, event_id, item, int(judge_id), data.role, criteria,
                                  await actor_name(request))
        except Refusal as exc:
            await write_session.rollback()
            lang = preferred_language(request)
            return await self._panel(request, write_session, event_id, code, exc.status_code,
                                     exc.message_en if lang == "en" else exc.message)
        await write_session.commit()
        return Redirect(f"/admin/events/{event_id}/items/{quote(code)}/panel?done=assigned", status_code=303)

    @post("/items/{code:str}/panel/{member_id:int}/delete", status_code=303)
    async def unassign(self, request: Request[Any, Any, Any], event_id: FromPath[int], code: FromPath[str],
                       member_id: FromPath[int], write_session: WriteSession) -> Redirect:
        await svc.remove_seat(write_session, await self._item(write_session, event_id, code), member_id,
                              await actor_name(request))
        await write_session.commit()
        return Redirect(f"/admin/events/{event_id}/items/{quote(code)}/panel?done=removed", status_code=303)
