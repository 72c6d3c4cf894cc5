"""Population stability: has the distribution of scores, tiers or a feature shifted?

What belongs here: the population stability index (PSI = Σ (a − e) · ln(a / e) over bins)
for numeric values (bins at the reference's quantiles) and categories, and the month-over-
month PSI table of many columns. PSI > 0.25 is the usual "significant shift" flag
(configurable). What does not: where the snapshots come from.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import polars as pl

EPSILON = 1e-4
"""Floor of a bin's share, so an empty bin gives a large but finite PSI."""

PSI_SCHEMA = pl.Schema(
    {
        "subject": pl.Utf8,  # score | tier | risk | a feature name
        "kind": pl.Utf8,  # numeric | categorical
        "as_of": pl.Date,
        "previous_as_of": pl.Date,
        "psi": pl.Float64,
        "entities": pl.Int64,  # rows in the later snapshot
        "flagged": pl.Boolean,
    }
)


def _psi_from_shares(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.maximum(expected, EPSILON)
    a = np.maximum(actual, EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_numeric(
    expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray, bins: int
) -> float:
    """Bins at the reference (`expected`) quantiles; nulls/NaN form a bin of their own."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if len(e) == 0 or len(a) == 0:
        return math.nan
    finite = e[~np.isnan(e)]
    edges = (
        np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
        if len(finite)
        else np.array([])
    )

    def shares(values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        counts = np.bincount(
            np.searchsorted(edges, values[~missing], side="right"), minlength=len(edges) + 1
        )
        return np.append(counts, missing.sum()) / len(values)

    return _psi_from_shares(shares(e), shares(a))


def psi_categorical(expected: Sequence[object], actual: Sequence[object]) -> float:
    e = (
        pl.Series(list(expected), dtype=pl.Utf8)
        .fill_null("∅")
        .value_counts(normalize=True, name="e")
    )
    a = pl.Series(list(actual), dtype=pl.Utf8).fill_null("∅").value_counts(normalize=True, name="a")
    if e.is_empty() or a.is_empty():
        return math.nan
    both = e.join(a, on=e.columns[0], how="full", coalesce=True).fill_null(0.0)
    return _psi_from_shares(both["e"].to_numpy(), both["a"].to_numpy())


def psi_month_over_month(
    snapshots: pl.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    *,
    bins: int,
    flag_above: float,
    min_population: int,
) -> pl.DataFrame:
    """PSI of each column between consecutive `as_of` snapshots (the earlier one is the
    reference). One row per column and later snapshot: PSI_SCHEMA. A shift is flagged only
    when both snapshots have at least `min_population` rows: on a handful of firms PSI is
    noise (one firm moving is a 20 % shift)."""
    dates = snapshots["as_of"].unique().sort().to_list()
    rows = []
    for previous, current in itertools.pairwise(dates):
        before = snapshots.filter(pl.col("as_of") == previous)
        after = snapshots.filter(pl.col("as_of") == current)
        enough = min(before.height, after.height) >= min_population
        for column in numeric:
            value = psi_numeric(
                before[column].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                after[column].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                bins,
            )
            rows.append((column, "numeric", current, previous, value, after.height, enough))
        for column in categorical:
            value = psi_categorical(before[column].to_list(), after[column].to_list())
            rows.append((column, "categorical", current, previous, value, after.height, enough))
    names = [*(c for c in PSI_SCHEMA if c != "flagged"), "enough"]
    frame = pl.DataFrame(rows, schema=names, orient="row")
    flagged = ((pl.col("psi") > flag_above) & pl.col("enough")).fill_null(False)
    return frame.with_columns(flagged=flagged).select(list(PSI_SCHEMA)).cast(PSI_SCHEMA)
