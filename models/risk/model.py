"""The risk models as a versioned artefact, and the one scoring path.

What belongs here: building the training set from quarterly point-in-time snapshots before
a cut-off (`training_set`), the time-based validation inside the training period that tunes
each candidate and chooses the model (`train_models`, rule in `selection`), fitting the
history-only logistic, the logistic and the histogram gradient-boosted model, each calibrated
(`fit_model`), the `RiskModel` artefact — estimator, parameters, feature list, training
window, the choice among candidates, library versions and a SHA-256 of its content — and the
two scores: *firm risk* (`predict`, `score_entities`: no inspector identity; the batch
scores, a single firm's score and the backtest all call it) and the *outcome forecast*
(`forecast`: firm risk's log-odds plus the assigned team's strictness). What does not: files (the
pipelines write `to_bytes()`), the evaluation after the cut-off.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, cast

import numpy as np
import polars as pl
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from models.risk import metrics
from models.risk.config import RiskConfig
from models.risk.features import FeatureSpec, feature_spec, features_as_of, labels_after
from models.risk.history import History
from models.risk.inspectors import Strictness, estimate_strictness, team_strictness
from models.risk.selection import (
    ANCHOR,
    COMPLEXITY,
    choose_metric,
    held_out_figures,
    one_standard_error,
)

SCORE_SCHEMA = pl.Schema(
    {
        "entity_id": pl.Utf8,
        "as_of": pl.Date,
        "probability": pl.Float64,
        "model_version": pl.Utf8,
    }
)

PROBABILITY_DECIMALS = 12
TEAM = "team_strictness"
"""The training covariate of the logistic and gradient-boosted models: the mean strictness of
the team whose inspection is the label (as of the snapshot), so the inspector's share of each
past label is not learnt as the firm's. Firm risk is predicted with it at 0 — an average
team; the outcome forecast adds the assigned team's strictness to firm risk's log-odds."""


class TrainingDataError(ValueError):
    """Not enough labelled history before the cut-off to train (the message says why)."""


@dataclass(frozen=True)
class RiskModel:
    """A trained, calibrated model with everything needed to reproduce and audit it."""

    algorithm: str  # the candidate: history_only | logistic | gradient_boosting
    estimator: Any = field(repr=False)
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    params: dict[str, Any]
    cutoff: date
    horizon_days: int
    snapshots: tuple[date, ...]
    training_rows: int
    positives: int
    config_version: str
    library_versions: dict[str, str]
    selection: dict[str, Any] = field(default_factory=dict)
    """How the model was chosen among the candidates (held-out figures, rule, reason)."""
    estimator_pickle: bytes = field(default=b"", repr=False)
    """The estimator's bytes as fitted: hashed, so the hash survives save and load."""
    content_sha256: str = ""

    @property
    def version(self) -> str:
        return f"{self.algorithm}-{self.content_sha256[:12]}"

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    @property
    def adjusts_for_team(self) -> bool:
        """Whether the label team's strictness was a training covariate (0 for firm risk)."""
        return TEAM in self.numeric

    def manifest(self) -> dict[str, Any]:
        """Everything but the estimator, JSON-ready (stored beside the artefact)."""
        return {
            "model_version": self.version if self.content_sha256 else None,
            "algorithm": self.algorithm,
            "features": list(self.features),
            "categorical": list(self.categorical),
            "params": self.params,
            "cutoff": self.cutoff.isoformat(),
            "horizon_days": self.horizon_days,
            "training_from": min(self.snapshots).isoformat(),
            "training_until": self.cutoff.isoformat(),
            "snapshots": [d.isoformat() for d in self.snapshots],
            "training_rows": self.training_rows,
            "positives": self.positives,
            "config_version": self.config_version,
            "library_versions": self.library_versions,
            "model_selection": self.selection,
            "content_sha256": self.content_sha256,
        }

    def to_bytes(self) -> bytes:
        """The artefact: the manifest fields and the hashed estimator bytes (no second copy)."""
        return pickle.dumps(replace(self, estimator=None), protocol=5)

    @staticmethod
    def from_bytes(data: bytes) -> RiskModel:
        """Load an artefact written by `to_bytes` (only ever our own files: pickle) and check
        that its content still matches its hash."""
        model = pickle.loads(data)  # our own artefact, hash-verified below
        if not isinstance(model, RiskModel) or _content_hash(model) != model.content_sha256:
            raise ValueError("risk model artefact is corrupt or was modified (hash mismatch)")
        return replace(model, estimator=pickle.loads(model.estimator_pickle))


