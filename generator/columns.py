"""Vectorised column builders shared by the simulation: dates, choices, strings.

What belongs here: small numpy/polars helpers that turn arrays of indices and day numbers
(days since 1970) into columns — never a loop over records. What does not: any knowledge of
firms, documents or files.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

EPOCH = np.datetime64("1970-01-01", "D")


def day_number(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01: the representation of dates inside the simulation."""
    return int((np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D") - EPOCH).astype(int))


def years_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def workdays_after(days: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """`offset` working days (Mon–Fri) after each day; weekends roll forward first."""
    moved = np.busday_offset(days.astype("datetime64[D]"), offset, roll="forward")
    return (moved - EPOCH).astype(np.int64)


def uniform_days(
    rng: np.random.Generator, low: np.ndarray | int, high: np.ndarray | int, n: int
) -> np.ndarray:
    """A uniformly random day in [low, high] (inclusive) for each of n rows."""
    span = np.maximum(np.asarray(high) - np.asarray(low), 0) + 1
    return np.asarray(low) + np.floor(rng.random(n) * span).astype(np.int64)


def choose(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One index per row of a (rows, k) weight matrix (rows need not sum to 1)."""
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    return (rng.random(len(weights))[:, None] > cdf).sum(axis=1)


def pick_within(
    rng: np.random.Generator, groups: Sequence[Sequence], group: np.ndarray
) -> tuple[list, np.ndarray]:
    """A uniformly random member of each row's group: (all members flat, index into them)."""
    flat = [member for g in groups for member in g]
    offset = np.cumsum([0, *(len(g) for g in groups)])[:-1]
    count = np.array([len(g) for g in groups])
    return flat, offset[group] + np.floor(rng.random(len(group)) * count[group]).astype(np.int64)


def words(vocabulary: Sequence[str], index: np.ndarray) -> pl.Series:
    """The vocabulary word at each index."""
    return pl.Series(list(vocabulary), dtype=pl.Utf8).gather(index)


def concat(*parts: pl.Series | str) -> pl.Series:
    """Row-wise string concatenation of series and constant strings."""
    exprs = [pl.lit(p) if isinstance(p, str) else pl.lit(p.cast(pl.Utf8)) for p in parts]
    return pl.select(pl.concat_str(exprs)).to_series()


def where(mask: np.ndarray, yes: pl.Series | str, no: pl.Series | str) -> pl.Series:
    """Row-wise choice between two string series (or constants)."""
    return pl.select(
        pl.when(pl.lit(pl.Series(mask))).then(pl.lit(yes)).otherwise(pl.lit(no))
    ).to_series()


def zfill(numbers: np.ndarray, width: int) -> pl.Series:
    """Numbers as zero-padded text (sequence numbers in ids)."""
    return pl.Series(numbers).cast(pl.Utf8).str.zfill(width)


def dates(days: np.ndarray, known: np.ndarray | None = None) -> pl.Series:
    """Days since 1970 as pl.Date; rows where `known` is False become null."""
    series = pl.Series(days.astype(np.int32)).cast(pl.Date)
    if known is None:
        return series
    return pl.select(pl.when(pl.lit(pl.Series(known))).then(pl.lit(series))).to_series()


def collection_delay(rng: np.random.Generator, n: int) -> np.ndarray:
    """Working days from a decision to its collection into the credit system.

    Mostly within the 7-working-day target, with a tail past the 20-day hard limit — exactly
    what the annual review (评议) is meant to flag.
    """
    u = rng.random(n)
    return np.where(
        u < 0.85,
        rng.integers(1, 8, n),
        np.where(u < 0.96, rng.integers(8, 21, n), rng.integers(21, 41, n)),
    )


def sequence(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    """1, 2, … within each group, in date order (ties keep row order)."""
    order = np.lexsort((day, group))
    g = group[order]
    starts = np.ones(len(g), dtype=bool)
    starts[1:] = g[1:] != g[:-1]
    position = np.arange(len(g))
    seq = np.empty(len(g), dtype=np.int64)
    seq[order] = position - np.maximum.accumulate(np.where(starts, position, 0)) + 1
    return seq
