"""Scores from stored reason spans equal the one-pass history, on realistic generated data."""

from __future__ import annotations

import calendar
from datetime import date

import pytest

from generator import generate
from models.credit_records import derive_credit_records
from models.record_status import record_status_history
from models.rules import default_rule_set
from models.scoring import reason_spans, score_history, scores_from_spans

MONTH_ENDS = [
    date(y, m, calendar.monthrange(y, m)[1]) for y in range(2021, 2026) for m in range(1, 13)
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_from_spans_equal_score_history(seed: int):
    rules = default_rule_set()
    frames = generate(seed, firms=150, years=5, start_year=2021, intensity=3.0)
    records = derive_credit_records(frames, rules)
    statuses = record_status_history(records, frames["credit_cases"], rules)
    firms = frames["firms"]
    dates = [*MONTH_ENDS, date(2024, 2, 29), date(2026, 6, 30)]
    expected = score_history(records, statuses, firms, rules, dates, reason_dates=()).scores
    spans = reason_spans(records, statuses, firms, rules)
    got = scores_from_spans(spans, firms, rules, dates)
    assert expected["tier"].n_unique() >= 3  # the data exercises several tiers and vetoes
    assert expected["veto"].any()
    assert got.equals(expected.sort("as_of", "uscc"))