def _content_hash(model: RiskModel) -> str:
    unsigned = replace(model, content_sha256="")
    payload = json.dumps(unsigned.manifest(), sort_keys=True).encode() + model.estimator_pickle
    return hashlib.sha256(payload).hexdigest()


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "polars": pl.__version__,
    }


def known_by(history: History, as_of: date) -> History:
    """The history as it stood on `as_of`: outcomes (and label rows) known by then."""
    known = (pl.col("known_on") <= as_of) & (pl.col("inspected_on") <= as_of)
    labels = history.label_outcomes
    return replace(
        history,
        outcomes=history.outcomes.filter(known),
        label_outcomes=None if labels is None else labels.filter(known),
    )


def strictness_as_of(history: History, as_of: date, config: RiskConfig) -> Strictness:
    return estimate_strictness(
        known_by(history, as_of).outcomes, config.inspectors.min_prior_strength
    )


def snapshot_dates(
    history: History, cutoff: date, horizon_days: int, config: RiskConfig
) -> list[date]:
    """Quarterly snapshots T_k = cutoff − horizon − k·step whose labels end by the cut-off."""
    # Series.min() is typed as any scalar; inspected_on is a Date column (OUTCOME_SCHEMA)
    first = cast(date | None, history.outcomes["inspected_on"].min())
    if first is None:
        raise TrainingDataError("no inspections: nothing to learn from")
    earliest = first + timedelta(days=config.training.min_history_days)
    dates = [
        cutoff - timedelta(days=horizon_days + k * config.training.step_days)
        for k in range(config.training.snapshots)
    ]
    kept = sorted(d for d in dates if d >= earliest)
    if not kept:
        raise TrainingDataError(
            f"no training snapshot: the cut-off {cutoff} minus the horizon ({horizon_days} days) "
            f"is before {earliest} (first inspection {first} + "
            f"{config.training.min_history_days} days of history)"
        )
    return kept


def labelled_features(
    history: History, as_of: date, horizon_days: int, config: RiskConfig
) -> pl.DataFrame:
    """Features as of T for every entity inspected in (T, T + horizon], with its label."""
    labels = labels_after(history.labels, as_of, horizon_days)
    return with_features(history, as_of, labels, strictness_as_of(history, as_of, config), config)


def with_features(
    history: History, as_of: date, labels: pl.DataFrame, strictness: Strictness, config: RiskConfig
) -> pl.DataFrame:
    """Label rows (`features.LABEL_COLUMNS`) with their entity's features as of T and the
    label team's strictness as of T (`TEAM`), sorted by entity and date."""
    population = labels["entity_id"].unique().sort()
    features = features_as_of(history, as_of, population, strictness, config.features)
    return (
        features.join(labels, on="entity_id", how="inner")
        .with_columns(team_strictness(pl.col("label_team"), strictness).alias(TEAM))
        .sort("entity_id", "label_on", "label_id", nulls_last=True)
    )


def training_set(
    history: History, cutoff: date, horizon_days: int, config: RiskConfig
) -> tuple[pl.DataFrame, list[date]]:
    """Stacked snapshots; only outcomes known by the cut-off are used, labels included."""
    known = known_by(history, cutoff)
    dates = snapshot_dates(known, cutoff, horizon_days, config)
    frames = [labelled_features(known, d, horizon_days, config) for d in dates]
    train = pl.concat(frames, how="vertical")
    cap = config.training.max_rows
    if cap is not None and train.height > cap:
        # Every fit (candidates, calibration folds, three models) grows with the rows; a seeded
        # uniform sample keeps the class balance in expectation and the result reproducible.
        train = train.sample(cap, seed=config.training.random_state).sort("as_of", "entity_id")
    positives = int(train["label"].sum())
    if positives < config.training.calibration_folds or train.height - positives < (
        config.training.calibration_folds
    ):
        raise TrainingDataError(
            f"training set before {cutoff} has {train.height} rows with {positives} problems: "
            "too few of each class to fit and calibrate"
        )
    return train, dates


def _pipeline(
    algorithm: str,
    params: dict[str, Any],
    numeric: tuple[str, ...],
    categorical: tuple[str, ...],
    config: RiskConfig,
) -> Pipeline:
    """Preparation (median imputation + missing indicators, for the logistic models a rank
    transform, scaling; one-hot categories) and the uncalibrated classifier."""
    if algorithm == "logistic":
        classifier: Any = LogisticRegression(**params)
    else:
        classifier = HistGradientBoostingClassifier(
            **params, early_stopping=False, random_state=config.training.random_state
        )
    impute = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
    numeric_steps: list[tuple[str, Any]] = [("impute", impute)]
    if algorithm == "logistic":
        # counts, gaps and ratios have long tails (an overdue ratio of 300): a linear model
        # sees each feature by its rank instead (uniform quantiles), so no tail dominates
        numeric_steps.append(
            (
                "rank",
                QuantileTransformer(
                    n_quantiles=100, subsample=None, random_state=config.training.random_state
                ),
            )
        )
    numeric_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, Any, list[str]]] = [
        ("numeric", Pipeline(numeric_steps), list(numeric))
    ]
    if categorical:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            max_categories=config.features.max_categories,
            sparse_output=False,
        )
        transformers.append(("categorical", encoder, list(categorical)))
    return Pipeline([("prepare", ColumnTransformer(transformers)), ("classify", classifier)])


