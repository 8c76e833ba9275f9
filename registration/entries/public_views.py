"""What the public pages share: the Chinese message page, the form page and its checks, refusals placed
next to their fields, photo storing after a registration succeeded."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Template

from contestday.accounts.security import same
from contestday.web.errors import Refusal
from registration.entries import public_form as pf
from registration.entries.context import load_context
from registration.entries.photos import PhotoError, prepare_photo, store_photo
from registration.entries.public_data import load_members
from registration.entries.request import RequestError, read_request
from registration.entries.service import RegistrationContext
from scoring.event_file import CHINA_TZ
from scoring.identity import InvalidIdNumber, parse_id_number
from scoring.skill_levels import LEVELS

__all__ = ["MINE_COOKIE", "check_form", "closed_page", "context_or_none", "expired_cookie", "form_page",
           "message_page", "refusal", "same_token", "save_photos"]

log = logging.getLogger("contestday.registration")
Req = Request[Any, Any, Any]
MINE_COOKIE = "contestday_mine"


def message_page(title: str, message: str, status: int = 200, links: list[tuple[str, str]] | None = None,
                 event_name: str = "", cookies: list[Cookie] | None = None) -> Template:
    return Template("public/message.html", context={"title": title, "message": message, "links": links or [],
                                                   "event_name": event_name}, status_code=status, cookies=cookies)


def form_page(ctx: RegistrationContext, values: dict[str, str], errors: pf.FormErrors | None = None, *,
              status: int = 200, mode: str = "new", extra: dict[str, Any] | None = None) -> Template:
    spec = ctx.spec
    groups = list(dict.fromkeys(g for item in spec.items for g in item.groups))
    group_options = [(g, g) for g in groups] + ([("-", "不分组")] if any(not i.groups for i in spec.items) else [])
    selected = spec.item(values.get("item", ""))
    context = {
        "event_id": ctx.event_id, "event_name": spec.name, "starts_on": spec.starts_on.isoformat(),
        "deadline": f"{ctx.closes.astimezone(CHINA_TZ):%Y年%m月%d日 %H:%M}" if ctx.closes else "",
        "values": values, "errors": errors, "mode": mode, "action": f"/r/{ctx.event_id}",
        "item_options": [(i.code, i.name + ("（双人赛项）" if i.team_size > 1 else "")) for i in spec.items],
        "group_options": group_options, "has_team": any(i.team_size > 1 for i in spec.items),
        "team_selected": bool(selected and selected.team_size > 1), "items_json": pf.items_json(spec),
        "educations": [(e, e) for e in pf.EDUCATION], "skill_levels": LEVELS,
        "female_posts": pf.FEMALE_POSTS, "mine_token": "", "photo_required": spec.photo_required,
        "residence_declaration": spec.residence_declaration, "major_required": spec.student_major_required,
        "kept_photos": [], "identity_options": pf.identity_options(spec),
        "identities_json": pf.identities_json(spec), **(extra or {}),
    }
    return Template("public/form.html", context=context, status_code=status)


def check_form(ctx: RegistrationContext, form: pf.FormInput,
               kept: pf.KeptData | None = None) -> tuple[Any, dict[int, bytes]]:
    """(request, re-encoded photos) or raise RequestError carrying in `errors` every field the form got wrong:
    the request's fields, the ID numbers, group and identity, the photos and the confirmation together."""
    payload = pf.to_payload(form.values, ctx.spec, kept)
    errors: list[RequestError] = []
    req = None
    try:
        req = read_request(payload)
    except RequestError as exc:
        errors += exc.errors
    errors += pf.precheck(payload, ctx.spec)
    item = ctx.spec.item(form.values.get("item", ""))
    team = item.team_size if item else 1
    photos: dict[int, bytes] = {}
    for position, data in sorted(form.photos.items()):
        if position >= team:
            continue  # a second member's photo left over on an individual item
        try:
            photos[position] = prepare_photo(data)
        except PhotoError as exc:
            errors.append(RequestError("invalid_photo", f"m{position}_photo", exc.zh, exc.en))
    having = _with_photo(ctx, payload, team, set(form.photos), kept)
    if ctx.spec.photo_required:
        errors += [RequestError("photo_required", f"m{i}_photo", "本赛事要求上传参赛人员照片",
                                "this event needs a photo of every contestant") for i in range(team) if i not in having]
    if not form.confirmed:
        errors.append(RequestError("not_confirmed", "confirm", "请勾选确认：本人未重复报名、未以多重身份报名",
                                   "confirm that you hold no other entry and enter under one identity only"))
    if errors or req is None:
        raise RequestError.of(errors)
    members = tuple(dataclasses.replace(m, has_photo=i in having) for i, m in enumerate(req.members))
    return dataclasses.replace(req, members=members), photos


def _with_photo(ctx: RegistrationContext, payload: dict[str, Any], team: int, uploaded: set[int],
                kept: pf.KeptData | None) -> set[int]:
    """The positions that will have a photo: uploaded now, or stored for the same person (an edit keeps it)."""
    having = {i for i in uploaded if i < team}
    members = payload.get("members") or [payload]
    for position, person_hash in (kept.photos if kept else {}).items():
        if position < min(team, len(members)):
            try:
                number = parse_id_number(str(members[position].get("id_number") or "")).number
            except InvalidIdNumber:
                continue
            if ctx.personal.person_hash(number) == person_hash:
                having.add(position)
    return having


def refusal(exc: Exception, team: bool) -> tuple[int, pf.FormErrors]:
    if isinstance(exc, RequestError):
        return 422, pf.errors_for_all(exc.errors, team)
    assert isinstance(exc, Refusal)
    field = exc.extra_fields.get("field")
    return exc.status_code, pf.errors_for(exc.code, field if isinstance(field, str) else None, exc.message, team)


async def save_photos(session: Any, request: Req, entry_id: int, photos: dict[int, bytes],
                      keep: dict[int, tuple[str, str]] | None = None) -> bool:
    """Store the re-encoded photos of a registered entry and name them on its members. The registration
    stands even if the disk fails: the contestant is told and can upload again under "my registration".
    `keep` maps a position to (person hash, file) of an amended entry: the old photo stays with its person."""
    if not photos and not keep:
        return True
    data_dir = request.app.state.settings.data_dir
    try:
        for member in await load_members(session, entry_id):
            if member.position in photos:
                member.photo = store_photo(data_dir, entry_id, member.position, photos[member.position])
            elif keep and member.position in keep and keep[member.position][0] == member.person_hash:
                member.photo = keep[member.position][1]
            session.add(member)
        await session.commit()
        return True
    except OSError:
        log.exception("photo not stored", extra={"entry_id": entry_id})
        await session.rollback()
        return False


async def context_or_none(session: Any, request: Req, event_id: int) -> RegistrationContext | None:
    try:
        return await load_context(session, event_id, request.app.state.settings.secret_key)
    except Refusal as exc:
        if exc.code == "unknown_event":
            return None
        raise


def closed_page(ctx: RegistrationContext, status: int = 200) -> Template:
    return message_page("报名已截止", "本赛事报名已截止，不再接受新的报名。已报名的选手可在“我的报名”中查看报名信息。",
                        status, [(f"/r/{ctx.event_id}/mine", "我的报名")], ctx.spec.name)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a and b and same(a, b))


def expired_cookie(event_id: int) -> Cookie:
    return Cookie(key=MINE_COOKIE, value="", max_age=0, path=f"/r/{event_id}/mine")
