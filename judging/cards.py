"""Examiner cards (考评员证) against the item a judge sits on: pure, no database.

Seed 003 (渝职鉴发〔2025〕8号 §四): a card is valid three years from issue. A judge's panel seat is
flagged when the judge has no card, when no card is still valid on the contest day (Event.starts_on, not
today: a card running out between the assignment and the contest is the case that matters), or when no
card is for the item's occupation. Flags are warnings, never refusals: organisers decide.

Occupation matching is fuzzy on purpose: cards say 中式烹调师 or 4-03-02-01中式烹调师, items say
火锅调味 (a special ability of 中式烹调师) or 中式烹调师（职工组）; equal or one contains the other after
normalising (NFKC, no spaces or brackets) is what a person checking by eye would accept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from scoring.catalog import catalog

__all__ = [
    "CARD_VALID_YEARS", "CardFacts", "CardWarning", "card_warnings", "item_occupations", "occupation_matches",
    "valid_until_from_issue",
]

CARD_VALID_YEARS = 3  # seed 003 §四: 考核合格者获证卡，有效期三年

_NOISE = re.compile(r"[\s()（）\[\]【】「」《》<>·・/、,，.。:：;；\-—_]+")


@dataclass(frozen=True)
class CardFacts:
    occupation: str
    number: str
    valid_until: date


@dataclass(frozen=True)
class CardWarning:
    code: str  # card_missing | card_expired | card_other_occupation
    zh: str
    en: str


def valid_until_from_issue(issued_on: date) -> date:
    """Issue date + three years (29 February issues run to 28 February)."""
    try:
        return issued_on.replace(year=issued_on.year + CARD_VALID_YEARS)
    except ValueError:
        return issued_on.replace(year=issued_on.year + CARD_VALID_YEARS, day=28)


def _key(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def occupation_matches(card_occupation: str, occupations: Iterable[str]) -> bool:
    """Equal, or one contains the other, after normalising; an empty side never matches."""
    card = _key(card_occupation)
    if not card:
        return False
    for name in occupations:
        other = _key(name)
        if other and (card in other or other in card):
            return True
    return False


def item_occupations(name: str, catalog_code: str | None) -> tuple[str, ...]:
    """What a card for this item may name: the item itself and, for a catalog item, its occupation (a
    special ability belongs to an occupation, e.g. 火锅调味 → 中式烹调师)."""
    names = [name]
    if catalog_code:  # abilities under one occupation code all name the same occupation
        names.extend(sorted({e.category for e in catalog() if e.kind == "special_ability" and e.code == catalog_code}))
    return tuple(dict.fromkeys(n for n in names if n))


def card_warnings(cards: Sequence[CardFacts], contest_day: date, occupations: Sequence[str]) -> list[CardWarning]:
    """The warnings of one judge on one item's panel."""
    if not cards:
        return [CardWarning("card_missing", "未登记考评员证", "no examiner card on record")]
    warnings: list[CardWarning] = []
    relevant = [c for c in cards if occupation_matches(c.occupation, occupations)]
    if not relevant:
        held = "、".join(dict.fromkeys(c.occupation for c in cards))
        warnings.append(CardWarning("card_other_occupation", f"考评员证职业（{held}）与本赛项不符",
                                    f"examiner card for another occupation ({held})"))
        relevant = list(cards)
    if all(c.valid_until < contest_day for c in relevant):
        last = max(c.valid_until for c in relevant)
        warnings.append(CardWarning("card_expired", f"考评员证已于比赛日前过期（有效期至 {last}）",
                                    f"examiner card expired before the contest day (valid until {last})"))
    return warnings
