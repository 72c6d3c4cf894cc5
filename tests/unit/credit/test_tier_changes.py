"""Tier changes (docs §5): consecutive as-of dates of a firm whose tier
differs, with the records that started, stopped or changed points between them."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import polars as pl

from models.credit_schema import TIER_CHANGE_SCHEMA
from models.scoring import reason_spans, score_history
from models.tier_changes import tier_changes, tier_changes_from_spans

sys.path.insert(0, str(Path(__file__).parent))

from test_scoring import (
    F1,
    F2,
    FIRMS,
    RULES,
    D,
    bonus,
    record,
    records_frame,
    status,
    statuses_frame,
    veto,
)

MONTH_ENDS = [D("2024-02-29"), D("2024-03-31"), D("2024-06-30"), D("2024-09-30"), D("2025-03-31")]


def changes_of(rows: list[dict], statuses: list[dict] = (), dates: list[date] = MONTH_ENDS):
    records, status_rows = records_frame(rows), statuses_frame(statuses)
    history = score_history(records, status_rows, FIRMS, RULES, dates)
    # the pipeline reads back only these reason columns from the warehouse
    reasons = history.reasons.select("uscc", "as_of", "record_id", "points")
    changes = tier_changes(history.scores, reasons)
    # the pipeline's path, straight from the stored spans, must say exactly the same
    spans = reason_spans(records, status_rows, FIRMS, RULES)
    assert tier_changes_from_spans(history.scores, spans).equals(changes)
    return changes


def causes(changes: pl.DataFrame, to_as_of: date) -> list[dict]:
    text = changes.filter(pl.col("to_as_of") == to_as_of)["cause_records"].item()
    return json.loads(text)


def test_tier_changes_name_the_records_that_started_and_stopped() -> None:
    rows = [
        # F1: −25 from 2024-03-05 (45, C) then a veto 2024-04-01 … 2024-08-01 (D),
        # the −25 ends 2025-03-05 (70, B).
        record("p", points=25.0, valid_from="2024-03-05"),
        veto("v", valid_from="2024-04-01", valid_until="2024-08-01"),
        # F2 gains a bonus but stays B: no change row.
        bonus("g", 10.0, valid_from="2024-03-05", uscc=F2),
    ]
    changes = changes_of(rows)
    assert changes.schema == TIER_CHANGE_SCHEMA
    assert changes.select(
        "uscc", "from_as_of", "to_as_of", "from_tier", "to_tier", "from_score", "to_score"
    ).rows() == [
        (F1, D("2024-02-29"), D("2024-03-31"), "B", "C", 70.0, 45.0),
        (F1, D("2024-03-31"), D("2024-06-30"), "C", "D", 45.0, 45.0),
        (F1, D("2024-06-30"), D("2024-09-30"), "D", "C", 45.0, 45.0),
        (F1, D("2024-09-30"), D("2025-03-31"), "C", "B", 45.0, 70.0),
    ]
    assert causes(changes, D("2024-03-31")) == [
        {"record_id": "p", "change": "started", "points": -25.0}
    ]
    assert causes(changes, D("2024-06-30")) == [
        {"record_id": "v", "change": "started", "points": 0.0}
    ]
    assert causes(changes, D("2024-09-30")) == [
        {"record_id": "v", "change": "stopped", "points": 0.0}
    ]
    # a stopped deduction's effect on the score is positive
    assert causes(changes, D("2025-03-31")) == [
        {"record_id": "p", "change": "stopped", "points": 25.0}
    ]


def test_a_lapsing_repeat_multiplier_or_a_new_segment_is_a_change_in_points() -> None:
    rows = [
        record("e", points=5.0, valid_from="2024-01-10", category="X"),
        record("r", points=10.0, valid_from="2024-03-01", category="X", months=24),
        # a correction notice moving from −2 to −10 on 2024-06-01
        record("c", points=2.0, valid_from="2024-05-01", segment_until="2024-06-01"),
        record("c", points=10.0, valid_from="2024-05-01", segment=1, segment_from="2024-06-01"),
    ]
    # e is revoked 2024-09-15: r loses its ×1.5 (−15 → −10) and e stops (+5).
    statuses = [status("e", "revoked", "2024-09-15")]
    dates = [D("2024-03-31"), D("2024-05-31"), D("2024-06-30"), D("2024-09-30")]
    changes = changes_of(rows, statuses, dates)
    assert changes.select("to_as_of", "from_tier", "to_tier").rows() == [
        (D("2024-06-30"), "C", "D"),  # 70 − 5 − 15 − 2 = 48 → 70 − 5 − 15 − 10 = 40
        (D("2024-09-30"), "D", "C"),  # → 70 − 10 − 10 = 50
    ]
    assert causes(changes, D("2024-06-30")) == [
        {"record_id": "c", "change": "changed", "points": -8.0}
    ]
    assert causes(changes, D("2024-09-30")) == [
        {"record_id": "e", "change": "stopped", "points": 5.0},
        {"record_id": "r", "change": "changed", "points": 5.0},
    ]


def test_no_change_no_row_and_a_lone_date_has_nothing_to_compare() -> None:
    assert changes_of([bonus("g", 5.0)]).is_empty()
    assert changes_of([record("p", points=30.0)], dates=[D("2024-06-30")]).is_empty()
    empty = tier_changes(
        pl.DataFrame(
            schema={"uscc": pl.Utf8, "as_of": pl.Date, "score": pl.Float64, "tier": pl.Utf8}
        ),
        pl.DataFrame(
            schema={"uscc": pl.Utf8, "as_of": pl.Date, "record_id": pl.Utf8, "points": pl.Float64}
        ),
    )
    assert empty.is_empty() and empty.schema == TIER_CHANGE_SCHEMA
