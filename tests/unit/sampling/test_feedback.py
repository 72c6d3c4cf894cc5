"""Round feedback by hand: planned vs inspected vs findings, by tier and control."""

from __future__ import annotations

from datetime import date

import polars as pl

from models.sampling.feedback import round_outcomes, round_results, unplanned_outcomes

DRAWS = pl.DataFrame(
    {
        "round_id": ["R1"] * 4,
        "uscc": ["U1", "U2", "U3", "U4"],
        "tier": ["C", "C", "B", "B"],
        "is_control": [False, False, False, True],
    }
)
SCHEDULE = pl.DataFrame(
    {
        "round_id": ["R1"] * 4,
        "uscc": ["U1", "U2", "U3", "U4"],
        "inspection_date": [date(2027, 1, 4)] * 4,
    }
)
OUTCOMES = pl.DataFrame(
    {
        "round_id": ["R1", "R1", "R1", "R1", "R2"],
        "uscc": ["U1", "U1", "U3", "U9", "U2"],
        "inspection_id": ["J2", "J1", "J3", "J4", "J5"],
        "inspected_on": [date(2027, 2, 1), date(2027, 1, 5), date(2027, 1, 6), None, None],
        "result": ["未发现问题", "发现问题", "拒绝检查", "未发现问题", "发现问题"],
        "problem_count": [0, 2, 0, 0, 1],
    }
)


def test_each_drawn_firm_gets_its_first_outcome_of_the_round() -> None:
    per_firm = round_outcomes(DRAWS, SCHEDULE, OUTCOMES, "未发现问题")
    rows = {r["uscc"]: r for r in per_firm.iter_rows(named=True)}
    assert rows["U1"]["inspection_id"] == "J1" and rows["U1"]["found_problem"] is True
    assert rows["U2"]["inspection_id"] is None and rows["U2"]["found_problem"] is None
    assert rows["U3"]["found_problem"] is True  # refusing an inspection is adverse
    assert rows["U4"]["planned_date"] == date(2027, 1, 4)


def test_results_count_planned_inspected_and_findings_per_tier_and_control() -> None:
    summary = round_results(round_outcomes(DRAWS, SCHEDULE, OUTCOMES, "未发现问题"))
    assert summary.rows() == [
        ("R1", "B", False, 1, 1, 1, 1.0),
        ("R1", "C", False, 2, 1, 1, 1.0),
        ("R1", "B", True, 1, 0, 0, None),
    ]


def test_outcomes_for_undrawn_firms_of_a_planned_round_are_unplanned() -> None:
    assert unplanned_outcomes(DRAWS, OUTCOMES).get_column("uscc").to_list() == ["U9"]
