"""The public registration API of contracts §5 (what the QR form posts). Thin: read, register, answer.
A person's optional `photo` is a base64 JPEG/PNG (an event may require it), re-encoded like the form's.

The body is typed (`RegistrationBody`, its `members` and `instructors`) for the OpenAPI document only: every field
is loose and absent unless sent, and the body goes back to what was sent (`msgspec.to_builtins`) for
registration/entries/request.py, which keeps every refusal code and `field` of contracts §5.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.params import FromPath, JSONBody

from contestday.web import uploads
from contestday.web.bodies import Scalar, Sent
from contestday.web.errors import Refusal
from contestday.web.public_address import public_address
from registration.entries.context import register_on_writer
from registration.entries.photos import PhotoError, decode_base64, prepare_photo, store_photo
from registration.entries.request import RequestError, read_request
from registration.entries.service import store_photo_names

__all__ = ["InstructorBody", "PersonBody", "RegistrationBody", "RegistrationController", "request_error"]

log = logging.getLogger("contestday.registration")

# --- bodies ---
# Any JSON value one level deep, absent (UNSET) unless sent: read_request refuses what it cannot use, with its codes.


class PersonBody(msgspec.Struct):
    """One person: a contestant of an individual item (at the top of the body) or a member of a team."""

    identity: Annotated[Sent, msgspec.Meta(
        description="身份：student、employee、teacher 或 flexible（必填）/ the identity (required)")] = msgspec.UNSET
    name: Annotated[Sent, msgspec.Meta(description="姓名（必填）/ the name (required)")] = msgspec.UNSET
    id_number: Annotated[Sent, msgspec.Meta(description="证件号码（必填）/ the ID number (required)")] = msgspec.UNSET
    phone: Annotated[Sent, msgspec.Meta(
        description="11 位手机号码（必填）/ an 11-digit mobile number (required)")] = msgspec.UNSET
    education: Annotated[Sent, msgspec.Meta(description="学历 / education")] = msgspec.UNSET
    skill_level: Annotated[Sent, msgspec.Meta(
        description="已有职业技能等级，1–5 / the skill level held, 1–5")] = msgspec.UNSET
    certificate_number: Annotated[Sent, msgspec.Meta(
        description="职业技能等级证书编号 / the skill certificate's number")] = msgspec.UNSET
    years_in_occupation: Annotated[Sent, msgspec.Meta(
        description="本职业工作年限，0–60 / years in the occupation, 0–60")] = msgspec.UNSET
    female_base: Annotated[Sent, msgspec.Meta(
        description="女职工退休基准年龄：50 或 55 / a woman's retirement base age: 50 or 55")] = msgspec.UNSET
    major: Annotated[Sent, msgspec.Meta(description="专业（学生）/ the major, for a student")] = msgspec.UNSET
    residence_declared: Annotated[Sent, msgspec.Meta(
        description="已勾选本赛事的居住/工作地声明 / ticked the event's residence declaration")] = msgspec.UNSET
    photo: Annotated[Sent, msgspec.Meta(
        description="照片：base64 编码的 JPEG 或 PNG / the photo, a base64 JPEG or PNG")] = msgspec.UNSET


class InstructorBody(msgspec.Struct):
    """An instructor (指导教师)."""

    name: Annotated[Sent, msgspec.Meta(description="姓名 / the name")] = msgspec.UNSET
    phone: Annotated[Sent, msgspec.Meta(description="11 位手机号码 / an 11-digit mobile number")] = msgspec.UNSET


class RegistrationBody(PersonBody):
    """A registration (contracts §5): the item, group and unit, and the person's fields here, or for a team its
    `members` instead."""

    item: Annotated[Sent, msgspec.Meta(description="赛项代码（必填）/ the item's code (required)")] = msgspec.UNSET
    group: Annotated[Sent, msgspec.Meta(description="组别 / the group")] = msgspec.UNSET
    unit: Annotated[Sent, msgspec.Meta(
        description="工作单位或学校（灵活就业人员可不填）/ the employer or school (a flexible worker may leave it out)",
    )] = msgspec.UNSET
    members: Annotated[list[PersonBody | Scalar | list[Scalar]] | Scalar | dict[str, Scalar] | msgspec.UnsetType,
                       msgspec.Meta(description="团体赛项的队员 / a team's members")] = msgspec.UNSET
    instructors: Annotated[
        list[InstructorBody | Scalar | list[Scalar]] | Scalar | dict[str, Scalar] | msgspec.UnsetType,
        msgspec.Meta(description="指导教师，最多 5 位 / instructors, at most 5")] = msgspec.UNSET


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
    async def create(self, event_id: FromPath[int], request: Request[Any, Any, Any],
                     data: JSONBody[RegistrationBody]) -> dict[str, Any]:
        payload = msgspec.to_builtins(data)  # the fields as sent: read_request tells an absent one from a null one
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
        base = (await public_address(request)).url
        return {
            "registration_id": outcome.entry_id,
            "ticket_code": outcome.ticket_code,
            "ticket_url": f"{base}/t/{outcome.ticket_code}",
            "review": outcome.review,
            "warnings": warnings,
        }
