"""The item catalogs shipped as package data: 165 suggested occupations (2025), 258 special abilities and the
33 items of the 2026 special-ability contest (seed 001).

Search by name or code (substring, case-insensitive), for the item picker of the event editor; and the
certificate an item leads to by default (`default_certificate`): an item named after a special ability
(专项职业能力) leads to a 专项职业能力证书, which has no level, everything else to a 职业技能等级证书.
Pure (stdlib only), so the event file's parser and the offline commands use the same default as the server.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["CatalogEntry", "catalog", "default_certificate", "search"]


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
    text = resources.files("scoring.data").joinpath(filename).read_text(encoding="utf-8")
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


@cache
def _special_ability_names() -> frozenset[str]:
    contest = {r["item"] for r in _rows("special_ability_contest_2026_items.csv")}
    return frozenset({e.name for e in catalog() if e.kind == "special_ability"} | contest)


def default_certificate(name: str) -> str:
    """`special_ability` for an item named as in the special-ability catalog or seed 001's item list (its
    catalog code alone cannot tell: abilities carry their occupation's code), else `skill_level`."""
    return "special_ability" if name.strip() in _special_ability_names() else "skill_level"
