"""The mobile registration form as plain HTML fields: reading a multipart POST into the request of
contracts §5 (read_request stays the one validator), and placing every refusal next to its field.

Field names: item, group, identity, unit, confirm; per member `m{i}_name`, `m{i}_id_number`, … and
`m{i}_photo`, `m{i}_major`, `m{i}_residence_declared`; instructors `ins{i}_name`, `ins{i}_phone`. One
identity serves the whole team: the form
offers only the identities the chosen group takes (学生组 students; 职工组 employees, teachers, flexible
workers by default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar.datastructures import UploadFile

from registration.entries.identities import ALIASES, IDENTITIES, identity_refusal
from registration.entries.request import EDUCATION, RequestError
from scoring.event_file import EventSpec
from scoring.identity import InvalidIdNumber, parse_id_number

__all__ = [
    "EDUCATION",
    "FEMALE_POSTS",
    "INSTRUCTOR_ROWS",
    "FormErrors",
    "FormInput",
    "KeptData",
    "errors_for",
    "errors_for_all",
    "form_field",
    "identities_json",
    "identity_options",
    "items_json",
    "label",
    "precheck",
    "read_form",
    "to_payload",
]

MEMBER_FIELDS = ("name", "id_number", "phone", "education", "skill_level", "certificate_number",
                 "years_in_occupation", "female_base", "major", "residence_declared")
INSTRUCTOR_ROWS = 2
# A woman's retirement base depends on her post (domain.md): ask it rather than guess from her birth.
FEMALE_POSTS = ((55, "干部/管理岗"), (50, "工人岗"))
LABELS = {"item": "赛项", "group": "组别", "identity": "身份", "unit": "工作单位或学校", "confirm": "确认声明",
          "name": "姓名", "id_number": "身份证号码", "phone": "手机号码", "education": "学历",
          "skill_level": "技能等级", "certificate_number": "证书编号", "years_in_occupation": "本职业工作年限",
          "female_base": "岗位类别", "photo": "照片", "instructors": "指导教师", "major": "专业",
          "residence_declared": "居住/工作地声明"}
# Refusals of the service that name no field: where the contestant should look.
CODE_FIELDS = {"duplicate_entry": "m0_id_number", "already_registered": "m0_id_number",
               "duplicate_member": "m1_id_number", "unit_quota_exceeded": "unit", "unknown_item": "item",
               "team_size_mismatch": "item", "unknown_group": "group", "group_identity_mismatch": "identity",
               "identity_not_accepted": "identity",
               "not_confirmed": "confirm", "invalid_photo": "m0_photo"}


@dataclass
class FormInput:
    values: dict[str, str]  # what was typed, to render the form again
    photos: dict[int, bytes]  # member position -> uploaded bytes (not yet checked)
    confirmed: bool


@dataclass
class KeptData:
    """Stored values an edit form leaves blank on purpose (a public page never shows them)."""

    id_numbers: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    instructors: list[dict[str, str]] = field(default_factory=list)
    photos: dict[int, str] = field(default_factory=dict)  # position -> person hash of a stored photo

@dataclass
class FormErrors:
    top: str
    fields: dict[str, str]
    code: str = ""
    items: list[tuple[str, str]] = field(default_factory=list)  # when several: (form field, "标签：原因") in form order


async def read_form(form: Mapping[str, Any]) -> FormInput:
    values: dict[str, str] = {}
    photos: dict[int, bytes] = {}
    for key in form:
        value = form.get(key)
        if isinstance(value, UploadFile):
            match = re.fullmatch(r"m(\d)_photo", key)
            data = await value.read()
            if match and data:
                photos[int(match.group(1))] = data
        elif isinstance(value, str) and len(key) <= 40:
            values[key] = value
    return FormInput(values, photos, values.get("confirm") in ("1", "on", "yes", "true"))


def to_payload(values: Mapping[str, str], spec: EventSpec, kept: KeptData | None = None) -> dict[str, Any]:
    """The request body of contracts §5 from the form's fields (team items send `members`)."""
    item = spec.item(values.get("item", ""))
    team = item.team_size if item else 1
    members = []
    for i in range(team):
        member: dict[str, Any] = {"identity": values.get("identity", "")}
        member.update({f: values.get(f"m{i}_{f}", "") for f in MEMBER_FIELDS})
        if kept and not member["id_number"].strip() and i < len(kept.id_numbers):
            member["id_number"] = kept.id_numbers[i]
        if kept and not member["phone"].strip() and i < len(kept.phones):
            member["phone"] = kept.phones[i]
        members.append(member)
    instructors = []
    for i in range(INSTRUCTOR_ROWS):
        name, phone = values.get(f"ins{i}_name", "").strip(), values.get(f"ins{i}_phone", "").strip()
        if kept and name and not phone:  # the same instructor as stored: keep the phone we never showed
            phone = next((k.get("phone", "") for k in kept.instructors if k.get("name") == name), "")
        instructors.append({"name": name, "phone": phone})
    group = values.get("group", "")
    payload: dict[str, Any] = {"item": values.get("item", ""), "group": "" if group == "-" else group,
                               "unit": values.get("unit", ""), "instructors": instructors}
    if team == 1:
        payload.update(members[0])
    else:
        payload["members"] = members
    return payload


def form_field(api_field: str | None, code: str) -> str:
    """The form input a refusal belongs to."""
    if not api_field:
        return CODE_FIELDS.get(code, "")
    if m := re.fullmatch(r"members\[(\d+)\]\.(\w+)", api_field):
        return "identity" if m.group(2) == "identity" else f"m{m.group(1)}_{m.group(2)}"
    if m := re.fullmatch(r"instructors\[(\d+)\](?:\.(\w+))?", api_field):
        return f"ins{m.group(1)}_{m.group(2) or 'name'}"
    if api_field in (*MEMBER_FIELDS, "photo"):
        return f"m0_{api_field}"
    return api_field


