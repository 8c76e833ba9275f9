"""The marking scheme evaluated in plain Decimal: the reference path (contracts §3, steps 1–5).

This is the slow, obviously-correct version: `--explain` prints its steps and the property tests
hold the polars fast path (`scoring.fast`) to it. Every numbered step rounds half up to 2 decimals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from scoring.event_file import CriterionSpec, ItemSpec
from scoring.rounding import div_round2, round2

__all__ = [
    "CriterionResult",
    "EntryScore",
    "MarkingError",
    "aggregate",
    "evaluate_entry",
    "team_theory",
]


class MarkingError(ValueError):
    """Marks that cannot be evaluated (missing, or measurement or deduction judges who disagree)."""

    def __init__(self, code: str, criterion: str, zh: str, en: str):
        self.code, self.criterion, self.zh, self.en = code, criterion, zh, en
        super().__init__(f"{criterion}: {zh} / {en}")


@dataclass(frozen=True)
class CriterionResult:
    criterion: CriterionSpec
    marks: tuple[Decimal, ...]  # as entered, in input order
    method: str  # none | agreed | mean | median | trimmed_mean (measurements and deductions: agreed)
    used: tuple[Decimal, ...]  # the marks that went into the aggregate
    dropped: tuple[Decimal, ...]  # what the trimmed mean left out
    exact: Decimal  # before rounding
    score: Decimal  # step 1: rounded half up to 2 decimals


@dataclass(frozen=True)
class EntryScore:
    criteria: tuple[CriterionResult, ...]
    gained: Decimal  # sum of measurement and judgement scores
    deducted: Decimal  # sum of deductions
    practical: Decimal  # step 2
    practical_max: Decimal
    practical_pct_exact: Decimal
    practical_pct: Decimal  # step 3
    theory: Decimal | None
    total_exact: Decimal
    total: Decimal  # step 4
    qualified: bool  # step 5

    def score_of(self, code: str) -> Decimal | None:
        return next((c.score for c in self.criteria if c.criterion.code == code), None)


def _mean(values: Sequence[Decimal]) -> Decimal:
    return div_round2(sum(values, Decimal(0)), Decimal(len(values)))[0]


def aggregate(criterion: CriterionSpec, marks: Sequence[Decimal]) -> CriterionResult:
    """Step 1 for one criterion. No marks: a deduction counts 0, anything else is a MarkingError."""
    marks = tuple(marks)
    if not marks:
        if criterion.kind == "deduction":
            return CriterionResult(criterion, (), "none", (), (), Decimal(0), Decimal("0.00"))
        raise MarkingError("missing_marks", criterion.code, "没有评分", "has no marks")
    if criterion.kind == "measurement":
        if len(set(marks)) > 1:
            raise MarkingError("measurement_disagreement", criterion.code,
                               f"测量分不一致：{'、'.join(map(str, marks))}",
                               f"measurement judges disagree: {', '.join(map(str, marks))}")
        return CriterionResult(criterion, marks, "agreed", marks[:1], (), marks[0], round2(marks[0]))
    if criterion.kind == "deduction":
        # Like a measurement (#18): an average of 5 and 0 is neither judge's deduction; a disagreement is
        # settled by the chief judge (whose ruling then arrives here as the only mark).
        if len(set(marks)) > 1:
            raise MarkingError("deduction_disagreement", criterion.code,
                               f"扣分不一致：{'、'.join(map(str, marks))}",
                               f"deduction judges disagree: {', '.join(map(str, marks))}")
        return CriterionResult(criterion, marks, "agreed", marks[:1], (), marks[0], round2(marks[0]))
    method = criterion.aggregate or "mean"
    ordered = sorted(marks)
    if method == "median":
        mid = len(ordered) // 2
        used = tuple(ordered[mid - 1: mid + 1]) if len(ordered) % 2 == 0 else (ordered[mid],)
        exact = _mean(used)
        return CriterionResult(criterion, marks, "median", used, (), exact, round2(exact))
    if method == "trimmed_mean" and len(marks) >= (criterion.trim_min_judges or 5):
        used, dropped = tuple(ordered[1:-1]), (ordered[0], ordered[-1])
        exact = _mean(used)
        return CriterionResult(criterion, marks, "trimmed_mean", used, dropped, exact, round2(exact))
    # mean, or a trimmed mean with too few judges (the contract: "else it is the mean")
    exact = _mean(marks)
    return CriterionResult(criterion, marks, "mean", marks, (), exact, round2(exact))


def team_theory(values: Sequence[Decimal | None]) -> Decimal | None:
    """A team's theory: the members' mean, rounded half up; blanks are left out; all blank -> None."""
    given = [v for v in values if v is not None]
    if not given:
        return None
    return div_round2(sum(given, Decimal(0)), Decimal(len(given)))[1]


def evaluate_entry(item: ItemSpec, marks: Mapping[str, Sequence[Decimal]],
                   theory: Decimal | None) -> EntryScore:
    """Steps 1–5 for one entry: `marks` maps criterion code -> the judges' marks."""
    results = tuple(aggregate(c, marks.get(c.code, ())) for c in item.criteria)
    gained = sum((r.score for r in results if r.criterion.kind != "deduction"), Decimal(0))
    deducted = sum((r.score for r in results if r.criterion.kind == "deduction"), Decimal(0))
    practical = round2(max(Decimal(0), gained - deducted))
    practical_max = item.practical_max
    pct_exact, pct = div_round2(practical * 100, practical_max)
    if theory is None and item.theory_weight > 0:
        raise MarkingError("missing_theory", "theory", "缺少理论成绩", "theory score is missing")
    weight = item.theory_weight
    total_exact = weight * (theory or Decimal(0)) + (1 - weight) * pct
    total = round2(total_exact)
    return EntryScore(results, gained, deducted, practical, practical_max, pct_exact, pct, theory,
                      total_exact, total, pct >= item.pass_mark)
