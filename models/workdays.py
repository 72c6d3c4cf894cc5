"""China's official working-day calendar and working-day distances between dates.

What belongs here: building the calendar of working days (weekends, statutory holidays AND the
make-up working days 调休 the State Council announces each year, e.g. Sunday 2024-02-04 is a
working day, Monday 2024-02-12 is not) and measuring, vectorised, how many working days lie
between two date columns. Rules that are stated in working days (intake within 7 working days
of the decision, docs/rules.md#intake-timeliness-and-evidence) are measured with these
functions and nothing else, so every consumer counts the same way.

What does not: which limits apply (the rule set and `review` decide), where dates come from
(ingestion), I/O of any kind. The holiday facts come from the `holidays` package, never from a
hand-written list: it knows 调休 for every year whose State Council notice it carries (2024,
2025, 2026 in holidays 0.109; see docs/sampling.md#official-working-days). For a year whose
notice it does not carry yet — 2027 in 0.109 — it knows the statutory holidays but no make-up
days, so counts in that year are estimates until the package is updated.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

import holidays
import polars as pl

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

# Private names for the joined lookup columns, so they never collide with the caller's columns.
_DAY = "__workdays_day"
_START_INDEX = "__workdays_start_index"
_END_INDEX = "__workdays_end_index"


def working_day_calendar(start: date, end: date) -> pl.DataFrame:
    """Every calendar day in [start, end] with its working-day flag and cumulative index.

    `working_day_index` is the number of working days on or before `day`, counted from `start`.
    Its difference between two days is therefore a working-day distance, which is what lets
    `working_days_between` answer with two joins instead of a per-row loop.

    The loop below runs over DAYS (a few thousand per decade), never over records: `holidays`
    has no vectorised API, and asking it once per day is what makes 调休 days come out right.
    """
    if end < start:
        raise ValueError(f"calendar end {end} is before its start {start}")
    days: list[date] = pl.date_range(start, end, eager=True).to_list()
    china = holidays.China(years=range(start.year, end.year + 1))
    return pl.DataFrame(
        {"day": days, "is_working_day": [china.is_working_day(day) for day in days]},
        schema={"day": pl.Date(), "is_working_day": pl.Boolean()},
    ).with_columns(
        working_day_index=pl.col("is_working_day").cast(pl.Int32).cum_sum(),
    )


def working_days_between(
    frame: FrameT,
    start_col: str,
    end_col: str,
    out_col: str,
    calendar: pl.DataFrame,
) -> FrameT:
    """Add `out_col`: the number of working days after `start_col`, up to and including `end_col`.

    Definition (the "within N working days of the decision" rule,
    docs/rules.md#intake-timeliness-and-evidence): count the
    working days d with start < d <= end. So a decision on Friday 2024-03-01 collected on Monday
    2024-03-04 gives 1; the same day gives 0. The start day itself never counts, whether or not
    it is a working day: a decision dated on a Saturday collected the following Monday gives 1,
    exactly like one dated on the Friday before, because the clock starts on the next working day.

    If `end_col` is before `start_col` the result is negative (minus the working days in
    (end, start]): collecting a record before it was decided is a data error, and a negative
    number keeps it visible instead of hiding it as 0. The result is null when either date is
    null or lies outside `calendar`; build the calendar to cover the data.

    Vectorised: two left joins on the calendar's cumulative `working_day_index`, whose
    difference is the count; row order and all other columns of `frame` are preserved.
    """
    started = _with_index(frame.lazy(), start_col, _START_INDEX, calendar)
    joined = (
        _with_index(started, end_col, _END_INDEX, calendar)
        .with_columns((pl.col(_END_INDEX) - pl.col(_START_INDEX)).alias(out_col))
        .drop(_START_INDEX, _END_INDEX)
    )
    if isinstance(frame, pl.LazyFrame):
        return joined
    return joined.collect()


def add_working_days(
    frame: FrameT,
    start_col: str,
    days: int,
    out_col: str,
    calendar: pl.DataFrame,
) -> FrameT:
    """Add `out_col`: the `days`-th working day after `start_col` (the start day itself never
    counts, as in `working_days_between`): the last day a "within N working days" rule is
    met. A decision on Friday 2024-03-01 with 7 working days is due on Tuesday 2024-03-12.
    Null when the start is null or the result falls outside `calendar` (build it to cover
    the data, with a margin of some weeks after the last date).
    """
    working = (
        calendar.lazy()
        .filter("is_working_day")
        .select(pl.col("day").alias(out_col), pl.col("working_day_index").alias(_END_INDEX))
    )
    joined = (
        _with_index(frame.lazy(), start_col, _START_INDEX, calendar)
        .with_columns((pl.col(_START_INDEX) + days).alias(_END_INDEX))
        .join(working, on=_END_INDEX, how="left", maintain_order="left")
        .drop(_START_INDEX, _END_INDEX)
    )
    if isinstance(frame, pl.LazyFrame):
        return joined
    return joined.collect()


def _with_index(
    frame: pl.LazyFrame, column: str, alias: str, calendar: pl.DataFrame
) -> pl.LazyFrame:
    """`frame` with the calendar's `working_day_index` of the day in `column` as `alias`
    (a left join: row order and every other column kept)."""
    lookup = calendar.lazy().select(
        pl.col("day").alias(_DAY), pl.col("working_day_index").alias(alias)
    )
    return frame.join(
        lookup, left_on=column, right_on=_DAY, how="left", coalesce=True, maintain_order="left"
    )
