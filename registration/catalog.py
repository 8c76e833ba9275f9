"""The item catalogs shipped as package data: 165 suggested occupations (2025) and 258 special abilities.

Search by name or code (substring, case-insensitive), for the item picker of the event editor.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["CatalogEntry", "catalog", "search"]


@dataclass(frozen=True)
class CatalogEntry:
    kind: str  # "occupation" | "special_ability"
    code: str  # occupation code (GBM) of the entry
    name: str
    category: str  # occupation category, or the occupation a special ability belongs to
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files("registration.data").joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def catalog() -> tuple[CatalogEntry, ...]:
    occupations = [
        CatalogEntry("occupation", r["category_code"], r["occupation"], r["category"],
                     "无国家职业标准" if r["no_national_standard"] == "true" else "")
        for r in _rows("suggested_items_2025.csv")
    ]
    abilities = [
        CatalogEntry("special_ability", r["occupation_code"], r["ability"], r["occupation"], r["definition"])
        for r in _rows("special_ability_catalog.csv")
    ]
    return (*occupations, *abilities)


def search(q: str = "", kind: str | None = None, limit: int = 50) -> list[CatalogEntry]:
    """Entries whose name, code or category contains `q`; names that start with it first."""
    needle = q.strip().lower()
    hits = [
        e for e in catalog()
        if (kind is None or e.kind == kind)
        and (not needle or needle in e.name.lower() or needle in e.code.lower() or needle in e.category.lower())
    ]
    hits.sort(key=lambda e: (not e.name.lower().startswith(needle), needle not in e.name.lower()))
    return hits[: max(0, limit)]
