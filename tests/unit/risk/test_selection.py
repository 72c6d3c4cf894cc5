"""Choosing the model: the one-standard-error rule by hand, and on a generated dataset in
which the complex model must lose to the history-only baseline."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from fixtures.risk_history import inspector_dominated_history

from models.risk.config import default_risk_config
from models.risk.model import train_models
from models.risk.selection import choose_metric, held_out_figures, one_standard_error

CONFIG = default_risk_config()


def test_a_complex_model_within_one_standard_error_loses_to_history_only():
    figures = {
        "last_score": (0.70, 0.02),
        "history_only": (0.785, 0.02),
        "logistic": (0.79, 0.02),
        "gradient_boosting": (0.80, 0.02),  # best, bar 0.78: history only reaches it
    }
    choice = one_standard_error(figures, "auc")
    assert (choice.winner, choice.best) == ("history_only", "gradient_boosting")
    assert choice.bar == pytest.approx(0.78)
    assert "nothing beats it by more than noise" in choice.reason


def test_when_history_only_is_beaten_the_simplest_candidate_above_the_bar_wins():
    clear = {
        "last_score": (0.70, 0.01),
        "history_only": (0.80, 0.01),
        "logistic": (0.82, 0.01),
        "gradient_boosting": (0.85, 0.01),
    }
    assert one_standard_error(clear, "auc").winner == "gradient_boosting"
    middle = {**clear, "logistic": (0.845, 0.01)}  # within one SE of the best, simpler
    assert one_standard_error(middle, "auc").winner == "logistic"
    simple = {**clear, "last_score": (0.86, 0.01)}  # the best and the simplest
    choice = one_standard_error(simple, "auc")
    assert (choice.winner, choice.best) == ("last_score", "last_score")
    assert "history_only (0.800) is below the bar" in choice.reason


def test_history_only_is_the_model_when_nothing_can_be_compared():
    assert one_standard_error({}, "auc").winner == "history_only"
    nan = {"history_only": (math.nan, 0.1), "gradient_boosting": (0.9, 0.01)}
    assert one_standard_error(nan, "auc").winner == "history_only"
    ties = {"history_only": (0.8, 0.0), "logistic": (0.8, 0.0)}
    assert one_standard_error(ties, "auc").winner == "history_only"


def test_the_metric_is_within_inspector_when_inspectors_are_known():
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
    history = inspector_dominated_history(seed=0)
    trained = train_models(history, date(2023, 6, 30), 365, CONFIG)
    record = trained.selection
    figures = {c["name"]: c for c in record["candidates"]}
    assert set(figures) == {"last_score", "history_only", "logistic", "gradient_boosting"}
    assert record["metric"] == "auc_within_inspector"  # the data name inspectors
    assert record["best"] == "gradient_boosting"
    assert trained.winner == "history_only" and trained.primary.algorithm == "history_only"
    assert "nothing beats it by more than noise" in record["reason"]
    for figure in figures.values():
        assert figure["auc_within_inspector_se"] > 0 and figure["auc_se"] > 0
    assert trained.primary.manifest()["model_selection"] == record
