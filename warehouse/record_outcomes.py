"""The inspection outcomes of filled-in record workbooks, kept in the clean table.

What belongs here: applying `models.sampling.items` (an inspection of a record workbook with a
date and an item result is an outcome; one reported directly under the same inspection id
wins) to the stored `inspection_outcomes`, inside the caller's transaction after the landing
files' rows were cleaned, rewriting only what differs — like the online cases of
`warehouse.firm_cases`. What does not: reading the workbooks (they are the landing source
`inspection_records`), the rule of the derivation (models).
"""

from __future__ import annotations

import duckdb
import polars as pl

from models.sampling.items import merge_outcomes, outcomes_from_records
from warehouse.connection import query, table_exists
from warehouse.gate_state import mark_unvalidated
from warehouse.tables import insert


def merge_record_outcomes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Bring the derived rows of `inspection_outcomes` up to date with `inspection_records`;
    returns the firms whose derived outcomes changed (so an incremental run derives their
    credit records again) and marks them for the quality gate. Derived rows are those whose
    `source_file` is a record workbook."""
    if not table_exists(con, "inspection_records") or not table_exists(con, "inspection_outcomes"):
        return set()
    records = query(con, "SELECT * FROM inspection_records")
    files = records.get_column("source_file").drop_nulls().unique().to_list()
    # only the rows the merge can touch: the derived ones and those reported under an
    # inspection id the workbooks also name (a national table is millions of other rows)
    current = query(
        con,
        "SELECT * FROM inspection_outcomes WHERE list_contains(?, source_file) OR inspection_id "
        "IN (SELECT inspection_id FROM inspection_records)",
        [files],
    )
    derived = pl.col("source_file").is_in(files).fill_null(False)
    reported, before = current.filter(~derived), current.filter(derived)
    after = merge_outcomes(reported, outcomes_from_records(records, current.schema)).filter(derived)
    if before.sort("inspection_id").equals(after.sort("inspection_id")):
        return set()
    if files:
        con.execute("DELETE FROM inspection_outcomes WHERE list_contains(?, source_file)", [files])
    if not after.is_empty():
        insert(con, "inspection_outcomes", after, current.schema)
    changed = pl.concat([before, after]).unique(keep="none")
    mark_unvalidated(con, "inspection_outcomes", changed.select("inspection_id"))  # its key
    return set(changed.get_column("uscc").drop_nulls().to_list())
