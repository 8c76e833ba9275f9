"""Property tests: the polars engine equals the Decimal reference; invariants of ranking and awards."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from results.awards import AWARD_NAMES, award_counts
from results.model import Inputs
from tests.support.results_cases import cases, fast_table, reference_table

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases())
def test_fast_path_equals_decimal_reference(inputs: Inputs) -> None:
    fast, ref = fast_table(inputs), reference_table(inputs)
    assert fast.to_dicts() == ref.to_dicts()


def _groups(rows: list[dict[str, str]]) -> dict[tuple[str, str], list[dict[str, str]]]:
    out: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    seen: set[str] = set()
    for row in rows:
        if row["position"] and row["entry"] not in seen:  # one row per entry (teams print one per member)
            seen.add(row["entry"])
            out[(row["item"], row["group"])].append(row)
    return out


@SETTINGS
@given(cases())
def test_award_counts_never_exceed_the_rule(inputs: Inputs) -> None:
    rows = fast_table(inputs).to_dicts()
    policy = inputs.event.award_policy
    items = {i.code: i for i in inputs.event.items}
    for (item, _group), members in _groups(rows).items():
        n = len(members)
        size = items[item].team_size if policy.count == "people" else 1  # people an entry counts for
        counts = award_counts(policy, n, items[item].team_size)
        given_ = Counter(r["award"] for r in members if r["award"])
        assert [given_[a] for a in AWARD_NAMES] == list(counts.as_tuple())
        assert counts.total <= n
        assert counts.first <= 1 and counts.second <= 2 and counts.third <= 3
        bound = int(policy.ratio * n * size)  # places (people, or teams) within the ratio of N
        if policy.rule == "merit_if_over_30":
            assert counts.merit == (0 if n * size <= (policy.threshold or 0) else min(bound // size, n - min(n, 6)))
        else:
            # whole teams only: the award winners' places stay within the ratio unless the fixed six exceed it
            assert counts.total * size <= max(min(n, 6) * size, bound)
            assert counts.merit == 0 or (counts.total + 1) * size > bound or counts.total == n
        # awards go strictly by position
        awarded = sorted(int(r["position"]) for r in members if r["award"])
        assert awarded == list(range(1, len(awarded) + 1))


@SETTINGS
@given(cases())
def test_promoted_entries_are_top_qualified_award_holders(inputs: Inputs) -> None:
    rows = fast_table(inputs).to_dicts()
    items = {i.code: i for i in inputs.event.items}
    for row in rows:
        item = items[row["item"]]
        if item.exam_level is None:  # 专项职业能力证书: no level and no promotion, qualified or not
            assert row["cert_level"] == "" and row["promoted"] == "false"
            continue
        if row["promoted"] == "true":
            assert int(row["position"]) <= item.promotion_top
            assert row["qualified"] == "true" and row["award"]
            assert int(row["cert_level"]) == item.exam_level - 1 >= 1
        if row["cert_level"]:
            assert row["qualified"] == "true"
        if item.exam_level == 1:
            assert row["promoted"] == "false"


@SETTINGS
@given(cases())
def test_ranks_are_competition_ranks(inputs: Inputs) -> None:
    for members in _groups(fast_table(inputs).to_dicts()).values():
        positions = [int(r["position"]) for r in members]
        ranks = [int(r["rank"]) for r in members]
        assert positions == list(range(1, len(members) + 1))
        for k, (pos, rank) in enumerate(zip(positions, ranks, strict=True)):
            if k and ranks[k - 1] == rank:
                assert members[k - 1]["total"] == members[k]["total"]
            else:
                assert rank == pos  # a new block starts at its own position (1, 2, 2, 4)


def _shuffled(inputs: Inputs, seed: int) -> Inputs:
    rng = random.Random(seed)
    entries = list(inputs.entries)
    rng.shuffle(entries)
    entries = [replace(e, order=k) for k, e in enumerate(entries)]
    marks = list(inputs.marks)
    rng.shuffle(marks)
    return Inputs(inputs.event, tuple(entries), tuple(marks))


def _masked(rows: list[dict[str, str]]) -> tuple[dict[str, list[tuple[str, ...]]], Counter[tuple[str, ...]]]:
    """Per entry, everything that must not move; per tie block, the positions and outcomes it holds."""
    by_entry: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    blocks: Counter[tuple[str, ...]] = Counter()
    counted: set[str] = set()  # a team prints one row per member: count each entry once
    for r in rows:
        fixed = dict(r)
        if r["tie_unresolved"] == "true" or _shared(rows, r):
            for col in ("position", "award", "cert_level", "promoted"):
                fixed[col] = "?"
            if r["position"] and r["entry"] not in counted:
                counted.add(r["entry"])
                blocks[(r["item"], r["group"], r["rank"], r["position"], r["award"], r["cert_level"],
                        r["promoted"])] += 1
        by_entry[r["entry"]].append(tuple(sorted(fixed.items())))
    return by_entry, blocks


def _shared(rows: list[dict[str, str]], row: dict[str, str]) -> bool:
    return bool(row["rank"]) and sum(
        1 for r in rows if (r["item"], r["group"], r["rank"]) == (row["item"], row["group"], row["rank"])
        and r["entry"] != row["entry"]) > 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_entries=16), st.integers(0, 10_000))
def test_shuffling_rows_changes_only_the_order_inside_exact_ties(inputs: Inputs, seed: int) -> None:
    before = fast_table(inputs).to_dicts()
    after = fast_table(_shuffled(inputs, seed)).to_dicts()
    by_entry_before, blocks_before = _masked(before)
    by_entry_after, blocks_after = _masked(after)
    assert {k: sorted(v) for k, v in by_entry_before.items()} == {k: sorted(v) for k, v in by_entry_after.items()}
    # Inside each tie block the same positions and outcomes are handed out, only to other members.
    assert blocks_before == blocks_after
