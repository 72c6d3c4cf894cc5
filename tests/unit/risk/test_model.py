"""The model artefact, the one scoring path (batch = single firm = report), the two scores
and the backtest's two units."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from fixtures.risk_history import synthetic_history

from models.risk.backtest import evaluation_set, first_period, risk_bands, run_backtest
from models.risk.config import default_risk_config
from models.risk.model import (
    TEAM,
    RiskModel,
    TrainingDataError,
    forecast,
    labelled_features,
    predict,
    score_entities,
    train_models,
    training_set,
)

CONFIG = default_risk_config()
CUTOFF = date(2022, 12, 31)
RATIOS = {"A": 0.03, "B": 0.1, "C": 0.3, "D": 1.0}


@pytest.fixture(scope="module")
def history():
    return synthetic_history()


@pytest.fixture(scope="module")
def report(history):
    return run_backtest(history, CUTOFF, 365, CONFIG, RATIOS)


def test_batch_single_firm_and_report_agree(history, report):
    primary = report.models[report.primary]
    everyone = history.population()
    batch = score_entities(primary, history, CUTOFF, everyone, CONFIG)
    by_firm = dict(zip(batch["entity_id"], batch["probability"], strict=True))
    for firm in report.scored["entity_id"].head(5):
        single = score_entities(primary, history, CUTOFF, everyone.filter(everyone == firm), CONFIG)
        assert single["probability"][0] == by_firm[firm]
    reported = dict(zip(report.scored["entity_id"], report.scored["firm_risk"], strict=True))
    assert all(by_firm[firm] == p for firm, p in reported.items())


def test_artefact_round_trip_keeps_hash_and_predictions(history, report):
    model = report.models["logistic"]
    loaded = RiskModel.from_bytes(model.to_bytes())
    assert loaded.content_sha256 == model.content_sha256 and loaded.version == model.version
    assert loaded.manifest() == model.manifest()
    first = score_entities(model, history, CUTOFF, history.population(), CONFIG)
    again = score_entities(loaded, history, CUTOFF, history.population(), CONFIG)
    assert first.equals(again)
    manifest = model.manifest()
    assert manifest["cutoff"] == "2022-12-31" and manifest["training_until"] == "2022-12-31"
    assert manifest["library_versions"]["scikit-learn"]
    assert "excess_problems_decayed" in manifest["features"] and TEAM in manifest["features"]
    assert manifest["model_selection"]["winner"] == report.primary


def test_a_tampered_artefact_is_refused(report):
    model = report.models["logistic"]
    tampered = replace(model, params={**model.params, "C": 99.0})
    with pytest.raises(ValueError, match="hash mismatch"):
        RiskModel.from_bytes(tampered.to_bytes())


def test_training_is_deterministic(history):
    first = train_models(history, CUTOFF, 365, CONFIG, only_winner=True)
    second = train_models(history, CUTOFF, 365, CONFIG, only_winner=True)
    assert first.primary.content_sha256 == second.primary.content_sha256


def test_the_models_beat_random_and_report_every_baseline(report):
    assert report.metric("firm_risk", "auc") > 0.6
    assert report.metric("random", "auc") == pytest.approx(0.5, abs=0.1)
    assert report.metric("inspector_only", "auc", "within_inspector") == 0.5
    assert report.tier_source == "risk_band"  # no credit tier in this history
    summary = report.summary()
    assert set(summary["metrics"]) == {
        "firm_risk", "outcome_forecast", "gradient_boosting", "logistic", "history_only",
        "random", "last_score", "inspector_only",
    }  # fmt: skip
    assert summary["not_available"] == {"tier_only": "no credit tier in the inputs"}
    assert summary["inspectors"]["variance_explained"] > 0
    for scope in ("overall", "within_inspector"):
        low = report.metric("firm_risk", "auc_minus_history_only_ci_low", scope)
        high = report.metric("firm_risk", "auc_minus_history_only_ci_high", scope)
        assert low <= report.metric("firm_risk", "auc_minus_history_only", scope) <= high


def test_the_manifest_records_every_candidate_and_why(report):
    record = report.selection
    assert {c["name"] for c in record["candidates"]} == {
        "last_score", "history_only", "logistic", "gradient_boosting"
    }  # fmt: skip
    assert record["winner"] == report.primary and record["reason"]
    assert date.fromisoformat(record["held_out_as_of"]) + timedelta(days=365) <= CUTOFF
    for candidate in record["candidates"]:
        assert candidate["auc"] is not None and candidate["auc_se"] > 0
    assert all(m.manifest()["model_selection"] == record for m in report.models.values())


def test_firm_risk_ignores_the_team_and_the_forecast_adds_it(history, report):
    """Firm risk is the same whoever inspects (with or without the team covariate in
    training); the outcome forecast adds the team's strictness to its log-odds, so it equals
    firm risk for an average team and orders one team's firms as firm risk does."""
    features = labelled_features(history, CUTOFF, 365, CONFIG)
    zero = pl.Series([0.0] * features.height)
    for name in ("logistic", "history_only"):
        model = report.models[name]
        assert model.adjusts_for_team == (name == "logistic")
        risk = predict(model, features)["probability"]
        strict = features.with_columns(pl.lit(2.0).alias(TEAM))
        assert predict(model, strict)["probability"].equals(risk)
        assert np.allclose(forecast(model, features, zero).to_numpy(), risk.to_numpy())
        odds = risk.to_numpy() / (1 - risk.to_numpy()) * np.e
        assert np.allclose(forecast(model, features, zero + 1.0).to_numpy(), odds / (1 + odds))
        one_team = forecast(model, features, zero + 0.7)
        assert (one_team.rank("ordinal") == risk.rank("ordinal")).all()


