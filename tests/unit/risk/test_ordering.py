"""Risk ordering inside strata: same firms, same slots, riskiest first."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from models.risk.ordering import order_within_strata

D1, D2, D3 = date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 3)


def plan() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "round_id": ["R"] * 7,
            "stratum": ["B"] * 6 + ["D"],
            "team": ["t1"] * 6 + ["t1"],
            "uscc": ["f1", "f1", "f2", "f2", "f3", "f3", "f4"],  # two inspector rows per firm
            "inspector_id": ["i1", "i2"] * 3 + ["i1"],
            "inspection_date": [D3, D3, D1, D1, D2, D2, D1],
        }
    )


def test_riskiest_firm_of_a_stratum_gets_its_earliest_date():
    risk = pl.DataFrame(
        {"entity_id": ["f1", "f2", "f3", "f4"], "probability": [0.9, 0.1, 0.5, 0.0]}
    )
    out = order_within_strata(plan(), risk)
    dates = dict(out.select("uscc", "inspection_date").unique().iter_rows())
    assert dates == {"f1": D1, "f3": D2, "f2": D3, "f4": D1}  # f4 alone in its stratum
    # same rows, inspectors untouched, original date kept
    assert out.height == 7
    assert out.select("uscc", "inspector_id").equals(plan().select("uscc", "inspector_id"))
    assert out.filter(pl.col("uscc") == "f1")["planned_date"].to_list() == [D3, D3]


def test_firms_without_a_score_go_last_and_slots_are_kept():
    risk = pl.DataFrame({"entity_id": ["f2"], "probability": [0.2]})
    out = order_within_strata(plan(), risk)
    dates = dict(out.select("uscc", "inspection_date").unique().iter_rows())
    assert dates["f2"] == D1 and dates["f1"] == D2 and dates["f3"] == D3  # ties: firm id order
    per_group = lambda f: sorted(f.filter(pl.col("stratum") == "B")["inspection_date"].to_list())  # noqa: E731
    assert per_group(out) == per_group(plan())


def test_a_firm_with_two_dates_in_one_group_is_refused():
    bad = plan().with_columns(
        inspection_date=pl.when(pl.col("inspector_id") == "i2")
        .then(D2)
        .otherwise("inspection_date")
    )
    with pytest.raises(ValueError, match="several inspection_date"):
        order_within_strata(bad, pl.DataFrame({"entity_id": [], "probability": []}))
