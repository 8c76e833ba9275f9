"""The five skill levels are one table (scoring/skill_levels.py): names as the notices write them, and every
spelling a unit's roster uses."""

from __future__ import annotations

import pytest

from registration.entries.roster import parse_skill_level
from scoring.skill_levels import LEVEL_NAMES, LEVELS


def test_the_table_lists_the_five_levels_lowest_first() -> None:
    """domain.md: "5 五级/初级工, 4 四级/中级工, 3 三级/高级工, 2 二级/技师, 1 一级/高级技师"."""
    assert LEVELS == ((5, "五级/初级工"), (4, "四级/中级工"), (3, "三级/高级工"), (2, "二级/技师"),
                      (1, "一级/高级技师"))
    assert LEVEL_NAMES[4] == "四级/中级工"


@pytest.mark.parametrize(("cell", "level"), [
    ("四级/中级工", "4"), ("中级工", "4"), ("中级", "4"), ("四级（中级工）", "4"), ("4", "4"), ("技师", "2"),
    ("高级技师", "1"), ("高级", "3"), ("初级", "5"), ("特级", "特级"),
])
def test_a_roster_cell_reads_as_its_level(cell: str, level: str) -> None:
    assert parse_skill_level(cell) == level
