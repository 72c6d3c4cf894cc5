"""The working-day calendar of a round, honest about what it knows.

See docs/sampling.md#official-working-days.

What belongs here: the round's working days — China's official calendar from the `holidays`
package (`models.workdays`), unless the centre supplies the year's official calendar (the
State Council's notice: days off and make-up working days 调休) as a small YAML, which then
takes precedence and is recorded in the plan so that `verify-draw` reproduces it — and the
note that says when a year is only estimated because its notice is not in the installed
package yet ("2027 年放假安排尚未发布，按周末估算"). Also counting working days forward (the
notice period before the first inspection, the 20 working days to publish a result).
What does not: which days the schedule picks (`schedule`), reading files.

A year is *known* when the installed `holidays` package carries that year's notice (its
`China().special_public_holidays` lists the year; 2001–2026 in holidays 0.109) or when the
centre supplied it; otherwise it is *estimated*: weekends and the statutory holidays the
package computes are off, and no make-up working day is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.workdays import working_day_calendar
from models.yaml_data import load_yaml_mapping, validate_model

OFFICIAL_NOTICE_YEARS: frozenset[int] = frozenset(
    getattr(holidays.China(), "special_public_holidays", None) or {}
)
"""Years whose State Council holiday notice the installed `holidays` package carries (the
years of its special days — the make-up working days and extended holidays each notice
announces; 2001–2026 in holidays 0.109)."""

LIBRARY_SOURCE = "holidays (China, statutory holidays and 调休 make-up working days)"


class CalendarError(ValueError):
    """A supplied calendar is malformed; the message names the field."""


class SuppliedCalendar(BaseModel):
    """The official calendar of some years, as the centre gives it (it takes precedence).

    For each year in `years`: a day is a working day when it is listed in `working_days`
    (make-up working days, 调休上班), or it is Monday to Friday and not in `days_off`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1, max_length=500)
    """The notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知."""
    years: tuple[int, ...] = Field(min_length=1)
    days_off: tuple[date, ...] = ()
    working_days: tuple[date, ...] = ()

    @field_validator("years", "days_off", "working_days")
    @classmethod
    def _sorted(cls, value: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(sorted(set(value)))  # type: ignore[type-var]  # ints or dates: both orderable

    @model_validator(mode="after")
    def _consistent(self) -> SuppliedCalendar:
        for field in ("days_off", "working_days"):
            for day in getattr(self, field):
                if day.year not in self.years:
                    raise ValueError(f"{field}: {day} is outside years {list(self.years)}")
        both = set(self.days_off) & set(self.working_days)
        if both:
            raise ValueError(f"working_days: {min(both)} is also in days_off")
        return self


def parse_calendar(text: str) -> SuppliedCalendar:
    """Parse and validate a calendar YAML (`source`, `years`, `days_off`, `working_days`)."""
    data = load_yaml_mapping(text, CalendarError, "calendar", "source, years, days_off, …")
    return validate_model(SuppliedCalendar, data, CalendarError, "calendar")


@dataclass(frozen=True)
class WorkingDays:
    """The working days of [start, end] and where each year's calendar came from."""

    start: date
    end: date
    days: tuple[date, ...]
    supplied_years: tuple[int, ...]
    estimated_years: tuple[int, ...]
    supplied_source: str | None

    @property
    def source(self) -> str:
        if self.supplied_source and self.supplied_years:
            years = "、".join(str(y) for y in self.supplied_years)
            return f"{self.supplied_source} ({years}); other years: {LIBRARY_SOURCE}"
        return LIBRARY_SOURCE

    @property
    def notes(self) -> list[str]:
        """One line per estimated year (Chinese, then English)."""
        return [estimate_note(year) for year in self.estimated_years]


def estimate_note(year: int) -> str:
    return (
        f"{year} 年放假安排尚未发布，按周末估算（法定节假日按规则推算，未含调休上班日） / "
        f"the official {year} holiday schedule is not published yet: the calendar is estimated "
        "from weekends and the statutory holidays, without make-up working days"
    )


def day_flags(start: date, end: date, supplied: SuppliedCalendar | None = None) -> pl.DataFrame:
    """Every day of [start, end] with `is_working_day` (the supplied calendar first)."""
    frame = working_day_calendar(start, end).select("day", "is_working_day")
    if supplied is None:
        return frame
    off = list(supplied.days_off)
    on = list(supplied.working_days)
    return frame.with_columns(
        is_working_day=pl.when(~pl.col("day").dt.year().is_in(list(supplied.years)))
        .then(pl.col("is_working_day"))
        .when(pl.col("day").is_in(on))
        .then(pl.lit(True))
        .otherwise((pl.col("day").dt.weekday() <= 5) & ~pl.col("day").is_in(off))
    )


def working_days(start: date, end: date, supplied: SuppliedCalendar | None = None) -> WorkingDays:
    """The working days of [start, end] (`day_flags`) and the years that are estimated."""
    flags = day_flags(start, end, supplied)
    years = range(start.year, end.year + 1)
    given = set(supplied.years) if supplied else set()
    return WorkingDays(
        start=start,
        end=end,
        days=tuple(flags.filter("is_working_day").get_column("day").to_list()),
        supplied_years=tuple(y for y in years if y in given),
        estimated_years=tuple(
            y for y in years if y not in given and y not in OFFICIAL_NOTICE_YEARS
        ),
        supplied_source=supplied.source if supplied else None,
    )


def add_working_days(day: date, n: int, supplied: SuppliedCalendar | None = None) -> date:
    """The n-th working day after `day` (`day` itself never counts; n = 0 gives `day`)."""
    if n <= 0:
        return day
    span = 2 * n + 30
    while True:
        later = working_days(day + timedelta(days=1), day + timedelta(days=span), supplied).days
        if len(later) >= n:
            return later[n - 1]
        span *= 2


def estimated_years(start: date, end: date, supplied: SuppliedCalendar | None = None) -> list[int]:
    """Years of [start, end] whose calendar is an estimate (no notice, none supplied)."""
    given = set(supplied.years) if supplied else set()
    return [
        y
        for y in range(start.year, end.year + 1)
        if y not in given and y not in OFFICIAL_NOTICE_YEARS
    ]


def add_working_days_expr(
    frame: pl.DataFrame, column: str, n: int, out: str, supplied: SuppliedCalendar | None = None
) -> pl.DataFrame:
    """`frame` with `out`: the n-th working day after each date of `column` (null stays null);
    one calendar for the whole column, so it is fast on many rows."""
    dates = frame.get_column(column).drop_nulls()
    if dates.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.Date).alias(out))
    start = dates.min()
    end = dates.max()
    assert isinstance(start, date) and isinstance(end, date)  # a Date column's min and max
    flags = day_flags(start, end + timedelta(days=3 * n + 60), supplied).with_columns(
        index=pl.col("is_working_day").cast(pl.Int64).cum_sum()
    )
    working = flags.filter("is_working_day").select(target="day", index="index")
    return (
        frame.join(flags.select(pl.col("day").alias(column), base="index"), on=column, how="left")
        .with_columns((pl.col("base") + n).alias("__wanted"))
        .join(working.rename({"index": "__wanted", "target": out}), on="__wanted", how="left")
        .drop("base", "__wanted")
    )
