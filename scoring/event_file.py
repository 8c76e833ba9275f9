"""The event file of contracts §2: parse, validate and normalise it (pure, stdlib only).

`parse_event_document(doc)` turns the JSON/TOML structure into frozen dataclasses or raises
`EventFileError` listing *every* problem with its field path and a reason in Chinese and English.
`to_document(spec)` gives the normalised document back (defaults made explicit), so
`to_document(parse_event_document(to_document(s))) == to_document(s)`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from scoring.catalog import default_certificate
from scoring.fields import CHINA_TZ, FieldError, FieldReader, read_date, read_datetime

__all__ = [
    "AGGREGATES",
    "AWARD_COUNTS",
    "AWARD_RULES",
    "CERTIFICATES",
    "CHINA_TZ",
    "CRITERION_KINDS",
    "DEFAULT_GROUP_IDENTITIES",
    "EVENT_KINDS",
    "IDENTITIES",
    "AwardPolicy",
    "CriterionSpec",
    "EventFileError",
    "EventSpec",
    "FieldError",
    "ItemSpec",
    "parse_event_document",
    "to_document",
    "toml_ready",
]


EVENT_KINDS: dict[str, str] = {
    "city_industry": "市级行业赛",
    "district": "区县级竞赛",
    "enterprise_college": "企业和院校技能练兵比武",
}
CRITERION_KINDS: dict[str, str] = {"measurement": "测量", "judgement": "评价", "deduction": "扣分"}
AGGREGATES: dict[str, str] = {"mean": "平均", "median": "中位数", "trimmed_mean": "去掉最高最低后平均"}
# Award rules and the parameters each one takes (name -> {param: default}). results/awards.py
# implements each rule under the same name; a test keeps the two in step.
AWARD_RULES: dict[str, dict[str, Any]] = {
    "merit_if_over_30": {"ratio": Decimal("0.30"), "threshold": 30},
    "total_within_30pct": {"ratio": Decimal("0.30")},
}
UNIT_QUOTA_MODES = ("enforce", "warn")
# What N of the 30 % rules counts on a team item: its people (seed 001: "参赛选手人数 30%") or its teams.
AWARD_COUNTS: dict[str, str] = {"people": "按参赛人数", "teams": "按参赛队数"}
# The certificate a qualified entry leads to. Only a 职业技能等级证书 has a level, hence exam_level and
# promotion (seed 002); a 专项职业能力证书 (seed 001) has none.
CERTIFICATES: dict[str, str] = {"skill_level": "职业技能等级证书", "special_ability": "专项职业能力证书"}
# Seed 001: "企事业单位职工、院校教师和学生、灵活就业人员均可报名参赛".
IDENTITIES: dict[str, str] = {"student": "学生", "employee": "职工", "teacher": "院校教师", "flexible": "灵活就业人员"}
# Which identities a group takes when the event does not say; groups not named take every identity.
DEFAULT_GROUP_IDENTITIES: dict[str, tuple[str, ...]] = {
    "学生组": ("student",), "职工组": ("employee", "teacher", "flexible")}
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MAX_THEORY_WEIGHT = Decimal("0.3")


class EventFileError(ValueError):
    """The event file is invalid; `errors` lists every problem found."""

    def __init__(self, errors: Sequence[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.path}: {e.zh} / {e.en}" for e in self.errors))


@dataclass(frozen=True)
class AwardPolicy:
    rule: str
    ratio: Decimal = Decimal("0.30")
    threshold: int | None = 30
    count: str = "people"  # AWARD_COUNTS: on a team item, N counts people or teams


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    name: str
    max: Decimal
    kind: str  # measurement | judgement | deduction
    aggregate: str | None = None  # judgement only
    trim_min_judges: int | None = None  # judgement only
    max_spread: Decimal | None = None  # judgement only
    scale: str | None = None  # judgement only: "0-3", marks 0, 1, 2 or 3 (WorldSkills-style judgement)


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    team_size: int
    exam_level: int | None  # None exactly when `certificate` is special_ability (no level)
    pass_mark: Decimal
    groups: tuple[str, ...]
    theory_weight: Decimal
    criteria: tuple[CriterionSpec, ...]
    tie_break: tuple[str, ...]
    promotion_top: int
    host_unit: str | None = None
    catalog_code: str | None = None
    certificate: str = "skill_level"  # CERTIFICATES

    def criterion(self, code: str) -> CriterionSpec | None:
        return next((c for c in self.criteria if c.code == code), None)

    @property
    def practical_max(self) -> Decimal:
        """Sum of the maxima of the measurement and judgement criteria (the 100 % of the practical)."""
        return sum((c.max for c in self.criteria if c.kind != "deduction"), Decimal(0))

    @property
    def group_names(self) -> tuple[str, ...]:
        """Groups as used in entries: the empty string when the item has none."""
        return self.groups or ("",)


@dataclass(frozen=True)
class EventSpec:
    name: str
    kind: str
    starts_on: date
    award_policy: AwardPolicy
    items: tuple[ItemSpec, ...]
    one_item_per_person: bool = True
    unit_quota_per_group: int | None = 2
    unit_quota_mode: str = "warn"
    registration_closes: datetime | None = None
    organiser: str | None = None
    warnings: tuple[FieldError, ...] = field(default=(), compare=False)
    identities: tuple[str, ...] = tuple(IDENTITIES)  # who may register at all
    group_identities: tuple[tuple[str, tuple[str, ...]], ...] = tuple(DEFAULT_GROUP_IDENTITIES.items())
    photo_required: bool = False  # seed 002: "所有参赛人员照片"
    residence_declaration: str | None = None  # e.g. seed 002's "在渝工作、学习或居住": a declaration to tick
    student_major_required: bool = False  # seed 002: "全日制在校在籍相关专业学生"

    def item(self, code: str) -> ItemSpec | None:
        return next((i for i in self.items if i.code == code), None)

    def group_takes(self, group: str) -> tuple[str, ...]:
        """The identities a group takes: the event's mapping for a group it names, else every accepted one."""
        named = dict(self.group_identities).get(group)
        return tuple(i for i in (named if named is not None else self.identities) if i in self.identities)


