"""Objections and credit repair: the status history of credit records (docs §4).

What belongs here: turning `credit_cases` (异议 objections, 信用修复 repair applications) into
`credit_record_status` rows — which record is disputed, kept, revoked, corrected, repaired or
refused repair, from when — including the minimum-period rule for repair. Vectorised polars.

What does not: whether a record counts as of a date given these rows (`scoring`), the
repair options shown to a firm (`tier_paths`), deriving the records (`credit_records`).

The points the spec left open (each record judged on its own minimum period, objections
without a dated decision, pending repairs, the `reason` text) are fixed in
docs §4, "Details fixed by `models/record_status.py`".
"""

from __future__ import annotations

import polars as pl

from models.credit_records import conform_source
from models.credit_schema import RECORD_STATUS_SCHEMA
from models.rules import RuleSet

OBJECTION = "异议"
REPAIR = "信用修复"
"""`credit_cases.kind` values (contract enum `case_kind`)."""

OBJECTION_OUTCOMES: dict[str, str] = {"维持": "active", "撤销": "revoked", "更正": "corrected"}
"""Objection decision (contract enum `case_decision`) → the record's status from that day."""
REPAIR_APPROVED = "准予修复"
REPAIR_REFUSED = "不予修复"

NOT_APPLICABLE_REASON = "良好信用记录不适用异议或信用修复"


def record_status_history(
    records: pl.DataFrame, credit_cases: pl.DataFrame, rules: RuleSet
) -> pl.DataFrame:
    """Status rows of every record named by a case, with exactly `RECORD_STATUS_SCHEMA`.

    `records` is `credit_records` (segments share a record id and get one set of rows);
    `credit_cases` the clean cases table. Records without a case get no row: they are
    `active`. Sorted by (record_id, status_from, case_id, status).
    """
    cases = conform_source(credit_cases, "credit_cases")
    documents = ["uscc", "evidence_doc_no"]
    named = cases.select("uscc", evidence_doc_no="record_doc_no").unique()
    # Few records have a case: keep only those before grouping millions of segments.
    per_record = (
        records.lazy()
        .join(named, on=documents, how="semi")
        .with_columns(
            _min_months=rules.repair_min_months(
                pl.col("severity"), pl.col("category"), pl.col("veto")
            )
        )
        .group_by("record_id")
        .agg(
            pl.col(*documents, "polarity").first(),
            pl.col("valid_from").min(),
            pl.col("_min_months").max(),
        )
    )
    cases = cases.join(
        per_record, left_on=["uscc", "record_doc_no"], right_on=documents, how="inner"
    )
    good = pl.col("polarity") == "good"
    parts = [
        _rows(cases.filter(good), "not_applicable", pl.col("filed_on"), NOT_APPLICABLE_REASON),
        *_objection_rows(cases.filter(~good & (pl.col("kind") == OBJECTION))),
        *_repair_rows(cases.filter(~good & (pl.col("kind") == REPAIR))),
    ]
    return (
        pl.concat(parts, how="vertical")
        .sort("record_id", "status_from", "case_id", "status")
        .collect()
    )


def _objection_rows(cases: pl.LazyFrame) -> list[pl.LazyFrame]:
    """Disputed from filing until the decision (the record keeps counting meanwhile), then
    the decision's status from the decision day."""
    decided = cases.filter(
        pl.col("decided_on").is_not_null() & pl.col("decision").is_in(list(OBJECTION_OUTCOMES))
    )
    return [
        _rows(cases, "disputed", pl.col("filed_on"), until=pl.col("decided_on")),
        _rows(
            decided,
            pl.col("decision").replace_strict(OBJECTION_OUTCOMES, return_dtype=pl.Utf8),
            pl.col("decided_on"),
            pl.col("note"),
        ),
    ]


def _repair_rows(cases: pl.LazyFrame) -> list[pl.LazyFrame]:
    """Repaired from approval when filed after the minimum period; refused when filed too
    early (whatever was decided: the rule, not the decision, is what the record shows) or
    when the authority refused."""
    eligible_from = pl.col("valid_from").dt.offset_by(pl.format("{}mo", pl.col("_min_months")))
    judged = cases.with_columns(_premature=pl.col("filed_on") < eligible_from)
    premature = pl.col("_premature").fill_null(False)
    decided = ~premature & pl.col("decided_on").is_not_null()
    return [
        _rows(
            judged.filter(premature),
            "repair_refused",
            pl.coalesce("decided_on", "filed_on"),
            pl.format("未满最短公示期（{}个月）", pl.col("_min_months")),
        ),
        _rows(
            judged.filter(decided & (pl.col("decision") == REPAIR_APPROVED)),
            "repaired",
            pl.col("decided_on"),
            pl.col("note"),
        ),
        _rows(
            judged.filter(decided & (pl.col("decision") == REPAIR_REFUSED)),
            "repair_refused",
            pl.col("decided_on"),
            pl.col("note"),
        ),
    ]


def _rows(
    cases: pl.LazyFrame,
    status: str | pl.Expr,
    status_from: pl.Expr,
    reason: str | pl.Expr | None = None,
    until: pl.Expr | None = None,
) -> pl.LazyFrame:
    """`RECORD_STATUS_SCHEMA` rows, one per (case, record) of `cases`."""
    columns = {
        "record_id": pl.col("record_id"),
        "status": pl.lit(status) if isinstance(status, str) else status,
        "status_from": status_from,
        "status_until": until if until is not None else pl.lit(None),
        "case_id": pl.col("case_id"),
        "reason": reason if isinstance(reason, pl.Expr) else pl.lit(reason),
        "ground_doc_no": pl.lit(None, dtype=pl.Utf8),
    }
    return cases.select(
        columns[name].cast(dtype).alias(name) for name, dtype in RECORD_STATUS_SCHEMA.items()
    )
