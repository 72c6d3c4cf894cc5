"""Schemas of the credit engine's tables, declared once (docs/credit-engine.md explains them).

What belongs here: the polars schemas of `credit_records`, `credit_record_status`,
`credit_scores`, `score_reasons`, `tier_paths`, `repair_options` and `tier_changes`, used by the
models that produce them, the warehouse DDL and the tests. What does not: how they are filled.
"""

from __future__ import annotations

import polars as pl

CREDIT_RECORD_SCHEMA = pl.Schema(
    {
        "record_id": pl.Utf8(),
        "segment": pl.Int32(),
        "uscc": pl.Utf8(),
        "source": pl.Utf8(),
        "evidence_type": pl.Utf8(),
        "evidence_doc_no": pl.Utf8(),
        "evidence_valid": pl.Boolean(),
        "polarity": pl.Utf8(),
        "category": pl.Utf8(),
        "severity": pl.Utf8(),
        "points": pl.Float64(),
        "rule": pl.Utf8(),
        "valid_from": pl.Date(),
        "valid_until": pl.Date(),
        "segment_from": pl.Date(),
        "segment_until": pl.Date(),
        "collected_on": pl.Date(),
        "veto": pl.Boolean(),
        "veto_reason": pl.Utf8(),
        "rule_set_version": pl.Utf8(),
        "retired_on": pl.Date(),
        "grounds": pl.List(pl.Utf8()),
        "grounds_needed": pl.Int32(),
        "same_fact_as": pl.Utf8(),
    }
)
"""`grounds` / `grounds_needed`: the record ids a veto record rests on and how many of them
must stand for it to hold (`models.grounds`); `same_fact_as`: the penalty decision's record
id when the document records the fact that decision already deducts (one fact, one
deduction)."""

RECORD_STATUS_SCHEMA = pl.Schema(
    {
        "record_id": pl.Utf8,
        "status": pl.Utf8,
        "status_from": pl.Date,
        "status_until": pl.Date,
        "case_id": pl.Utf8,
        "reason": pl.Utf8,
        "ground_doc_no": pl.Utf8,
    }
)
"""`ground_doc_no`: the document a derived status rests on — a ground of a veto that is
disputed or no longer stands, the penalty decision a same-fact record defers to."""

CREDIT_SCORE_SCHEMA = pl.Schema(
    {
        "uscc": pl.Utf8,
        "as_of": pl.Date,
        "score": pl.Float64,
        "tier": pl.Utf8,
        "veto": pl.Boolean,
        "veto_reason": pl.Utf8,
        "veto_until": pl.Date,
        "bonus_points": pl.Float64,
        "deduction_points": pl.Float64,
        "counting_records": pl.Int64,
        "rule_set_version": pl.Utf8,
    }
)

SCORE_REASON_SCHEMA = pl.Schema(
    {
        "uscc": pl.Utf8,
        "as_of": pl.Date,
        "record_id": pl.Utf8,
        "segment": pl.Int32,
        "polarity": pl.Utf8,
        "severity": pl.Utf8,
        "category": pl.Utf8,
        "points": pl.Float64,
        "multiplier": pl.Float64,
        "rule": pl.Utf8,
        "evidence_type": pl.Utf8,
        "evidence_doc_no": pl.Utf8,
        "valid_from": pl.Date,
        "valid_until": pl.Date,
        "status": pl.Utf8,
        "veto": pl.Boolean,
    }
)

TIER_PATH_SCHEMA = pl.Schema(
    {
        "uscc": pl.Utf8,
        "as_of": pl.Date,
        "score": pl.Float64,
        "current_tier": pl.Utf8,
        "next_tier": pl.Utf8,
        "next_tier_on": pl.Date,
        "next_tier_score": pl.Float64,
    }
)

REPAIR_OPTION_SCHEMA = pl.Schema(
    {
        "uscc": pl.Utf8,
        "as_of": pl.Date,
        "record_id": pl.Utf8,
        "evidence_doc_no": pl.Utf8,
        "repair_eligible_from": pl.Date,
        "valid_until": pl.Date,
        "points_cleared": pl.Float64,
        "tier_if_repaired": pl.Utf8,
    }
)

TIER_CHANGE_SCHEMA = pl.Schema(
    {
        "uscc": pl.Utf8,
        "from_as_of": pl.Date,
        "to_as_of": pl.Date,
        "from_tier": pl.Utf8,
        "to_tier": pl.Utf8,
        "from_score": pl.Float64,
        "to_score": pl.Float64,
        "cause_records": pl.Utf8,
    }
)
"""`cause_records`: JSON list of {record_id, change: started|stopped, points} between dates."""
