"""Warehouse DDL and writes: typed tables from declared schemas, replaced inside transactions.

What belongs here: turning a polars schema (declared once, in models) into DuckDB DDL, the
bookkeeping tables' schemas (landing registry, scan, ingestion log, quarantine), and the
statements that replace a table or a slice of a shared table. Callers pass an open connection
inside `Warehouse.transaction()`, so every asset's writes commit together or not at all.

What does not: deciding what goes into a table (models), reading files (landing).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import polars as pl

from models.row_checks import FILE_COUNT_SCHEMA, QUARANTINE_SCHEMA

LANDING_FILES_SCHEMA = pl.Schema(
    {"source": pl.Utf8, "sha256": pl.Utf8, "file": pl.Utf8, "first_seen_at": pl.Datetime("us")}
)
"""Registry of every file content ever seen. `first_seen_at` defaults `collected_on` and dates
quarantine rows, so re-running on the same files reproduces the same tables."""

LANDING_SCAN_SCHEMA = pl.Schema(
    {
        "source": pl.Utf8,
        "file": pl.Utf8,
        "sha256": pl.Utf8,
        "size_bytes": pl.Int64,
        "format": pl.Utf8,
        "encoding": pl.Utf8,
        "header_row": pl.Int64,
        "status": pl.Utf8,
        "problem": pl.Utf8,
        "detail": pl.Utf8,
        "first_seen_at": pl.Datetime("us"),
    }
)
"""What the latest run found in each landing file (replaced per source on each run)."""

INGESTION_LOG_SCHEMA = pl.Schema(
    {
        "run_id": pl.Utf8,
        "logged_at": pl.Datetime("us"),
        **{k: v for k, v in LANDING_SCAN_SCHEMA.items() if k != "first_seen_at"},
        **{k: v for k, v in FILE_COUNT_SCHEMA.items() if k != "source_file"},
    }
)
"""One row per file and run (appended): read = accepted + quarantined + collapsed."""

_DUCKDB_TYPES: dict[type[pl.DataType], str] = {
    pl.Utf8: "VARCHAR",
    pl.Date: "DATE",
    pl.Float64: "DOUBLE",
    pl.Int64: "BIGINT",
    pl.Int32: "INTEGER",
    pl.Boolean: "BOOLEAN",
    pl.Datetime: "TIMESTAMP",
}


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB column type for a polars dtype (lists become `T[]`)."""
    if isinstance(dtype, pl.List):
        return f"{duckdb_type(dtype.inner)}[]"
    return _DUCKDB_TYPES[dtype.base_type()]


def table_ddl(name: str, schema: pl.Schema, *, replace: bool) -> str:
    columns = ",\n  ".join(f'"{col}" {duckdb_type(dtype)}' for col, dtype in schema.items())
    verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
    return f'{verb} "{name}" (\n  {columns}\n)'


def replace_table(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, schema: pl.Schema
) -> None:
    """Recreate `name` with the declared schema and fill it from `frame` (same transaction)."""
    con.execute(table_ddl(name, schema, replace=True))
    _insert(con, name, frame, schema)


def replace_table_from_parts(
    con: duckdb.DuckDBPyConnection, name: str, parts: Iterable[pl.DataFrame], schema: pl.Schema
) -> None:
    """Recreate `name` from frames made one at a time (same transaction), in their order.

    The caller's generator makes each part after the previous one is inserted, so memory
    holds one part, not the whole table: at national scale one frame of every credit record
    would not fit. No sort in DuckDB afterwards: staging and sorting 9M rows took ~40% more
    memory than the parts themselves; callers sort each part instead.
    """
    con.execute(table_ddl(name, schema, replace=True))
    for part in parts:
        _insert(con, name, part, schema)


def replace_slice(
    con: duckdb.DuckDBPyConnection,
    name: str,
    frame: pl.DataFrame,
    schema: pl.Schema,
    *,
    where_column: str,
    value: str,
) -> None:
    """Replace the rows of a shared table that belong to one source (e.g. quarantine)."""
    con.execute(table_ddl(name, schema, replace=False))
    con.execute(f'DELETE FROM "{name}" WHERE "{where_column}" = ?', [value])
    _insert(con, name, frame, schema)


def append(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, schema: pl.Schema
) -> None:
    con.execute(table_ddl(name, schema, replace=False))
    _insert(con, name, frame, schema)


def ensure_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared bookkeeping tables if this is a new warehouse."""
    for name, schema in (
        ("landing_files", LANDING_FILES_SCHEMA),
        ("landing_scan", LANDING_SCAN_SCHEMA),
        ("ingestion_log", INGESTION_LOG_SCHEMA),
        ("quarantine", QUARANTINE_SCHEMA),
    ):
        con.execute(table_ddl(name, schema, replace=False))


def _insert(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, schema: pl.Schema
) -> None:
    if frame.is_empty():
        return
    typed = frame.select(list(schema)).cast(dict(schema))
    con.register("_incoming", typed)
    try:
        columns = ", ".join(f'"{c}"' for c in schema)
        con.execute(f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM _incoming')
    finally:
        con.unregister("_incoming")