_EVENT_KEYS = {
    "name", "kind", "starts_on", "award_policy", "one_item_per_person", "unit_quota_per_group",
    "unit_quota_mode", "registration_closes", "organiser", "identities", "group_identities", "photo_required",
    "residence_declaration", "student_major_required",
}
_ITEM_KEYS = {
    "code", "name", "team_size", "exam_level", "pass_mark", "groups", "theory_weight", "criteria",
    "tie_break", "promotion_top", "host_unit", "catalog_code", "certificate",
}
_CRITERION_KEYS = {"code", "name", "max", "kind", "aggregate", "trim_min_judges", "max_spread", "scale"}
_JUDGEMENT_ONLY = ("aggregate", "trim_min_judges", "max_spread", "scale")
SCALES = {"0-3": "0–3 分制（只打 0、1、2、3 分）"}


def _parse_award_policy(c: FieldReader, raw: Any, path: str) -> AwardPolicy | None:
    obj = c.mapping(raw, path)
    if obj is None:
        return None
    rule = c.choice(obj, "rule", path, AWARD_RULES)
    if rule is None:
        return None
    params = AWARD_RULES[rule]
    c.unknown_keys(obj, {"rule", "count", *params}, path)
    ratio = c.decimal(obj, "ratio", path, Decimal(0), Decimal(1), params["ratio"], lo_open=True)
    threshold = None
    if "threshold" in params:
        threshold = c.integer(obj, "threshold", path, 0, 100_000, params["threshold"])
    count = c.choice(obj, "count", path, AWARD_COUNTS, default="people")
    if ratio is None or count is None:
        return None
    return AwardPolicy(rule=rule, ratio=ratio, threshold=threshold, count=count)


