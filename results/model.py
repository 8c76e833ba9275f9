"""The validated inputs and the outcomes of a results computation (plain frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from scoring.event_file import EventSpec
from scoring.marking import EntryScore

__all__ = [
    "RESULTS_COLUMNS",
    "STATUSES",
    "Entry",
    "EntryOutcome",
    "Inputs",
    "Mark",
    "Person",
    "Placing",
]

STATUSES = ("present", "absent", "disqualified")
RESULTS_COLUMNS = (
    "item", "group", "position", "rank", "entry", "name", "unit", "theory", "practical", "practical_pct",
    "total", "qualified", "award", "cert_level", "promoted", "tie_unresolved", "status",
)


@dataclass(frozen=True)
class Person:
    """One ENTRIES row; `row` is its line in the sheet (header = 1)."""

    row: int
    entry: str
    name: str
    unit: str
    item: str
    group: str
    theory: Decimal | None
    time_used: Decimal | None
    status: str


@dataclass(frozen=True)
class Entry:
    """An entry (a person, or a team sharing one `entry`), in ENTRIES order (`order` = first row)."""

    entry: str
    item: str
    group: str
    status: str
    order: int
    theory: Decimal | None  # a team's is its members' mean (rounded)
    time_used: Decimal | None
    members: tuple[Person, ...]


@dataclass(frozen=True)
class Mark:
    row: int
    entry: str
    criterion: str
    judge: str
    score: Decimal


@dataclass(frozen=True)
class Inputs:
    event: EventSpec
    entries: tuple[Entry, ...]
    marks: tuple[Mark, ...]

    @property
    def people(self) -> tuple[Person, ...]:
        return tuple(sorted((p for e in self.entries for p in e.members), key=lambda p: p.row))


@dataclass(frozen=True)
class Placing:
    entry: str
    position: int
    rank: int
    award: str
    cert_level: int | None
    promoted: bool
    tie_unresolved: bool


@dataclass(frozen=True)
class EntryOutcome:
    entry: Entry
    score: EntryScore | None  # None: not ranked (absent, disqualified)
    placing: Placing | None
    keys: tuple[tuple[str, Decimal | None], ...] = ()  # ("total", v), then each tie-break key
