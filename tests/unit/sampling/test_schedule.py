"""Inspection dates for a round: working days only, the cap a ceiling (spread over the
window), one district per team and day where possible, other rounds' bookings taken."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.sampling.calendar import working_days
from models.sampling.schedule import ScheduleInfeasibleError, schedule_inspections
from models.workdays import working_day_calendar

from .schedule_reference import reference_schedule

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
    bookings: pl.DataFrame | None = None,
) -> pl.DataFrame:
    if firms is None:
        firms = _firms([(f, "黄浦区") for f in assignments["uscc"].unique().sort()])
    return schedule_inspections(
        assignments,
        firms,
        days=list(working_days(start, end).days),
        daily_cap_per_team=cap,
        rng=np.random.default_rng(seed),
        bookings=bookings,
    )


WORKING_DAYS = set(
    working_day_calendar(START, END).filter("is_working_day").get_column("day").to_list()
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
    assert out.select("uscc", "team", "district").sort("uscc").rows() == [
        ("F1", "I2、I3", "徐汇区"),
        ("F2", "I1、I9", "静安区"),
    ]
    # Spread: two firms never share a day while the window has empty days.
    assert out["inspection_date"].n_unique() == 2


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


def test_the_cap_is_a_ceiling_the_round_spreads_over_the_window() -> None:
    # Six firms of one team, ten working days, cap 2: one inspection a day, never two.
    firm_ids = [f"F{i}" for i in range(6)]
    out = _schedule(_team_of(firm_ids, ("I1", "I2")), cap=2)
    assert out["inspection_date"].n_unique() == 6
    # 24 firms of 12 disjoint teams over 10 days: 2 or 3 a day, every day used.
    rows = [(f"G{t:02d}{k}", f"I{t:02d}{m}") for t in range(12) for k in "ab" for m in "xy"]
    out = _schedule(_assignments(rows), cap=3)
    per_day = Counter(out["inspection_date"].to_list())
    assert len(per_day) == 10 and set(per_day.values()) <= {2, 3}


def test_a_team_doubles_up_only_within_one_district() -> None:
    # Six firms in three working days, cap 2: the team must do two a day; four in 浦东新区
    # and two in 闵行区 fit as 浦东+浦东, 浦东+浦东, 闵行+闵行 — never two districts a day.
    firm_ids = [f"F{i}" for i in range(6)]
    districts = ["浦东新区", "闵行区", "浦东新区", "闵行区", "浦东新区", "浦东新区"]
    firms = _firms(list(zip(firm_ids, districts, strict=True)))
    for seed in range(10):
        out = _schedule(
            _team_of(firm_ids, ("I1", "I2")), firms, end=date(2026, 3, 4), cap=2, seed=seed
        )
        per_day = out.group_by("inspection_date").agg(pl.col("district").n_unique())
        assert per_day["district"].to_list() == [1, 1, 1], seed


def test_other_rounds_bookings_are_taken() -> None:
    # I1 is booked at the cap on every day but the last by another published round.
    days = list(working_days(START, END).days)
    bookings = pl.DataFrame(
        {"inspector_id": ["I1"] * 9, "day": days[:9], "booked": [2] * 9},
        schema={"inspector_id": pl.Utf8, "day": pl.Date, "booked": pl.Int64},
    )
    out = _schedule(_team_of(["F1", "F2"], ("I1", "I2")), cap=2, bookings=bookings)
    assert out["inspection_date"].to_list() == [days[9], days[9]]
    with pytest.raises(ScheduleInfeasibleError, match="booked by other rounds"):
        _schedule(_team_of(["F1", "F2", "F3"], ("I1", "I2")), cap=2, bookings=bookings)


def test_too_few_working_days_raises_with_the_exact_shortfall() -> None:
    # 2026-03-02..04 is three working days; I0001 has 12 visits, cap 3 → 9.
    assignments = _assignments([(f"F{i:02d}", "I0001") for i in range(12)] + [("F00", "I0002")])
    with pytest.raises(ScheduleInfeasibleError) as caught:
        _schedule(assignments, start=START, end=date(2026, 3, 4), cap=3)
    assert str(caught.value) == (
        "检查人员 I0001 需检查 12 家单位，窗口内 3 个工作日 × 每日上限 3，可用 9 / "
        "inspector I0001 needs 12 visits, 3 working days × daily cap 3: 9 free"
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


def _bookings(
    draw: st.DrawFn, n_inspectors: int, days: list[date], cap: int, most: int
) -> pl.DataFrame:
    """Other rounds' bookings: up to `most` (inspector, day) pairs, each within the cap."""
    booked = draw(
        st.lists(
            st.tuples(st.integers(0, n_inspectors - 1), st.sampled_from(days), st.integers(1, cap)),
            max_size=most,
            unique_by=lambda b: (b[0], b[1]),
        )
    )
    return pl.DataFrame(
        [(f"I{i}", d, n) for i, d, n in booked],
        schema={"inspector_id": pl.Utf8, "day": pl.Date, "booked": pl.Int64},
        orient="row",
    )