def _code(c: FieldReader, obj: Mapping[str, Any], path: str) -> str | None:
    """An item's or a criterion's `code`: required text of letters, digits, _ . -, up to 32 characters."""
    code = c.text(obj, "code", path)
    if code is not None and not CODE_RE.match(code):
        c.err(f"{path}.code", "代码只能用字母、数字、_ . -，最长 32 位",
              "code may hold letters, digits, _ . - only, up to 32 characters")
    return code


def _parse_criterion(c: FieldReader, raw: Any, path: str) -> CriterionSpec | None:
    obj = c.mapping(raw, path)
    if obj is None:
        return None
    c.unknown_keys(obj, _CRITERION_KEYS, path)
    code = _code(c, obj, path)
    name = c.text(obj, "name", path)
    maximum = c.decimal(obj, "max", path, Decimal(0), Decimal(1000), lo_open=True)
    kind = c.choice(obj, "kind", path, CRITERION_KINDS)
    aggregate = trim = spread = scale = None
    if kind == "judgement":
        scale = c.choice(obj, "scale", path, SCALES) if "scale" in obj else None
        if scale == "0-3" and maximum is not None and maximum != 3:
            c.err(f"{path}.max", "0–3 分制的评分项满分须为 3", "a criterion on the 0-3 scale has max 3")
        aggregate = c.choice(obj, "aggregate", path, AGGREGATES, default="mean")
        trim = c.integer(obj, "trim_min_judges", path, 3, 99, default=5)
        spread = c.decimal(obj, "max_spread", path, Decimal(0), None, required=False)
        if spread is not None and maximum is not None and spread > maximum:
            c.warn(f"{path}.max_spread", "允许分差大于满分，等于不检查", "max_spread above max checks nothing")
    elif kind is not None:
        for key in _JUDGEMENT_ONLY:
            if key in obj:
                c.err(f"{path}.{key}", "只适用于评价（judgement）类评分项",
                      "applies to judgement criteria only")
    if None in (code, name, maximum, kind):
        return None
    assert code is not None and name is not None and maximum is not None and kind is not None
    return CriterionSpec(code, name, maximum, kind, aggregate, trim, spread, scale)


def _parse_tie_break(c: FieldReader, raw: list[Any], path: str,
                     criteria: Sequence[CriterionSpec]) -> tuple[str, ...]:
    by_code = {cr.code: cr for cr in criteria}
    keys: list[str] = []
    for k, key in enumerate(raw):
        kpath = f"{path}[{k}]"
        if not isinstance(key, str):
            c.err(kpath, "应为文本", "must be text")
            continue
        if key in keys:
            c.err(kpath, f"重复的并列判定键“{key}”", f"duplicate tie-break key {key!r}")
            continue
        if key.startswith("criterion:"):
            code = key.removeprefix("criterion:")
            criterion = by_code.get(code)
            if criterion is None:
                c.err(kpath, f"并列判定引用了不存在的评分项“{code}”",
                      f"tie-break names unknown criterion {code!r}")
                continue
            if criterion.kind == "deduction":
                c.err(kpath, f"扣分项“{code}”不能作为并列判定键",
                      f"deduction {code!r} cannot be a tie-break key")
                continue
        elif key not in ("practical", "theory", "time_used"):
            c.err(kpath, f"未知的并列判定键“{key}”，可选：practical、theory、criterion:代码、time_used",
                  f"unknown tie-break key {key!r}; one of practical, theory, criterion:CODE, time_used")
            continue
        keys.append(key)
    return tuple(keys)


