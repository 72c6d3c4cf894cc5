"""What a round reads of the inspection history (`warehouse.sampling`): each firm's latest
inspections for the open findings, as `models.sampling.eligibility.open_findings` picks them."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse.sampling import latest_outcomes


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["U1", "U2", "U3"]),
            st.dates(date(2026, 1, 1), date(2026, 3, 31)),
            st.sampled_from(["合格", "发现问题"]),
            st.sampled_from([None, 0, 3]),
        ),
        max_size=25,
    ),
    st.dates(date(2025, 12, 1), date(2026, 4, 30)),
)
def test_latest_outcomes_are_each_firms_inspections_on_its_latest_day(
    rows: list, as_of: date
) -> None:
    frame = pl.DataFrame(
        rows,
        schema={"uscc": pl.Utf8, "inspected_on": pl.Date, "result": pl.Utf8,
                "problem_count": pl.Int64},
        orient="row",
    )  # fmt: skip
    expected = frame.filter(pl.col("inspected_on") <= as_of).filter(
        pl.col("inspected_on") == pl.col("inspected_on").max().over("uscc")
    )
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE inspection_outcomes (uscc VARCHAR, inspected_on DATE, result VARCHAR, "
        "problem_count BIGINT, round_id VARCHAR)"
    )
    for row in rows:
        con.execute("INSERT INTO inspection_outcomes VALUES (?, ?, ?, ?, NULL)", list(row))
    got = latest_outcomes(con, as_of)
    order = ["uscc", "inspected_on", "result", "problem_count"]
    assert (
        got.select(order)
        .sort(order, nulls_last=True)
        .equals(expected.select(order).sort(order, nulls_last=True))
    )