@dataclass(frozen=True)
class Validation:
    """The time-based split inside the training period: fit on `inner` (every label ended by
    `as_of`), judge on `held_out` (features as of `as_of`, labels in (as_of, cut-off]) by
    `metric` (`auc` or `auc_within_inspector`)."""

    as_of: date
    inner: pl.DataFrame
    inner_snapshots: tuple[date, ...]
    held_out: pl.DataFrame
    metric: str

    def judge(self, scores: np.ndarray) -> float:
        """The held-out figure of some scores (higher = riskier)."""
        labels = self.held_out["label"].to_numpy()
        if self.metric == "auc":
            return metrics.auc(scores, labels)
        frame = self.held_out.select("label", "label_inspector").with_columns(s=pl.Series(scores))
        return metrics.within_group_auc(frame, "s", "label", "label_inspector")


def validation_split(
    history: History,
    train: pl.DataFrame,
    snapshots: list[date],
    horizon_days: int,
    config: RiskConfig,
) -> Validation | None:
    """The latest training snapshot is held out; the inner training set is built as if its
    date were the cut-off, so no inner label reaches into the held-out window. None when the
    history is too short for that (the base parameters and the simplest model are then used)."""
    as_of = max(snapshots)
    held_out = train.filter(pl.col("as_of") == as_of)
    try:
        inner, inner_dates = training_set(history, as_of, horizon_days, config)
    except TrainingDataError:
        return None
    if held_out["label"].n_unique() < 2:
        return None
    metric = choose_metric(
        config.training.selection.metric,
        held_out["label"].to_numpy(),
        held_out["label_inspector"].to_list(),
    )
    return Validation(as_of, inner, tuple(inner_dates), held_out, metric)


TOO_SHORT = "none (history too short for a time-based validation)"
Columns = tuple[str, tuple[str, ...], tuple[str, ...]]
"""(estimator, numeric features, categorical features) of a candidate."""


def candidates(spec: FeatureSpec) -> tuple[str, ...]:
    """The candidates the data allow, simplest first (`tier_only` needs credit tiers)."""
    return tuple(n for n in COMPLEXITY if n != "tier_only" or "tier_rank" in spec.credit)


def candidate_columns(name: str, spec: FeatureSpec, team: bool) -> Columns:
    """What each candidate sees: `last_score` the last inspection's score (or, without
    scores, whether it found a problem), `tier_only` the credit tier, the history-only
    logistic the inspection history without any strictness adjustment, the logistic and the
    gradient-boosted model every feature plus the label team's strictness when the data name
    inspectors."""
    extra = (TEAM,) if team else ()
    if name == "last_score":
        return (
            "logistic",
            ("last_score",) if "last_score" in spec.history else ("last_problem",),
            (),
        )
    if name == "tier_only":
        return "logistic", ("tier_rank",), ()
    if name == "history_only":
        return "logistic", _history_only(spec), ()
    if name == "logistic":
        return "logistic", (*spec.numeric, *extra), spec.categorical
    if name == "gradient_boosting":
        return "gradient_boosting", (*spec.numeric, *extra), spec.categorical
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(COMPLEXITY)}")


@dataclass(frozen=True)
class Search:
    """A candidate's parameters chosen on the held-out snapshot, the record of the search,
    and the chosen parameters' firm-risk predictions there (None without a validation)."""

    params: dict[str, Any]
    record: dict[str, Any]
    held_out: np.ndarray | None


