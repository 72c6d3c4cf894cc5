"""What a run wrote to the clean tables, as DuckDB itself records it: the guard's shortcut.

The guard before publishing (`warehouse.guards`) compared every clean table of the staging
copy with the live file, a hash of every row on both sides (~2.5 s at national scale), while
a day's run writes a few thousand rows. Knowing what changed must not be left to the
writers (one that forgot would let a change through unseen), so DuckDB records it: every
clean table carries statement-level triggers (after INSERT, UPDATE and DELETE — DuckDB fires
them for the appender, `COPY … FROM` and `TRUNCATE` too), in the writing transaction (a
rolled-back write leaves nothing):

- one adds a random token for the table to `table_writes` (a write on either side since the
  copy adds one the other lacks);
- one adds the hash of every row the statement removed (`-`) or added (`+`) to `row_writes`
  (its contract columns, `hash(…)`), which `install` empties when a run's copy is made.

Every row of the live table either stays in the copy or was removed by a logged statement,
and every row of the copy either was there or was added by one: the live rows the copy
lacks are the removed hashes less the added ones (multisets). So the guard needs, per table:
- none of it (`unchanged`): same tokens, definition (`duckdb_tables().sql`), row count and
  storage (`pragma_storage_info`: each segment's blocks and statistics) in both files;
- only the log (`changed_rows`): tokens only in the copy, the log begun by this copy's
  `install` (its mark not in the live file's log), the same definition in both, and the
  copy's row count the live one less the removed rows plus the added ones;
- else every row, as before.
Both need the copy's triggers exactly as `install` makes them for the table's columns: a
table dropped or replaced (`CREATE OR REPLACE`, a migration, a compaction's copy) loses them,
a column added changes them; and DuckDB refuses `ALTER … TYPE` (which rewrites values
without firing a trigger), `DROP COLUMN` and `RENAME COLUMN` on a table whose triggers read
its rows — a migration that needs them calls `remove` first (the next run's copy puts the
triggers back and compares that table in full once).

`install` runs on each staging copy (`warehouse.staging.begin`): it empties the row log and
marks its beginning, and adds missing triggers with a token for each table it added them to
(its earlier writes were not logged: the guard compares it in full once). What does not
belong here: the verdict (`warehouse.guards`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import duckdb

from models.contracts import SOURCE_ORDER, default_contracts
from warehouse.tables import ensure_tables

TABLE = "table_writes"
ROWS = "row_writes"
BEGUN = "begun"
"""The sign of `row_writes`' mark of where a copy's log begins (its hash random)."""
EVENTS = ("INSERT", "UPDATE", "DELETE")
TRACKED: tuple[str, ...] = SOURCE_ORDER
"""The clean tables, the ones the guard compares."""


def trigger_name(table: str, event: str) -> str:
    return f"_logged_{event.lower()}_{table}"


def rows_trigger_name(table: str, event: str) -> str:
    return f"_rows_{event.lower()}_{table}"


def trigger_sql(table: str, event: str) -> str:
    """The token trigger as DuckDB stores it (`duckdb_triggers().sql`), so a changed one is
    seen; it logs every statement, also one that touched no row."""
    return (
        f"CREATE TRIGGER {trigger_name(table, event)} AFTER {event} ON {table} "
        f"FOR EACH STATEMENT INSERT INTO {TABLE} SELECT '{table}', "
        "CAST(gen_random_uuid() AS VARCHAR);"
    )


def rows_trigger_sql(table: str, event: str, columns: list[str]) -> str:
    """The row trigger as DuckDB stores it: the hash of each row removed or added."""
    row = f"hash({', '.join(columns)})"
    if event == "UPDATE":
        return (
            f"CREATE TRIGGER {rows_trigger_name(table, event)} AFTER {event} ON {table} "
            "REFERENCING OLD TABLE AS _old NEW TABLE AS _new FOR EACH STATEMENT "
            f"INSERT INTO {ROWS} (SELECT '{table}', '-', {row} FROM _old) "
            f"UNION ALL (SELECT '{table}', '+', {row} FROM _new);"
        )
    side, sign = ("OLD", "-") if event == "DELETE" else ("NEW", "+")
    return (
        f"CREATE TRIGGER {rows_trigger_name(table, event)} AFTER {event} ON {table} "
        f"REFERENCING {side} TABLE AS _rows FOR EACH STATEMENT "
        f"INSERT INTO {ROWS} SELECT '{table}', '{sign}', {row} FROM _rows;"
    )


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[str]:
    """The contract's columns the table has, in the contract's order (what is hashed)."""
    present = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
            "AND schema_name = 'main' AND table_name = ?",
            [database, table],
        ).fetchall()
    }
    return [c for c in default_contracts().source(table).column_names if c in present]


def _wanted(con: duckdb.DuckDBPyConnection, database: str, table: str) -> dict[str, str]:
    """Every trigger the table must carry, by name, as DuckDB stores it (it quotes keywords
    and orders clauses its own way: the statements are made on an empty in-memory copy of
    the table's definition and read back)."""
    columns = _columns(con, database, table)
    made = [trigger_sql(table, e) for e in EVENTS]
    made += [rows_trigger_sql(table, e, columns) for e in EVENTS]
    [(ddl,)] = con.execute(
        "SELECT sql FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' "
        "AND table_name = ?",
        [database, table],
    ).fetchall()
    return _canonical(ddl, tuple(made))


@cache
def _canonical(ddl: str, made: tuple[str, ...]) -> dict[str, str]:
    scratch = duckdb.connect()
    try:
        scratch.execute(ddl)
        ensure_tables(scratch, [TABLE, ROWS])
        for sql in made:
            scratch.execute(sql)
        return dict(scratch.execute("SELECT trigger_name, sql FROM duckdb_triggers()").fetchall())
    finally:
        scratch.close()


def _has_triggers(
    con: duckdb.DuckDBPyConnection,
    database: str,
    table: str,
    present: dict[tuple[str, str], str],
) -> bool:
    return all(present.get((table, n)) == sql for n, sql in _wanted(con, database, table).items())


def _triggers(con: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], str]:
    return {
        (table, name): sql
        for table, name, sql in con.execute(
            "SELECT table_name, trigger_name, sql FROM duckdb_triggers() "
            "WHERE database_name = ? AND schema_name = 'main'",
            [database],
        ).fetchall()
    }


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, str]:
    return {
        name: sql
        for name, sql in con.execute(
            "SELECT table_name, sql FROM duckdb_tables() "
            "WHERE database_name = ? AND schema_name = 'main'",
            [database],
        ).fetchall()
    }


