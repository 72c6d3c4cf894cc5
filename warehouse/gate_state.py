"""What the quality gate has yet to validate in each clean table, and when it last passed it.

The gate (`pipelines.quality.gx_gate`) validates in an incremental run only the rows written
since the last passing validation of their table; this module keeps what that needs,
inside the warehouse (so the staging copy and the swap keep it consistent with the tables):

- `unvalidated_keys` — the key groups of each clean table written since the gate last passed
  it, marked by whoever writes them (`warehouse.ingestion.update_clean`, and the online cases
  and record-workbook outcomes merged in afterwards); a row without a key marks the whole
  table (rebuilt). Marks stay until a validation that covered them passes: a failed or
  refused run leaves them for the next one. (A staged run that fails is thrown away with its
  marks, but then the live derivation state did not move either, so the next run's clean
  step writes — and marks — the same key groups again.)
- `derivation_state`, step `gate:<source>` — the suite's fingerprint and the processing date
  of the last passing validation. Rows that passed stay valid while the suite is the same
  and the date only moves forward ("no date after the processing date" only loosens).

What belongs here: marking, the scope of the next validation (`plan`), reading its rows,
the facts a validation of some rows (or of none) must still judge on the whole table (row
count, duplicate keys, columns), and clearing the marks when a validation passes. What does
not: the expectations and GX (`pipelines.quality.gx_gate`), which rows a run re-derives
(`warehouse.ingestion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from warehouse.connection import query, table_columns
from warehouse.incremental import read_step, write_step
from warehouse.tables import ensure_tables

TABLE = "unvalidated_keys"


def _step(name: str) -> str:
    return f"gate:{name}"


def _key_text(key: Sequence[str], alias: str) -> str:
    """A key as one text, computed in SQL on both sides (marking and selecting), so a mark
    always matches its row: key columns joined with the unit separator, a null as NUL."""
    parts = [f'coalesce(CAST({alias}."{k}" AS VARCHAR), chr(0))' for k in key]
    return parts[0] if len(parts) == 1 else f"concat_ws(chr(31), {', '.join(parts)})"


def mark_unvalidated(con: duckdb.DuckDBPyConnection, name: str, keys: pl.DataFrame | None) -> None:
    """Within the writer's transaction: these key groups of clean table `name` were written
    (`keys`: the key columns, in the contract's order); None: the whole table was rebuilt."""
    ensure_tables(con, [TABLE])
    if keys is None:
        con.execute(f"DELETE FROM {TABLE} WHERE source = ?", [name])
        con.execute(f"INSERT INTO {TABLE} VALUES (?, NULL)", [name])
        return
    if keys.is_empty():
        return
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
            [name],
        ).fetchall()
    )
    # typed as the table's columns, so the text is the one `unvalidated_rows` computes
    cast = ", ".join(f'CAST(k."{c}" AS {types[c]}) AS "{c}"' for c in keys.columns)
    con.register("_marked", keys)
    try:
        con.execute(
            f"""INSERT INTO {TABLE}
                SELECT DISTINCT ?, {_key_text(keys.columns, "t")}
                FROM (SELECT {cast} FROM _marked k) t
                EXCEPT SELECT source, row_key FROM {TABLE} WHERE source = ?""",
            [name, name],
        )
    finally:
        con.unregister("_marked")


@dataclass(frozen=True)
class Plan:
    """The scope of one validation: the whole table, or the rows of the marked key groups."""

    full: bool
    reason: str  # why (in words: `warehouse.quality_docs.REASONS`); changed_rows: incremental
    marks: pl.DataFrame  # the marks read (row_key): cleared when this validation passes


def plan(
    con: duckdb.DuckDBPyConnection, name: str, fingerprint: str, as_of: date, *, full_run: bool
) -> Plan:
    """Whole table when the run rebuilds everything, nothing passed before, the clean step
    rebuilt the table, the suite changed or the processing date went back; else the
    marked key groups."""
    ensure_tables(con, [TABLE])
    state = read_step(con, _step(name))
    marks = query(con, f"SELECT row_key FROM {TABLE} WHERE source = ?", [name])
    if full_run:
        reason = "full_run"
    elif state is None:
        reason = "never_passed"
    elif marks["row_key"].is_null().any():
        reason = "table_rebuilt"
    elif state.fingerprint != fingerprint:
        reason = "suite_changed"
    elif state.processing_date is None or as_of < state.processing_date:
        reason = "date_moved_back"
    else:
        reason = "changed_rows"
    return Plan(full=reason != "changed_rows", reason=reason, marks=marks)


def unvalidated_rows(con: duckdb.DuckDBPyConnection, name: str, key: Sequence[str]) -> pl.DataFrame:
    """The rows of clean table `name` in the marked key groups (every column). Without marks
    the table is not scanned (matching computes every row's key text)."""
    [(marked,)] = con.execute(
        f"SELECT count(*) FROM {TABLE} WHERE source = ? AND row_key IS NOT NULL", [name]
    ).fetchall()
    if not marked:
        return query(con, f'SELECT * FROM "{name}" LIMIT 0')
    return query(
        con,
        f'SELECT t.* FROM "{name}" t WHERE {_key_text(key, "t")} IN '
        f"(SELECT row_key FROM {TABLE} WHERE source = ? AND row_key IS NOT NULL)",
        [name],
    )


@dataclass(frozen=True)
class TableFacts:
    """What must hold for a whole table, counted in DuckDB: its rows, and the rows sharing
    their key with another row (GX's uniqueness: a row whose key columns are all empty is
    left out), with some of those keys; and its columns (a validation with no rows for GX
    still checks the contract's are there)."""

    rows: int
    duplicate_rows: int
    duplicate_keys: tuple[dict[str, Any], ...]
    columns: tuple[str, ...]


def table_facts(
    con: duckdb.DuckDBPyConnection, name: str, key: Sequence[str], shown: int
) -> TableFacts:
    columns = ", ".join(f'"{k}"' for k in key)
    given = " OR ".join(f'"{k}" IS NOT NULL' for k in key)
    [(rows,)] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()
    duplicates = query(
        con,
        f'SELECT {columns}, count(*) AS _n FROM "{name}" WHERE {given} '
        f"GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL",
    )
    return TableFacts(
        rows=int(rows),
        duplicate_rows=int(duplicates["_n"].sum()),
        duplicate_keys=tuple(duplicates.drop("_n").head(shown).iter_rows(named=True)),
        columns=tuple(sorted(table_columns(con, name))),
    )


def passed(
    con: duckdb.DuckDBPyConnection, name: str, done: Plan, *, fingerprint: str, as_of: date
) -> None:
    """A validation of `done`'s scope passed: clear the marks it covered and remember the
    suite and date it passed with."""
    con.register("_done", done.marks)
    try:
        con.execute(
            f"DELETE FROM {TABLE} m USING _done d WHERE m.source = ? "
            "AND m.row_key IS NOT DISTINCT FROM d.row_key",
            [name],
        )
    finally:
        con.unregister("_done")
    write_step(con, _step(name), seq=0, processing_date=as_of, fingerprint=fingerprint)
