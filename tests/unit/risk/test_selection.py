"""Choosing the model: the one-standard-error rule by hand, and on a generated dataset in
which the complex model must lose to the history-only baseline."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from fixtures.risk_history import inspector_dominated_history

from models.risk.config import default_risk_config
from models.risk.model import train_models
from models.risk.selection import (
    baseline_scores,
    choose_metric,
    held_out_figures,
    one_standard_error,
)

CONFIG = default_risk_config()


def test_a_complex_model_within_one_standard_error_loses_to_the_simpler():
    figures = {
        "history_only": (0.785, 0.02),
        "logistic": (0.79, 0.02),
        "gradient_boosting": (0.80, 0.02),  # best, bar 0.78: both simpler ones reach it
    }
    choice = one_standard_error(figures, "auc")
    assert (choice.winner, choice.best) == ("history_only", "gradient_boosting")
    assert choice.bar == pytest.approx(0.78)
    assert "within one standard error and simpler" in choice.reason


def test_a_clearly_better_model_wins_and_the_simplest_above_the_bar_is_taken():
    clear = {
        "history_only": (0.80, 0.01),
        "logistic": (0.82, 0.01),
        "gradient_boosting": (0.85, 0.01),
    }
    assert one_standard_error(clear, "auc").winner == "gradient_boosting"
    middle = {**clear, "logistic": (0.845, 0.01)}  # within one SE of the best, simpler
    assert one_standard_error(middle, "auc").winner == "logistic"


def test_nothing_beats_history_only_when_a_one_feature_baseline_is_best():
    figures = {
        "last_score": (0.90, 0.01),  # best, but not a model: the bar is 0.89
        "history_only": (0.80, 0.01),
        "logistic": (0.85, 0.01),
        "gradient_boosting": (0.86, 0.01),
    }
    choice = one_standard_error(figures, "auc")
    assert (choice.winner, choice.best) == ("history_only", "last_score")
    assert "history-only model is the model" in choice.reason
    # missing figures (NaN) take no part; no figure at all: the simplest model
    assert one_standard_error({"gradient_boosting": (math.nan, 0.1)}, "auc").winner == (
        "history_only"
    )


def test_one_feature_baselines_and_the_metric():
    frame = pl.DataFrame(
        {
            "last_score": [90.0, 70.0, None],  # a low score is risky; none: the median
            "last_problem": [0.0, 1.0, None],
            "tier_rank": [0.0, 3.0, 1.0],
        }
    )
    scores = baseline_scores(frame)
    assert scores["last_score"].to_list() == [-90.0, -70.0, -80.0]
    assert scores["tier_only"].to_list() == [0.0, 3.0, 1.0]
    flags = baseline_scores(frame.drop("last_score", "tier_rank"))
    assert flags["last_score"].to_list() == [0.0, 1.0, 0.5] and "tier_only" not in flags
    labels = np.array([True, False, True, False])
    assert choose_metric("auto", labels, ["a", "a", "b", "b"]) == "auc_within_inspector"
    assert choose_metric("auto", labels, [None, None, None, "b"]) == "auc"
    assert choose_metric("auc", labels, ["a", "a", "b", "b"]) == "auc"


def test_held_out_figures_carry_standard_errors():
    rng = np.random.default_rng(2)
    labels = rng.random(300) < 0.3
    groups = [f"i{i}" for i in rng.integers(0, 5, 300)]
    figures = held_out_figures(
        {"good": labels + rng.normal(0, 1, 300), "noise": rng.random(300)},
        labels,
        groups,
        resamples=100,
        seed=0,
    )
    assert figures["good"]["auc"] > 0.7 > figures["noise"]["auc"]
    assert 0.01 < figures["good"]["auc_se"] < 0.06
    assert 0.01 < figures["good"]["auc_within_inspector_se"] < 0.08


def test_on_inspector_dominated_data_the_complex_model_must_lose():
    """Firms differ little and inspectors a lot: gradient boosting has the best held-out
    figure here (by chance), but not by more than its standard error — the history-only
    model is the model, and the manifest says so with every candidate's figures."""
    history = inspector_dominated_history(seed=3)
    trained = train_models(history, date(2023, 6, 30), 365, CONFIG)
    record = trained.selection
    figures = {c["name"]: c for c in record["candidates"]}
    assert set(figures) == {"last_score", "history_only", "logistic", "gradient_boosting"}
    assert record["metric"] == "auc_within_inspector"  # the data name inspectors
    assert record["best"] == "gradient_boosting"
    assert trained.winner == "history_only" and trained.primary.algorithm == "history_only"
    assert "within one standard error and simpler" in record["reason"]
    for figure in figures.values():
        assert figure["auc_within_inspector_se"] > 0 and figure["auc_se"] > 0
    assert trained.primary.manifest()["model_selection"] == record
