"""The registration request (contracts §5) read from a JSON body, a form or a roster row — pure.

Individual: {"item", "group", "identity", "name", "id_number", "phone", "unit", "instructors": [...], ...}.
Two-person team: the same with "members": [{"identity", "name", "id_number", "phone", ...}, ...] instead
of the personal fields at the top. Per person also `major` (专业), `residence_declared` (the event's
residence declaration ticked) and `photo` (base64, read by the route): what seed 002 asks of contestants.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from registration.entries.identities import ALIASES, IDENTITIES
from registration.entries.personal import normalise_phone

__all__ = ["IDENTITIES", "MemberRequest", "RegistrationRequest", "RequestError", "read_request"]

EDUCATION = ("初中", "高中", "中专/技校", "大专", "本科", "研究生")
_NAME_RE = re.compile(r"^[\u3400-\u9fff\U00020000-\U0003134F·A-Za-z .\-]{1,32}$")
T = TypeVar("T")
_HAN_RE = re.compile(r"[\u3400-\u9fff\U00020000-\U0003134F]")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


class RequestError(Exception):
    """The first bad field (`code`, `field`, `zh`, `en`, what callers have always read) and in `errors`
    every bad field of the request, so a form without JavaScript can mark them all in one answer."""

    def __init__(self, code: str, field: str, zh: str, en: str):
        super().__init__(f"{field}: {en}")
        self.code, self.field, self.zh, self.en = code, field, zh, en
        self.errors: list[RequestError] = [self]

    @classmethod
    def of(cls, errors: list[RequestError]) -> RequestError:
        """One error standing for all of them (the first keeps its place in front)."""
        first = errors[0]
        first.errors = list(errors)
        return first


class _Collect:
    """Run each field's reader, keep its refusal and go on: every bad field is reported at once."""

    def __init__(self) -> None:
        self.errors: list[RequestError] = []

    def __call__(self, read: Callable[..., T], *args: Any, default: T, **kwargs: Any) -> T:
        try:
            return read(*args, **kwargs)
        except RequestError as exc:
            self.errors.append(exc)
            return default


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
    major: str | None = None  # a student's 专业 (seed 002: 全日制在校在籍相关专业学生)
    residence_declared: bool = False  # ticked the event's residence_declaration (seed 002: 在渝工作、学习或居住)
    has_photo: bool = False  # a photo comes with this person (the form's upload, one kept, or the API's `photo`)


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
    """Leading and trailing spaces go, runs of spaces become one (foreign names: "Maria Garcia"); a name
    written in Chinese characters has no space at all: "张 三" is a typo for 张三 or a different name, and
    the ID card, the certificate and the lists must all print the same name. Ethnic-minority names join
    their parts with the middle dot (阿依古丽·买买提), which the rule keeps."""
    name = re.sub(r"\s+", " ", _text(obj, key, field, limit=32) or "")
    if not _NAME_RE.match(name):
        raise RequestError("invalid_name", field, "姓名只能包含汉字、字母和间隔号", "a name holds Chinese characters,"
                           " letters and the middle dot only")
    if " " in name and _HAN_RE.search(name):
        raise RequestError("invalid_name", field, "中文姓名中不能有空格（少数民族姓名请用间隔号“·”分隔）",
                           "a name in Chinese characters has no spaces (join the parts with the middle dot ·)")
    return name


def _identity(obj: Mapping[str, Any], prefix: str) -> str:
    identity = _text(obj, "identity", f"{prefix}identity") or ""
    if identity not in IDENTITIES:
        identity = ALIASES.get(identity, identity)
    if identity not in IDENTITIES:
        raise RequestError("invalid_field", f"{prefix}identity", "身份应为学生（student）、职工（employee）、"
                           "院校教师（teacher）或灵活就业人员（flexible）",
                           "identity must be student, employee, teacher or flexible")
    return identity


