"""Metrics on tiny hand-made cases (each expected value worked out by hand)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from models.risk import metrics
from models.risk.stability import psi_categorical, psi_month_over_month, psi_numeric


def test_auc_counts_pairs_and_half_ties():
    # pairs (pos, neg): (0.35, 0.1) ✓ (0.35, 0.4) ✗ (0.8, 0.1) ✓ (0.8, 0.4) ✓ → 3/4
    assert metrics.auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert metrics.auc([0.5, 0.5], [0, 1]) == 0.5
    assert metrics.auc([1, 2, 3], [0, 0, 1]) == 1.0
    assert math.isnan(metrics.auc([1, 2], [1, 1]))


def test_within_group_auc_only_compares_inside_a_group():
    frame = pl.DataFrame(
        {
            # group g1: perfect (1 pair); group g2: inverted (2 pairs); group g3: one class
            "s": [0.9, 0.1, 0.2, 0.3, 0.8, 0.5],
            "y": [True, False, True, False, False, True],
            "g": ["g1", "g1", "g2", "g2", "g2", "g3"],
        }
    )
    # g1 AUC 1 (1 pair); g2: positive 0.2 vs negatives 0.3, 0.8 → 0 (2 pairs) → 1/3
    assert metrics.within_group_auc(frame, "s", "y", "g") == pytest.approx(1 / 3)


def test_weighted_auc_counts_a_row_drawn_twice_twice():
    scores = [0.1, 0.4, 0.35, 0.8]
    labels = [0, 0, 1, 1]
    assert metrics.weighted_auc(scores, labels, np.ones((1, 4)))[0] == 0.75
    # the negative 0.4 drawn twice, the positive 0.8 left out: pairs (0.35, 0.1) ✓,
    # (0.35, 0.4) ✗ twice → 1/3
    assert metrics.weighted_auc(scores, labels, np.array([[1, 2, 1, 0]]))[0] == pytest.approx(1 / 3)
    # within groups: g1 = (0.1 neg, 0.35 pos) → 1; g2 = (0.4 neg, 0.8 pos) → 1; ties ½
    assert metrics.weighted_auc(scores, labels, np.ones((1, 4)), ["g1", "g2", "g1", "g2"])[0] == 1
    assert metrics.weighted_auc([0.5, 0.5], [0, 1], np.ones((1, 2)))[0] == 0.5
    assert math.isnan(metrics.weighted_auc([1, 2], [1, 1], np.ones((1, 2)))[0])


def test_weighted_auc_equals_the_plain_figures_on_a_resample():
    rng = np.random.default_rng(3)
    n = 300
    scores = rng.integers(0, 12, n).astype(float)  # many ties
    labels = rng.random(n) < 0.3
    groups = [None if g == 0 else f"g{g}" for g in rng.integers(0, 6, n)]
    weights = metrics.bootstrap_weights(n, 2, np.random.default_rng(5))
    rows = np.repeat(np.arange(n), weights[1].astype(int))
    frame = pl.DataFrame({"s": scores, "y": labels, "g": groups})[rows]
    assert metrics.weighted_auc(scores, labels, weights)[1] == pytest.approx(
        metrics.auc(scores[rows], labels[rows])
    )
    assert metrics.weighted_auc(scores, labels, weights, groups)[1] == pytest.approx(
        metrics.within_group_auc(frame, "s", "y", "g")
    )


def test_bootstrap_intervals_are_paired_and_reproducible():
    rng = np.random.default_rng(4)
    labels = rng.random(400) < 0.3
    good = labels + rng.normal(0, 0.8, 400)
    first = metrics.bootstrap_aucs({"a": good, "b": good}, labels, resamples=200, seed=1)
    again = metrics.bootstrap_aucs({"a": good, "b": good}, labels, resamples=200, seed=1)
    assert np.array_equal(first["a"], again["a"])
    assert metrics.interval(first["a"] - first["b"]) == (0.0, 0.0)  # same rows for both
    se = metrics.standard_error(first["a"])
    assert 0.01 < se < 0.05  # ≈ the Hanley–McNeil standard error of an AUC near 0.8, n=400
    low, high = metrics.interval(first["a"])
    assert low < metrics.auc(good, labels) < high


def test_top_share_lift():
    scores = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    labels = [1, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    # top 20% = 2 entities, both problems: rate 1.0 vs 0.3 overall
    assert metrics.top_share_lift(scores, labels, 0.2) == pytest.approx(1 / 0.3)
    # top 10% → ceil(1) entity
    assert metrics.top_share_lift(scores, labels, 0.1) == pytest.approx(1 / 0.3)
    curve = metrics.lift_curve(scores, labels, points=10)
    assert curve["share_found"].to_list()[:3] == pytest.approx([1 / 3, 2 / 3, 2 / 3])
    assert curve["share_found"][-1] == 1.0 and curve["lift"][-1] == pytest.approx(1.0)


def test_constant_scores_lift_like_a_random_draw():
    rng = np.random.default_rng(1)
    labels = rng.random(20_000) < 0.1
    assert metrics.top_share_lift(np.zeros(20_000), labels, 0.2) == pytest.approx(1.0, abs=0.08)


def test_calibration_bins_and_brier():
    p = [0.1, 0.1, 0.2, 0.2, 0.8, 0.9]
    y = [0, 0, 0, 1, 1, 1]
    bins = metrics.calibration_bins(p, y, 3)
    assert bins.to_dicts() == [
        {"bin": 1, "entities": 2, "mean_predicted": pytest.approx(0.1), "observed_rate": 0.0},
        {"bin": 2, "entities": 2, "mean_predicted": pytest.approx(0.2), "observed_rate": 0.5},
        {"bin": 3, "entities": 2, "mean_predicted": pytest.approx(0.85), "observed_rate": 1.0},
    ]
    assert metrics.brier([1.0, 0.0, 0.5], [1, 0, 1]) == pytest.approx(0.25 / 3)


def test_failure_by_tier_and_draw_at_equal_budget():
    frame = pl.DataFrame(
        {
            "tier": ["A"] * 10 + ["D"] * 2,
            "label": [False] * 9 + [True] + [True, False],
            "risk": [0.1] * 10 + [0.9, 0.8],
        }
    )
    tiers = metrics.failure_by_tier(frame, "tier", "label", {"A": 0.1, "D": 1.0})
    assert tiers.select("tier", "entities", "problems", "failure_rate", "drawn").rows() == [
        ("A", 10, 1, 0.1, 1),
        ("D", 2, 1, 0.5, 2),
    ]
    draw = {
        r["strategy"]: r for r in metrics.draw_comparison(tiers, frame, "risk", "label").to_dicts()
    }
    assert draw["tier_driven"]["budget"] == 3
    assert draw["tier_driven"]["expected_hits"] == pytest.approx(0.1 + 1.0)
    assert draw["uniform"]["hit_rate"] == pytest.approx(2 / 12)
    assert draw["model_top"]["expected_hits"] == 1.0  # D (hit), D (miss), then an A


def test_reordering_gives_the_earliest_dates_to_the_riskiest():
    start = date(2025, 1, 1)
    frame = pl.DataFrame(
        {
            "risk": [0.9, 0.1, 0.5],
            "label": [True, False, False],
            "on": [date(2025, 3, 1), date(2025, 1, 10), date(2025, 2, 1)],
        }
    )
    out = metrics.reordering(frame, "risk", "label", "on", start + timedelta(days=30))
    # the problem firm moves from 1 March to 10 January: 50 days earlier, into the first month
    assert out == {"days_earlier": 50.0, "share_first_actual": 0.0, "share_first_reordered": 1.0}


def test_psi_hand_cases():
    assert psi_numeric([1, 2, 3, 4], [1, 2, 3, 4], bins=2) == 0.0
    # reference splits at its median 2.5; shares (0.5, 0.5) → (0.25, 0.75)
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi_numeric([1, 2, 3, 4], [1, 3, 4, 4], bins=2) == pytest.approx(expected)
    assert psi_categorical(["A", "B"], ["A", "A", "B", "B"]) == 0.0
    assert psi_categorical(["A"], ["B"]) > 9  # disjoint: large, finite


def test_psi_month_over_month_flags_a_shift():
    frame = pl.DataFrame(
        {
            "as_of": [date(2025, 1, 31)] * 4 + [date(2025, 2, 28)] * 4 + [date(2025, 3, 31)] * 4,
            "x": [1.0, 2.0, 3.0, 4.0] * 2 + [9.0, 9.0, 9.0, 9.0],
            "tier": ["A", "B", "B", "C"] * 3,
        }
    )
    psi = psi_month_over_month(frame, ["x"], ["tier"], bins=2, flag_above=0.25, min_population=4)
    flagged = psi.filter("flagged").select("subject", "as_of").rows()
    assert flagged == [("x", date(2025, 3, 31))]
    assert psi.height == 4
    too_few = psi_month_over_month(frame, ["x"], [], bins=2, flag_above=0.25, min_population=5)
    assert not too_few["flagged"].any() and too_few["psi"].equals(
        psi.filter(pl.col("subject") == "x")["psi"]
    )
