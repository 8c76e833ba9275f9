"""Checks on judges' marks, as structured findings (shared by the offline command and live judging).

Each function is pure and returns a list of `Finding`s (empty when all is well); the caller decides
whether a finding blocks (offline: errors exit 2, a spread is a warning; live: send the sheet back to
the chief judge).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from scoring.event_file import CriterionSpec, ItemSpec
from scoring.rounding import decimal_places

__all__ = [
    "ERROR",
    "WARNING",
    "Finding",
    "check_deduction",
    "check_item_marks",
    "check_measurement",
    "check_score",
    "check_spread",
]

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    # score_out_of_range | too_many_decimals | measurement_disagreement | deduction_disagreement | spread_exceeded |
    # missing_marks
    code: str
    severity: str  # error | warning
    criterion: str
    zh: str
    en: str
    judges: tuple[str, ...] = ()
    values: tuple[Decimal, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "severity": self.severity, "criterion": self.criterion,
                "message": self.zh, "message_en": self.en, "judges": list(self.judges),
                "values": [str(v) for v in self.values]}


def check_score(criterion: CriterionSpec, value: Decimal, judge: str = "") -> list[Finding]:
    """One mark: within 0 … max, at most 2 decimals; a whole number on the 0–3 scale."""
    found: list[Finding] = []
    judges = (judge,) if judge else ()
    if value < 0 or value > criterion.max:
        found.append(Finding("score_out_of_range", ERROR, criterion.code,
                             f"分数 {value} 超出 0 … {criterion.max}",
                             f"score {value} is outside 0 … {criterion.max}", judges, (value,)))
    if decimal_places(value) > 2:
        found.append(Finding("too_many_decimals", ERROR, criterion.code,
                             f"分数 {value} 超过 2 位小数", f"score {value} has more than 2 decimals",
                             judges, (value,)))
    elif criterion.scale == "0-3" and value != value.to_integral_value():
        found.append(Finding("not_on_scale", ERROR, criterion.code,
                             f"0–3 分制只能打 0、1、2、3 分，不能打 {value}",
                             f"the 0-3 scale takes 0, 1, 2 or 3, not {value}", judges, (value,)))
    return found


def _agreement(criterion: CriterionSpec, marks: Sequence[tuple[str, Decimal]], kind: str, code: str,
               zh: str, en_tail: str = "") -> list[Finding]:
    """Measurements and deductions are one agreed figure: a finding `code` when the judges' marks differ."""
    if criterion.kind != kind or len({v for _, v in marks}) <= 1:
        return []
    listed = "、".join(f"{j}={v}" for j, v in marks)
    return [Finding(code, ERROR, criterion.code, zh.format(code=criterion.code, listed=listed),
                    f"{kind} {criterion.code}: judges disagree ({', '.join(f'{j}={v}' for j, v in marks)}){en_tail}",
                    tuple(j for j, _ in marks), tuple(v for _, v in marks))]


def check_measurement(criterion: CriterionSpec, marks: Sequence[tuple[str, Decimal]]) -> list[Finding]:
    """A measurement is one agreed figure: every judge who entered it must have entered the same."""
    return _agreement(criterion, marks, "measurement", "measurement_disagreement",
                      "测量项 {code} 各裁判分数不一致（{listed}）")


def check_deduction(criterion: CriterionSpec, marks: Sequence[tuple[str, Decimal]]) -> list[Finding]:
    """A deduction is one agreed figure too (#18): judges who mark it must agree, or the chief judge rules.

    Averaging would take 2.50 off when one judge saw a 5-point violation and another saw none: neither judge's
    finding. A caller that knows who was expected passes an expected judge's blank as 0 (no deduction)."""
    return _agreement(criterion, marks, "deduction", "deduction_disagreement",
                      "扣分项 {code} 各裁判扣分不一致（{listed}），须一致或由裁判长裁定",
                      "; they must agree or the chief judge rules")


def check_spread(criterion: CriterionSpec, marks: Sequence[tuple[str, Decimal]]) -> list[Finding]:
    """A judgement panel whose highest and lowest marks differ by more than `max_spread`."""
    if criterion.kind != "judgement" or criterion.max_spread is None or len(marks) < 2:
        return []
    values = [v for _, v in marks]
    spread = max(values) - min(values)
    if spread <= criterion.max_spread:
        return []
    return [Finding("spread_exceeded", WARNING, criterion.code,
                    f"评价项 {criterion.code} 分差 {spread} 超过允许的 {criterion.max_spread}，须裁判长协调",
                    f"judgement {criterion.code}: spread {spread} exceeds {criterion.max_spread}; "
                    "the chief judge must reconcile",
                    tuple(j for j, _ in marks), tuple(values))]


def check_item_marks(item: ItemSpec, marks: Mapping[str, Sequence[tuple[str, Decimal]]], *,
                     complete: bool = True) -> list[Finding]:
    """Every check for one entry's sheet: `marks` maps criterion code -> [(judge, mark), ...].

    `complete=False` skips the missing-marks check (a sheet still being filled in).
    """
    found: list[Finding] = []
    for criterion in item.criteria:
        given = list(marks.get(criterion.code, ()))
        for judge, value in given:
            found += check_score(criterion, value, judge)
        found += check_measurement(criterion, given)
        found += check_deduction(criterion, given)
        found += check_spread(criterion, given)
        if complete and not given and criterion.kind != "deduction":
            found.append(Finding("missing_marks", ERROR, criterion.code,
                                 f"评分项 {criterion.code} 没有评分", f"criterion {criterion.code} has no marks"))
    return found