def install(con: duckdb.DuckDBPyConnection) -> list[str]:
    """On a run's new staging copy (writable): empty the row log and mark its beginning, and
    give every tracked table its triggers; returns the tables that lacked one, each with a
    token added (their earlier writes were not logged)."""
    database = con.execute("SELECT current_database()").fetchall()[0][0]
    tables = _tables(con, database)
    present = _triggers(con, database)
    missing = [t for t in TRACKED if t in tables and not _has_triggers(con, database, t, present)]
    ensure_tables(con, [TABLE, ROWS])
    con.execute("BEGIN TRANSACTION")
    con.execute(f"DELETE FROM {ROWS}")
    con.execute(f"INSERT INTO {ROWS} SELECT '', ?, hash(gen_random_uuid())", [BEGUN])
    for table in missing:
        for sql in _wanted(con, database, table).values():
            con.execute(sql.replace("CREATE", "CREATE OR REPLACE", 1))
        con.execute(f"INSERT INTO {TABLE} SELECT ?, CAST(gen_random_uuid() AS VARCHAR)", [table])
    con.execute("COMMIT")
    return missing


def unchanged(con: duckdb.DuckDBPyConnection, other: str, tables: Iterable[str]) -> dict[str, int]:
    """Of `tables`, those the current database of `con` (the staging copy) holds exactly as
    the attached database `other` (the live file) does, by the rules of the module's
    docstring, with their row count; every other table must be compared row by row."""
    here = con.execute("SELECT current_database()").fetchall()[0][0]
    defined = {db: _tables(con, db) for db in (here, other)}
    if TABLE not in defined[here] or TABLE not in defined[other]:
        return {}
    triggers = _triggers(con, here)
    differing = {
        r[0]
        for r in con.execute(
            f"""(SELECT table_name, token FROM "{here}".main.{TABLE}
                 EXCEPT SELECT table_name, token FROM "{other}".main.{TABLE})
                UNION ALL
                (SELECT table_name, token FROM "{other}".main.{TABLE}
                 EXCEPT SELECT table_name, token FROM "{here}".main.{TABLE})"""
        ).fetchall()
    }
    vouched: dict[str, int] = {}
    for table in tables:
        if table not in TRACKED or table in differing:
            continue
        sql = defined[here].get(table)
        if sql is None or sql != defined[other].get(table):
            continue
        if not _has_triggers(con, here, table, triggers):
            continue
        [(a,)] = con.execute(f'SELECT count(*) FROM "{here}".main."{table}"').fetchall()
        [(b,)] = con.execute(f'SELECT count(*) FROM "{other}".main."{table}"').fetchall()
        if a == b and _storage(con, here, table) == _storage(con, other, table):
            vouched[table] = int(a)
    return vouched


