"""Certificates over HTTP: issuing and printing (organiser; not while an appeal of the item is open), one
certificate's PDF, revoke and reissue (JSON here, the page in certificates/pages.py), the
public verification (`/verify/{serial}`, `/api/certificates/{serial}`, contracts §5), and the self-service
kiosk page where a contestant gets their own by ticket or by name + the last six digits of the ID number.

The bodies are typed: the JSON ones (`IssueBody`, `CertificateReasonBody`) with loose fields on purpose (an
absent, empty or non-text reason still gets `missing_field` with `field`, as when they were read by hand), the
forms as dataclasses (`IssueForm`, `PrintForm`, `CertificateLookupForm`). The design upload (`template`) reads
its multipart form itself, to name the limit and take the layout as a field or a file: `raw_body` documents it."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from PIL import Image as PILImage
from sqlmodel import col, select

from certificates import print_jobs, store
from certificates.pages import CertificateListPage, certificate_page
from certificates.render import calibration_page, layout_errors, render
from contestday.accounts import limits
from contestday.accounts.guards import actor_name, current_principal, requires
from contestday.web import uploads
from contestday.web.admission import render_off_loop
from contestday.web.bodies import Loose, raw_body, required_text
from contestday.web.downloads import download
from contestday.web.errors import Refusal
from contestday.web.public_address import printable_address
from contestday.web.sessions import DbSession, WriteSession
from registration.entries.models import Entry, EntryMember
from registration.entries.personal import PersonalData
from registration.entries.tickets import normalise_code
from registration.events.models import Event
from registration.events.service import event_or_404
from scoring.identity import normalise_id_number

__all__ = ["CERTIFICATE_ROUTES", "CertificateLookupForm", "CertificateReasonBody", "IssueBody", "IssueForm",
           "PrintForm"]

Req = Request[Any, Any, Any]
ORGANISER = requires("organiser")


async def _certificate_event(connection: Any) -> tuple[int, str | None] | None:
    """The event a certificate belongs to: an organiser acts on their own event's certificates only."""
    async with connection.app.state.read_session() as session:
        event_id = (await session.exec(select(store.IssuedCertificate.event_id).where(
            store.IssuedCertificate.serial == connection.path_params["serial"]))).first()
    return None if event_id is None else (event_id, None)


CERTIFICATE_ORGANISER = requires("organiser", scope=_certificate_event)
PDF = "application/pdf"
TOKEN_SECONDS = 3600
_TEMPLATE_FORM_LIMIT = uploads.MAX_IMAGE_BYTES + uploads.MAX_LAYOUT_BYTES + 64 * 1024


# --- bodies ---
# JSON: any value one level deep, refused by the handler or the store with their own codes, as when read by hand.
class IssueBody(msgspec.Struct):
    """Issue certificates from published results: of one item, or (without it) of every published item."""

    item: Annotated[Loose, msgspec.Meta(
        description="赛项代码（文本；省略则为全部已发布赛项）/ the item's code, text (absent: every published item)",
    )] = None


class CertificateReasonBody(msgspec.Struct):
    """Revoke or reissue a certificate: the reason (required, recorded on the certificate)."""

    reason: Annotated[Loose, msgspec.Meta(
        description="原因（文本，必填）/ the reason, text (required)")] = None


@dataclass
class IssueForm:
    """The issue button (publish page, or the certificates page with `back=certificates`): the item, or none."""

    item: str = ""
    back: str = ""


@dataclass
class PrintForm:
    """The print button: the item ("" or absent: the whole event) and, when sent, one group of it."""

    item: str = ""
    group: str | None = None


@dataclass
class CertificateLookupForm:
    """The self-service kiosk: the ticket (a scan), or the name and the last six digits of the ID number."""

    ticket: str = ""
    name: str = ""
    digits: str = ""


# the design's form, read by the handler itself (uploads.read_form names the size limit)
_TEMPLATE_FORM = raw_body("证书版式：底图 design（JPEG/PNG 文件）、版式 layout（JSON，文本或文件）、套打 overprint、"
                          "偏移 offset_x_mm / offset_y_mm（毫米）/ the design (a JPEG or PNG file), the layout (JSON, "
                          "text or a file), overprint and the offsets in mm", "multipart/form-data")


