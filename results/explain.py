"""`--explain ENTRY`: one entry's computation, step by step, for a chief judge to check by hand."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from results.awards import award_counts
from results.model import EntryOutcome, Inputs
from results.reference import compute_reference
from scoring.marking import CriterionResult
from scoring.rounding import fmt2

__all__ = ["explain_entry"]

_KIND = {"measurement": "测量 measurement", "judgement": "评价 judgement", "deduction": "扣分 deduction"}


def _num(value: Decimal) -> str:
    """An exact value as it is, trailing zeros trimmed, so the reader sees what was rounded."""
    text = format(value.normalize(), "f")
    return text if len(text) <= 24 else text[:24] + "…"


def _criterion_lines(result: CriterionResult, judges: list[tuple[str, Decimal]]) -> list[str]:
    c = result.criterion
    head = f"  {c.code} {c.name}（{_KIND[c.kind]}，满分 max {c.max}）"
    if not judges:
        return [head, "    无评分，扣分计 0 / no marks: a deduction counts 0.00"]
    marks = "，".join(f"{j or '—'}={v}" for j, v in judges)
    lines = [head, f"    评分 marks: {marks}"]
    if result.method == "agreed":
        agreed = "测量分一致" if c.kind == "measurement" else "各裁判扣分一致"  # a deduction is agreed too (#18)
        lines.append(f"    {agreed} agreed → {fmt2(result.score)}")
        return lines
    if result.dropped:
        lines.append(f"    {len(judges)} 名裁判 ≥ trim_min_judges {c.trim_min_judges}：去掉最高 {result.dropped[1]}、"
                     f"最低 {result.dropped[0]} / dropped highest and lowest")
    elif c.aggregate == "trimmed_mean":
        lines.append(f"    {len(judges)} 名裁判 < trim_min_judges {c.trim_min_judges}：不去分，取平均 / "
                     "too few judges to trim: the mean")
    label = "中位数 median" if result.method == "median" else "平均 mean"
    used = " + ".join(str(v) for v in result.used)
    total = sum(result.used, Decimal(0))
    lines.append(f"    {label} = ({used}) / {len(result.used)} = {total}/{len(result.used)} = {_num(result.exact)}"
                 f" → 四舍五入 rounded {fmt2(result.score)}")
    return lines


def explain_entry(inputs: Inputs, entry_id: str) -> str:
    """The explanation text; raises KeyError for an entry not in ENTRIES."""
    entry = next((e for e in inputs.entries if e.entry == entry_id), None)
    if entry is None:
        raise KeyError(entry_id)
    item = inputs.event.item(entry.item)
    assert item is not None
    names = "、".join(p.name for p in entry.members)
    out = [f"参赛者 entry {entry.entry}（{names}）赛项 item {item.code} {item.name}，组别 group "
           f"{entry.group or '（无）'}，状态 status {entry.status}"]
    if entry.status != "present":
        out.append("未参加排名：缺考或取消资格的参赛者不计成绩 / not ranked (absent or disqualified)")
        return "\n".join(out)
    # Ranking is per item-group, so the reference only needs this group's entries and marks.
    group = tuple(e for e in inputs.entries if (e.item, e.group) == (entry.item, entry.group))
    ids = {e.entry for e in group}
    marks = tuple(m for m in inputs.marks if m.entry in ids)
    outcomes = compute_reference(Inputs(inputs.event, group, marks))
    mine: EntryOutcome = next(o for o in outcomes if o.entry.entry == entry_id)
    score, placing = mine.score, mine.placing
    assert score is not None and placing is not None
    judges: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for m in marks:
        if m.entry == entry_id:
            judges[m.criterion].append((m.judge, m.score))
    out.append("1. 各评分项得分 / each criterion (aggregate, rounded half up to 2 decimals):")
    for result in score.criteria:
        out += _criterion_lines(result, judges[result.criterion.code])
    gained = " + ".join(fmt2(r.score) for r in score.criteria if r.criterion.kind != "deduction")
    taken = " + ".join(fmt2(r.score) for r in score.criteria if r.criterion.kind == "deduction") or "0"
    out.append(f"2. 实操 practical = ({gained}) − ({taken}) = {fmt2(score.practical)}（不低于 0 / not below 0）")
    out.append(f"3. 实操百分制 practical_pct = {fmt2(score.practical)} / {score.practical_max} × 100 = "
               f"{_num(score.practical_pct_exact)} → {fmt2(score.practical_pct)}")
    if len(entry.members) > 1:
        given = "、".join(str(p.theory) for p in entry.members if p.theory is not None) or "（空）"
        out.append(f"   团队理论成绩 = 队员平均 team theory = mean of {given} → "
                   f"{'' if score.theory is None else fmt2(score.theory)}")
    theory = "0" if score.theory is None else fmt2(score.theory)
    w = item.theory_weight
    out.append(f"4. 总分 total = {w} × {theory} + {1 - w} × {fmt2(score.practical_pct)} = "
               f"{_num(score.total_exact)} → {fmt2(score.total)}")
    verdict = "合格 qualified" if score.qualified else "不合格 not qualified"
    sign = "≥" if score.qualified else "<"
    out.append(f"5. {fmt2(score.practical_pct)} {sign} 合格线 pass_mark {item.pass_mark} → {verdict}")
    n = len(outcomes)
    counts = award_counts(inputs.event.award_policy, n, item.team_size)
    keys = "，".join(f"{k}={'（空）' if v is None else v}" for k, v in mine.keys)
    out.append(f"排名 ranking（{item.code}/{entry.group or '—'}，{n} 名参赛者排名 ranked；奖项 awards "
               f"一 {counts.first} 二 {counts.second} 三 {counts.third} 优胜 {counts.merit}）")
    out.append(f"   排序键 keys (total, then tie_break {list(item.tie_break)}): {keys}")
    tied = [o.entry.entry for o in outcomes if o.placing and o.placing.rank == placing.rank]
    others = "、".join(t for t in tied if t != entry_id)
    out.append(f"   名次 position {placing.position}，排名 rank {placing.rank}"
               + (f"，与 {others} 全部键相同 / tied on every key" if others else ""))
    if item.exam_level is None:  # 专项职业能力证书: no level, so no cert_level and no promotion to explain
        out.append(f"   奖项 award {placing.award or '（无）'}；证书 certificate "
                   f"{'专项职业能力证书（合格）' if score.qualified else '（无，不合格）'}"
                   "（不分等级 / a special-ability certificate has no level）")
    else:
        out.append(f"   奖项 award {placing.award or '（无）'}；证书等级 cert_level "
                   f"{placing.cert_level if placing.cert_level is not None else '（无，不合格）'}；晋升 promoted "
                   f"{str(placing.promoted).lower()}")
    if placing.tie_unresolved:
        out.append(f"   ⚠ 并列跨越获奖{'' if item.exam_level is None else '或晋升'}分界，待裁判长确定顺序 / "
                   "tie_unresolved: the chief judge must record an order")
    return "\n".join(out)
