"""China's working-day calendar (调休 included) and the working-day distance between dates."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from models.workdays import working_day_calendar, working_days_between


@cache
def calendar_2021_2027() -> pl.DataFrame:
    """Seven years, built once and shared (hypothesis rejects function-scoped fixtures)."""
    return working_day_calendar(date(2021, 1, 1), date(2027, 12, 31))


def delays(pairs: list[tuple[date | None, date | None]]) -> list[int | None]:
    frame = pl.DataFrame(
        {"decided_on": [p[0] for p in pairs], "collected_on": [p[1] for p in pairs]},
        schema={"decided_on": pl.Date, "collected_on": pl.Date},
    )
    out = working_days_between(frame, "decided_on", "collected_on", "delay", calendar_2021_2027())
    return out.get_column("delay").to_list()


def is_working(day: date) -> bool:
    calendar = calendar_2021_2027()
    return bool(calendar.filter(pl.col("day") == day).get_column("is_working_day").item())


# --- the calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2024, 2, 4), True),  # Sunday, 调休 make-up day before the Spring Festival
        (date(2024, 2, 9), True),  # Friday, New Year's Eve but a working day in 2024
        (date(2024, 2, 12), False),  # Monday inside the Spring Festival break
        (date(2024, 2, 16), False),  # Friday, day off swapped from 02-18
        (date(2024, 2, 18), True),  # Sunday, 调休 make-up day after the Spring Festival
        (date(2024, 9, 29), True),  # Sunday, 调休 make-up day before National Day
        (date(2024, 10, 12), True),  # Saturday, 调休 make-up day after National Day
        (date(2024, 3, 2), False),  # an ordinary Saturday
        (date(2024, 3, 4), True),  # an ordinary Monday
    ],
)
def test_calendar_knows_make_up_days(day: date, working: bool) -> None:
    assert is_working(day) is working


def test_calendar_national_day_week_is_off() -> None:
    assert not any(is_working(date(2024, 10, d)) for d in range(1, 8))


def test_calendar_has_every_day_once_in_order() -> None:
    calendar = working_day_calendar(date(2024, 1, 1), date(2024, 12, 31))
    assert calendar.columns == ["day", "is_working_day", "working_day_index"]
    assert calendar.height == 366  # 2024 is a leap year
    assert calendar.get_column("day").is_sorted()
    assert calendar.get_column("day").is_unique().all()


def test_calendar_index_counts_working_days_on_or_before_day() -> None:
    # 2024-02-03 (Sat) .. 2024-02-06 (Tue): off, 调休 Sunday, Mon, Tue -> 0, 1, 2, 3.
    calendar = working_day_calendar(date(2024, 2, 3), date(2024, 2, 6))
    assert calendar.get_column("working_day_index").to_list() == [0, 1, 2, 3]
    assert calendar.get_column("is_working_day").to_list() == [False, True, True, True]


def test_calendar_spanning_years_counts_across_new_year() -> None:
    # 2024-12-31 (Tue) working; 2025-01-01 holiday; 2025-01-02 (Thu) working.
    calendar = working_day_calendar(date(2024, 12, 31), date(2025, 1, 2))
    assert calendar.get_column("working_day_index").to_list() == [1, 1, 2]


def test_calendar_single_day() -> None:
    calendar = working_day_calendar(date(2024, 3, 2), date(2024, 3, 2))
    assert calendar.rows() == [(date(2024, 3, 2), False, 0)]


def test_calendar_rejects_reversed_range() -> None:
    with pytest.raises(ValueError, match="before its start"):
        working_day_calendar(date(2024, 3, 2), date(2024, 3, 1))


# --- working_days_between ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decided_on", "collected_on", "expected"),
    [
        # Fri -> next Mon: the weekend does not count.
        (date(2024, 3, 1), date(2024, 3, 4), 1),
        # Same day: nothing after the decision yet.
        (date(2024, 3, 1), date(2024, 3, 1), 0),
        # Fri 03-01 -> Tue 03-12: Mar 4-8 (5) + Mar 11, 12 (2) = 7.
        (date(2024, 3, 1), date(2024, 3, 12), 7),
        # Saturday decision: counting starts after it, so Sat -> Mon is 1, like Fri -> Mon.
        (date(2024, 3, 2), date(2024, 3, 4), 1),
        # Saturday -> Sunday: no working day in between.
        (date(2024, 3, 2), date(2024, 3, 3), 0),
        # Collected on a Sunday: (Fri 03-01, Sun 03-10] holds Mar 4-8 = 5.
        (date(2024, 3, 1), date(2024, 3, 10), 5),
        # National Day week: (Fri 09-27, Tue 10-08] = Sun 09-29 (调休) + Mon 09-30 + Tue 10-08 = 3.
        (date(2024, 9, 27), date(2024, 10, 8), 3),
        # Labour Day: (Mon 04-29, Mon 05-06] = Tue 04-30 + Mon 05-06 = 2 (May 1-5 off).
        (date(2024, 4, 29), date(2024, 5, 6), 2),
        # Spring Festival: (Thu 02-08, Mon 02-19] = Fri 02-09 + Sun 02-18 (调休) + Mon 02-19 = 3.
        (date(2024, 2, 8), date(2024, 2, 19), 3),
        # Decided on a holiday (02-12): (02-12, Sun 02-18] = 02-18 only = 1.
        (date(2024, 2, 12), date(2024, 2, 18), 1),
        # Collected before decided: minus the working days in (Fri 03-01, Mon 03-04] = -1.
        (date(2024, 3, 4), date(2024, 3, 1), -1),
        # Reversed across the festival: -(Fri 02-09 + Sun 02-18 + Mon 02-19) = -3.
        (date(2024, 2, 19), date(2024, 2, 8), -3),
    ],
)
def test_working_days_between(decided_on: date, collected_on: date, expected: int) -> None:
    assert delays([(decided_on, collected_on)]) == [expected]


def test_working_days_between_null_or_outside_calendar_is_null() -> None:
    assert delays(
        [
            (None, date(2024, 3, 4)),
            (date(2024, 3, 1), None),
            (None, None),
            (date(2020, 12, 31), date(2021, 1, 4)),  # before the calendar starts
            (date(2027, 12, 31), date(2028, 1, 3)),  # after it ends
        ]
    ) == [None, None, None, None, None]


def test_working_days_between_keeps_rows_columns_and_order() -> None:
    frame = pl.DataFrame(
        {
            "id": [3, 1, 2, 4],
            "day": [date(2024, 3, 4)] * 4,  # a caller column named like the calendar's
            "a": [date(2024, 3, 1), date(2024, 3, 1), None, date(2024, 3, 1)],
            "b": [date(2024, 3, 4), date(2024, 3, 1), date(2024, 3, 1), date(2024, 3, 12)],
        }
    )
    out = working_days_between(frame, "a", "b", "wd", calendar_2021_2027())
    expected = frame.with_columns(wd=pl.Series([1, 0, None, 7], dtype=pl.Int32))
    assert_frame_equal(out, expected)


def test_working_days_between_lazy_in_lazy_out() -> None:
    frame = pl.DataFrame({"a": [date(2024, 3, 1)], "b": [date(2024, 3, 4)]})
    out = working_days_between(frame.lazy(), "a", "b", "wd", calendar_2021_2027())
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().get_column("wd").to_list() == [1]


# --- property: the vectorised count equals a naive day-by-day count ---------------------------

_CHINA = holidays.China(years=range(2021, 2028))


def naive_working_days(start: date, end: date) -> int:
    """Working days in (start, end], negated for end < start: the definition, one day at a time."""
    low, high, sign = (start, end, 1) if start <= end else (end, start, -1)
    days = ((low + timedelta(days=k)) for k in range(1, (high - low).days + 1))
    return sign * sum(_CHINA.is_working_day(day) for day in days)


_dates = st.dates(min_value=date(2021, 1, 1), max_value=date(2027, 12, 31))
_maybe_dates = st.one_of(st.none(), _dates)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_maybe_dates, _maybe_dates), min_size=1, max_size=20))
def test_working_days_between_matches_naive_count(
    pairs: list[tuple[date | None, date | None]],
) -> None:
    expected = [
        None if start is None or end is None else naive_working_days(start, end)
        for start, end in pairs
    ]
    assert delays(pairs) == expected


@settings(max_examples=100, deadline=None)
@given(_dates, _dates, _dates)
def test_working_days_between_is_additive(a: date, b: date, c: date) -> None:
    ab, bc, ac = delays([(a, b), (b, c), (a, c)])
    assert ab is not None and bc is not None
    assert ab + bc == ac