def _design_kind(image: bytes) -> str:
    """'JPEG' or 'PNG' for a design within the bounds (its header only: no pixels are decoded here)."""
    uploads.check_size(image, uploads.MAX_IMAGE_BYTES, "底图", "the design")
    not_image = Refusal(422, "invalid_image", "底图应为 JPEG 或 PNG 图片", "the design must be a JPEG or PNG")
    try:
        with PILImage.open(io.BytesIO(image), formats=["JPEG", "PNG"]) as probe:
            kind, (width, height) = str(probe.format), probe.size
            probe.verify()
    except PILImage.DecompressionBombError:
        width = height = uploads.MAX_IMAGE_SIDE + 1
        kind = "PNG"
    except Exception:
        raise not_image from None
    if max(width, height) > uploads.MAX_IMAGE_SIDE or width * height > uploads.MAX_IMAGE_PIXELS:
        raise uploads.too_complex(f"底图不能超过 {uploads.MAX_IMAGE_SIDE}×{uploads.MAX_IMAGE_SIDE} 像素"
                                  f"（共 {uploads.MAX_IMAGE_PIXELS // 1_000_000} 百万像素）",
                                  f"the design must be at most {uploads.MAX_IMAGE_SIDE} pixels a side and "
                                  f"{uploads.MAX_IMAGE_PIXELS // 1_000_000} megapixels",
                                  max_side=uploads.MAX_IMAGE_SIDE, max_pixels=uploads.MAX_IMAGE_PIXELS)
    return kind


def _mac(secret: str, serial: str, expires: str) -> str:
    return hmac.new(f"contestday/cert-download/{secret}".encode(), f"{serial}|{expires}".encode(),
                    hashlib.sha256).hexdigest()[:24]


def _download_token(secret: str, serial: str, now: float | None = None) -> str:
    expires = str(int((now or time.time()) + TOKEN_SECONDS))
    return f"{expires}.{_mac(secret, serial, expires)}"


def _token_ok(secret: str, serial: str, token: str) -> bool:
    expires, _, mac = token.partition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(mac, _mac(secret, serial, expires))




class CertificateAdmin(Controller):
    path = "/api/events/{event_id:int}/certificates"
    guards = [ORGANISER]
    tags = ["certificates"]

    @post("/issue", status_code=200, summary="按已发布成绩颁发证书 / issue certificates from published results")
    async def issue(self, event_id: FromPath[int], write_session: WriteSession,
                    data: JSONBody[IssueBody]) -> dict[str, Any]:
        item = data.item
        made = await store.issue(write_session, event_id, str(item) if item else None)
        return {"issued": made, "held_by_appeals": await store.held_by_appeals(write_session, event_id)}

    @get("/", summary="证书列表 / the certificates")
    async def listing(self, event_id: FromPath[int], db_session: DbSession) -> list[dict[str, Any]]:
        rows = (await db_session.exec(select(store.IssuedCertificate).where(
            store.IssuedCertificate.event_id == event_id).order_by(col(store.IssuedCertificate.order_key)))).all()
        return [{"serial": r.serial, "name": r.name, "unit": r.unit, "item": r.item_name, "group": r.group_name,
                 "award": r.award, "state": r.state, "issued_on": r.issued_on.isoformat(), "replaces": r.replaces,
                 "reason": r.reason} for r in rows]


