"""The rounds' feedback reads only the outcomes that name a drawn round: its tables and its
count of unplanned outcomes are exactly those of the feedback over every outcome."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.sampling.feedback import (
    ROUND_OUTCOME_SCHEMA,
    ROUND_RESULT_SCHEMA,
    round_outcomes,
    round_results,
    unplanned_outcomes,
)
from models.sampling.round import ASSIGNMENT_ROWS_SCHEMA
from warehouse.catalogue import schema_of
from warehouse.connection import query
from warehouse.round_feedback import update_feedback
from warehouse.sampling import ensure_round_tables
from warehouse.tables import insert

CLEAN = "未发现问题"
ROUNDS = ["2026Q1", "2026Q2", "2026Q3", None]
FIRMS = [f"U{i}" for i in range(6)] + [None]


@st.composite
def _worlds(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    drawn = draw(
        st.lists(st.tuples(st.sampled_from(ROUNDS[:2]), st.sampled_from(FIRMS[:-1])),
                 unique=True, max_size=8)
    )  # fmt: skip
    draws = pl.DataFrame(
        {
            "round_id": [r for r, _ in drawn],
            "uscc": [u for _, u in drawn],
            "firm_type": ["design"] * len(drawn),
            "tier": [draw(st.sampled_from("ABCD")) for _ in drawn],
            "stratum": ["x"] * len(drawn),
            "is_control": [draw(st.booleans()) for _ in drawn],
            "draw_order": list(range(1, len(drawn) + 1)),
        },
        schema=schema_of("sampling_draws"),
    )
    day = date(2026, 3, 2)
    schedule = pl.DataFrame(
        {
            "round_id": [r for r, _ in drawn],
            "uscc": [u for _, u in drawn],
            "inspector_id": ["I1"] * len(drawn),
            "inspection_date": [day + timedelta(days=i) for i in range(len(drawn))],
            "team": ["I1"] * len(drawn),
        },
        schema=ASSIGNMENT_ROWS_SCHEMA,
    )
    n = draw(st.integers(0, 25))
    outcomes = pl.DataFrame(
        {
            "inspection_id": [f"J{draw(st.integers(0, 30))}" for _ in range(n)],
            "round_id": [draw(st.sampled_from(ROUNDS)) for _ in range(n)],
            "uscc": [draw(st.sampled_from(FIRMS)) for _ in range(n)],
            "inspected_on": [draw(st.none() | st.dates(day, day + timedelta(9))) for _ in range(n)],
            "result": [draw(st.sampled_from([CLEAN, "发现问题", None])) for _ in range(n)],
            "problem_count": [draw(st.none() | st.integers(0, 3)) for _ in range(n)],
            "collected_on": [day] * n,
        },
        schema={"inspection_id": pl.Utf8, "round_id": pl.Utf8, "uscc": pl.Utf8,
                "inspected_on": pl.Date, "result": pl.Utf8, "problem_count": pl.Int64,
                "collected_on": pl.Date},
    )  # fmt: skip
    return draws, schedule, outcomes


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=_worlds())
def test_the_feedback_of_the_drawn_rounds_outcomes_is_the_feedback_of_all(
    world: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    draws, schedule, outcomes = world
    path = tmp_path / "w.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        ensure_round_tables(con)
        insert(con, "sampling_draws", draws, schema_of("sampling_draws"))
        insert(con, "sampling_assignments", schedule, ASSIGNMENT_ROWS_SCHEMA)
        con.execute(
            "CREATE TABLE inspection_outcomes (inspection_id VARCHAR, round_id VARCHAR, "
            "uscc VARCHAR, inspected_on DATE, result VARCHAR, problem_count BIGINT, "
            "collected_on DATE)"
        )
        insert(con, "inspection_outcomes", outcomes, outcomes.schema)
        got = update_feedback(con, CLEAN)
        stored = query(con, "SELECT * FROM round_outcomes")
    finally:
        con.close()
    expected = round_outcomes(draws, schedule, outcomes, CLEAN)
    assert got.per_firm.equals(expected)
    assert stored.cast(ROUND_OUTCOME_SCHEMA).equals(expected)
    assert got.summary.cast(ROUND_RESULT_SCHEMA).equals(round_results(expected))
    assert got.unplanned == unplanned_outcomes(draws, outcomes).height
