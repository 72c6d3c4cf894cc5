"""Risk-model settings as validated data (`default_risk.yaml`).

What belongs here: the frozen pydantic model mirroring the YAML, its parser (errors name the
field path) and the packaged default. What does not: using the settings.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.yaml_data import load_yaml_mapping, packaged_text, validate_model


class RiskConfigError(ValueError):
    """Risk settings are malformed; the message names the field path and the problem."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeatureSettings(_Frozen):
    windows_days: tuple[int, ...] = Field(min_length=1)
    half_life_days: float = Field(gt=0)
    prior_strength: float = Field(ge=0)
    inspector_score_prior: float = Field(ge=0)
    max_categories: int = Field(ge=1)


class InspectorSettings(_Frozen):
    min_prior_strength: float = Field(gt=0)


class SelectionSettings(_Frozen):
    metric: Literal["auto", "auc", "auc_within_inspector"]
    """The held-out figure that tunes and chooses (auto: within inspector when known)."""
    resamples: int = Field(ge=20)
    """Bootstrap resamples of the held-out snapshot for the standard errors."""


class TrainingSettings(_Frozen):
    step_days: int = Field(ge=1)
    snapshots: int = Field(ge=1)
    min_history_days: int = Field(ge=0)
    logistic: dict[str, float | int]
    gradient_boosting: dict[str, float | int]
    candidates: dict[Literal["logistic", "gradient_boosting"], tuple[dict[str, float | int], ...]]
    """Overrides of the base parameters tried by the time-based validation (model.py)."""
    calibration: Literal["sigmoid", "isotonic"]
    calibration_folds: int = Field(ge=2)
    selection: SelectionSettings
    random_state: int
    max_rows: int | None = Field(default=None, ge=100)
    """Fit on a seeded random sample of at most this many snapshot rows (None: all of them)."""


class BootstrapSettings(_Frozen):
    resamples: int = Field(ge=20)
    level: float = Field(gt=0, lt=1)


class ReportSettings(_Frozen):
    top_shares: tuple[float, ...] = Field(min_length=1)
    calibration_bins: int = Field(ge=2)
    first_period: Literal["month"] | int = Field(union_mode="left_to_right")
    """Schedule reordering's "first month": one calendar month after the cut-off, or N days."""
    risk_bands: dict[str, float]
    bootstrap: BootstrapSettings
    """Confidence intervals of each model's AUC minus the history-only baseline's."""

    @model_validator(mode="after")
    def _first_period_positive(self) -> ReportSettings:
        if isinstance(self.first_period, int) and self.first_period < 1:
            raise ValueError("first_period: 'month' or a number of days ≥ 1")
        return self

    @model_validator(mode="after")
    def _bands_sum_to_one(self) -> ReportSettings:
        if abs(sum(self.risk_bands.values()) - 1) > 1e-9:
            raise ValueError("risk_bands: shares must add up to 1")
        return self


class StabilitySettings(_Frozen):
    bins: int = Field(ge=2)
    flag_above: float = Field(gt=0)
    min_population: int = Field(ge=1)
    months: int = Field(ge=2)


class RiskConfig(_Frozen):
    version: str = Field(min_length=1)
    horizon_days: int = Field(ge=1)
    problem_results: tuple[str, ...] = Field(min_length=1)
    features: FeatureSettings
    inspectors: InspectorSettings
    training: TrainingSettings
    report: ReportSettings
    stability: StabilitySettings


def parse_risk_config(text: str) -> RiskConfig:
    data = load_yaml_mapping(text, RiskConfigError, "risk settings", "version, features, …")
    return validate_model(RiskConfig, data, RiskConfigError, "risk settings")


@cache
def default_risk_config() -> RiskConfig:
    return parse_risk_config(packaged_text("risk", "default_risk.yaml"))