class CertificateActions(Controller):
    path = "/api/certificates/{serial:str}"
    tags = ["certificates"]

    @get("/", summary="证书核验（公开）/ verify a certificate (public)")
    async def verify_json(self, request: Req, serial: FromPath[str], db_session: DbSession) -> dict[str, Any]:
        attempt = await limits.attempt(request, limits.VERIFY)  # misses count: unknown serial, forged signature
        view = await store.verify_view(db_session, serial, request.query_params.get("s"),
                                       request.app.state.settings.secret_key)
        if view["qr_genuine"] is not False:
            await attempt.succeeded()
        return view

    @post("/revoke", status_code=200, guards=[CERTIFICATE_ORGANISER],
          summary="作废证书（须填原因）/ revoke, with a reason")
    async def revoke(self, request: Req, serial: FromPath[str], write_session: WriteSession,
                     data: JSONBody[CertificateReasonBody]) -> dict[str, Any]:
        (reason,) = required_text(data, "reason")
        row = await store.revoke(write_session, serial, reason, await actor_name(request))
        return {"serial": row.serial, "state": row.state, "reason": row.reason}

    @post("/reissue", status_code=201, guards=[CERTIFICATE_ORGANISER],
          summary="补发证书（须填原因）/ reissue, with a reason")
    async def reissue(self, request: Req, serial: FromPath[str], write_session: WriteSession,
                      data: JSONBody[CertificateReasonBody]) -> dict[str, Any]:
        (reason,) = required_text(data, "reason")
        row = await store.reissue(write_session, serial, reason, await actor_name(request))
        return {"serial": row.serial, "replaces": row.replaces, "state": row.state}


