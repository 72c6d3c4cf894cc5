"""The risk models as a versioned artefact, and the one scoring path.

What belongs here: building the training set from quarterly point-in-time snapshots before
a cut-off (`training_set`), fitting a regularised logistic regression and a
histogram gradient-boosted model, each calibrated (`fit_model`), the `RiskModel` artefact —
estimator, parameters, feature list, training window, library versions and a SHA-256 of its
content — and `score_entities`, the only way a probability is computed: the batch scores, a
single firm's score and the backtest report all call it. What does not: files (the
pipelines write `to_bytes()`), metrics.
"""

from __future__ import annotations

import hashlib
import json
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
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from models.risk import metrics
from models.risk.config import RiskConfig
from models.risk.features import FeatureSpec, feature_spec, features_as_of, labels_after
from models.risk.history import History
from models.risk.inspectors import Strictness, estimate_strictness

SCORE_SCHEMA = pl.Schema(
    {
        "entity_id": pl.Utf8,
        "as_of": pl.Date,
        "probability": pl.Float64,
        "model_version": pl.Utf8,
    }
)


class TrainingDataError(ValueError):
    """Not enough labelled history before the cut-off to train (the message says why)."""


@dataclass(frozen=True)
class RiskModel:
    """A trained, calibrated model with everything needed to reproduce and audit it."""

    algorithm: str
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
    estimator_pickle: bytes = field(default=b"", repr=False)
    """The estimator's bytes as fitted: hashed, so the hash survives save and load."""
    content_sha256: str = ""

    @property
    def version(self) -> str:
        return f"{self.algorithm}-{self.content_sha256[:12]}"

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

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
    """The history as it stood on `as_of`: outcomes known by then (for strictness)."""
    outcomes = history.outcomes.filter(
        (pl.col("known_on") <= as_of) & (pl.col("inspected_on") <= as_of)
    )
    return replace(history, outcomes=outcomes)


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
    labels = labels_after(history.outcomes, as_of, horizon_days)
    strictness = strictness_as_of(history, as_of, config)
    features = features_as_of(history, as_of, labels["entity_id"], strictness, config.features)
    return features.join(labels, on="entity_id", how="inner")


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
    """Preparation (median imputation + missing indicators + scaling; one-hot categories) and
    the uncalibrated classifier."""
    if algorithm == "logistic":
        classifier: Any = LogisticRegression(**params)
    else:
        classifier = HistGradientBoostingClassifier(
            **params, early_stopping=False, random_state=config.training.random_state
        )
    numeric_steps = [
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
        ("scale", StandardScaler()),
    ]
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
    `as_of`), judge on `held_out` (features as of `as_of`, labels in (as_of, cut-off])."""

    as_of: date
    inner: pl.DataFrame
    inner_snapshots: tuple[date, ...]
    held_out: pl.DataFrame


def validation_split(
    history: History,
    train: pl.DataFrame,
    snapshots: list[date],
    horizon_days: int,
    config: RiskConfig,
) -> Validation | None:
    """The latest training snapshot is held out; the inner training set is built as if its
    date were the cut-off, so no inner label reaches into the held-out window. None when the
    history is too short for that (the base parameters are then used as they are)."""
    as_of = max(snapshots)
    held_out = train.filter(pl.col("as_of") == as_of)
    try:
        inner, inner_dates = training_set(history, as_of, horizon_days, config)
    except TrainingDataError:
        return None
    if held_out["label"].n_unique() < 2:
        return None
    return Validation(as_of, inner, tuple(inner_dates), held_out)


def select_params(
    validation: Validation | None,
    algorithm: str,
    numeric: tuple[str, ...],
    categorical: tuple[str, ...],
    config: RiskConfig,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The base parameters, or the candidate override with the best held-out AUC (ties keep
    the earlier: the base first). Returns the parameters and the record of the selection."""
    base = dict(
        config.training.logistic if algorithm == "logistic" else config.training.gradient_boosting
    )
    # Keyed by the Literal algorithm names; `algorithm` is a plain str (any other name: none).
    by_algorithm = cast(
        Mapping[str, tuple[dict[str, float | int], ...]], config.training.candidates
    )
    candidates = [base] + [{**base, **c} for c in by_algorithm.get(algorithm, ())]
    if validation is None or len(candidates) == 1:
        return base, {"method": "none (history too short for a time-based validation)"}
    labels = validation.held_out["label"].to_numpy()
    tried = []
    for params in candidates:
        pipeline = _pipeline(algorithm, params, numeric, categorical, config)
        with threadpool_limits(limits=1):
            pipeline.fit(
                _matrix(validation.inner, numeric, categorical),
                validation.inner["label"].to_numpy(),
            )
            proba = pipeline.predict_proba(_matrix(validation.held_out, numeric, categorical))
        tried.append({"params": params, "auc": metrics.auc(proba[:, 1], labels)})
    best = max(range(len(tried)), key=lambda i: (tried[i]["auc"], -i))
    record = {
        "method": "time-based validation inside the training period (best AUC)",
        "held_out_as_of": validation.as_of.isoformat(),
        "held_out_rows": validation.held_out.height,
        "inner_snapshots": [d.isoformat() for d in validation.inner_snapshots],
        "candidates": tried,
        "chosen": best,
    }
    return candidates[best], record