def select_params(validation: Validation | None, columns: Columns, config: RiskConfig) -> Search:
    """The base parameters, or the candidate override with the best held-out figure (ties
    keep the earlier: the base first)."""
    estimator, numeric, categorical = columns
    base = dict(
        config.training.logistic if estimator == "logistic" else config.training.gradient_boosting
    )
    # Keyed by the Literal estimator names; `estimator` is a plain str (any other name: none).
    by_estimator = cast(
        Mapping[str, tuple[dict[str, float | int], ...]], config.training.candidates
    )
    candidates = [base] + [{**base, **c} for c in by_estimator.get(estimator, ())]
    if validation is None:
        return Search(base, {"method": TOO_SHORT}, None)
    values: list[float] = []
    predictions: list[np.ndarray] = []
    for params in candidates:
        pipeline = _pipeline(estimator, params, numeric, categorical, config)
        with threadpool_limits(limits=1):
            pipeline.fit(
                _matrix(validation.inner, numeric, categorical),
                validation.inner["label"].to_numpy(),
            )
            held_out = validation.held_out.with_columns(pl.lit(0.0).alias(TEAM))
            proba = pipeline.predict_proba(_matrix(held_out, numeric, categorical))[:, 1]
        predictions.append(proba)
        values.append(validation.judge(proba))
    best = max(
        range(len(values)), key=lambda i: (values[i] if math.isfinite(values[i]) else -math.inf, -i)
    )
    tried = [
        {"params": p, validation.metric: _finite(v)}
        for p, v in zip(candidates, values, strict=True)
    ]
    record: dict[str, Any] = {
        "method": f"time-based validation inside the training period (best {validation.metric})",
        "held_out_as_of": validation.as_of.isoformat(),
        "held_out_rows": validation.held_out.height,
        "inner_snapshots": [d.isoformat() for d in validation.inner_snapshots],
        "candidates": tried,
        "chosen": best,
    }
    return Search(candidates[best], record, predictions[best])


def choose_model(
    validation: Validation | None, searches: Mapping[str, Search], config: RiskConfig
) -> tuple[str, dict[str, Any]]:
    """The winner among every candidate (`selection.COMPLEXITY`) by the one-standard-error
    rule on the held-out snapshot, and the record of why (the manifest's `model_selection`)."""
    method = (
        "time-based validation inside the training period; one-standard-error rule: the bar "
        "is the best held-out figure minus its standard error; the history-only model stays "
        "the model if it reaches the bar, else the simplest candidate that does wins"
    )
    if validation is None:
        reason = "history too short for a time-based validation: the history-only model"
        return ANCHOR, {"method": method, "winner": ANCHOR, "reason": reason, "candidates": []}
    held = validation.held_out
    scores = {name: s.held_out for name, s in searches.items() if s.held_out is not None}
    settings = config.training.selection
    figures = held_out_figures(
        scores,
        held["label"].to_numpy(),
        held["label_inspector"].to_list(),
        resamples=settings.resamples,
        seed=config.training.random_state,
    )
    metric = validation.metric
    choice = one_standard_error(
        {name: (f[metric], f[f"{metric}_se"]) for name, f in figures.items()}, metric
    )
    return choice.winner, {
        "method": method,
        "metric": metric,
        "held_out_as_of": validation.as_of.isoformat(),
        "held_out_rows": held.height,
        "held_out_positives": int(held["label"].sum()),
        "inner_snapshots": [d.isoformat() for d in validation.inner_snapshots],
        "candidates": [
            {"name": name, **{k: _finite(v) for k, v in figures[name].items()}} for name in scores
        ],
        "best": choice.best,
        "bar": _finite(choice.bar),
        "winner": choice.winner,
        "reason": choice.reason,
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def fit_model(
    train: pl.DataFrame,
    name: str,
    columns: Columns,
    config: RiskConfig,
    *,
    search: Search,
    selection: dict[str, Any],
    cutoff: date,
    horizon_days: int,
    snapshots: list[date],
) -> RiskModel:
    """Fit and calibrate one candidate with its chosen parameters on the whole training set."""
    settings = config.training
    estimator, numeric, categorical = columns
    pipeline = _pipeline(estimator, search.params, numeric, categorical, config)
    folds = StratifiedKFold(
        settings.calibration_folds, shuffle=True, random_state=settings.random_state
    )
    calibrated = CalibratedClassifierCV(pipeline, method=settings.calibration, cv=folds)
    with threadpool_limits(limits=1):  # OpenMP threads cost more than they save at this size
        calibrated.fit(_matrix(train, numeric, categorical), train["label"].to_numpy())
    model = RiskModel(
        algorithm=name,
        estimator=calibrated,
        numeric=numeric,
        categorical=categorical,
        params={
            **search.params,
            "estimator": estimator,
            "calibration": settings.calibration,
            "folds": settings.calibration_folds,
            "selection": search.record,
        },
        cutoff=cutoff,
        horizon_days=horizon_days,
        snapshots=tuple(snapshots),
        training_rows=train.height,
        positives=int(train["label"].sum()),
        config_version=config.version,
        library_versions=library_versions(),
        selection=selection,
        estimator_pickle=pickle.dumps(calibrated, protocol=5),
    )
    return replace(model, content_sha256=_content_hash(model))


@dataclass(frozen=True)
class TrainedModels:
    """The fitted candidates, the winner's name and the record of the choice."""

    models: dict[str, RiskModel]
    winner: str
    selection: dict[str, Any]

    @property
    def primary(self) -> RiskModel:
        """The model whose predictions are the firm-risk scores."""
        return self.models[self.winner]


def train_models(
    history: History,
    cutoff: date,
    horizon_days: int,
    config: RiskConfig,
    *,
    only_winner: bool = False,
) -> TrainedModels:
    """Tune every candidate and choose the model by the time-based validation, then fit and
    calibrate every candidate (or the winner alone) on the same training set."""
    known = known_by(history, cutoff)
    spec = feature_spec(history, config.features)
    train, dates = training_set(history, cutoff, horizon_days, config)
    validation = validation_split(known, train, dates, horizon_days, config)
    names = candidates(spec)
    columns = {name: candidate_columns(name, spec, known.has_inspectors) for name in names}
    searches = {name: select_params(validation, columns[name], config) for name in names}
    winner, record = choose_model(validation, searches, config)
    models = {
        name: fit_model(
            train,
            name,
            columns[name],
            config,
            search=searches[name],
            selection=record,
            cutoff=cutoff,
            horizon_days=horizon_days,
            snapshots=dates,
        )
        for name in ((winner,) if only_winner else names)
    }
    return TrainedModels(models, winner, record)


def _history_only(spec: FeatureSpec) -> tuple[str, ...]:
    """Past inspection results as a regulator without a credit system would see them (the
    strictness-adjusted excesses are left out: adjusting for who inspected is part of our
    models, not of the baseline)."""
    return tuple(c for c in spec.history if not c.startswith("excess_"))


def _matrix(frame: pl.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]) -> Any:
    return frame.select(
        *(pl.col(c).cast(pl.Float64) for c in numeric),
        *(pl.col(c).cast(pl.Utf8) for c in categorical),
    ).to_pandas()


