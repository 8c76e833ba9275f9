"""Ranking within an item-group: positions, shared ranks, awards, boundaries, promotion (pure).

`place_group` takes the entries already in ranking order, each with the id of its exact-tie block,
and settles everything that follows from positions. The fast engine does the same in polars; the
rules live here once, and `boundary_tiers` is what both use to decide `tie_unresolved`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

from results.awards import AWARD_NAMES, AwardCounts, award_counts, award_for_position
from results.model import Placing
from scoring.event_file import AwardPolicy, ItemSpec

__all__ = [
    "apply_chief_order",
    "boundary_state",
    "cert_level",
    "place_group",
    "sort_key",
]


def sort_key(keys: Sequence[tuple[str, Decimal | None]]) -> tuple[tuple[int, Decimal], ...]:
    """Ascending sort key: higher first except `time_used`; a blank ranks after any value."""
    out = []
    for name, value in keys:
        if value is None:
            out.append((1, Decimal(0)))
        else:
            out.append((0, value if name == "time_used" else -value))
    return tuple(out)


def boundary_state(item: ItemSpec, counts: AwardCounts, position: int) -> tuple[int, bool]:
    """What changes across a boundary: the award tier and whether the position may earn promotion.

    Promotion needs position ≤ promotion_top and an award; at exam level 1 nobody can be promoted,
    and a 专项职业能力证书 (no level, seed 001) promotes nobody, so no promotion boundary exists there.
    """
    award = award_for_position(counts, position)
    tier = AWARD_NAMES.index(award) if award else len(AWARD_NAMES)
    eligible = (item.exam_level is not None and item.exam_level > 1 and position <= item.promotion_top
                and bool(award))
    return tier, eligible


def cert_level(item: ItemSpec, position: int, award: str, qualified: bool) -> int | None:
    """The level of the certificate earned: None when not qualified or when the certificate has no level."""
    if not qualified or item.exam_level is None:
        return None
    if position <= item.promotion_top and award:
        return max(1, item.exam_level - 1)
    return item.exam_level


def _promoted(item: ItemSpec, level: int | None) -> bool:
    return level is not None and item.exam_level is not None and level < item.exam_level


def place_group(item: ItemSpec, policy: AwardPolicy,
                ordered: Sequence[tuple[str, int, bool]]) -> list[Placing]:
    """`ordered`: (entry, tie-block id, qualified) in ranking order; equal block ids = tied on every key.

    A block gets the rank of its first position (1, 2, 2, 4). It is `tie_unresolved` when the award
    tier or the promotion eligibility differs between its first and last position (both are monotone
    in position, so comparing the ends is the same as checking every k, k+1 inside).
    """
    counts = award_counts(policy, len(ordered), item.team_size)
    first_of: dict[int, int] = {}
    last_of: dict[int, int] = {}
    for position, (_, block, _) in enumerate(ordered, start=1):
        first_of.setdefault(block, position)
        last_of[block] = position
    placings = []
    for position, (entry, block, qualified) in enumerate(ordered, start=1):
        award = award_for_position(counts, position)
        level = cert_level(item, position, award, qualified)
        straddles = (boundary_state(item, counts, first_of[block])
                     != boundary_state(item, counts, last_of[block]))
        placings.append(Placing(entry, position, first_of[block], award, level,
                                _promoted(item, level), straddles))
    return placings


def apply_chief_order(item: ItemSpec, policy: AwardPolicy, placings: Sequence[Placing],
                      qualified: Mapping[str, bool], order: Sequence[str]) -> list[Placing]:
    """The chief judge's recorded order for one tied block of a group.

    `placings`: the whole group in position order; `order`: every entry of one tied block, in the
    chosen order. The block takes its positions in that order, each its own rank, and is no longer
    unresolved; awards and certificate levels follow the new positions. Raises ValueError when
    `order` is not exactly one tied block.
    """
    by_entry = {p.entry: p for p in placings}
    unknown = [e for e in order if e not in by_entry]
    if unknown or len(set(order)) != len(order) or not order:
        raise ValueError(f"order must list distinct entries of this group; unknown: {unknown}")
    rank = by_entry[order[0]].rank
    block = [p for p in placings if p.rank == rank]
    if {p.entry for p in block} != set(order):
        raise ValueError(f"order must list exactly the tied block at rank {rank}: "
                         f"{', '.join(p.entry for p in block)}")
    counts = award_counts(policy, len(placings), item.team_size)
    start = min(p.position for p in block)
    chosen = {}
    for offset, entry in enumerate(order):
        position = start + offset
        award = award_for_position(counts, position)
        level = cert_level(item, position, award, qualified[entry])
        chosen[entry] = replace(by_entry[entry], position=position, rank=position, award=award,
                                cert_level=level, promoted=_promoted(item, level),
                                tie_unresolved=False)
    return sorted((chosen.get(p.entry, p) for p in placings), key=lambda p: p.position)
