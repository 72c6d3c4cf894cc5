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

NAMED = (
    "SELECT record_doc_no FROM credit_cases UNION ALL "
    "SELECT followup_doc_no FROM inspection_outcomes WHERE followup_doc_no IS NOT NULL"
)
"""The document numbers a case or a follow-up names: only a document with one of them can
match either (the anti joins' results are the same), so the ~3.8M national documents are
not all read."""


def conflict_inputs(
    con: duckdb.DuckDBPyConnection,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, pl.DataFrame]]:
    """The arguments of `open_conflicts`, in its order."""
    return (
        query(
            con,
            "SELECT * FROM quarantine WHERE reason_code IN (SELECT unnest(?::VARCHAR[]))",
            [list(KEY_CONFLICT_CODES)],
        ),
        query(
            con, "SELECT case_id, uscc, record_doc_no, source_file, source_row FROM credit_cases"
        ),
        query(
            con,
            "SELECT inspection_id, uscc, followup_doc_no, source_file, source_row "
            "FROM inspection_outcomes WHERE followup_doc_no IS NOT NULL",
        ),
        {
            n: query(con, f'SELECT doc_no, uscc FROM "{n}" WHERE doc_no IN ({NAMED})')
            for n in DOCUMENT_SOURCES
        },
    )