@st.composite
def _rounds(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, int, int, pl.DataFrame]:
    n_inspectors = draw(st.integers(2, 6))
    n_firms = draw(st.integers(0, 15))
    rows = []
    for f in range(n_firms):
        team = draw(st.lists(st.integers(0, n_inspectors - 1), min_size=2, max_size=3, unique=True))
        rows += [(f"F{f:02d}", f"I{i}") for i in team]
    districts = [(f"F{f:02d}", draw(st.sampled_from(["A区", "B区", None]))) for f in range(n_firms)]
    cap = draw(st.integers(1, 3))
    days = sorted(WORKING_DAYS)
    bookings = _bookings(draw, n_inspectors, days, cap, 8)
    return _assignments(rows), _firms(districts), cap, draw(st.integers(0, 2**32 - 1)), bookings


@settings(max_examples=150, deadline=None)
@given(_rounds())
def test_every_schedule_keeps_every_rule_or_fails_with_a_shortfall(
    case: tuple[pl.DataFrame, pl.DataFrame, int, int, pl.DataFrame],
) -> None:
    assignments, firms, cap, seed, bookings = case
    booked = Counter({(i, d): n for i, d, n in bookings.iter_rows()})
    try:
        out = _schedule(assignments, firms, cap=cap, seed=seed, bookings=bookings)
    except ScheduleInfeasibleError as error:
        assert error.shortfalls
        if error.shortfalls[0]["kind"] == "inspector":
            for s in error.shortfalls:
                free = len(WORKING_DAYS) * cap - sum(
                    n for (i, _), n in booked.items() if i == s["inspector_id"]
                )
                assert s["visits"] > free
        return
    assert sorted(out["uscc"].to_list()) == sorted(assignments["uscc"].unique().to_list())
    assert set(out["inspection_date"].to_list()) <= WORKING_DAYS
    assert all(n + booked[key] <= cap for key, n in _inspector_days(out).items())
    expected_teams = dict(
        assignments.group_by("uscc").agg(pl.col("inspector_id").sort().str.join("、")).iter_rows()
    )
    assert dict(out.select("uscc", "team").iter_rows()) == expected_teams
    assert out.equals(out.sort("inspection_date", "team", "uscc"))


@st.composite
def _crowded_rounds(draw: st.DrawFn) -> dict:
    """Rounds that stress every branch of the greedy: overlapping teams of one to three,
    several districts and none, a few working days (firms doubled up, units placed firm by
    firm, greedy failures), other rounds' bookings."""
    n_inspectors = draw(st.integers(1, 8))
    n_firms = draw(st.integers(0, 40))
    rows = []
    for f in range(n_firms):
        size = draw(st.integers(1, min(3, n_inspectors)))
        team = draw(st.lists(st.integers(0, n_inspectors - 1), min_size=size, max_size=size,
                             unique=True))  # fmt: skip
        rows += [(f"F{f:02d}", f"I{i}") for i in team]
    districts = [
        (f"F{f:02d}", draw(st.sampled_from(["A区", "B区", "C区", None]))) for f in range(n_firms)
    ]
    days = sorted(WORKING_DAYS)
    start = draw(st.integers(0, len(days) - 1))
    window = days[start : start + draw(st.integers(1, len(days)))]
    cap = draw(st.integers(1, 4))
    bookings = _bookings(draw, n_inspectors, days, cap, 12)
    return {
        "assignments": _assignments(rows),
        "firms": _firms(districts),
        "days": window,
        "daily_cap_per_team": cap,
        "bookings": bookings,
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


@settings(max_examples=400, deadline=None)
@given(_crowded_rounds())
def test_the_schedule_equals_the_reference_date_for_date_and_error_for_error(case: dict) -> None:
    """The schedule keeps its state as arrays (`_Calendar`, `_Team`) for speed at a national
    scale; it must give exactly what the plain loop it replaced gave (`schedule_reference`),
    or fail with the same message — a published plan re-runs to the same bytes."""
    seed = case.pop("seed")
    results = []
    for schedule in (schedule_inspections, reference_schedule):
        try:
            results.append(schedule(**case, rng=np.random.default_rng(seed)))
        except ScheduleInfeasibleError as error:
            results.append((str(error), error.shortfalls))
    new, old = results
    if isinstance(old, pl.DataFrame):
        assert isinstance(new, pl.DataFrame) and new.equals(old)
    else:
        assert new == old
