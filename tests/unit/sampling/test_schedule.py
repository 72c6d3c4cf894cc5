"""Inspection dates for a round."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.sampling.schedule import ScheduleInfeasibleError, schedule_inspections
from models.workdays import working_day_calendar

# Monday 2026-03-02 .. Friday 2026-03-13: ten working days, no holiday.
START, END = date(2026, 3, 2), date(2026, 3, 13)


def _assignments(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"uscc": pl.Utf8, "inspector_id": pl.Utf8}, orient="row")


def _firms(rows: list[tuple[str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"uscc": pl.Utf8, "district": pl.Utf8}, orient="row")


def _team_of(firm_ids: list[str], team: tuple[str, ...]) -> pl.DataFrame:
    return _assignments([(f, i) for f in firm_ids for i in team])


def _schedule(
    assignments: pl.DataFrame,
    firms: pl.DataFrame | None = None,
    *,
    start: date = START,
    end: date = END,
    cap: int = 2,
    seed: int = 7,
) -> pl.DataFrame:
    if firms is None:
        firms = _firms([(f, "黄浦区") for f in assignments["uscc"].unique().sort()])
    return schedule_inspections(
        assignments,
        firms,
        window_start=start,
        window_end=end,
        daily_cap_per_team=cap,
        rng=np.random.default_rng(seed),
    )


def _inspector_days(schedule: pl.DataFrame) -> Counter[tuple[str, date]]:
    """Inspections per (inspector, day), read back from the published team column."""
    return Counter(
        (inspector, day)
        for day, team in schedule.select("inspection_date", "team").iter_rows()
        for inspector in team.split("、")
    )


def test_spring_festival_window_uses_make_up_days_and_skips_the_holiday() -> None:
    # 2024: holiday 02-10..02-17; Sundays 02-04 and 02-18 are make-up working days (调休).
    firm_ids = [f"F{i}" for i in range(8)]
    out = _schedule(
        _team_of(firm_ids, ("I1", "I2")), start=date(2024, 2, 3), end=date(2024, 2, 19), cap=1
    )
    expected = [
        date(2024, 2, 4),
        date(2024, 2, 5),
        date(2024, 2, 6),
        date(2024, 2, 7),
        date(2024, 2, 8),
        date(2024, 2, 9),
        date(2024, 2, 18),
        date(2024, 2, 19),
    ]
    assert out["inspection_date"].to_list() == expected


def test_output_columns_team_label_district_and_order() -> None:
    assignments = _assignments([("F2", "I9"), ("F2", "I1"), ("F1", "I3"), ("F1", "I2")])
    firms = _firms([("F1", "徐汇区"), ("F2", "静安区")])
    out = _schedule(assignments, firms, cap=1)
    assert out.columns == ["uscc", "inspection_date", "team", "district"]
    assert out.schema["inspection_date"] == pl.Date
    # Disjoint teams with one firm each both start on the first working day; sorted by team.
    assert out.rows() == [("F2", START, "I1、I9", "静安区"), ("F1", START, "I2、I3", "徐汇区")]


def test_empty_assignments_give_an_empty_schedule() -> None:
    out = _schedule(_assignments([]), _firms([]))
    assert out.height == 0
    assert out.columns == ["uscc", "inspection_date", "team", "district"]


def test_same_seed_same_schedule_and_the_seed_matters() -> None:
    firm_ids = [f"F{i:02d}" for i in range(12)]
    assignments = _team_of(firm_ids, ("I1", "I2"))
    firms = _firms([(f, None) for f in firm_ids])  # no district: the random order decides
    first = _schedule(assignments, firms, seed=1)
    assert first.equals(_schedule(assignments.reverse(), firms.reverse(), seed=1))
    others = [_schedule(assignments, firms, seed=s) for s in range(2, 6)]
    assert any(not first.equals(other) for other in others)


def test_a_teams_firms_of_one_district_land_on_consecutive_slots() -> None:
    firm_ids = [f"F{i}" for i in range(6)]
    districts = ["浦东新区", "闵行区", "浦东新区", "闵行区", "浦东新区", "闵行区"]
    out = _schedule(
        _team_of(firm_ids, ("I1", "I2")), _firms(list(zip(firm_ids, districts, strict=True))), cap=2
    )
    # Two districts of three firms, two slots a day: 3 days, each district in one run.
    assert (
        out["inspection_date"].to_list()
        == [START] * 2 + [date(2026, 3, 3)] * 2 + [date(2026, 3, 4)] * 2
    )
    dates_by_district = dict(
        out.group_by("district").agg(pl.col("inspection_date").sort()).iter_rows()
    )
    # 浦 sorts before 闵, so 浦东新区 fills the first three slots and 闵行区 the last three.
    assert dates_by_district == {
        "浦东新区": [START, START, date(2026, 3, 3)],
        "闵行区": [date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 4)],
    }


def test_too_few_working_days_raises_with_the_exact_shortfall() -> None:
    # 2026-03-02..04 is three working days; I0001 has 12 visits, cap 3 → 9.
    assignments = _assignments([(f"F{i:02d}", "I0001") for i in range(12)] + [("F00", "I0002")])
    with pytest.raises(ScheduleInfeasibleError) as caught:
        _schedule(assignments, start=START, end=date(2026, 3, 4), cap=3)
    assert str(caught.value) == (
        "检查人员 I0001 需检查 12 家单位，窗口内 3 个工作日 × 每日上限 3 = 9 / "
        "inspector I0001 needs 12 visits, 3 working days × daily cap 3 = 9"
    )
    assert caught.value.shortfalls == [
        {
            "kind": "inspector",
            "inspector_id": "I0001",
            "visits": 12,
            "working_days": 3,
            "daily_cap": 3,
            "capacity": 9,
        }
    ]


def test_overlapping_teams_the_greedy_cannot_fit_fail_with_a_message() -> None:
    # Teams AB, BC, CA with cap 1 need three days; each inspector has only two visits.
    assignments = _assignments(
        [("F1", "A"), ("F1", "B"), ("F2", "B"), ("F2", "C"), ("F3", "C"), ("F3", "A")]
    )
    with pytest.raises(ScheduleInfeasibleError, match="greedy schedule failed") as caught:
        _schedule(assignments, start=START, end=date(2026, 3, 3), cap=1)
    assert caught.value.shortfalls[0]["kind"] == "firm"


def test_invalid_cap_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _schedule(_assignments([("F1", "I1")]), cap=0)


@st.composite
def _rounds(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    n_inspectors = draw(st.integers(2, 6))
    n_firms = draw(st.integers(0, 15))
    rows = []
    for f in range(n_firms):
        team = draw(st.lists(st.integers(0, n_inspectors - 1), min_size=2, max_size=3, unique=True))
        rows += [(f"F{f:02d}", f"I{i}") for i in team]
    districts = [(f"F{f:02d}", draw(st.sampled_from(["A区", "B区", None]))) for f in range(n_firms)]
    return (
        _assignments(rows),
        _firms(districts),
        draw(st.integers(1, 3)),
        draw(st.integers(0, 2**32 - 1)),
    )


WORKING_DAYS = set(
    working_day_calendar(START, END).filter("is_working_day").get_column("day").to_list()
)


@settings(max_examples=150, deadline=None)
@given(_rounds())
def test_every_schedule_keeps_every_rule_or_fails_with_a_shortfall(
    case: tuple[pl.DataFrame, pl.DataFrame, int, int],
) -> None:
    assignments, firms, cap, seed = case
    try:
        out = _schedule(assignments, firms, cap=cap, seed=seed)
    except ScheduleInfeasibleError as error:
        assert error.shortfalls
        visits = Counter(assignments["inspector_id"].to_list())
        if error.shortfalls[0]["kind"] == "inspector":
            assert all(s["visits"] > len(WORKING_DAYS) * cap for s in error.shortfalls)
        else:  # the greedy may only give up when the check passed and teams overlap
            assert max(visits.values()) <= len(WORKING_DAYS) * cap
            teams = assignments.group_by("uscc").agg(pl.col("inspector_id").sort())
            in_teams = teams.unique("inspector_id").explode("inspector_id")["inspector_id"]
            assert in_teams.is_duplicated().any()
        return
    assert sorted(out["uscc"].to_list()) == sorted(assignments["uscc"].unique().to_list())
    assert set(out["inspection_date"].to_list()) <= WORKING_DAYS
    assert all(n <= cap for n in _inspector_days(out).values())
    expected_teams = dict(
        assignments.group_by("uscc").agg(pl.col("inspector_id").sort().str.join("、")).iter_rows()
    )
    assert dict(out.select("uscc", "team").iter_rows()) == expected_teams
    assert out.equals(out.sort("inspection_date", "team", "uscc"))
