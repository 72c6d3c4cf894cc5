"""Eligibility and the previous round, by hand."""

from __future__ import annotations

from datetime import date

import polars as pl

from models.sampling.eligibility import eligible_pool, previous_pairs, previous_round

from .round_data import round_params

FIRMS = pl.DataFrame(
    {
        "uscc": ["U1", "U2", "U3", "U4", "U5"],
        "firm_type": ["design"] * 5,
        "district": ["黄浦区"] * 5,
        "status": ["正常", "注销", "正常", "正常", None],
    }
)
TIERS = pl.DataFrame({"uscc": ["U1", "U2", "U4", "U5"], "tier": ["B", "C", "A", "B"]})
INSPECTIONS = pl.DataFrame(
    {
        "round_id": ["2026Q4", "2026Q3", None],
        "uscc": ["U4", "U1", "U1"],
        "inspected_on": [date(2026, 11, 2), date(2026, 8, 1), date(2026, 6, 20)],
        "inspector_ids": [["I1", "I2"], ["I3"], ["I9"]],
    }
)


def test_inactive_untiered_and_recently_inspected_firms_are_excluded_with_a_reason() -> None:
    # U5's status is unknown: still under supervision, so eligible
    params = round_params(eligibility={"exclude_inspected_within_days": 90})
    result = eligible_pool(FIRMS, TIERS, INSPECTIONS, params)
    assert result.pool.get_column("uscc").to_list() == ["U1", "U5"]
    assert dict(result.excluded.iter_rows()) == {
        "U2": "inactive",
        "U3": "no_tier",
        "U4": "recently_inspected",  # 2026-11-02 is within 90 days of 2027-01-01
    }


def test_without_the_exclusion_recent_inspections_do_not_matter() -> None:
    result = eligible_pool(FIRMS, TIERS, INSPECTIONS, round_params())
    assert result.pool.get_column("uscc").to_list() == ["U1", "U4", "U5"]


def test_the_previous_round_is_the_one_that_started_last_before_this_window() -> None:
    rounds = pl.DataFrame(
        {"round_id": ["2026Q2", "2027Q1"], "window_start": [date(2026, 4, 1), date(2027, 1, 1)]}
    )
    params = round_params()  # 2027Q1 itself is never its own previous round
    assert previous_round(rounds, INSPECTIONS, params) == "2026Q4"
    assert previous_round(rounds.head(1), INSPECTIONS.head(0), params) == "2026Q2"
    assert previous_round(rounds.tail(1), INSPECTIONS.head(0), params) is None


def test_previous_pairs_join_planned_teams_and_reported_inspectors() -> None:
    assignments = pl.DataFrame(
        {"round_id": ["2026Q4", "2026Q3"], "uscc": ["U7", "U8"], "inspector_id": ["I5", "I6"]}
    )
    pairs = previous_pairs("2026Q4", assignments, INSPECTIONS)
    assert pairs.rows() == [("U4", "I1"), ("U4", "I2"), ("U7", "I5")]
    assert previous_pairs(None, assignments, INSPECTIONS).is_empty()