def label(form_name: str, team: bool) -> str:
    if m := re.fullmatch(r"m(\d)_(\w+)", form_name):
        prefix = f"队员{int(m.group(1)) + 1}" if team else ""
        return prefix + LABELS.get(m.group(2), m.group(2))
    if m := re.fullmatch(r"ins(\d)_(\w+)", form_name):
        return f"指导教师{int(m.group(1)) + 1}" + LABELS.get(m.group(2), "")
    return LABELS.get(form_name, "")


def errors_for(code: str, api_field: str | None, message: str, team: bool) -> FormErrors:
    """The message next to the field, and at the top the same message named by its field."""
    name = form_field(api_field, code)
    # the API's own messages may start with the JSON field ("members[0].name：…"): say it in Chinese
    message = re.sub(r"^[A-Za-z0-9_\[\]\.$]+：", "", message)
    where = label(name, team)
    base = LABELS.get(name.split("_", 1)[-1] if name.startswith(("m0_", "m1_")) else name, where)
    head, sep, rest = message.partition("：")
    if sep and base and head.startswith(base):  # "身份证号码有误：校验位不符…" names the field already
        return FormErrors(message if where == base else f"{where}：{rest}", {name: rest}, code)
    return FormErrors(f"{where}：{message}" if where else message, {name: message} if name else {}, code)


def _form_order(team: int) -> list[str]:
    members = [f"m{i}_{f}" for i in range(team) for f in (*MEMBER_FIELDS, "photo")]
    instructors = [f"ins{i}_{f}" for i in range(INSTRUCTOR_ROWS) for f in ("name", "phone")]
    return ["item", "group", "identity", "unit", *members, *instructors, "confirm"]


def errors_for_all(errors: list[RequestError], team: bool) -> FormErrors:
    """Every refusal next to its field; at the top one line, or the list of all in the form's order (a
    form without JavaScript learns everything that is wrong from one submit)."""
    singles = [errors_for(e.code, e.field, e.zh, team) for e in errors]
    merged: dict[str, FormErrors] = {}
    for single in singles:  # one message per field: the first
        merged.setdefault(next(iter(single.fields), ""), single)
    if len(merged) == 1:
        return singles[0]
    order = {name: n for n, name in enumerate(_form_order(2 if team else 1))}
    ranked = sorted(merged.items(), key=lambda kv: order.get(kv[0], len(order)))
    return FormErrors(f"有 {len(ranked)} 处需要修改：", {k: v for _, e in ranked for k, v in e.fields.items()},
                      ranked[0][1].code, [(name, e.top) for name, e in ranked])


def precheck(payload: Mapping[str, Any], spec: EventSpec) -> list[RequestError]:
    """The registration service's field rules that need no database (ID number, group, identity for the
    group), run before it so a form learns them together with the missing fields. The service checks them
    again: this only brings the answer forward."""
    errors: list[RequestError] = []
    members = payload.get("members") or [payload]
    for i, m in enumerate(members):
        prefix = f"members[{i}]." if "members" in payload else ""
        number = str(m.get("id_number") or "").strip()
        if number:
            try:
                parse_id_number(number)
            except InvalidIdNumber as exc:
                errors.append(RequestError("invalid_id_number", f"{prefix}id_number", f"身份证号码有误：{exc.zh}",
                                           f"invalid ID number: {exc.en}"))
        if spec.residence_declaration and m.get("residence_declared") not in ("1", "on", True):
            errors.append(RequestError("residence_not_declared", f"{prefix}residence_declared",
                                       f"请确认本人{spec.residence_declaration}", "confirm the residence rule"))
        if spec.student_major_required and m.get("identity") == "student" and not str(m.get("major") or "").strip():
            errors.append(RequestError("major_required", f"{prefix}major", "学生选手须填写所学专业",
                                       "a student must give their major"))
    item, group = spec.item(str(payload.get("item") or "")), str(payload.get("group") or "").strip()
    if item is not None and item.groups and not group:
        errors.append(RequestError("missing_field", "group", "请选择组别", "choose a group"))
    identity = str(members[0].get("identity") or "") if members else ""
    refusal = identity_refusal(spec, group, ALIASES.get(identity, identity))
    if refusal is not None:
        errors.append(RequestError(refusal[0], "members[0].identity" if "members" in payload else "identity",
                                   *refusal[1:]))
    return errors


def items_json(spec: EventSpec) -> str:
    """The items for the page's script (groups by item, team sizes); `</` escaped for a <script> block."""
    data = [{"code": i.code, "name": i.name, "groups": list(i.groups), "team": i.team_size} for i in spec.items]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


# the form's wording of each identity (the student's line repeats who counts as one)
_IDENTITY_TEXT = {**IDENTITIES, "student": "学生（在渝全日制院校在籍学生）"}


def identity_options(spec: EventSpec, group: str = "") -> list[tuple[str, str]]:
    """The identities a group takes (every accepted one for no group: the page without JavaScript, where
    the group may still change, offers them all; the script narrows them to the chosen group's)."""
    takes = set(spec.group_takes(group) if group and group != "-" else spec.identities)
    return [(code, text) for code, text in _IDENTITY_TEXT.items() if code in takes]


def identities_json(spec: EventSpec) -> str:
    """Which identities each group takes, for the page's script: {"": accepted, group: [...], ...}."""
    groups = dict.fromkeys(g for item in spec.items for g in item.groups)
    data = {"": list(spec.identities), **{g: list(spec.group_takes(g)) for g in groups}}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
