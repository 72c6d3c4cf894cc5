"""Warehouse DDL and writes: typed tables from declared schemas, replaced inside transactions.

What belongs here: turning a declared polars schema (`warehouse.catalogue`) into DuckDB DDL,
and the statements that create, replace or append to a table or to a slice of a shared
table. Callers pass an open connection inside `Warehouse.transaction()`, so every asset's
writes commit together or not at all.

What does not: deciding what goes into a table (models), reading files (landing), which
tables exist (catalogue).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from warehouse.catalogue import COLUMN_COMPRESSION, schema_of
from warehouse.connection import query

_DUCKDB_TYPES: dict[type[pl.DataType], str] = {
    pl.Utf8: "VARCHAR",
    pl.Date: "DATE",
    pl.Float64: "DOUBLE",
    pl.Int64: "BIGINT",
    pl.UInt64: "UBIGINT",
    pl.Int32: "INTEGER",
    pl.Boolean: "BOOLEAN",
    pl.Datetime: "TIMESTAMP",
}


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB column type for a polars dtype (lists become `T[]`)."""
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        return f"{duckdb_type(inner() if isinstance(inner, type) else inner)}[]"
    return _DUCKDB_TYPES[dtype.base_type()]


def table_ddl(name: str, schema: pl.Schema, *, replace: bool) -> str:
    columns = ",\n  ".join(column_ddl(col, duckdb_type(dtype)) for col, dtype in schema.items())
    verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
    return f'{verb} "{name}" (\n  {columns}\n)'


def column_ddl(name: str, dtype: str) -> str:
    """One column of a CREATE TABLE, with the compression the catalogue chose for it."""
    compression = COLUMN_COMPRESSION.get(name)
    return f'"{name}" {dtype}' + (f" USING COMPRESSION {compression}" if compression else "")


def replace_table(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, schema: pl.Schema
) -> None:
    """Recreate `name` with the declared schema and fill it from `frame` (same transaction)."""
    con.execute(table_ddl(name, schema, replace=True))
    insert(con, name, frame, schema)


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
        insert(con, name, part, schema)


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
    insert(con, name, frame, schema)


@dataclass(frozen=True)
class Rewritten:
    """What `rewrite_rows` wrote: the stored rows it deleted and the rows it inserted."""

    gone: pl.DataFrame
    added: pl.DataFrame

    @property
    def rows(self) -> int:
        return self.gone.height + self.added.height


def rewrite_rows(
    con: duckdb.DuckDBPyConnection,
    name: str,
    frame: pl.DataFrame,
    schema: pl.Schema,
    *,
    where: str,
    params: Sequence[object] = (),
) -> Rewritten:
    """Make the rows of `name` that satisfy `where` (an SQL condition on its columns) equal to
    `frame`, writing only the difference; returns the rows deleted and the rows inserted
    (the caller may log what changed).

    Why: an incremental step derives again every row of the firms a change touches, but most
    of them come out as they were (a firm's one new decision leaves its other records, spans
    and old scores alone). Deleting and inserting them all made DuckDB rewrite ~10% of a
    national table at each commit's checkpoint — seconds per step — for rows that did not
    change.

    How: the stored rows are paired with the derived ones by a hash of the whole row, and
    every pair is then compared column by column (NULLs equal), so a hash collision can
    only make a row be rewritten, never kept wrongly. A stored row without an equal derived
    one is deleted, a derived row without an equal stored one inserted. Repeated rows (on
    either side) are written the plain way: the slice deleted, the frame inserted.
    """
    typed = frame.select(list(schema)).cast(schema).rechunk()  # both gathered below
    bound = list(params)
    columns = ", ".join(f'"{c}"' for c in schema)
    stored = query(con, f'SELECT rowid AS _row, {columns} FROM "{name}" WHERE {where}', bound)
    stored_rows = stored.select(list(schema)).cast(schema)  # one chunk, as `query` gives it
    old_hash, new_hash = stored_rows.hash_rows(), typed.hash_rows()
    if old_hash.is_duplicated().any() or new_hash.is_duplicated().any():
        con.execute(f'DELETE FROM "{name}" WHERE {where}', bound)
        insert(con, name, typed, schema)
        return Rewritten(stored_rows, typed)
    old_index = pl.DataFrame({"_h": old_hash, "_old": pl.int_range(stored.height, eager=True)})
    new_index = pl.DataFrame({"_h": new_hash, "_new": pl.int_range(typed.height, eager=True)})
    pairs = old_index.join(new_index, on="_h")
    before, after = stored_rows[pairs["_old"]], typed[pairs["_new"]]
    same = [before[c].eq_missing(after[c]).fill_null(False) for c in schema]
    kept = pairs.filter(pl.select(pl.all_horizontal(same)).to_series())
    dropped = ~pl.int_range(stored.height, eager=True).is_in(kept["_old"])
    gone = stored["_row"].filter(dropped)
    added = typed.filter(~pl.int_range(typed.height, eager=True).is_in(kept["_new"]))
    if gone.len():
        con.from_arrow(gone.to_frame().to_arrow()).query(
            "_gone", f'DELETE FROM "{name}" WHERE rowid IN (SELECT _row FROM _gone)'
        )
    insert(con, name, added, schema)
    return Rewritten(stored_rows.filter(dropped), added)


