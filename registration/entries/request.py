"""The registration request (contracts §5) read from a JSON body, a form or a roster row — pure.

Individual: {"item", "group", "identity", "name", "id_number", "phone", "unit", "instructors": [...], ...}.
Two-person team: the same with "members": [{"identity", "name", "id_number", "phone", ...}, ...] instead
of the personal fields at the top.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registration.entries.personal import normalise_phone

__all__ = ["IDENTITIES", "MemberRequest", "RegistrationRequest", "RequestError", "read_request"]

IDENTITIES = {"student": "学生", "employee": "职工"}
EDUCATION = ("初中", "高中", "中专/技校", "大专", "本科", "研究生")
_NAME_RE = re.compile(r"^[\u3400-\u9fff\U00020000-\U0003134F·A-Za-z .\-]{1,32}$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


class RequestError(Exception):
    def __init__(self, code: str, field: str, zh: str, en: str):
        super().__init__(f"{field}: {en}")
        self.code, self.field, self.zh, self.en = code, field, zh, en


@dataclass(frozen=True)
class MemberRequest:
    identity: str
    name: str
    id_number: str  # as typed: the identity module normalises and checks it
    phone: str  # normalised digits
    education: str | None = None
    skill_level: int | None = None
    certificate_number: str | None = None
    years_in_occupation: int | None = None
    female_base: int | None = None


@dataclass(frozen=True)
class RegistrationRequest:
    item: str
    group: str
    unit: str
    members: tuple[MemberRequest, ...]
    instructors: tuple[tuple[str, str], ...]  # (name, phone)


def _text(obj: Mapping[str, Any], key: str, field: str, *, required: bool = True, limit: int = 200) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RequestError("missing_field", field, "必填项未填写", "is required")
        return None
    if not isinstance(value, str | int):
        raise RequestError("invalid_field", field, "格式不正确", "must be text")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if len(text) > limit:
        raise RequestError("invalid_field", field, f"不能超过 {limit} 个字符", f"at most {limit} characters")
    return text


def _int(obj: Mapping[str, Any], key: str, field: str, lo: int, hi: int) -> int | None:
    value = obj.get(key)
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise RequestError("invalid_field", field, "应为整数", "must be a whole number") from None
    if not lo <= number <= hi:
        raise RequestError("invalid_field", field, f"应在 {lo} 到 {hi} 之间", f"must be between {lo} and {hi}")
    return number


def _phone(obj: Mapping[str, Any], key: str, field: str) -> str:
    raw = _text(obj, key, field) or ""
    phone = normalise_phone(raw)
    if not _PHONE_RE.match(phone):
        raise RequestError("invalid_phone", field, "请填写 11 位手机号码", "give an 11-digit mobile number")
    return phone


def _name(obj: Mapping[str, Any], key: str, field: str) -> str:
    name = re.sub(r"\s+", " ", _text(obj, key, field, limit=32) or "")
    if not _NAME_RE.match(name):
        raise RequestError("invalid_name", field, "姓名只能包含汉字、字母和间隔号", "a name holds Chinese characters,"
                           " letters and the middle dot only")
    return name


def _member(obj: Mapping[str, Any], prefix: str) -> MemberRequest:
    identity = _text(obj, "identity", f"{prefix}identity") or ""
    if identity not in IDENTITIES:
        identity = {"学生": "student", "职工": "employee"}.get(identity, identity)
    if identity not in IDENTITIES:
        raise RequestError("invalid_field", f"{prefix}identity", "身份应为学生（student）或职工（employee）",
                           "identity must be student or employee")
    education = _text(obj, "education", f"{prefix}education", required=False, limit=32)
    female_base = _int(obj, "female_base", f"{prefix}female_base", 50, 55)
    if female_base not in (None, 50, 55):
        raise RequestError("invalid_field", f"{prefix}female_base", "女职工退休基准只能是 50 或 55",
                           "female_base is 50 or 55")
    return MemberRequest(
        identity=identity,
        name=_name(obj, "name", f"{prefix}name"),
        id_number=_text(obj, "id_number", f"{prefix}id_number", limit=40) or "",
        phone=_phone(obj, "phone", f"{prefix}phone"),
        education=education,
        skill_level=_int(obj, "skill_level", f"{prefix}skill_level", 1, 5),
        certificate_number=_text(obj, "certificate_number", f"{prefix}certificate_number", required=False, limit=64),
        years_in_occupation=_int(obj, "years_in_occupation", f"{prefix}years_in_occupation", 0, 60),
        female_base=female_base,
    )


def read_request(payload: Any) -> RegistrationRequest:
    """Read and normalise a request; raise RequestError naming the first bad field."""
    if not isinstance(payload, Mapping):
        raise RequestError("invalid_body", "$", "请求内容应为 JSON 对象", "the body must be a JSON object")
    raw_members = payload.get("members")
    if raw_members is not None:
        if not isinstance(raw_members, list) or not raw_members or len(raw_members) > 10:
            raise RequestError("invalid_field", "members", "队员列表格式不正确", "members must be a non-empty list")
        members = []
        for i, m in enumerate(raw_members):
            if not isinstance(m, Mapping):
                raise RequestError("invalid_field", f"members[{i}]", "队员信息格式不正确", "a member must be an object")
            members.append(_member(m, f"members[{i}]."))
    else:
        members = [_member(payload, "")]
    instructors = []
    raw_instructors = payload.get("instructors") or []
    if not isinstance(raw_instructors, list) or len(raw_instructors) > 5:
        raise RequestError("invalid_field", "instructors", "指导教师最多 5 位", "at most 5 instructors")
    for i, ins in enumerate(raw_instructors):
        if not isinstance(ins, Mapping):
            raise RequestError("invalid_field", f"instructors[{i}]", "指导教师信息格式不正确", "must be an object")
        if not (ins.get("name") or ins.get("phone")):
            continue  # an empty row of the form
        instructors.append((_name(ins, "name", f"instructors[{i}].name"),
                            _phone(ins, "phone", f"instructors[{i}].phone")))
    return RegistrationRequest(
        item=_text(payload, "item", "item", limit=32) or "",
        group=_text(payload, "group", "group", required=False, limit=64) or "",
        unit=_text(payload, "unit", "unit") or "",
        members=tuple(members),
        instructors=tuple(instructors),
    )
