"""What the open conflicts are computed from, read with only the rows and columns they use.

What belongs here: the reads behind `models.conflicts.open_conflicts` (the quarantine's
conflict rows, the credit cases, the outcomes naming a follow-up document, and the
documents a case or a follow-up could match). What does not: which facts are conflicts
(`models.conflicts`), Dagster (the `open_conflicts` asset).
"""

from __future__ import annotations

import duckdb
import polars as pl

from models.conflicts import KEY_CONFLICT_CODES
from warehouse.connection import query

DOCUMENT_SOURCES = ("penalty_decisions", "correction_notices", "circulars")


def conflict_inputs(
    con: duckdb.DuckDBPyConnection,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, pl.DataFrame]]:
    """The arguments of `open_conflicts`, in its order. Of the documents, only those whose
    number a case or a follow-up names: no other one can match either (the anti joins'
    results are the same), so the ~3.8M national documents are not all read; the numbers
    come from the cases and outcomes read here, not from reading those tables again."""
    cases = query(
        con, "SELECT case_id, uscc, record_doc_no, source_file, source_row FROM credit_cases"
    )
    outcomes = query(
        con,
        "SELECT inspection_id, uscc, followup_doc_no, source_file, source_row "
        "FROM inspection_outcomes WHERE followup_doc_no IS NOT NULL",
    )
    named = (
        pl.concat([cases.select(doc_no="record_doc_no"), outcomes.select(doc_no="followup_doc_no")])
        .drop_nulls()
        .unique()
    )
    con.register("_named", named.to_arrow())
    try:
        documents = {
            n: query(
                con, f'SELECT doc_no, uscc FROM "{n}" WHERE doc_no IN (SELECT doc_no FROM _named)'
            )
            for n in DOCUMENT_SOURCES
        }
    finally:
        con.unregister("_named")
    quarantine = query(
        con,
        "SELECT * FROM quarantine WHERE reason_code IN (SELECT unnest(?::VARCHAR[]))",
        [list(KEY_CONFLICT_CODES)],
    )
    return quarantine, cases, outcomes, documents