def _parse_item(c: FieldReader, raw: Any, path: str) -> ItemSpec | None:
    obj = c.mapping(raw, path)
    if obj is None:
        return None
    c.unknown_keys(obj, _ITEM_KEYS, path)
    code = _code(c, obj, path)
    name = c.text(obj, "name", path)
    team_size = c.integer(obj, "team_size", path, 1, 10, default=1)
    # A file that gives a level keeps contracts §2's meaning (a 职业技能等级证书); one that gives none takes
    # the catalog's default, as the editor's item picker does.
    implied = "skill_level" if "exam_level" in obj or name is None else default_certificate(name)
    certificate = c.choice(obj, "certificate", path, CERTIFICATES, default=implied)
    exam_level: int | None = None
    if certificate == "special_ability":
        if "exam_level" in obj:  # files written before certificate kinds existed carry one: keep them loading
            c.warn(f"{path}.exam_level", "专项职业能力证书不分等级，命题等级不用（也不晋升）",
                   "a special-ability certificate has no level: exam_level is ignored (and nobody is promoted)")
    else:
        exam_level = c.integer(obj, "exam_level", path, 1, 5)
    pass_mark = c.decimal(obj, "pass_mark", path, Decimal(0), Decimal(100), Decimal(60))
    theory_weight = c.decimal(obj, "theory_weight", path, Decimal(0), None, Decimal(0))
    if theory_weight is not None and theory_weight > MAX_THEORY_WEIGHT:
        c.err(f"{path}.theory_weight", f"理论成绩占比不得超过 30%（现为 {theory_weight}）",
              f"theory weight must not exceed 0.3 (is {theory_weight})")
        theory_weight = None

    groups: list[str] = []
    for g, group in enumerate(c.list_of(obj, "groups", path, required=False) or []):
        if not isinstance(group, str) or not group.strip():
            c.err(f"{path}.groups[{g}]", "组别应为非空文本", "a group must be non-empty text")
        elif group.strip() in groups:
            c.err(f"{path}.groups[{g}]", f"重复的组别“{group}”", f"duplicate group {group!r}")
        else:
            groups.append(group.strip())

    criteria: list[CriterionSpec] = []
    raw_criteria = c.list_of(obj, "criteria", path, required=True)
    if raw_criteria is not None and not raw_criteria:
        c.err(f"{path}.criteria", "至少需要一个评分项", "needs at least one criterion")
    seen: set[str] = set()
    for k, raw_criterion in enumerate(raw_criteria or []):
        criterion = _parse_criterion(c, raw_criterion, f"{path}.criteria[{k}]")
        if criterion is None:
            continue
        if criterion.code in seen:
            c.err(f"{path}.criteria[{k}].code", f"重复的评分项代码“{criterion.code}”",
                  f"duplicate criterion code {criterion.code!r}")
            continue
        seen.add(criterion.code)
        criteria.append(criterion)
    if raw_criteria and len(criteria) == len(raw_criteria) and all(x.kind == "deduction" for x in criteria):
        c.err(f"{path}.criteria", "至少需要一个测量或评价类评分项（实操满分不能为 0）",
              "needs a measurement or judgement criterion (the practical's maximum cannot be 0)")

    raw_tie = c.list_of(obj, "tie_break", path, required=False)
    tie_break = _parse_tie_break(c, raw_tie or [], f"{path}.tie_break", criteria)
    default_top = 6 if (team_size or 1) == 1 else 3
    promotion_top = c.integer(obj, "promotion_top", path, 0, 1000, default=default_top)
    host_unit = c.text(obj, "host_unit", path, required=False)
    catalog_code = c.text(obj, "catalog_code", path, required=False)

    values = (code, name, team_size, pass_mark, theory_weight, promotion_top, certificate)
    if any(v is None for v in values) or raw_criteria is None or (certificate == "skill_level" and exam_level is None):
        return None
    assert code is not None and name is not None and team_size is not None and certificate is not None
    assert pass_mark is not None and theory_weight is not None and promotion_top is not None
    return ItemSpec(code, name, team_size, exam_level, pass_mark, tuple(groups), theory_weight,
                    tuple(criteria), tie_break, promotion_top, host_unit, catalog_code, certificate)