def append(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, schema: pl.Schema
) -> None:
    con.execute(table_ddl(name, schema, replace=False))
    insert(con, name, frame, schema)


def ensure_tables(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    """Create these catalogue tables empty where they do not exist yet, and add any column the
    catalogue declares that an older warehouse lacks (e.g. `ingestion_log.cells_cleaned`),
    empty for the rows written before it existed. One catalogue query for all of them: a
    statement per table made this a tenth of a small run."""
    wanted = list(dict.fromkeys(names))
    schemas = {name: schema_of(name) for name in wanted}  # a name the catalogue lacks: error
    if not schemas:
        return
    # the names as literals: DuckDB filters the catalogue by a literal list in a fifth of the
    # time it takes with a list parameter (this runs in almost every step of a run)
    here = "AND database_name = current_database() AND schema_name = current_schema()"
    counts: dict[str, int] = dict(
        con.execute(
            "SELECT table_name, column_count FROM duckdb_tables() "
            f"WHERE table_name IN ({_literals(wanted)}) AND NOT internal {here}"
        ).fetchall()
    )
    # A table with as many columns as the catalogue declares has them all: columns are only
    # ever added (here; a migration renames one in place). Only the others — fewer columns,
    # absent, or a view — are looked up column by column: listing every table's columns
    # costs four times listing the tables, and this runs ~260 times in a national day's run.
    present = {name: set(schemas[name]) for name, count in counts.items()
               if count >= len(schemas[name])}  # fmt: skip
    short = [name for name in wanted if name not in present]
    if short:
        for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            f"WHERE table_name IN ({_literals(short)}) AND NOT internal {here}"
        ).fetchall():
            present.setdefault(table, set()).add(column)
    for name, schema in schemas.items():
        if name not in present:
            con.execute(table_ddl(name, schema, replace=False))
            continue
        for column, dtype in schema.items():
            if column not in present[name]:
                con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {duckdb_type(dtype)}')


def _literals(names: Iterable[str]) -> str:
    return ", ".join("'" + name.replace("'", "''") + "'" for name in names)


def ensure_bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared bookkeeping tables if this is a new warehouse."""
    ensure_tables(con, ("landing_files", "landing_scan", "ingestion_log", "quarantine"))


def insert(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, schema: pl.Schema
) -> None:
    """Append `frame`'s rows to an existing table, columns selected and cast to `schema`.

    Handed over as an Arrow relation, not a registered frame: DuckDB keeps what a registered
    frame exported until the transaction ends, so a source received file by file in one
    transaction held every file's copy (~1 GB per million inspection outcomes)."""
    if frame.is_empty():
        return
    typed = frame.select(list(schema)).cast(schema)
    columns = ", ".join(f'"{c}"' for c in schema)
    con.from_arrow(typed.to_arrow()).query(
        "_incoming", f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM _incoming'
    )
