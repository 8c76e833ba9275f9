"""Who may register and in which group, as one rule for the API, the form, the roster and the service.

Seed 001: "企事业单位职工、院校教师和学生、灵活就业人员均可报名参赛". Which group takes whom is the
event's (EventSpec.group_identities). Seed 002 sorts contestants into two standings only, "以学生身份参赛"
and "以职工身份参赛": teachers and flexible workers enter the 职工组 beside employees, so the rules it
writes for "以职工身份参赛" (the qualification, the instructor conflict) hold for all three (NON_STUDENT).
A flexible worker has no sending unit: the unit may stay empty, and no unit quota counts them.
"""

from __future__ import annotations

from collections.abc import Iterable

from scoring.event_file import IDENTITIES, EventSpec

__all__ = ["ALIASES", "IDENTITIES", "NON_STUDENT", "NO_UNIT", "identity_refusal", "names", "no_quota", "unit_label"]

# Chinese names a roster or a form may carry (the roster template's 身份 column, older exports).
ALIASES = {"学生": "student", "职工": "employee", "院校教师": "teacher", "教师": "teacher",
           "灵活就业人员": "flexible", "灵活就业": "flexible"}
NON_STUDENT = frozenset(i for i in IDENTITIES if i != "student")
NO_UNIT = "灵活就业"  # printed where a flexible worker left the unit empty


def names(identities: Iterable[str]) -> str:
    """"职工、院校教师、灵活就业人员" in the order of IDENTITIES."""
    wanted = set(identities)
    return "、".join(name for code, name in IDENTITIES.items() if code in wanted)


def identity_refusal(spec: EventSpec, group: str, identity: str) -> tuple[str, str, str] | None:
    """(code, zh, en) when the event or the group does not take `identity`; None when it does."""
    if identity not in IDENTITIES:
        return None  # read_request refuses unknown identities with its own code
    if identity not in spec.identities:
        return ("identity_not_accepted", f"本赛事不接受{IDENTITIES[identity]}报名（可报名：{names(spec.identities)}）",
                f"this event does not take {identity} entries (it takes {', '.join(spec.identities)})")
    takes = spec.group_takes(group)
    if group and identity not in takes:
        return ("group_identity_mismatch", f"{group}只接受{names(takes)}报名",
                f"{group} takes {', '.join(takes)} only")
    return None


def no_quota(identities: Iterable[str]) -> bool:
    """An entry of flexible workers only: no unit sends them, so no unit's quota place is theirs."""
    listed = list(identities)
    return bool(listed) and all(i == "flexible" for i in listed)


def unit_label(unit: str) -> str:
    """The unit as lists print it: only a flexible worker may leave it empty (read_request)."""
    return unit or NO_UNIT