def _parse_identities(c: FieldReader, event: Any, items: Sequence[ItemSpec]) -> tuple[
        tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """`identities` (who may register) and `group_identities` (group -> the identities it takes)."""
    def identity_list(raw: Any, path: str) -> tuple[str, ...]:
        if not isinstance(raw, list) or not raw:
            c.err(path, "应为非空的身份列表：student、employee、teacher、flexible",
                  "must be a non-empty list of student, employee, teacher, flexible")
            return ()
        found: list[str] = []
        for k, value in enumerate(raw):
            if value not in IDENTITIES:
                c.err(f"{path}[{k}]", f"未知的身份“{value}”，可选：student（学生）、employee（职工）、"
                      "teacher（院校教师）、flexible（灵活就业人员）",
                      f"unknown identity {value!r}; one of student, employee, teacher, flexible")
            elif value not in found:
                found.append(value)
        return tuple(found)

    accepted = identity_list(event["identities"], "event.identities") if "identities" in event else tuple(IDENTITIES)
    if "group_identities" not in event:
        return accepted, tuple(DEFAULT_GROUP_IDENTITIES.items())
    raw = c.mapping(event["group_identities"], "event.group_identities")
    mapping: list[tuple[str, tuple[str, ...]]] = []
    used = {g for item in items for g in item.groups}
    for group, value in (raw or {}).items():
        path = f"event.group_identities.{group}"
        takes = identity_list(value, path)
        if group not in used:
            c.warn(path, f"没有赛项设“{group}”组别", f"no item has the group {group!r}")
        outside = [i for i in takes if i not in accepted]
        if outside:
            c.err(path, f"身份 {'、'.join(outside)} 不在本赛事接受的身份（identities）之内",
                  f"identities {', '.join(outside)} are not accepted by the event (identities)")
        mapping.append((str(group), takes))
    return accepted, tuple(mapping)


def parse_event_document(doc: Any) -> EventSpec:
    """Validate an event file (already decoded from JSON/TOML); raise EventFileError with every problem."""
    c = FieldReader()
    root = c.mapping(doc, "$")
    if root is None:
        raise EventFileError(c.errors)
    c.unknown_keys(root, {"event", "items"}, "")
    event = c.mapping(root.get("event"), "event") if "event" in root else None
    if "event" not in root:
        c.err("event", "必填", "is required")
    name = kind = starts_on = policy = closes = organiser = None
    one_item = True
    quota: int | None = 2
    quota_mode: str | None = "warn"
    photo = major = False
    declaration: str | None = None
    if event is not None:
        c.unknown_keys(event, _EVENT_KEYS, "event")
        name = c.text(event, "name", "event")
        kind = c.choice(event, "kind", "event", EVENT_KINDS)
        starts_on = read_date(c, event, "starts_on", "event")
        if "award_policy" in event:
            policy = _parse_award_policy(c, event["award_policy"], "event.award_policy")
        else:
            c.err("event.award_policy", "必填", "is required")
        one_item = c.boolean(event, "one_item_per_person", "event", True)
        if "unit_quota_per_group" in event and event["unit_quota_per_group"] in (None, 0):
            quota = None  # explicitly unlimited: null in JSON, 0 where TOML has no null
        else:
            quota = c.integer(event, "unit_quota_per_group", "event", 1, 1000, default=2)
        quota_mode = c.choice(event, "unit_quota_mode", "event", UNIT_QUOTA_MODES, default="warn")
        closes = read_datetime(c, event, "registration_closes", "event")
        organiser = c.text(event, "organiser", "event", required=False)
        photo = c.boolean(event, "photo_required", "event", False)
        declaration = c.text(event, "residence_declaration", "event", required=False)
        major = c.boolean(event, "student_major_required", "event", False)
        if closes is not None and starts_on is not None and closes.date() > starts_on:
            c.warn("event.registration_closes", "报名截止晚于比赛开始日期", "registration closes after the start")

    items: list[ItemSpec] = []
    raw_items = c.list_of(root, "items", "", required=True)
    if raw_items is not None and not raw_items:
        c.err("items", "至少需要一个赛项", "needs at least one item")
    codes: set[str] = set()
    for i, raw_item in enumerate(raw_items or []):
        item = _parse_item(c, raw_item, f"items[{i}]")
        if item is None:
            continue
        if item.code in codes:
            c.err(f"items[{i}].code", f"重复的赛项代码“{item.code}”", f"duplicate item code {item.code!r}")
            continue
        codes.add(item.code)
        items.append(item)
    if kind == "city_industry" and raw_items is not None and 0 < len(raw_items) < 3:
        c.warn("items", "市级行业赛原则上不少于 3 个赛项", "a city industry contest should have at least 3 items")

    accepted, group_identities = _parse_identities(c, event or {}, items)
    if c.errors:
        raise EventFileError(c.errors)
    assert name is not None and kind is not None and starts_on is not None and policy is not None
    assert quota_mode is not None
    return EventSpec(name, kind, starts_on, policy, tuple(items), one_item, quota, quota_mode, closes,
                     organiser, tuple(c.warnings), accepted, group_identities, photo, declaration, major)


def _num(value: Decimal) -> int | float:
    """A JSON number for a decimal of at most 2 places (40 stays 40, 0.30 becomes 0.3)."""
    return int(value) if value == value.to_integral_value() else float(value)


def to_document(spec: EventSpec) -> dict[str, Any]:
    """The normalised event file: every default explicit, JSON-ready."""
    policy: dict[str, Any] = {"rule": spec.award_policy.rule, "ratio": _num(spec.award_policy.ratio)}
    if "threshold" in AWARD_RULES[spec.award_policy.rule]:
        policy["threshold"] = spec.award_policy.threshold
    policy["count"] = spec.award_policy.count
    event: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "starts_on": spec.starts_on.isoformat(),
        "award_policy": policy,
        "one_item_per_person": spec.one_item_per_person,
        "unit_quota_per_group": spec.unit_quota_per_group,
        "unit_quota_mode": spec.unit_quota_mode,
    }
    if spec.registration_closes is not None:
        event["registration_closes"] = spec.registration_closes.isoformat()
    if spec.organiser is not None:
        event["organiser"] = spec.organiser
    event["identities"] = list(spec.identities)
    event["group_identities"] = {group: list(takes) for group, takes in spec.group_identities}
    event["photo_required"] = spec.photo_required
    if spec.residence_declaration is not None:
        event["residence_declaration"] = spec.residence_declaration
    event["student_major_required"] = spec.student_major_required
    items = []
    for item in spec.items:
        criteria = []
        for cr in item.criteria:
            doc: dict[str, Any] = {"code": cr.code, "name": cr.name, "max": _num(cr.max), "kind": cr.kind}
            if cr.kind == "judgement":
                doc["aggregate"] = cr.aggregate
                doc["trim_min_judges"] = cr.trim_min_judges
                if cr.max_spread is not None:
                    doc["max_spread"] = _num(cr.max_spread)
                if cr.scale is not None:
                    doc["scale"] = cr.scale
            criteria.append(doc)
        item_doc: dict[str, Any] = {
            "code": item.code,
            "name": item.name,
            "team_size": item.team_size,
            "certificate": item.certificate,
            "pass_mark": _num(item.pass_mark),
            "groups": list(item.groups),
            "theory_weight": _num(item.theory_weight),
            "criteria": criteria,
            "tie_break": list(item.tie_break),
            "promotion_top": item.promotion_top,
        }
        if item.exam_level is not None:
            item_doc["exam_level"] = item.exam_level
        if item.host_unit is not None:
            item_doc["host_unit"] = item.host_unit
        if item.catalog_code is not None:
            item_doc["catalog_code"] = item.catalog_code
        items.append(item_doc)
    return {"event": event, "items": items}


def toml_ready(doc: dict[str, Any]) -> dict[str, Any]:
    """The document made writable as TOML, which has no null: an unlimited unit quota becomes 0 (read back as
    unlimited), other empty values are left out."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    ready: dict[str, Any] = strip(doc)
    if doc.get("event", {}).get("unit_quota_per_group", 2) is None:
        ready["event"]["unit_quota_per_group"] = 0
    return ready
