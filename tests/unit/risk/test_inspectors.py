"""Inspector strictness: partial pooling shrinks small samples, and finds real effects."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from fixtures.risk_history import synthetic_outcomes

from models.risk.history import OUTCOME_SCHEMA
from models.risk.inspectors import estimate_strictness, expected_problem


def outcomes(per_inspector: dict[str, tuple[int, int]]) -> pl.DataFrame:
    rows = []
    for who, (n, k) in per_inspector.items():
        day = date(2024, 1, 1)
        rows += [
            {"entity_id": f"{who}{i}", "inspected_on": day, "known_on": day,
             "problem": i < k, "inspectors": [who], "score": None}
            for i in range(n)
        ]  # fmt: skip
    return pl.DataFrame(rows, schema=OUTCOME_SCHEMA)


def test_few_inspections_are_shrunk_more_than_many():
    s = estimate_strictness(outcomes({"big": (400, 200), "small": (4, 2), "base": (400, 40)}), 5)
    table = {r["inspector_id"]: r for r in s.table.iter_rows(named=True)}
    # same raw rate (50 %), but the small sample is pulled much closer to the population
    assert table["big"]["raw_rate"] == table["small"]["raw_rate"] == 0.5
    assert table["big"]["pooled_rate"] > table["small"]["pooled_rate"] > s.population_rate
    assert (
        table["base"]["strictness"] < 0 < table["small"]["strictness"] < table["big"]["strictness"]
    )
    assert 0 < s.variance_explained < 1


def test_no_between_inspector_variance_means_no_strictness():
    s = estimate_strictness(outcomes({"a": (100, 10), "b": (100, 10)}), 5)
    assert s.between_variance == 0 and s.variance_explained == 0
    assert s.table["strictness"].to_list() == [0.0, 0.0]


def test_expected_problem_of_a_team_and_of_strangers():
    s = estimate_strictness(outcomes({"big": (400, 200), "base": (400, 40)}), 5)
    frame = pl.DataFrame({"team": [["big"], ["base"], ["nobody"], []]})
    p = frame.select(expected_problem(pl.col("team"), s)).to_series().to_list()
    assert p[0] > p[2] > p[1]
    assert p[2] == pytest.approx(s.population_rate) == pytest.approx(p[3])


def test_strict_inspectors_are_found_in_synthetic_data():
    s = estimate_strictness(synthetic_outcomes(), 5)
    assert s.variance_explained > 0.01
    # pooled rates are between the raw rates and the population rate
    t = s.table
    lo = pl.min_horizontal("raw_rate", pl.lit(s.population_rate)) - 1e-12
    hi = pl.max_horizontal("raw_rate", pl.lit(s.population_rate)) + 1e-12
    assert t.select(pl.col("pooled_rate").is_between(lo, hi).all()).item()