def _female_base(obj: Mapping[str, Any], prefix: str) -> int | None:
    female_base = _int(obj, "female_base", f"{prefix}female_base", 50, 55)
    if female_base not in (None, 50, 55):
        raise RequestError("invalid_field", f"{prefix}female_base", "女职工退休基准只能是 50 或 55",
                           "female_base is 50 or 55")
    return female_base


def _member(obj: Mapping[str, Any], prefix: str, check: _Collect) -> MemberRequest:
    # the order of the checks is the order the first error has always been chosen in
    identity = check(_identity, obj, prefix, default="")
    education = check(_text, obj, "education", f"{prefix}education", required=False, limit=32, default=None)
    female_base = check(_female_base, obj, prefix, default=None)
    return MemberRequest(
        identity=identity,
        name=check(_name, obj, "name", f"{prefix}name", default=""),
        id_number=check(_text, obj, "id_number", f"{prefix}id_number", limit=40, default=None) or "",
        phone=check(_phone, obj, "phone", f"{prefix}phone", default=""),
        education=education,
        skill_level=check(_int, obj, "skill_level", f"{prefix}skill_level", 1, 5, default=None),
        certificate_number=check(_text, obj, "certificate_number", f"{prefix}certificate_number", required=False,
                                 limit=64, default=None),
        years_in_occupation=check(_int, obj, "years_in_occupation", f"{prefix}years_in_occupation", 0, 60,
                                  default=None),
        female_base=female_base,
        major=check(_text, obj, "major", f"{prefix}major", required=False, limit=100, default=None),
        residence_declared=obj.get("residence_declared") in (True, 1, "1", "on", "true", "yes"),
        has_photo=bool(obj.get("photo")),
    )


def read_request(payload: Any) -> RegistrationRequest:
    """Read and normalise a request; raise RequestError naming the first bad field, with every bad field in
    its `errors` (a body of the wrong shape stops at once: there are no fields to go on with)."""
    if not isinstance(payload, Mapping):
        raise RequestError("invalid_body", "$", "请求内容应为 JSON 对象", "the body must be a JSON object")
    check = _Collect()
    raw_members = payload.get("members")
    if raw_members is not None:
        if not isinstance(raw_members, list) or not raw_members or len(raw_members) > 10:
            raise RequestError("invalid_field", "members", "队员列表格式不正确", "members must be a non-empty list")
        members = []
        for i, m in enumerate(raw_members):
            if not isinstance(m, Mapping):
                raise RequestError("invalid_field", f"members[{i}]", "队员信息格式不正确", "a member must be an object")
            members.append(_member(m, f"members[{i}].", check))
    else:
        members = [_member(payload, "", check)]
    instructors = []
    raw_instructors = payload.get("instructors") or []
    if not isinstance(raw_instructors, list) or len(raw_instructors) > 5:
        raise RequestError("invalid_field", "instructors", "指导教师最多 5 位", "at most 5 instructors")
    for i, ins in enumerate(raw_instructors):
        if not isinstance(ins, Mapping):
            raise RequestError("invalid_field", f"instructors[{i}]", "指导教师信息格式不正确", "must be an object")
        if not (ins.get("name") or ins.get("phone")):
            continue  # an empty row of the form
        instructors.append((check(_name, ins, "name", f"instructors[{i}].name", default=""),
                            check(_phone, ins, "phone", f"instructors[{i}].phone", default="")))
    request = RegistrationRequest(
        item=check(_text, payload, "item", "item", limit=32, default=None) or "",
        group=check(_text, payload, "group", "group", required=False, limit=64, default=None) or "",
        # a flexible worker has no unit to name (seed 001's 灵活就业人员); everyone else says who sends them
        unit=check(_text, payload, "unit", "unit", required=not all(m.identity == "flexible" for m in members),
                   default=None) or "",
        members=tuple(members),
        instructors=tuple(instructors),
    )
    if check.errors:
        raise RequestError.of(check.errors)
    return request