class CertificatePages(Controller):
    include_in_schema = False

    @get("/verify/{serial:str}")
    async def verify(self, request: Req, serial: FromPath[str], db_session: DbSession) -> Template:
        attempt = await limits.attempt(request, limits.VERIFY)  # over the limit: the error page says when
        try:
            view = await store.verify_view(db_session, serial, request.query_params.get("s"),
                                           request.app.state.settings.secret_key)
        except Refusal:
            return Template("certificates/verify.html", status_code=404, context={"view": None, "serial": serial})
        if view["qr_genuine"] is not False:
            await attempt.succeeded()
        return Template("certificates/verify.html", context={"view": view, "serial": serial},
                        headers={"Cache-Control": "no-cache"})

    @get("/certificates/{name:str}")
    async def one(self, request: Req, name: FromPath[str], db_session: DbSession) -> Response[bytes]:
        """One certificate's PDF: for an organiser, or with the self-service page's short-lived token."""
        serial = name.removesuffix(".pdf")
        settings = request.app.state.settings
        principal = await current_principal(request)
        token = request.query_params.get("t", "")
        row = (await db_session.exec(select(store.IssuedCertificate).where(
            store.IssuedCertificate.serial == serial))).first()
        organiser = principal is not None and row is not None and principal.holds("organiser", row.event_id)
        if not organiser and not _token_ok(settings.secret_key, serial, token):
            raise Refusal(403, "invalid_link", "链接已过期或无效，请在自助机上重新查询",
                           "the link is invalid or expired")
        if row is None or row.state != "valid":
            raise Refusal(404, "unknown_certificate", "没有该有效证书", "no such valid certificate")
        base = await printable_address(request, db_session)  # its QR must reach the verify page
        certs = await store.printable(db_session, row.event_id, base, settings.secret_key, serials=[serial])
        template = store.load_template(settings.data_dir, row.event_id)
        return download(await render_off_loop(render, certs, template, title=f"荣誉证书 {serial}"),
                        f"荣誉证书-{serial}.pdf", PDF, inline=True, ascii_stem="certificate", no_store=True)

    @post("/console/events/{event_id:int}/certificates/template", status_code=303, guards=[ORGANISER],
          request_max_body_size=_TEMPLATE_FORM_LIMIT, operation_class=_TEMPLATE_FORM)
    async def template(self, request: Req, event_id: FromPath[int], write_session: WriteSession) -> Redirect:
        """The event's design: a background image (JPEG/PNG, the printed design), the layout as JSON (fields'
        positions and sizes, the QR), 套打 and the calibration offsets. Every value is checked before anything
        is written (422 `invalid_layout` listing the bad fields): a stored bad value would break every
        certificate of the event, the kiosk's too."""
        await event_or_404(write_session, event_id)
        form = await uploads.read_form(request, _TEMPLATE_FORM_LIMIT)
        folder = store.template_dir(request.app.state.settings.data_dir, event_id)
        layout: dict[str, Any] = {}
        raw = form.get("layout")
        if isinstance(raw, UploadFile):
            raw = (await raw.read()).decode("utf-8-sig")
        if raw:
            uploads.check_size(str(raw), uploads.MAX_LAYOUT_BYTES, "版式 JSON", "the layout JSON")
            uploads.check_text_depth(str(raw), limit=8)
            try:
                layout = json.loads(str(raw))
            except ValueError as exc:
                raise Refusal(422, "invalid_layout", f"版式 JSON 有误：{exc}", f"bad layout JSON: {exc}") from None
            if not isinstance(layout, dict):
                raise Refusal(422, "invalid_layout", "版式 JSON 应为对象", "the layout must be an object",
                               errors=[])
        layout["overprint"] = form.get("overprint") in ("1", "on", "true")
        for key in ("offset_x_mm", "offset_y_mm"):
            try:
                layout[key] = float(str(form.get(key) or layout.get(key) or 0))
            except ValueError:
                raise Refusal(422, "invalid_offset", "偏移量应为数字（毫米）", "offsets are numbers (mm)") from None
        errors = layout_errors(layout)
        if errors:
            raise Refusal(422, "invalid_layout", f"版式有 {len(errors)} 处错误：" + "；".join(
                f"{e['field']} {e['message']}" for e in errors[:5]), f"{len(errors)} bad layout value(s)",
                errors=errors)
        design = form.get("design")
        image = await design.read() if isinstance(design, UploadFile) and design.filename else None
        kind = None if image is None else await uploads.off_loop(_design_kind, image)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "template.json").write_text(json.dumps(layout, ensure_ascii=False, indent=1), encoding="utf-8")
        if image is not None:
            for old in ("design.jpg", "design.png"):
                (folder / old).unlink(missing_ok=True)
            (folder / ("design.jpg" if kind == "JPEG" else "design.png")).write_bytes(image)
        return Redirect(f"/console/events/{event_id}/certificates/calibration.pdf", status_code=303)

    @get("/console/events/{event_id:int}/certificates/calibration.pdf", guards=[ORGANISER])
    async def calibration(self, request: Req, event_id: FromPath[int]) -> Response[bytes]:
        template = store.load_template(request.app.state.settings.data_dir, event_id)
        return download(await render_off_loop(calibration_page, template), "套打校准页.pdf", PDF, inline=True,
                        ascii_stem="calibration", no_store=True)

    @post("/console/events/{event_id:int}/certificates/issue", status_code=303, guards=[ORGANISER])
    async def issue_form(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                         data: URLEncodedBody[IssueForm]) -> Redirect | Template:
        """From the publish page (back there) or the certificates page (`back=certificates`); a refusal shows
        the certificates page with the reason and the open appeals."""
        try:
            made = await store.issue(write_session, event_id, data.item or None)
        except Refusal as exc:
            await write_session.rollback()
            return await certificate_page(request, write_session, event_id, exc.status_code, error=exc)
        if data.back == "certificates":
            return Redirect(f"/console/events/{event_id}/certificates?issued={made}", status_code=303)
        return Redirect(f"/console/events/{event_id}/publish?issued={made}", status_code=303)

    @post("/console/events/{event_id:int}/certificates/print", status_code=303, guards=[ORGANISER])
    async def print_batch(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                          data: URLEncodedBody[PrintForm]) -> Redirect | Template:
        """A whole event, an item, or one group of it, in handing-out order, built in the background with its
        progress shown (results/export_jobs.py's page); refused while an appeal of it is open."""
        item = data.item or None
        group = data.group
        await event_or_404(write_session, event_id)
        try:
            base = await printable_address(request, write_session)  # the QR codes must reach the verify page
            await store.refuse_while_appealed(write_session, event_id, item)
        except Refusal as exc:
            return await certificate_page(request, write_session, event_id, exc.status_code, error=exc)
        job_id = await print_jobs.start_print(request.app.state, write_session, event_id, await actor_name(request),
                                              base, item, group)
        return Redirect(f"/console/events/{event_id}/exports/{job_id}", status_code=303)


