"""The canonical inspection history the risk model reads, whatever the jurisdiction.

What belongs here: the four frames' schemas (outcomes, entities, credit records, credit
scores), the `History` bundle, and the conversions from the project's clean tables (firms,
inspection_outcomes, credit_records, credit_scores). A public inspection export (entity id,
date, problem flag or score, inspector) becomes the same `outcomes` frame in
`warehouse.backtest_inputs`. What does not: reading files or the warehouse, features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from models.periods import data_end

OUTCOME_SCHEMA = pl.Schema(
    {
        "inspection_id": pl.Utf8(),  # the export's own id of the inspection (or its row number)
        "entity_id": pl.Utf8(),
        "inspected_on": pl.Date(),
        "known_on": pl.Date(),  # when the result reached the system (collected_on), ≥ inspected_on
        "problem": pl.Boolean(),
        "inspectors": pl.List(pl.Utf8),  # lead inspector first; may be empty
        "score": pl.Float64(),  # the inspection's own score, oriented: higher = better
    }
)

ENTITY_SCHEMA = pl.Schema({"entity_id": pl.Utf8, "opened_on": pl.Date})
"""Plus any number of categorical Utf8 columns (firm type, district, qualification …)."""

RECORD_SCHEMA = pl.Schema(
    {
        "entity_id": pl.Utf8,
        "source": pl.Utf8,
        "polarity": pl.Utf8,  # bad | good
        "severity": pl.Utf8,  # L1–L4 (bad records)
        "points": pl.Float64,  # magnitude
        "rule": pl.Utf8,
        "valid_from": pl.Date,  # the decision / issue date
        "known_on": pl.Date,  # max(collected_on, segment_from): when this state was known
    }
)

SCORE_SCHEMA = pl.Schema(
    {
        "entity_id": pl.Utf8,
        "as_of": pl.Date,
        "score": pl.Float64,
        "tier": pl.Utf8,
        "veto": pl.Boolean,
    }
)

TIERS = ("A", "B", "C", "D")


@dataclass(frozen=True)
class History:
    """Everything known about the entities, each fact dated by when it became known."""

    outcomes: pl.DataFrame
    entities: pl.DataFrame
    records: pl.DataFrame | None = None
    scores: pl.DataFrame | None = None
    label_outcomes: pl.DataFrame | None = None
    """The inspections that may be labels (training and evaluation), when they are not all of
    `outcomes` (`renfang backtest --evaluate-where`); None: every outcome."""

    @property
    def labels(self) -> pl.DataFrame:
        """The inspections whose result is predicted: `label_outcomes`, else `outcomes`."""
        return self.outcomes if self.label_outcomes is None else self.label_outcomes

    @property
    def has_inspectors(self) -> bool:
        """Whether any inspection names an inspector (else no strictness, no team)."""
        return bool((self.outcomes["inspectors"].list.len() > 0).any())

    @property
    def categorical(self) -> list[str]:
        return [c for c in self.entities.columns if c not in ENTITY_SCHEMA]

    def data_end(self, processing: date) -> date:
        """The last day with known inspection results (labels cannot be later), at most the
        processing date (`models.periods.data_end`)."""
        last = pl.concat([self.outcomes["inspected_on"], self.labels["inspected_on"]]).max()
        return data_end(last if isinstance(last, date) else None, processing)

    def backtest_cutoff(self, processing: date, horizon_days: int) -> date:
        """The cut-off of the standing backtest: one horizon before the data end, so every
        evaluated firm's horizon lies inside the known data."""
        return self.data_end(processing) - timedelta(days=horizon_days)

    def population(self) -> pl.Series:
        """Every entity known from the directory or from an inspection, sorted."""
        ids = pl.concat([self.entities["entity_id"], self.outcomes["entity_id"]])
        return ids.unique().sort()


def outcomes_from_clean(inspections: pl.DataFrame, problem_results: Sequence[str]) -> pl.DataFrame:
    """The clean `inspection_outcomes` table → outcomes (problem = result in the given set)."""
    return (
        inspections.select(
            inspection_id=pl.col("inspection_id").cast(pl.Utf8),
            entity_id=pl.col("uscc"),
            inspected_on=pl.col("inspected_on"),
            known_on=pl.max_horizontal("inspected_on", pl.col("collected_on")),
            problem=pl.col("result").is_in(list(problem_results)),
            inspectors=pl.col("inspector_ids").fill_null([]),
            score=pl.lit(None, dtype=pl.Float64),
        )
        .cast(OUTCOME_SCHEMA)
        .sort("entity_id", "inspected_on")
    )


def entities_from_clean(firms: pl.DataFrame) -> pl.DataFrame:
    """The firm directory → entities with firm type, district and qualification."""
    categorical = [c for c in ("firm_type", "district", "qualification") if c in firms.columns]
    return firms.select(
        entity_id=pl.col("uscc"),
        opened_on=pl.col("established_on").cast(pl.Date),
        **{c: pl.col(c).cast(pl.Utf8) for c in categorical},
    ).unique("entity_id", keep="first", maintain_order=True)


def records_from_credit(records: pl.DataFrame) -> pl.DataFrame:
    """`credit_records` → dated records; a segment is known once collected and started."""
    return records.select(
        entity_id=pl.col("uscc"),
        source=pl.col("source"),
        polarity=pl.col("polarity"),
        severity=pl.col("severity"),
        points=pl.col("points"),
        rule=pl.col("rule"),
        valid_from=pl.col("valid_from"),
        known_on=pl.max_horizontal(
            pl.col("collected_on"), pl.coalesce("segment_from", "valid_from")
        ),
    ).cast(RECORD_SCHEMA)


def scores_from_credit(scores: pl.DataFrame) -> pl.DataFrame:
    """`credit_scores` (point-in-time by construction) → scores keyed by entity."""
    return scores.select(
        entity_id=pl.col("uscc"), as_of="as_of", score="score", tier="tier", veto="veto"
    ).cast(SCORE_SCHEMA)
