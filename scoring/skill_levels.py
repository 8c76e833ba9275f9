"""The five skill levels (国家职业资格 / 职业技能等级), one table for every page, list and import.

Read from `data/skill_levels.csv` (level, name, alt_name: 4, 四级, 中级工). `LEVELS` gives the
(level, "四级/中级工") pairs in the order forms list them (五级 first), `LEVEL_NAMES` the same as a
dict, and `level_from_text` reads what units write in a roster cell (四级, 中级工, 中级, or the digit).
"""

from __future__ import annotations

import csv
from importlib import resources

__all__ = ["LEVELS", "LEVEL_NAMES", "level_from_text"]


def _rows() -> list[dict[str, str]]:
    text = resources.files("scoring.data").joinpath("skill_levels.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


_ROWS = _rows()
LEVELS: tuple[tuple[int, str], ...] = tuple((int(r["level"]), f"{r['name']}/{r['alt_name']}") for r in _ROWS)
LEVEL_NAMES: dict[int, str] = dict(LEVELS)
# every spelling of a level: 四级, 中级工, and 中级 (the alt name without 工, as units write it; 技师 stays)
_SPELLINGS: dict[str, int] = {
    spelling: int(r["level"])
    for r in _ROWS
    for spelling in (r["level"], r["name"], r["alt_name"], r["alt_name"].removesuffix("工") or r["alt_name"])
}


def level_from_text(part: str) -> int | None:
    """The level a single word names (四级, 中级工, 中级, 4), else None."""
    return _SPELLINGS.get(part)