def test_the_inspection_unit_takes_every_inspection_as_of_the_day_before(history, report):
    evaluated = evaluation_set(history, CUTOFF, 365, CONFIG, "inspection")
    window = history.outcomes.filter(
        pl.col("inspected_on").is_between(CUTOFF, CUTOFF + timedelta(days=365), closed="right")
    )
    assert evaluated.height == window.height > report.scored.height
    assert (evaluated["as_of"] == evaluated["label_on"] - timedelta(days=1)).all()
    assert sorted(evaluated["label_id"]) == sorted(window["inspection_id"])
    # a firm inspected twice in the window: the second time, the first result is history
    twice = evaluated.filter(pl.col("entity_id").is_duplicated()).sort("entity_id", "label_on")
    first, second = twice.row(0, named=True), twice.row(1, named=True)
    assert first["entity_id"] == second["entity_id"]
    assert second["inspections_total"] == first["inspections_total"] + 1


def test_the_first_month_is_a_calendar_month_or_n_days():
    assert first_period(date(2024, 12, 31), "month")[:2] == (date(2025, 1, 1), date(2025, 1, 31))
    assert first_period(date(2019, 1, 31), "month")[:2] == (date(2019, 2, 1), date(2019, 2, 28))
    assert first_period(date(2019, 1, 1), 30)[:2] == (date(2019, 1, 2), date(2019, 1, 31))


def test_no_history_before_the_cutoff_is_a_clear_error(history):
    with pytest.raises(TrainingDataError, match="no training snapshot"):
        train_models(history, date(2020, 6, 1), 365, CONFIG)


def test_risk_bands_have_the_configured_shares():
    bands = risk_bands(pl.Series("p", [i / 100 for i in range(100)]), CONFIG.report.risk_bands)
    counts = dict(bands.value_counts().iter_rows())
    assert counts == {"A": 50, "B": 30, "C": 15, "D": 5}
    assert bands[99] == "D" and bands[0] == "A"


def test_parameters_are_chosen_inside_the_training_period(report):
    """The held-out snapshot is the last one before the cut-off and no inner label reaches
    into its window; the chosen candidate is the one the model was fitted with."""
    model = report.models["gradient_boosting"]
    selection = model.params["selection"]
    metric = report.selection["metric"]
    held_out = date.fromisoformat(selection["held_out_as_of"])
    assert held_out == max(model.snapshots) and held_out + timedelta(days=365) <= CUTOFF
    assert all(
        date.fromisoformat(d) + timedelta(days=365) <= held_out
        for d in selection["inner_snapshots"]
    )
    tried = selection["candidates"]
    assert len(tried) == 1 + len(CONFIG.training.candidates["gradient_boosting"])
    best = max(c[metric] for c in tried)
    assert tried[selection["chosen"]][metric] == best
    chosen = tried[selection["chosen"]]["params"]
    assert all(model.params[k] == v for k, v in chosen.items())


def test_the_evaluation_window_cannot_change_the_model(history):
    """Flipping every outcome after the cut-off changes neither the chosen parameters nor
    the fitted model (same content hash)."""
    flipped = replace(
        history,
        outcomes=history.outcomes.with_columns(
            problem=pl.when(pl.col("inspected_on") > CUTOFF)
            .then(~pl.col("problem"))
            .otherwise("problem")
        ),
    )
    first = train_models(history, CUTOFF, 365, CONFIG)
    second = train_models(flipped, CUTOFF, 365, CONFIG)
    assert first.selection == second.selection
    for name, model in first.models.items():
        assert model.content_sha256 == second.models[name].content_sha256


def test_too_short_a_history_keeps_the_base_parameters_and_the_simplest_model(history):
    trained = train_models(history, date(2021, 12, 31), 365, CONFIG)
    selection = trained.models["logistic"].params["selection"]
    assert selection["method"].startswith("none")
    assert trained.models["logistic"].params["C"] == CONFIG.training.logistic["C"]
    assert trained.winner == "history_only" and "too short" in trained.selection["reason"]


def test_a_large_training_set_is_capped_by_a_seeded_sample(history):
    capped = CONFIG.model_copy(
        update={"training": CONFIG.training.model_copy(update={"max_rows": 150})}
    )
    full, _ = training_set(history, CUTOFF, 365, CONFIG)
    sample, _ = training_set(history, CUTOFF, 365, capped)
    again, _ = training_set(history, CUTOFF, 365, capped)
    assert full.height > 150 and sample.height == 150
    assert sample.equals(again)  # reproducible
    keys = ["entity_id", "as_of"]
    assert sample.join(full, on=keys, how="anti").is_empty()  # rows of the full set
    assert not sample.select(keys).is_duplicated().any()  # without replacement