def _probability(model: RiskModel, features: pl.DataFrame, team: pl.Series | float) -> np.ndarray:
    frame = features
    if model.adjusts_for_team:
        column = team.alias(TEAM) if isinstance(team, pl.Series) else pl.lit(team).alias(TEAM)
        frame = features.with_columns(column)
    with threadpool_limits(limits=1):
        proba = model.estimator.predict_proba(_matrix(frame, model.numeric, model.categorical))
    # Linear algebra on one row and on many rows may differ in the last bits (BLAS kernels);
    # on a 1e-12 grid a firm's score does not depend on which other firms are scored with it.
    return cast(np.ndarray, np.round(proba[:, 1], PROBABILITY_DECIMALS))


def predict(model: RiskModel, features: pl.DataFrame) -> pl.DataFrame:
    """Firm risk for a frame of features (entity_id, as_of, features…): SCORE_SCHEMA. No
    inspector identity: the team covariate, if the model has one, is an average team's (0)."""
    if features.is_empty():
        return pl.DataFrame(schema=SCORE_SCHEMA)
    return features.select(
        "entity_id",
        "as_of",
        probability=pl.Series(_probability(model, features, 0.0), dtype=pl.Float64),
        model_version=pl.lit(model.version),
    )


def forecast(model: RiskModel, features: pl.DataFrame, team: pl.Series) -> pl.Series:
    """The outcome forecast: the probability that the inspection by a team of this
    strictness (`team`: mean log-odds above the population, one value per row, §3 of
    docs/risk-model.md) finds a problem — the firm risk's log-odds plus the team's
    strictness. For one team it orders firms exactly as firm risk does."""
    if features.is_empty():
        return pl.Series("outcome_forecast", [], dtype=pl.Float64)
    risk = np.clip(_probability(model, features, 0.0), 1e-9, 1 - 1e-9)
    shift = team.cast(pl.Float64).fill_null(0.0).to_numpy()
    values = 1 / (1 + np.exp(-(np.log(risk / (1 - risk)) + shift)))
    return pl.Series("outcome_forecast", np.round(values, PROBABILITY_DECIMALS), dtype=pl.Float64)


def score_entities(
    model: RiskModel, history: History, as_of: date, population: pl.Series, config: RiskConfig
) -> pl.DataFrame:
    """THE scoring path: features as of T for `population` (all firms, or one), then the
    model's firm risk. Batch scores, a single firm's score and the backtest come from here."""
    strictness = strictness_as_of(history, as_of, config)
    features = features_as_of(history, as_of, population, strictness, config.features)
    return predict(model, features)