class SelfService(Controller):
    """The contestants' kiosk: scan the ticket, or type the name and the last six digits of the ID number."""

    path = "/kiosk/events/{event_id:int}/certificates"
    include_in_schema = False

    async def _page(self, request: Req, event: Event, status: int = 200, found: list[dict[str, Any]] | None = None,
                    error: str = "", values: dict[str, str] | None = None) -> Template:
        return Template("certificates/self_service.html", status_code=status, context={
            "event": event, "found": found, "error": error, "values": values or {}},
            headers={"Cache-Control": "no-store"})

    async def _event(self, db: DbSession, event_id: int) -> Event:
        return await event_or_404(db, event_id)

    @get("/")
    async def form(self, request: Req, event_id: FromPath[int], db_session: DbSession) -> Template:
        return await self._page(request, await self._event(db_session, event_id))

    @post("/", status_code=200)
    async def lookup(self, request: Req, event_id: FromPath[int], write_session: WriteSession,
                     data: URLEncodedBody[CertificateLookupForm]) -> Template:
        event = await self._event(write_session, event_id)
        values = {"ticket": data.ticket.strip(), "name": data.name.strip(), "digits": data.digits.strip()}
        by_name = not values["ticket"] and values["name"] and len(values["digits"]) == 6
        try:  # a miss counts per address and, by name, per person: ~186 guesses/s become 30 per 5 minutes
            attempt = await limits.attempt(request, limits.CERTIFICATE_LOOKUP,
                                           person=f"{event_id}:{values['name']}" if by_name else "") \
                if values["ticket"] or by_name else None
        except limits.TooManyAttempts as exc:
            page = await self._page(request, event, 429, error=exc.message, values=values)
            page.headers.update(exc.retry_headers)
            return page
        entry_ids: list[int] = []
        positions: dict[int, set[int]] = {}
        if values["ticket"]:
            entry = (await write_session.exec(select(Entry).where(Entry.ticket_code == normalise_code(values["ticket"]),
                                                               Entry.event_id == event_id))).first()
            if entry is not None and entry.id is not None:
                entry_ids.append(entry.id)
        elif values["name"] and len(values["digits"]) == 6:
            personal = PersonalData(request.app.state.settings.secret_key)
            digits = normalise_id_number(values["digits"]) if values["digits"] else ""
            for m in (await write_session.exec(select(EntryMember).where(EntryMember.event_id == event_id,
                                                                      EntryMember.name == values["name"]))).all():
                number = personal.decrypt(m.id_number_enc) or ""
                if number.endswith(digits.upper()):
                    entry_ids.append(m.entry_id)
                    positions.setdefault(m.entry_id, set()).add(m.position)
        else:
            return await self._page(request, event, 422, error="请扫描参赛凭证，或填写姓名和身份证号后六位",
                                    values=values)
        rows = (await write_session.exec(select(store.IssuedCertificate).where(
            col(store.IssuedCertificate.entry_id).in_(entry_ids), store.IssuedCertificate.state == "valid")
            .order_by(col(store.IssuedCertificate.order_key)))).all() if entry_ids else []
        rows = [r for r in rows if r.entry_id not in positions or r.position in positions[r.entry_id]]
        if not rows:
            return await self._page(request, event, 404, values=values,
                                    error="没有查到您的荣誉证书（证书只颁发给获奖选手，且在成绩公布后）")
        if attempt is not None:
            await attempt.succeeded()
        secret = request.app.state.settings.secret_key
        found = [{"serial": r.serial, "name": r.name, "item": r.item_name, "group": r.group_name, "award": r.award,
                  "url": f"/certificates/{r.serial}.pdf?t={_download_token(secret, r.serial)}"} for r in rows]
        return await self._page(request, event, found=found)


CERTIFICATE_ROUTES = (CertificateAdmin, CertificateActions, CertificatePages, CertificateListPage, SelfService)
