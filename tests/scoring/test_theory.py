"""Theory sheets checked against an item's entries (scoring/theory.py, #14): every problem of every row named,
nothing counts while one remains; a person who missed the exam is recorded as such (0, with the reason)."""

from __future__ import annotations

from decimal import Decimal

from scoring.theory import Candidate, TheoryRow, check_theory_rows

ID_A, ID_B, ID_C, ID_D = "500103199506151239", "50010319960101123X", "500103200001011234", "500103199801011230"


def key_of(number: str) -> str:  # the caller's HMAC; here a visible stand-in
    return f"k:{number}"


PEOPLE = [Candidate(1, 10, "王一", key_of(ID_A), "TICKETA"),
          Candidate(2, 11, "李二", key_of(ID_B), "TICKETB"),
          Candidate(3, 12, "张三", key_of(ID_C), "TEAM12"),  # a two-person team: one ticket, two members
          Candidate(4, 12, "赵四", "k:other", "TEAM12"),
          Candidate(5, 13, "钱五", key_of(ID_D), "TICKETE")]


def check(*rows: TheoryRow) -> tuple[list[tuple[int, int, Decimal, str | None]], list[tuple[int, str, str]]]:
    result = check_theory_rows(list(rows), PEOPLE, key_of)
    return ([(m.row, m.member_id, m.value, m.absent_reason) for m in result.marks],
            [(p.row, p.column, p.code) for p in result.problems])


def test_rows_match_by_id_number_or_ticket_and_a_missed_exam_is_zero_with_its_reason() -> None:
    marks, problems = check(
        TheoryRow(2, id_number=ID_A, name="王一", score="88.5"),
        TheoryRow(3, id_number="５００１０３１９９６０１０１１２３ｘ", score="90"),  # full-width, lower-case x
        TheoryRow(4, ticket="team12", name="赵四", score="100"),
        TheoryRow(5, ticket="TEAM12", name="张三", absent="是"),
    )
    assert problems == []
    assert marks == [(2, 1, Decimal("88.5"), None), (3, 2, Decimal("90"), None), (4, 4, Decimal("100"), None),
                     (5, 3, Decimal(0), "缺考")]
    marks, _ = check(TheoryRow(2, id_number=ID_A, absent="病假（有医院证明）", score="0"))
    assert marks == [(2, 1, Decimal(0), "病假（有医院证明）")]


def test_every_problem_of_every_row_is_reported_and_nothing_counts() -> None:
    result = check_theory_rows([
        TheoryRow(2, id_number=ID_A, name="王一", score="88"),                # fine, but the import is refused
        TheoryRow(3, id_number="5.00103E+17", id_numeric=True, score="70"),   # Excel ate the digits
        TheoryRow(4, id_number="110101199003070011", score="70"),             # not entered for this item
        TheoryRow(5, id_number=ID_B, name="李三", score="70"),                # the wrong name
        TheoryRow(6, id_number=ID_A, score="60"),                             # 王一 again
        TheoryRow(7, ticket="TEAM12", score="60"),                            # which member?
        TheoryRow(8, ticket="NOPE", score="60"),
        TheoryRow(9, ticket="TEAM12", name="张三"),                           # no score, not absent
        TheoryRow(10, ticket="TEAM12", name="赵四", score="abc"),
        TheoryRow(11, id_number=ID_D, score="100.01"),
        TheoryRow(12, name="无证号", score="50"),
    ], PEOPLE, key_of)
    assert not result.ok
    assert [(p.row, p.column, p.code) for p in result.problems] == [
        (3, "id_number", "numeric_cell"), (4, "id_number", "unknown_person"), (5, "name", "name_mismatch"),
        (6, "id_number", "duplicate_row"), (7, "name", "name_required"), (8, "ticket", "unknown_person"),
        (9, "score", "missing_score"), (10, "score", "invalid_score"), (11, "score", "out_of_range"),
        (12, "id_number", "unknown_person")]
    duplicate = next(p for p in result.problems if p.code == "duplicate_row")
    assert "第 2 行" in duplicate.message and "row 2" in duplicate.message_en
    mismatch = next(p for p in result.problems if p.code == "name_mismatch")
    assert "李三" in mismatch.message and "李二" in mismatch.message
    assert mismatch.as_dict() == {"row": 5, "field": "name", "code": "name_mismatch",
                                  "message": mismatch.message, "message_en": mismatch.message_en}


def test_scores_are_exact_with_at_most_two_decimals_in_zero_to_hundred() -> None:
    for text, code in (("88.555", "too_many_decimals"), ("-1", "out_of_range"), ("NaN", "invalid_score"),
                       ("Infinity", "invalid_score"), ("", "missing_score")):
        _, problems = check(TheoryRow(2, id_number=ID_A, score=text))
        assert problems == [(2, "score", code)], text
    marks, problems = check(TheoryRow(2, id_number=ID_A, score="88.50"), TheoryRow(3, id_number=ID_B, score="0"))
    assert problems == [] and marks[0][2] == Decimal("88.50") and marks[1][2] == 0
    _, problems = check(TheoryRow(2, id_number=ID_A, absent="缺考", score="75"))
    assert problems == [(2, "score", "absent_with_score")]


def test_an_empty_sheet_is_refused() -> None:
    result = check_theory_rows([], PEOPLE, key_of)
    assert not result.ok and [p.code for p in result.problems] == ["empty_file"]
