"""The round's working-day calendar: honest about an estimated year, a supplied official
calendar takes precedence, working days counted forward the same way everywhere."""

from __future__ import annotations

from datetime import date

import pytest

from models.sampling.calendar import (
    OFFICIAL_NOTICE_YEARS,
    CalendarError,
    add_working_days,
    parse_calendar,
    working_days,
)

CALENDAR_2027 = """
source: 国务院办公厅关于2027年部分节假日安排的通知（示例）
years: [2027]
days_off: [2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11, 2027-02-12]
working_days: [2027-02-20]
"""


def test_a_year_without_its_notice_is_said_to_be_an_estimate() -> None:
    assert {2024, 2025, 2026} <= OFFICIAL_NOTICE_YEARS and 2027 not in OFFICIAL_NOTICE_YEARS
    known = working_days(date(2026, 1, 1), date(2026, 3, 31))
    assert known.estimated_years == () and known.notes == []
    estimated = working_days(date(2026, 12, 1), date(2027, 3, 31))
    assert estimated.estimated_years == (2027,)
    assert estimated.notes[0].startswith("2027 年放假安排尚未发布，按周末估算")


def test_a_supplied_calendar_takes_precedence_for_its_years() -> None:
    supplied = parse_calendar(CALENDAR_2027)
    days = working_days(date(2027, 2, 1), date(2027, 2, 28), supplied)
    assert date(2027, 2, 10) not in days.days  # a day off the notice gives
    assert date(2027, 2, 20) in days.days  # a Saturday made a working day (调休)
    assert date(2027, 2, 15) in days.days  # an ordinary Monday
    assert days.supplied_years == (2027,) and days.estimated_years == ()
    assert "国务院办公厅" in days.source


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source: x\nyears: [2027]\ndays_off: [2026-10-01]\n", "days_off: 2026-10-01 is outside"),
        ("source: x\nyears: [2027]\ndays_off: [2027-01-04]\nworking_days: [2027-01-04]\n",
         "also in days_off"),
        ("years: [2027]\n", "source"),
        ("- 2027\n", "must be a mapping"),
    ],
)  # fmt: skip
def test_a_malformed_calendar_names_its_field(text: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        parse_calendar(text)


def test_working_days_are_counted_forward_after_the_day() -> None:
    # Friday 2024-02-09 + 1: the Spring Festival holiday runs to 02-17, 02-18 is a make-up day
    assert add_working_days(date(2024, 2, 9), 1) == date(2024, 2, 18)
    assert add_working_days(date(2025, 10, 15), 20) == date(2025, 11, 12)
    assert add_working_days(date(2025, 10, 15), 0) == date(2025, 10, 15)
