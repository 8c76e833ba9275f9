"""Result warnings: what the notices expect more of, shown before publishing but never blocking it (pure).

Seed 002 wants "决赛选手原则上不少于30人（队）" and both 30 % rules assume a group big enough for the fixed
一/二/三等奖 1/2/3: below N = 20 those six alone exceed 30 %. "原则上" leaves both to the organiser, so they
are warnings, not blockers; the server's publish gate and the offline command compute them here, from the
same ranked counts, so the two say the same thing. On a team item N counts people or teams as
`award_policy.count` says, the same N the awards are computed from.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from results.awards import award_counts, counted_n, counted_size
from scoring.event_file import AwardPolicy

__all__ = ["MIN_FINALISTS", "render_warning", "result_warnings"]

MIN_FINALISTS = 30  # seed 002: "决赛选手原则上不少于30人（队）"
FIXED_SHARE = Decimal("0.30")  # seed 001 "不超过参赛选手人数 30%", seed 002 "不得超过决赛参赛选手数量的30%"


def _warning(code: str, zh: str, en: str, group: str | None, **detail: Any) -> dict[str, Any]:
    return {"code": code, "message": zh, "message_en": en, "group": group, **detail}


def result_warnings(item: str, team_size: int, ranked: Mapping[str, int], policy: AwardPolicy
                    ) -> list[dict[str, Any]]:
    """`ranked`: group → its ranked entries (people, or teams of `team_size`). N is the awards' own
    (`results.awards.counted_n`): on a team item people when `policy.count` is "people", else teams, and the
    messages say 人 or 队 accordingly. An item nobody is ranked in yet gets nothing: the blockers already say
    why it cannot be published."""
    if isinstance(team_size, bool):  # the former signature took `team: bool`; True would read as 1
        raise TypeError("team_size is the item's team size, not a flag")
    if sum(ranked.values()) == 0:
        return []
    size = counted_size(policy, team_size)
    by_team = team_size > 1 and size == 1
    unit, unit_en = ("队", "teams") if by_team else ("人", "contestants")
    total = counted_n(policy, team_size, sum(ranked.values()))
    found = []
    if total < MIN_FINALISTS:
        found.append(_warning(
            "few_finalists", f"{item}：决赛人数（队数）少于 {MIN_FINALISTS}：共 {total} {unit}",
            f"{item}: fewer than {MIN_FINALISTS} in the final: {total} {unit_en}", None,
            count=total, minimum=MIN_FINALISTS, unit=unit))
    for group, entries in ranked.items():
        if entries == 0:
            continue
        n = counted_n(policy, team_size, entries)
        counts = award_counts(policy, entries, team_size)
        teams = counts.first + counts.second + counts.third
        fixed = size * teams  # people (or teams) holding the fixed prizes, in N's unit
        if fixed > FIXED_SHARE * n:
            label = f"{item}{'（' + group + '）' if group else ''}"
            share = f"{(Decimal(fixed * 100) / n).quantize(Decimal('0.1'))}"
            held, held_en = ((f"{teams} 队（{fixed} 人）", f"{teams} teams ({fixed} people)") if size > 1
                             else (f"{fixed} {'队' if by_team else '名'}", f"{fixed}"))
            found.append(_warning(
                "fixed_prizes_over_30pct",
                f"{label}：参赛 {n} {unit}，一、二、三等奖 {counts.first}+{counts.second}+{counts.third}="
                f"{held}，占 {share}%，已超过 30%",
                f"{label}: {n} {unit_en}; the fixed prizes {counts.first}+{counts.second}+{counts.third}={held_en} "
                f"are {share} %, over 30 %", group, n=n, fixed=fixed, unit=unit))
    return found


def render_warning(warning: Mapping[str, Any]) -> str:
    return f"{warning['message']} / {warning['message_en']}"
