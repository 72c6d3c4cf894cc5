"""The risk model in use, applied to every monitored date: features and banded risk scores.

What belongs here: what the model layer stores for the dashboards and the draw — the
features of the whole directory at each monitored date, and each firm's predicted
probability with its percentile, risk band (A–D by predicted risk, shares from the risk
settings) and the credit score and tier of that date. What does not: which dates are
monitored (`models.periods`), training (`models.risk.model`), storage (`warehouse.risk`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from models.risk.backtest import risk_bands
from models.risk.config import RiskConfig
from models.risk.features import features_as_of
from models.risk.history import History
from models.risk.model import RiskModel, score_entities, strictness_as_of


def monitored_features(history: History, dates: Sequence[date], config: RiskConfig) -> pl.DataFrame:
    """Point-in-time features of every entity of the directory at each date (`uscc` keyed)."""
    population = history.entities["entity_id"]
    frames = [
        features_as_of(
            history, d, population, strictness_as_of(history, d, config), config.features
        )
        for d in dates
    ]
    return pl.concat(frames).rename({"entity_id": "uscc"})


def banded_scores(scored: pl.DataFrame, config: RiskConfig) -> pl.DataFrame:
    """One date's scores with their percentile (0–100, ties averaged) and risk band."""
    return scored.with_columns(
        risk_percentile=scored["probability"].rank("average") / scored.height * 100,
        risk_band=risk_bands(scored["probability"], config.report.risk_bands),
    )


def monitored_scores(
    model: RiskModel, history: History, dates: Sequence[date], config: RiskConfig
) -> pl.DataFrame:
    """Every entity's banded risk score at each date, with the credit score and tier in
    force that date (the latest scored on or before it), `uscc` keyed."""
    population = history.entities["entity_id"]
    frames = [
        banded_scores(score_entities(model, history, day, population, config), config)
        for day in dates
    ]
    scores = pl.concat(frames).rename({"entity_id": "uscc"})
    if history.scores is None:
        return scores.with_columns(
            credit_score=pl.lit(None, dtype=pl.Float64), tier=pl.lit(None, dtype=pl.Utf8)
        )
    credit = (
        history.scores.rename({"entity_id": "uscc", "score": "credit_score"})
        .select("uscc", "as_of", "credit_score", "tier")
        .sort("as_of")
    )
    return scores.sort("as_of").join_asof(
        credit, on="as_of", by="uscc", strategy="backward", check_sortedness=False
    )
