"""Which clean tables a run wrote, as DuckDB itself records it: the guard's shortcut.

The guard before publishing (`warehouse.guards`) compares every clean table of the staging
copy with the live file, a hash of every row on both sides (~3 s at national scale), while
a day's run writes a few of the twelve. Skipping a table needs a signal that it did not
change which no writer can forget to give, so it is not left to the writers: every clean
table carries three statement-level triggers (after INSERT, UPDATE and DELETE — DuckDB fires
them for the appender, `COPY … FROM` and `TRUNCATE` too) that add a random token for the
table to `table_writes`, in the writing transaction (a rolled-back write leaves none).

A table is vouched unchanged (`unchanged`) only when all of this holds, else it is compared
row by row as before:
- the staging copy has the three triggers on it, exactly as `install` creates them (a table
  dropped or replaced — `CREATE OR REPLACE`, a migration, a compaction's copy — loses them);
- its definition (`duckdb_tables().sql`) and its storage (`pragma_storage_info`: the blocks
  of every segment, with their statistics) are the same in both files (`ALTER … TYPE …
  USING` rewrites values without firing a trigger, into new blocks);
- both files hold the same tokens for it (a write on either side since the copy adds one
  the other lacks), and the same row count.

`install` runs on each staging copy (`warehouse.staging.begin`): it adds missing triggers and
a token for each table it added them to (its earlier writes were not logged, so the guard
compares it in full once). What does not belong here: the verdict (`warehouse.guards`).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from models.contracts import SOURCE_ORDER
from warehouse.tables import ensure_tables

TABLE = "table_writes"
EVENTS = ("INSERT", "UPDATE", "DELETE")
TRACKED: tuple[str, ...] = SOURCE_ORDER
"""The clean tables, the ones the guard compares."""


def trigger_name(table: str, event: str) -> str:
    return f"_logged_{event.lower()}_{table}"


def trigger_sql(table: str, event: str) -> str:
    """The trigger as DuckDB stores it (`duckdb_triggers().sql`), so a changed one is seen.
    It logs every statement, also one that touched no row: a trigger that reads the rows
    (`REFERENCING … TABLE`) makes DuckDB refuse every `ALTER TABLE` of the table, which
    `warehouse.tables.ensure_tables` needs when the catalogue adds a column."""
    return (
        f"CREATE TRIGGER {trigger_name(table, event)} AFTER {event} ON {table} "
        f"FOR EACH STATEMENT INSERT INTO {TABLE} SELECT '{table}', "
        "CAST(gen_random_uuid() AS VARCHAR);"
    )


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
    """Give every tracked table of this (writable) file its triggers; returns the tables
    that lacked one, each with a token added (their earlier writes were not logged)."""
    database = con.execute("SELECT current_database()").fetchall()[0][0]
    tables = _tables(con, database)
    present = _triggers(con, database)
    missing = []
    for table in TRACKED:
        if table not in tables:
            continue
        wanted = {trigger_name(table, e): trigger_sql(table, e) for e in EVENTS}
        if all(present.get((table, n)) == sql for n, sql in wanted.items()):
            continue
        missing.append(table)
    if not missing:
        return []
    ensure_tables(con, [TABLE])
    con.execute("BEGIN TRANSACTION")
    for table in missing:
        for event in EVENTS:
            con.execute(trigger_sql(table, event).replace("CREATE", "CREATE OR REPLACE", 1))
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
        if any(triggers.get((table, trigger_name(table, e))) != trigger_sql(table, e)
               for e in EVENTS):  # fmt: skip
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