def _storage(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple[object, ...]]:
    """Where and how DuckDB stores each segment of the table, with its statistics: a copy of
    the file holds an untouched table in the same blocks; a rewrite that fires no trigger
    (`ALTER … TYPE … USING`) writes new ones."""
    return con.execute(
        f'SELECT * FROM pragma_storage_info(\'"{database}".main."{table}"\') '
        "ORDER BY row_group_id, column_id, column_path, segment_id"
    ).fetchall()


def changed_rows(con: duckdb.DuckDBPyConnection, other: str, table: str) -> int | None:
    """How many rows of `table` in the attached database `other` (the live file) the
    current database of `con` (the staging copy) lacks, from the copy's row log alone; None
    when the log cannot tell (module docstring): then every row must be compared."""
    here = con.execute("SELECT current_database()").fetchall()[0][0]
    defined = {db: _tables(con, db) for db in (here, other)}
    if TABLE not in defined[here] or TABLE not in defined[other] or ROWS not in defined[here]:
        return None
    sql = defined[here].get(table)
    if table not in TRACKED or sql is None or sql != defined[other].get(table):
        return None
    if not _has_triggers(con, here, table, _triggers(con, here)):
        return None
    [(live_only,)] = con.execute(
        f"""SELECT count(*) FROM (SELECT token FROM "{other}".main.{TABLE} WHERE table_name = ?
            EXCEPT SELECT token FROM "{here}".main.{TABLE} WHERE table_name = ?)""",
        [table, table],
    ).fetchall()
    if live_only:  # the live table was written after the copy was made
        return None
    begun = f"""SELECT row_hash FROM "{here}".main.{ROWS} WHERE sign = '{BEGUN}'"""
    [(marks,)] = con.execute(f"SELECT count(*) FROM ({begun})").fetchall()
    if marks != 1:
        return None
    if ROWS in defined[other]:
        [(seen,)] = con.execute(
            f"""SELECT count(*) FROM ({begun} INTERSECT
                SELECT row_hash FROM "{other}".main.{ROWS} WHERE sign = '{BEGUN}')"""
        ).fetchall()
        if seen:  # the log is the live file's, not begun by this copy
            return None
    log = f'"{here}".main.{ROWS}'
    [(removed, added)] = con.execute(
        f"SELECT count(*) FILTER (sign = '-'), count(*) FILTER (sign = '+') FROM {log} "
        "WHERE table_name = ?",
        [table],
    ).fetchall()
    [(a,)] = con.execute(f'SELECT count(*) FROM "{here}".main."{table}"').fetchall()
    [(b,)] = con.execute(f'SELECT count(*) FROM "{other}".main."{table}"').fetchall()
    if a != b - removed + added:
        return None
    [(gone,)] = con.execute(
        f"""SELECT count(*) FROM (
                SELECT row_hash FROM {log} WHERE table_name = ? AND sign = '-'
                EXCEPT ALL SELECT row_hash FROM {log} WHERE table_name = ? AND sign = '+')""",
        [table, table],
    ).fetchall()
    return int(gone)


def remove(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Take the triggers off `table` (before an `ALTER` DuckDB refuses while they are on it);
    `install` puts them back on the next run's copy."""
    for name in _wanted(con, con.execute("SELECT current_database()").fetchall()[0][0], table):
        con.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
