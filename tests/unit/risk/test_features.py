"""Point-in-time features: hand-checked values, and nothing after T changes anything."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl
import pytest

from models.risk.config import default_risk_config
from models.risk.features import features_as_of, inspections_in, labels_after
from models.risk.history import OUTCOME_SCHEMA, RECORD_SCHEMA, SCORE_SCHEMA, History
from models.risk.model import strictness_as_of

T = date(2024, 6, 30)
CONFIG = default_risk_config()


def outcome(
    entity: str,
    day: date,
    problem: bool,
    known: date | None = None,
    who: str = "I1",
    score: float | None = None,
):
    return {
        "inspection_id": f"{entity}-{day}",
        "entity_id": entity,
        "inspected_on": day,
        "known_on": known or day,
        "problem": problem,
        "inspectors": [who],
        "score": score,
    }


def record(entity: str, day: date, severity: str, points: float, known: date | None = None, **kw):
    return {
        "entity_id": entity,
        "source": kw.get("source", "penalty_decisions"),
        "polarity": kw.get("polarity", "bad"),
        "severity": severity,
        "points": points,
        "rule": kw.get("rule", "penalty.x"),
        "valid_from": day,
        "known_on": known or day,
    }


def history(extra_outcomes=(), extra_records=(), extra_scores=()) -> History:
    outcomes = [
        outcome("A", date(2023, 1, 10), True, who="I1", score=88.0),
        outcome("A", date(2024, 3, 1), False, who="I2", score=95.0),
        outcome("B", date(2024, 5, 1), True, who="I2", score=90.0),
        outcome("C", date(2022, 1, 1), False, who="I1"),
        *extra_outcomes,
    ]
    records = [
        record("A", date(2024, 5, 1), "L3", 10.0),
        record("A", date(2022, 1, 1), "L2", 5.0),
        record(
            "B", date(2024, 4, 1), "L1", 2.0, source="correction_notices", rule="correction.order"
        ),
        record(
            "B", date(2024, 5, 1), "L3", 10.0, source="correction_notices", rule="correction.failed"
        ),
        *extra_records,
    ]
    scores = [
        {"entity_id": "A", "as_of": date(2024, 5, 31), "score": 55.0, "tier": "C", "veto": False},
        {"entity_id": "B", "as_of": date(2024, 5, 31), "score": 70.0, "tier": "B", "veto": False},
        *extra_scores,
    ]
    entities = pl.DataFrame(
        {
            "entity_id": ["A", "B", "C"],
            "opened_on": [date(2014, 6, 30), date(2020, 1, 1), None],
            "firm_type": ["design", "supervision", "design"],
        }
    )
    return History(
        outcomes=pl.DataFrame(outcomes, schema=OUTCOME_SCHEMA),
        entities=entities,
        records=pl.DataFrame(records, schema=RECORD_SCHEMA),
        scores=pl.DataFrame(scores, schema=SCORE_SCHEMA),
    )


def features(h: History, as_of: date = T) -> pl.DataFrame:
    population = pl.Series("entity_id", ["A", "B", "C", "D"])
    return features_as_of(h, as_of, population, strictness_as_of(h, as_of, CONFIG), CONFIG.features)


def test_hand_checked_values():
    f = {r["entity_id"]: r for r in features(history()).iter_rows(named=True)}
    a, b, c, d = f["A"], f["B"], f["C"], f["D"]
    assert a["inspections_total"] == 2 and a["problems_1095d"] == 1 and a["problems_365d"] == 0
    assert a["last_problem"] == 0.0
    assert a["days_since_inspection"] == (T - date(2024, 3, 1)).days
    assert a["days_since_problem"] == (T - date(2023, 1, 10)).days
    assert a["bad_points_90d"] == 10.0 and a["bad_points_1095d"] == 15.0
    assert a["severe_records_1095d"] == 1
    assert a["credit_score"] == 55.0 and a["tier_rank"] == 2.0
    assert a["age_years"] == pytest.approx(10.0, abs=0.01)
    assert b["correction_orders_1095d"] == 1 and b["late_corrections_1095d"] == 1
    assert b["late_correction_share_1095d"] == 1.0
    assert c["inspections_365d"] == 0 and c["age_years"] is None
    # D is in the population but unknown: counts are zero, the rest unknown
    assert d["inspections_total"] == 0 and d["days_since_inspection"] is None
    assert d["firm_type"] == "other"
    # smoothed rate of A: (1 + k·p̄) / (2 + k), p̄ = 2 problems in 4 inspections
    k = CONFIG.features.prior_strength
    assert a["problem_rate_smoothed"] == pytest.approx((1 + k * 0.5) / (2 + k))
    # scores: the last, its change, the recency-weighted mean (half-life 365 d)
    assert a["last_score"] == 95.0 and a["score_trend"] == 7.0 and b["score_trend"] is None
    w_old, w_new = (0.5 ** ((T - d).days / 365) for d in (date(2023, 1, 10), date(2024, 3, 1)))
    assert a["score_decayed"] == pytest.approx((88 * w_old + 95 * w_new) / (w_old + w_new))
    assert c["last_score"] is None and c["score_decayed"] is None
    # strictness-adjusted: each score minus its inspector's pooled mean score (mean of all 91)
    m = CONFIG.features.inspector_score_prior
    i1, i2 = (88 + m * 91) / (1 + m), (95 + 90 + m * 91) / (2 + m)
    excess = ((88 - i1) * w_old + (95 - i2) * w_new) / (w_old + w_new)
    assert a["excess_score_decayed"] == pytest.approx(excess)
    # inspection frequency: the usual gap, and how far past it the firm is
    gap = (date(2024, 3, 1) - date(2023, 1, 10)).days
    assert a["median_gap_1095d"] == gap and b["median_gap_1095d"] is None
    assert a["overdue_ratio"] == pytest.approx((T - date(2024, 3, 1)).days / gap)


FUTURE = T + timedelta(days=1)


@pytest.mark.parametrize(
    "change",
    [
        "new_inspections_after_T",
        "known_after_T",
        "records_after_T",
        "record_collected_after_T",
        "scores_after_T",
        "future_outcomes_flipped",
        "future_inspection_scores_changed",
    ],
)
def test_nothing_after_t_changes_a_feature(change):
    before = features(history())
    if change == "new_inspections_after_T":
        h = history(
            extra_outcomes=[
                outcome("A", FUTURE, True, who="I9"),
                outcome("D", date(2025, 1, 1), True),
            ]
        )
    elif change == "known_after_T":  # inspected before T, but the result arrived after T
        h = history(extra_outcomes=[outcome("C", date(2024, 6, 1), True, known=FUTURE, who="I1")])
    elif change == "records_after_T":
        h = history(
            extra_records=[
                record("A", FUTURE, "L4", 20.0),
                record("C", date(2025, 3, 1), "L3", 10.0),
            ]
        )
    elif change == "record_collected_after_T":
        h = history(extra_records=[record("C", date(2024, 6, 1), "L4", 20.0, known=FUTURE)])
    elif change == "future_inspection_scores_changed":  # new inspectors and scores after T
        h = history(
            extra_outcomes=[
                outcome("A", FUTURE, False, who="I2", score=40.0),
                outcome("B", date(2024, 12, 1), True, who="I9", score=99.0),
                outcome("C", date(2024, 6, 1), True, known=FUTURE, who="I1", score=50.0),
            ]
        )
    elif change == "scores_after_T":
        h = history(
            extra_scores=[
                {"entity_id": "A", "as_of": FUTURE, "score": 10.0, "tier": "D", "veto": True}
            ]
        )
    else:
        base = history(
            extra_outcomes=[outcome("B", FUTURE, True), outcome("C", date(2024, 9, 1), False)]
        )
        before = features(base)
        flipped = base.outcomes.with_columns(
            problem=pl.when(pl.col("inspected_on") > T)
            .then(~pl.col("problem"))
            .otherwise("problem")
        )
        h = replace(base, outcomes=flipped)
    assert features(h).equals(before)


def test_labels_are_the_first_inspection_in_the_horizon():
    h = history(
        extra_outcomes=[
            outcome("A", T, True),  # on T itself: a feature, not a label
            outcome("A", date(2024, 8, 1), False, who="I7"),
            outcome("A", date(2024, 9, 1), True),
            outcome("B", T + timedelta(days=400), True),  # beyond the horizon
        ]
    )
    labels = labels_after(h.outcomes, T, 365)
    assert labels.to_dicts() == [
        {"entity_id": "A", "label_id": "A-2024-08-01", "label": False,
         "label_on": date(2024, 8, 1), "label_inspector": "I7", "label_team": ["I7"]}
    ]  # fmt: skip


def test_every_inspection_of_the_window_is_a_label_in_the_inspection_unit():
    h = history(
        extra_outcomes=[
            outcome("A", T, True),  # on T itself: not in (T, end]
            outcome("A", date(2024, 8, 1), False, who="I7"),
            outcome("A", date(2024, 9, 1), True),
            outcome("B", date(2024, 7, 5), True),
            outcome("B", date(2024, 12, 31), False),  # after the end
        ]
    )
    rows = inspections_in(h.outcomes, T, date(2024, 12, 30))
    assert rows.select("entity_id", "label_on", "label").rows() == [
        ("B", date(2024, 7, 5), True),
        ("A", date(2024, 8, 1), False),
        ("A", date(2024, 9, 1), True),
    ]