def fit_model(
    train: pl.DataFrame,
    algorithm: str,
    numeric: tuple[str, ...],
    categorical: tuple[str, ...],
    config: RiskConfig,
    *,
    cutoff: date,
    horizon_days: int,
    snapshots: list[date],
    validation: Validation | None = None,
) -> RiskModel:
    """Choose the parameters (time-based validation), then fit and calibrate one model
    ('logistic' or 'gradient_boosting') on the whole training set."""
    settings = config.training
    params, selection = select_params(validation, algorithm, numeric, categorical, config)
    pipeline = _pipeline(algorithm, params, numeric, categorical, config)
    folds = StratifiedKFold(
        settings.calibration_folds, shuffle=True, random_state=settings.random_state
    )
    calibrated = CalibratedClassifierCV(pipeline, method=settings.calibration, cv=folds)
    with threadpool_limits(limits=1):  # OpenMP threads cost more than they save at this size
        calibrated.fit(_matrix(train, numeric, categorical), train["label"].to_numpy())
    model = RiskModel(
        algorithm=algorithm,
        estimator=calibrated,
        numeric=numeric,
        categorical=categorical,
        params={
            **params,
            "calibration": settings.calibration,
            "folds": settings.calibration_folds,
            "selection": selection,
        },
        cutoff=cutoff,
        horizon_days=horizon_days,
        snapshots=tuple(snapshots),
        training_rows=train.height,
        positives=int(train["label"].sum()),
        config_version=config.version,
        library_versions=library_versions(),
        estimator_pickle=pickle.dumps(calibrated, protocol=5),
    )
    return replace(model, content_sha256=_content_hash(model))


MODEL_NAMES = ("gradient_boosting", "logistic", "history_only")


def train_models(
    history: History,
    cutoff: date,
    horizon_days: int,
    config: RiskConfig,
    names: tuple[str, ...] = MODEL_NAMES,
) -> dict[str, RiskModel]:
    """The gradient-boosted model, the calibrated logistic baseline and the history-only
    logistic baseline (past inspection results alone), all on the same training set."""
    spec = feature_spec(history, config.features)
    train, dates = training_set(history, cutoff, horizon_days, config)
    validation = validation_split(known_by(history, cutoff), train, dates, horizon_days, config)
    columns = {
        "gradient_boosting": ("gradient_boosting", spec.numeric, spec.categorical),
        "logistic": ("logistic", spec.numeric, spec.categorical),
        "history_only": ("logistic", _history_only(spec), ()),
    }
    return {
        name: fit_model(
            train,
            *columns[name],
            config,
            cutoff=cutoff,
            horizon_days=horizon_days,
            snapshots=dates,
            validation=validation,
        )
        for name in names
    }


def _history_only(spec: FeatureSpec) -> tuple[str, ...]:
    """Past inspection results as a regulator without a credit system would see them (the
    inspector-adjusted excess is left out: adjusting for strictness is part of our model)."""
    return tuple(c for c in spec.history if c != "excess_problems_decayed")


def _matrix(frame: pl.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]) -> Any:
    return frame.select(
        *(pl.col(c).cast(pl.Float64) for c in numeric),
        *(pl.col(c).cast(pl.Utf8) for c in categorical),
    ).to_pandas()


def predict(model: RiskModel, features: pl.DataFrame) -> pl.DataFrame:
    """Probabilities for a frame of features (entity_id, as_of, features…): SCORE_SCHEMA."""
    if features.is_empty():
        return pl.DataFrame(schema=SCORE_SCHEMA)
    with threadpool_limits(limits=1):
        proba = model.estimator.predict_proba(_matrix(features, model.numeric, model.categorical))
    return features.select(
        "entity_id",
        "as_of",
        probability=pl.Series(proba[:, 1], dtype=pl.Float64),
        model_version=pl.lit(model.version),
    )


def score_entities(
    model: RiskModel, history: History, as_of: date, population: pl.Series, config: RiskConfig
) -> pl.DataFrame:
    """THE scoring path: features as of T for `population` (all firms, or one), then the
    model. Batch scores, a single firm's score and the backtest all come from here."""
    strictness = strictness_as_of(history, as_of, config)
    features = features_as_of(history, as_of, population, strictness, config.features)
    return predict(model, features)
