"""The public registration API of contracts §5 (what the QR form posts). Thin: read, register, answer.
A person's optional `photo` is a base64 JPEG/PNG (an event may require it), re-encoded like the form's."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromPath

from contestday.web import uploads
from contestday.web.errors import Refusal, body_not_json
from registration.entries.context import register_on_writer
from registration.entries.photos import PhotoError, decode_base64, prepare_photo, store_photo
from registration.entries.request import RequestError, read_request
from registration.entries.service import store_photo_names

__all__ = ["RegistrationController", "request_error"]

log = logging.getLogger("contestday.registration")


def _photos(payload: Any) -> dict[int, bytes]:
    """The API's optional `photo` per person (base64 JPEG/PNG), re-encoded like the form's uploads."""
    people = payload.get("members") if isinstance(payload.get("members"), list) else [payload]
    photos = {}
    for i, person in enumerate(people):
        raw = person.get("photo") if isinstance(person, dict) else None
        if not raw:
            continue
        field = f"members[{i}].photo" if "members" in payload else "photo"
        try:
            if not isinstance(raw, str):
                raise PhotoError("not_base64", "照片应为 base64 编码的 JPEG 或 PNG", "the photo must be base64")
            photos[i] = prepare_photo(decode_base64(raw))
        except PhotoError as exc:
            raise Refusal(422, "invalid_photo", f"{field}：{exc.zh}", f"{field}: {exc.en}", field=field,
                           reason=exc.reason) from exc
    return photos


def request_error(exc: RequestError) -> Refusal:
    """The first bad field as always (`code`, `message`, `field`), and `errors`: every bad field."""
    errors = [{"code": e.code, "field": e.field, "message": f"{e.field}：{e.zh}", "message_en": f"{e.field}: {e.en}"}
              for e in exc.errors]
    return Refusal(422, exc.code, f"{exc.field}：{exc.zh}", f"{exc.field}: {exc.en}", field=exc.field,
                    errors=errors)


class RegistrationController(Controller):
    path = "/api/events/{event_id:int}/registrations"
    tags = ["registration"]

    # two members' photos of 5 MB each, base64 (4/3), and the fields
    @post("/", status_code=201, summary="报名 / register (public: what the QR form posts)",
          request_max_body_size=14 * 1024 * 1024)
    async def create(self, event_id: FromPath[int], request: Request[Any, Any, Any]) -> dict[str, Any]:
        try:
            payload = await request.json()
        except Exception as exc:  # a body that is not JSON at all
            raise body_not_json() from exc
        try:
            req = read_request(payload)
        except RequestError as exc:
            raise request_error(exc) from exc
        # decoding photos takes a good part of a second: off the event loop
        photos = await uploads.off_loop(_photos, payload) if req.members and any(
            m.has_photo for m in req.members) else {}
        state = request.app.state
        outcome = await register_on_writer(state, event_id, req, "api")
        warnings = list(outcome.warnings)
        if photos:  # the registration stands even if the disk fails, as on the form
            try:
                names = {i: await uploads.off_loop(store_photo, state.settings.data_dir, outcome.entry_id, i, jpeg)
                         for i, jpeg in photos.items()}
                await state.writer.run(lambda conn: store_photo_names(conn, outcome.entry_id, names))
            except OSError:
                log.exception("photo not stored", extra={"entry_id": outcome.entry_id})
                warnings.append({"code": "photo_not_stored",
                                 "message": "报名已成功，但照片保存失败，请在“我的报名”中重新上传",
                                 "message_en": "registered, but the photo was not stored: upload it again"})
        base = request.app.state.settings.public_url
        return {
            "registration_id": outcome.entry_id,
            "ticket_code": outcome.ticket_code,
            "ticket_url": f"{base}/t/{outcome.ticket_code}",
            "review": outcome.review,
            "warnings": warnings,
        }
