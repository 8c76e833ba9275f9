"""What the chief judge's console computes from the marks of one item (pure: no database, no web).

Marks come as `{(seat, criterion code): [(judge_id, value), …]}`. Findings reuse `scoring.checks`, so the
console flags exactly what the offline command would warn about or refuse; severity and the distribution are
read-only statistics for the chief judge and never feed a result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from scoring.checks import Finding, check_deduction, check_measurement, check_spread
from scoring.event_file import CriterionSpec
from scoring.rounding import round2

__all__ = ["BINS", "Marks", "Panel", "cell_findings", "deduction_marks", "distribution", "fmt", "histogram",
           "severity"]

Marks = Mapping[tuple[str, str], Sequence[tuple[int, Decimal]]]
BINS = 10  # histogram bins over 0 … max


@dataclass(frozen=True)
class Panel:
    """Who is expected to mark what: judge id → criterion codes (empty: every criterion) and unit key."""

    criteria: Mapping[int, tuple[str, ...]]
    unit_keys: Mapping[int, str]

    def expected(self, criterion: str, seat_unit: str) -> list[int]:
        # a judge from the contestant's own unit is refused at scoring time, so their mark is never missing
        return [j for j, codes in self.criteria.items()
                if (not codes or criterion in codes) and not (self.unit_keys.get(j) and self.unit_keys[j] == seat_unit)]


def fmt(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _finding(seat: str, f: Finding) -> dict[str, object]:
    return {"seat": seat, "criterion": f.criterion, "code": f.code, "severity": f.severity, "message": f.zh,
            "message_en": f.en, "values": [fmt(v) for v in f.values]}


def deduction_marks(criterion: CriterionSpec, given: Sequence[tuple[int, Decimal]], expected: Sequence[int],
                    ) -> list[tuple[int, Decimal]]:
    """The marks a deduction's agreement is judged on: once anyone has marked the cell, an expected judge's
    blank is that judge saying "nothing to take off" (0, as contracts §3 counts no rows), so 5 against a blank
    is a disagreement like 5 against 0. Nobody marking it is agreement on 0 and no finding."""
    if criterion.kind != "deduction" or not given:
        return list(given)
    have = {j for j, _ in given}
    return list(given) + [(j, Decimal(0)) for j in expected if j not in have]


def cell_findings(criteria: Sequence[CriterionSpec], seats: Mapping[str, str], marks: Marks, panel: Panel,
                  names: Mapping[int, str], ruled: Collection[tuple[str, str]] = ()) -> list[dict[str, object]]:
    """Per seat and criterion: measurement and deduction disagreements, spreads over `max_spread`
    (scoring.checks), and the panel judges whose mark is still missing. `seats`: occupied seat → the
    contestant's unit key; `names`: judge id → name, for the messages; `ruled`: the (seat, criterion) cells
    whose deduction the chief judge has settled (裁定扣分), which disagree no more."""
    found: list[dict[str, object]] = []
    for seat, unit in seats.items():
        for criterion in criteria:
            given = list(marks.get((seat, criterion.code), ()))
            named = [(names.get(j, f"#{j}"), v) for j, v in given]
            for f in check_measurement(criterion, named) + check_spread(criterion, named):
                # both checks list every judge of the cell, in the order given: map the names back to ids
                found.append({**_finding(seat, f), "judges": [j for j, _ in given]})
            if criterion.kind == "deduction":
                if (seat, criterion.code) not in ruled:
                    counted = deduction_marks(criterion, given, panel.expected(criterion.code, unit))
                    shown = [(names.get(j, f"#{j}") + ("（未填）" if k >= len(given) else ""), v)
                             for k, (j, v) in enumerate(counted)]
                    for f in check_deduction(criterion, shown):
                        found.append({**_finding(seat, f), "judges": [j for j, _ in counted],
                                      "blank": [j for j, _ in counted[len(given):]]})
                continue  # no deduction rows means nothing was taken off (contracts §3)
            have = {j for j, _ in given}
            missing = [j for j in panel.expected(criterion.code, unit) if j not in have]
            if missing:
                found.append({"seat": seat, "criterion": criterion.code, "code": "missing_marks", "severity": "error",
                              "message": f"评分项 {criterion.code} 缺 {len(missing)} 位裁判的评分",
                              "message_en": f"criterion {criterion.code}: {len(missing)} judge(s) have not marked",
                              "judges": missing, "values": []})
    return found


def severity(criteria: Sequence[CriterionSpec], marks: Marks) -> list[dict[str, object]]:
    """Per judge and criterion: the mean of (the judge's mark − the panel's mean for that seat), over the seats
    where at least two judges marked. Negative: harsher than the panel; positive: more lenient."""
    sums: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    codes = [c.code for c in criteria]
    for (_seat, code), given in marks.items():
        if code not in codes or len(given) < 2:
            continue  # a lone mark is its own panel: it says nothing about severity
        panel_mean = sum((v for _, v in given), Decimal(0)) / len(given)
        for judge, value in given:
            sums[(judge, code)] += value - panel_mean
            counts[(judge, code)] += 1
    return [{"judge_id": judge, "criterion": code, "n": counts[(judge, code)],
             "mean_deviation": fmt(round2(sums[(judge, code)] / counts[(judge, code)]))}
            for judge, code in sorted(counts, key=lambda k: (k[0], codes.index(k[1])))]


def _bin(value: Decimal, top: Decimal) -> int:
    if top <= 0:
        return 0
    return min(BINS - 1, max(0, int(value * BINS / top)))


def histogram(values: Iterable[Decimal], top: Decimal) -> list[int]:
    """Counts in BINS equal bins over 0 … top (the top value falls in the last bin)."""
    counts = [0] * BINS
    for value in values:
        counts[_bin(value, top)] += 1
    return counts


def distribution(criteria: Sequence[CriterionSpec], marks: Marks) -> list[dict[str, object]]:
    """Per criterion, a histogram of the individual marks over 0 … max."""
    return [{"criterion": c.code, "max": fmt(c.max),
             "counts": histogram((v for (_s, code), given in marks.items() if code == c.code for _, v in given), c.max)}
            for c in criteria]
