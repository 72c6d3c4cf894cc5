"""Which dates are scored, monitored and published: the one home of the calendar rules.

What belongs here: month ends, the as-of dates a run scores (every month end up to the
processing date, the running month as of the processing date itself — the "latest"
scores), the dates a tier list may be published for (month ends and the latest date), the
risk model's monitored dates and its data end, and the month a schedule or sensor run
belongs to. Every caller — assets, CLI, backtest, dashboards, benchmarks — asks here, so
"which dates" has one answer.

What does not: working days and holidays (`models.workdays`), round windows from round ids
(`models.sampling.params`, which uses `month_end` from here).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date, timedelta


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_start(day: date) -> date:
    return day.replace(day=1)


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def month_ends(first: date, last: date) -> list[date]:
    """Every month end from `first`'s month up to `last` (inclusive, when `last` is one)."""
    ends, day = [], month_end(first)
    while day <= last:
        ends.append(day)
        day = month_end(day + timedelta(days=1))
    return ends


def months_between(first: date, last: date) -> list[date]:
    """The first day of every month from `first`'s month to `last`'s month."""
    months, day = [], month_start(first)
    while day <= last:
        months.append(day)
        day = month_start(month_end(day) + timedelta(days=1))
    return months


def as_of_dates(months: Iterable[date], processing_date: date) -> list[date]:
    """Month-end as-of dates of the given months (first days of months, e.g. partition keys);
    the running month is scored as of the processing date (the 'latest' scores), and months
    after it are not scored at all."""
    dates = {min(month_end(m), processing_date) for m in months if m <= processing_date}
    return sorted(dates)


def scoring_dates(start: date, processing_date: date) -> list[date]:
    """Every as-of date a full run stores: each month end from `start` (the rule set's
    `effective_from`) and the processing date."""
    return as_of_dates(months_between(start, processing_date), processing_date)


def publishable_dates(scored: Sequence[date], up_to: date | None = None) -> list[date]:
    """The dates a tier list can be published for: the month ends among the scored dates and
    the latest scored date (up to `up_to`, when given), latest first."""
    dates = sorted(d for d in scored if up_to is None or d <= up_to)
    if not dates:
        return []
    keep = {d for d in dates if is_month_end(d)} | {dates[-1]}
    return sorted(keep, reverse=True)


def monitored_dates(processing: date, months: int) -> list[date]:
    """The last `months − 1` month ends before the processing date, and the processing date
    (the risk model's features, scores and stability are tracked on these)."""
    dates = [processing]
    day = month_start(processing) - timedelta(days=1)
    while len(dates) < months:
        dates.append(day)
        day = month_start(day) - timedelta(days=1)
    return sorted({month_end(d) if d != processing else d for d in dates})


def data_end(last_inspection: date | None, processing: date) -> date:
    """The last day with known inspection results (labels cannot be later), at most today."""
    return min(last_inspection, processing) if last_inspection else processing


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s (what the month-end schedule scores)."""
    return month_start(month_start(day) - timedelta(days=1))


def one_month_after(day: date) -> date:
    """The same day of the next month, or that month's last day when it is shorter."""
    year, month = divmod(day.month, 12)
    following = date(day.year + year, month + 1, 1)
    return following.replace(day=min(day.day, month_end(following).day))
