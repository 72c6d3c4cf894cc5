"""Eligibility and the previous round, by hand: scope, status, tier, one calendar (a firm drawn
in an overlapping published round), frequency limits with their exemptions, open findings."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from models.sampling.eligibility import (
    PLANNED_SCHEMA,
    eligible_pool,
    history_since,
    open_findings,
    previous_pairs,
    previous_round,
)

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


NO_LIMITS = {"min_interval_days": None, "max_per_year": None}


def test_inactive_untiered_and_recently_inspected_firms_are_excluded_with_a_reason() -> None:
    # U5's status is unknown: still under supervision, so eligible
    params = round_params(eligibility={"exclude_inspected_within_days": 90}, frequency=NO_LIMITS)
    result = eligible_pool(FIRMS, TIERS, INSPECTIONS, params)
    assert result.pool.get_column("uscc").to_list() == ["U1", "U5"]
    assert dict(result.excluded.iter_rows()) == {
        "U2": "inactive",
        "U3": "no_tier",
        "U4": "recently_inspected",  # 2026-11-02 is within 90 days of 2027-01-01
    }


def test_without_any_limit_recent_inspections_do_not_matter() -> None:
    result = eligible_pool(FIRMS, TIERS, INSPECTIONS, round_params(frequency=NO_LIMITS))
    assert result.pool.get_column("uscc").to_list() == ["U1", "U4", "U5"]


def test_the_minimum_interval_and_the_yearly_cap_spare_firms_except_d_and_open_findings() -> None:
    firms = pl.DataFrame(
        {
            "uscc": ["U1", "U2", "U3", "U4", "U5"],
            "firm_type": ["design"] * 5,
            "district": ["黄浦区"] * 5,
            "status": ["正常"] * 5,
        }
    )
    tiers = pl.DataFrame(
        {"uscc": ["U1", "U2", "U3", "U4", "U5"], "tier": ["B", "B", "D", "B", "B"]}
    )
    inspections = pl.DataFrame(
        {
            "round_id": [None, None, None, None, None, "2026Q1"],
            "uscc": ["U1", "U2", "U2", "U3", "U4", "U5"],
            "inspected_on": [
                date(2026, 11, 2),  # U1: 60 days before the window: too soon
                date(2026, 3, 1),  # U2: twice in the last year (2 = the cap)
                date(2026, 5, 1),
                date(2026, 12, 1),  # U3: too soon, but tier D is exempt
                date(2026, 12, 10),  # U4: too soon, but its finding is open
                date(2026, 2, 1),  # U5: long ago
            ],
        }
    )
    params = round_params()  # defaults: 180 days, 2 a year, D and open findings exempt
    open_ = pl.DataFrame({"uscc": ["U4"]})
    result = eligible_pool(firms, tiers, inspections, params, open_findings=open_)
    assert dict(result.excluded.iter_rows()) == {"U1": "min_interval", "U2": "yearly_cap"}
    assert result.pool.get_column("uscc").to_list() == ["U3", "U4", "U5"]
    assert result.excluded_by_reason() == {"min_interval": 1, "yearly_cap": 1}
    strict = params.with_overrides(frequency={"exempt_tiers": [], "exempt_open_findings": False})
    excluded = dict(
        eligible_pool(firms, tiers, inspections, strict, open_findings=open_).excluded.iter_rows()
    )
    assert excluded == {"U1": "min_interval", "U2": "yearly_cap", "U3": "min_interval",
                        "U4": "min_interval"}  # fmt: skip


def test_a_firm_drawn_in_an_overlapping_published_round_is_not_drawn_again() -> None:
    planned = pl.DataFrame(
        {
            "round_id": ["2027-02", "2027Q2", "2026Q3"],
            "uscc": ["U1", "U4", "U5"],
            "inspection_date": [date(2027, 2, 10), date(2027, 4, 8), date(2026, 8, 1)],
            "window_start": [date(2027, 2, 1), date(2027, 4, 1), date(2026, 7, 1)],
            "window_end": [date(2027, 2, 28), date(2027, 6, 30), date(2026, 9, 30)],
        },
        schema=PLANNED_SCHEMA,
    )
    params = round_params(frequency={"min_interval_days": None, "max_per_year": 1})
    result = eligible_pool(FIRMS, TIERS, INSPECTIONS.head(0), params, planned=planned)
    excluded = dict(result.excluded.iter_rows())
    assert excluded["U1"] == "overlapping_round"  # 2027-02 lies inside 2027Q1
    assert "U4" not in excluded  # 2027Q2 does not overlap, and is after the window
    assert excluded["U5"] == "yearly_cap"  # a planned inspection counts towards the cap


def test_a_planned_inspection_reported_in_its_own_round_counts_once() -> None:
    """The other rounds' plans count until their round reports the firm: a report of the same
    round replaces the plan (one inspection), a report of another round does not."""
    planned = pl.DataFrame(
        {
            "round_id": ["2026Q3", "2026Q3"],
            "uscc": ["U1", "U5"],
            "inspection_date": [date(2026, 8, 3), date(2026, 8, 4)],
            "window_start": [date(2026, 7, 1)] * 2,
            "window_end": [date(2026, 9, 30)] * 2,
        },
        schema=PLANNED_SCHEMA,
    )
    reported = pl.DataFrame(
        {
            "round_id": ["2026Q3", "2026Q2", None],
            "uscc": ["U1", "U5", "U1"],
            "inspected_on": [date(2026, 8, 1), date(2026, 5, 6), date(2025, 2, 1)],
        }
    )
    params = round_params(frequency={"min_interval_days": None, "max_per_year": 2})
    excluded = dict(
        eligible_pool(FIRMS, TIERS, reported, params, planned=planned).excluded.iter_rows()
    )
    assert "U1" not in excluded  # planned and reported in 2026Q3: one inspection this year
    assert excluded["U5"] == "yearly_cap"  # 2026Q2's report and 2026Q3's plan: two


def test_the_scope_keeps_only_the_rounds_districts_and_firm_types() -> None:
    firms = FIRMS.with_columns(
        district=pl.Series(["青浦区", "青浦区", "黄浦区", "青浦区", None]),
        firm_type=pl.Series(["design", "design", "design", "testing", "design"]),
    )
    params = round_params(office="青浦", scope={"firm_types": ["设计"]}, frequency=NO_LIMITS)
    result = eligible_pool(firms, TIERS, INSPECTIONS, params)
    assert result.in_scope == 2  # U1, U2 (U2 inactive); U4 is testing, U3/U5 elsewhere
    assert result.pool.get_column("uscc").to_list() == ["U1"]


def test_open_findings_are_the_last_inspections_problem_or_an_unmet_correction() -> None:
    outcomes = pl.DataFrame(
        {
            "uscc": ["U1", "U1", "U2", "U3"],
            "inspected_on": [
                date(2026, 1, 1),
                date(2026, 6, 1),
                date(2026, 6, 1),
                date(2027, 2, 1),
            ],
            "result": ["发现问题", "未发现问题", "发现问题", "发现问题"],
            "problem_count": [2, 0, 1, 1],
        }
    )
    notices = pl.DataFrame(
        {
            "uscc": ["U4", "U5"],
            "issued_on": [date(2026, 9, 1), date(2026, 9, 1)],
            "rectified_on": [None, date(2026, 10, 1)],
        },
        schema={"uscc": pl.Utf8, "issued_on": pl.Date, "rectified_on": pl.Date},
    )
    found = open_findings(outcomes, notices, date(2026, 12, 31), "未发现问题")
    assert found.get_column("uscc").to_list() == ["U2", "U4"]  # U3's is after the date


def test_inspections_on_the_latest_day_that_disagree_leave_a_finding_open_in_any_order() -> None:
    """Two inspections of one firm on its latest date, one clean and one with a problem: the
    finding is open, whichever row comes first (no tie left to a sort's whim)."""
    outcomes = pl.DataFrame(
        {
            "uscc": ["U1"] * 3 + ["U2"] * 2,
            "inspected_on": [date(2026, 1, 1)] + [date(2026, 6, 1)] * 4,
            "result": ["发现问题", "未发现问题", "发现问题", "未发现问题", "未发现问题"],
            "problem_count": [1, 0, 1, 0, 0],
        }
    )
    notices = pl.DataFrame(schema={"uscc": pl.Utf8, "issued_on": pl.Date, "rectified_on": pl.Date})
    for seed in range(20):
        shuffled = outcomes.sample(fraction=1.0, shuffle=True, seed=seed)
        found = open_findings(shuffled, notices, date(2026, 12, 31), "未发现问题")
        assert found.get_column("uscc").to_list() == ["U1"]


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


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([None, "2026Q3", "2026Q4", "2025Q1"]),
            st.sampled_from(["U1", "U2", "U3", "U4", "U5"]),
            st.dates(date(2024, 1, 1), date(2027, 4, 30)),
            st.sampled_from(["合格", "发现问题"]),
            st.sampled_from([None, 0, 2]),
        ),
        max_size=40,
    ),
    planned_rows=st.lists(
        st.tuples(
            st.sampled_from(["2026Q3", "2026Q4", "2027Q1"]),
            st.sampled_from(["U1", "U2", "U3", "U4", "U5"]),
            st.dates(date(2026, 7, 1), date(2026, 12, 31)),
        ),
        max_size=8,
    ),
    exclude=st.sampled_from([None, 30, 400]),
    interval=st.sampled_from([None, 90, 500]),
    per_year=st.sampled_from([None, 1, 2]),
)
@example(
    rows=[(None, "U1", date(2026, 6, 1), "合格", 0)],
    planned_rows=[],
    exclude=None,
    interval=None,
    per_year=1,
)  # counted by the yearly cap only
@example(
    rows=[("2026Q3", "U1", date(2025, 12, 1), "合格", 0)],
    planned_rows=[("2026Q3", "U1", date(2026, 8, 1))],
    exclude=None,
    interval=None,
    per_year=1,
)  # an early report of a planned round: its planned inspection is not counted again
def test_the_inspections_before_history_since_change_nothing_unless_of_a_planned_round(
    rows: list, planned_rows: list, exclude: int | None, interval: int | None, per_year: int | None
) -> None:
    """What `warehouse.sampling.gather_round` reads of a national history: the inspections on
    or after `history_since` and those of the planned rounds for the pool, each
    firm's latest on or before the tier date for the open findings, each round's first for the
    previous round — the same pool, previous round and open findings as every inspection
    gives."""
    params = round_params(
        eligibility={"exclude_inspected_within_days": exclude},
        frequency={"min_interval_days": interval, "max_per_year": per_year},
    )
    inspections = pl.DataFrame(
        rows,
        schema={"round_id": pl.Utf8, "uscc": pl.Utf8, "inspected_on": pl.Date,
                "result": pl.Utf8, "problem_count": pl.Int64},
        orient="row",
    )  # fmt: skip
    planned = pl.DataFrame(
        [(r, u, d, date(2026, 7, 1), date(2026, 12, 31)) for r, u, d in planned_rows],
        schema=PLANNED_SCHEMA,
        orient="row",
    )
    read = inspections.filter(
        (pl.col("inspected_on") >= history_since(params))
        | pl.col("round_id").is_in(planned.get_column("round_id").implode())
    )
    first_reported = (
        inspections.drop_nulls("round_id").group_by("round_id").agg(pl.col("inspected_on").min())
    )
    as_of = params.tier_as_of
    latest = inspections.filter(pl.col("inspected_on") <= as_of).filter(
        pl.col("inspected_on") == pl.col("inspected_on").max().over("uscc")
    )
    notices = pl.DataFrame(schema={"uscc": pl.Utf8, "issued_on": pl.Date, "rectified_on": pl.Date})
    findings = open_findings(inspections, notices, as_of, "合格")
    assert open_findings(latest, notices, as_of, "合格").equals(findings)

    def pool(given: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        result = eligible_pool(FIRMS, TIERS, given, params, planned=planned, open_findings=findings)
        return result.pool, result.excluded

    full, narrow = pool(inspections), pool(read)
    assert full[0].equals(narrow[0]) and full[1].equals(narrow[1])
    rounds = pl.DataFrame(
        {"round_id": ["2026Q3"], "window_start": [date(2026, 7, 1)]},
        schema={"round_id": pl.Utf8, "window_start": pl.Date},
    )
    assert previous_round(rounds, first_reported, params) == previous_round(
        rounds, inspections, params
    )
