"""Award rules: how many of each award an item-group of N ranked entries gets (contracts §2).

A rule is a function (policy, N, size) -> AwardCounts, registered under the name used in the event file's
`award_policy.rule`. `size` is how many people one entry counts for in the 30 % rules (`counted_size`): the
item's team_size when `award_policy.count` is "people" (seed 001: "参赛选手人数"), else 1. It is always
team_size × entries, never the member rows: the server admits a team only with exactly team_size members, the
console ranks seats without loading members, and the offline command warns on a team of another size, so every
implementation counts the same N. 优胜奖 people slots are then given to whole teams, rounding down
(floor(slots / size)): a team is never split. The fixed 一/二/三等奖 1/2/3 are always per entry.

To add a rule (say percentage bands 10/20/30 %, or "top half"), add its name and parameters to
`scoring.event_file.AWARD_RULES` and register a function here under the same name; a test keeps the two
registries equal. Awards then go by position: the first `first` positions get 一等奖, the next `second` 二等奖, and
so on, so every rule is monotone in position by construction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scoring.event_file import AwardPolicy

__all__ = [
    "AWARD_NAMES",
    "RULES",
    "AwardCounts",
    "award_counts",
    "award_for_position",
    "awards_by_position",
    "counted_n",
    "counted_size",
    "register_rule",
]

AWARD_NAMES = ("一等奖", "二等奖", "三等奖", "优胜奖")
FIXED_TIERS = (1, 2, 3)  # 一等奖 1, 二等奖 2, 三等奖 3


@dataclass(frozen=True)
class AwardCounts:
    first: int
    second: int
    third: int
    merit: int

    @property
    def total(self) -> int:
        return self.first + self.second + self.third + self.merit

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.first, self.second, self.third, self.merit)


RuleFn = Callable[[AwardPolicy, int, int], AwardCounts]
RULES: dict[str, RuleFn] = {}


def register_rule(name: str) -> Callable[[RuleFn], RuleFn]:
    def add(fn: RuleFn) -> RuleFn:
        RULES[name] = fn
        return fn
    return add


def counted_size(policy: AwardPolicy, team_size: int) -> int:
    """People one entry counts for in N: team_size under count "people", 1 under "teams" (or a solo item)."""
    return team_size if policy.count == "people" else 1


def counted_n(policy: AwardPolicy, team_size: int, entries: int) -> int:
    """N of the 30 % rules for `entries` ranked entries of an item of `team_size`."""
    return counted_size(policy, team_size) * entries


def _fixed(n: int) -> list[int]:
    """一/二/三等奖 1/2/3, never more than there are entries (N = 4: 1, 2, 1, 0)."""
    counts, left = [], n
    for size in FIXED_TIERS:
        counts.append(min(size, left))
        left -= counts[-1]
    return counts


def _ratio_of(policy: AwardPolicy, n: int) -> int:
    # floor(ratio × N) in Decimal: as a float 0.29 × 100 is 28.999… and would floor to 28.
    return math.floor(policy.ratio * n)


@register_rule("merit_if_over_30")
def _merit_if_over_30(policy: AwardPolicy, n: int, size: int) -> AwardCounts:
    """Seed 001: where N (people: size × n) exceeds `threshold`, floor(ratio × N) 优胜奖 places on top of the
    fixed tiers, given to whole entries: floor(places / size)."""
    first, second, third = _fixed(n)
    threshold = 30 if policy.threshold is None else policy.threshold
    merit = _ratio_of(policy, size * n) // size if size * n > threshold else 0
    return AwardCounts(first, second, third, min(merit, n - first - second - third))


@register_rule("total_within_30pct")
def _total_within_30pct(policy: AwardPolicy, n: int, size: int) -> AwardCounts:
    """Seed 002: 优胜奖 fill up to floor(ratio × N) award winners' places in all (the fixed tiers always stand;
    each entry holds `size` places), whole entries only."""
    first, second, third = _fixed(n)
    merit = max(0, (_ratio_of(policy, size * n) - size * (first + second + third)) // size)
    return AwardCounts(first, second, third, min(merit, n - first - second - third))


def award_counts(policy: AwardPolicy, n: int, team_size: int = 1) -> AwardCounts:
    """The awards of a group of `n` ranked entries of an item of `team_size` (N per `policy.count`)."""
    try:
        rule = RULES[policy.rule]
    except KeyError:
        raise ValueError(f"unknown award rule {policy.rule!r}; known: {', '.join(RULES)}") from None
    return rule(policy, n, counted_size(policy, team_size))


def awards_by_position(counts: AwardCounts) -> list[str]:
    """The award of positions 1 … counts.total ('' beyond)."""
    return [name for name, k in zip(AWARD_NAMES, counts.as_tuple(), strict=True) for _ in range(k)]


def award_for_position(counts: AwardCounts, position: int) -> str:
    edge = 0
    for name, k in zip(AWARD_NAMES, counts.as_tuple(), strict=True):
        edge += k
        if position <= edge:
            return name
    return ""
