"""Numbered migrations: a new release opens a warehouse written by an older one.

What belongs here: the schema version each layout has, one function per step that carries
what cannot be re-derived (the register of received files, the raw rows, file events, the
rule-set register, rounds) forward inside one transaction, and `upgrade`, which runs the
missing steps after copying the old file aside. Derived tables (clean, credit, risk) need no
migration: the next run rebuilds them from what is carried forward — except a table the next
run updates in place rather than rebuilds (an incremental run derives only the changed
firms): a change to its layout is migrated (the reason spans' scoring columns, version 6).

Version 1 is every warehouse written before the archive existed (no `warehouse_state`).

Carried forward, besides the register of received files: the facts the centre enters and no
run can re-derive — the 严重失信 listing cases and every dated step of them
(`listing_cases`, `listing_events`: notices, statements, decisions, publications,
removals) and the cases firms file online with the centre's decisions (`firm_cases`,
`firm_case_files`, `firm_case_decisions`, since version 4). A future layout change to
those tables needs its own step here that keeps every row; a derived table (the penalty
feed `penalty_disclosures`, `objection_deadlines`) is rebuilt by the next run and needs
none.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from models.scoring import REASON_SPAN_SCHEMA, VETO_ORDER
from warehouse import audit
from warehouse.catalogue import COLUMN_COMPRESSION, LANDING_FILES_SCHEMA, catalogue
from warehouse.connection import duckdb_config, sql_path, table_columns
from warehouse.staging import SCHEMA_VERSION, bump_generation, file_lock, read_state
from warehouse.tables import column_ddl, duckdb_type, ensure_tables


def _v1_to_v2(con: duckdb.DuckDBPyConnection) -> None:
    """The register of received files learns how each file was read (from the last scan)
    and where its bytes are archived (nowhere, for files received before the archive)."""
    if not _exists(con, "landing_files"):
        return
    present = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'landing_files'"
        ).fetchall()
    }
    for name, dtype in LANDING_FILES_SCHEMA.items():
        if name not in present:
            con.execute(f'ALTER TABLE landing_files ADD COLUMN "{name}" {duckdb_type(dtype)}')
    if _exists(con, "landing_scan"):
        fields = ("size_bytes", "format", "encoding", "header_row", "status", "problem", "detail")
        sets = ", ".join(f'"{f}" = s."{f}"' for f in fields)
        con.execute(
            f"UPDATE landing_files f SET {sets} FROM landing_scan s "
            "WHERE s.source = f.source AND s.sha256 = f.sha256 AND f.format IS NULL"
        )
    ensure_tables(con, ["landing_paths", "file_events"])
    if _exists(con, "landing_scan"):  # idempotent: a path already known keeps its row
        con.execute(
            "INSERT INTO landing_paths (source, file, sha256, seen_at, size_bytes) "
            "SELECT s.source, s.file, s.sha256, s.first_seen_at, s.size_bytes "
            "FROM landing_scan s WHERE NOT EXISTS (SELECT 1 FROM landing_paths p "
            "WHERE p.source = s.source AND p.file = s.file)"
        )


def _v2_to_v3(con: duckdb.DuckDBPyConnection) -> None:
    """Columns added to carried tables are added to the stored ones (empty for old rows):
    the contract's new columns in the raw tables (the national penalty layout, the penalty
    a circular or correction notice cites), how each received file was read (`layout`).
    The tables of the listing procedure are new and empty (created on first use)."""
    _add_new_columns(con)


def _v4_to_v5(con: duckdb.DuckDBPyConnection) -> None:
    """The rounds of issue 13: the roster's `department` (joint rounds) is added to the stored
    raw roster, empty for old rows (every inspector the office's own). The new sources
    (`public_credit_grades`, `rectification_results`, `inspection_records`) and the round
    tables `sampling_round_facts` / `sampling_tiers` are new and created on first use; a round
    stored before keeps its rows (the rounds page reads it as the city's)."""
    _add_new_columns(con)


def _add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Every carried table (raw, bookkeeping) gets the catalogue's columns it lacks."""
    for entry in catalogue().values():
        # carried tables only: derived ones (clean, credit …) are rebuilt by the next run and
        # keep every row and column as they were until then
        if entry.group not in ("raw", "bookkeeping"):
            continue
        if entry.view or entry.schema is None or not _exists(con, entry.name):
            continue
        present = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [entry.name],
            ).fetchall()
        }
        for name, dtype in entry.schema.items():
            if name not in present:
                con.execute(f'ALTER TABLE "{entry.name}" ADD COLUMN "{name}" {duckdb_type(dtype)}')


def _v3_to_v4(con: duckdb.DuckDBPyConnection) -> None:
    """The record of cases firms file online (filings, their files, the centre's decisions)
    starts empty; from here on it is carried like the listing procedure's tables."""
    ensure_tables(con, ["firm_cases", "firm_case_files", "firm_case_decisions"])


def _v5_to_v6(con: duckdb.DuckDBPyConnection) -> None:
    """The stored reason spans gain the two columns a stored as-of scoring aggregates
    (issue 17): `points_micro`, the points in whole millionths, and `veto_rank`, a veto's
    order among its firm's vetoes (`models.scoring.REASON_SPAN_SCHEMA`). They are computed
    from the stored rows as `reason_spans` computes them (the veto order from
    `VETO_ORDER`), so the next run stays incremental. Spans of a layout before rule sets
    were stored with them are left alone: no run has derived them step by step, so the
    next run derives them anew."""
    if not _exists(con, "score_reason_spans"):
        return
    present = table_columns(con, "score_reason_spans")
    if "rule_set_version" not in present:
        return
    for name in ("points_micro", "veto_rank"):
        if name not in present:
            dtype = duckdb_type(REASON_SPAN_SCHEMA[name])
            con.execute(f'ALTER TABLE score_reason_spans ADD COLUMN "{name}" {dtype}')
    order = ", ".join(
        f'"{column}" {"DESC" if descending else "ASC"} NULLS FIRST'
        for column, descending in VETO_ORDER
    )
    con.execute(
        "UPDATE score_reason_spans SET points_micro = CAST(round_even(points * 1e6, 0) AS BIGINT)"
    )
    con.execute(
        "UPDATE score_reason_spans s SET veto_rank = r.veto_rank FROM (SELECT rowid AS span, "
        f"dense_rank() OVER (PARTITION BY rule_set_version, uscc ORDER BY {order}) AS veto_rank "
        "FROM score_reason_spans WHERE veto) r WHERE s.rowid = r.span"
    )


def _v6_to_v7(con: duckdb.DuckDBPyConnection) -> None:
    """Two storage changes of issue 17. The record of each landing path gains the file's
    change time, inode and when its hash was computed (a run reuses the hash of a file
    untouched since instead of reading every landing file each day); empty for old rows,
    whose files the next run reads once more. And the tables holding rows as received
    (`raw_row`) are rewritten with that column compressed (`COLUMN_COMPRESSION`): same rows,
    same order, a fraction of the space."""
    _add_new_columns(con)
    tables = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name IN "
            "(SELECT unnest(?::VARCHAR[])) AND NOT internal ORDER BY 1",
            [list(COLUMN_COMPRESSION)],
        ).fetchall()
    ]
    for table in tables:
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
            "ORDER BY column_index",
            [table],
        ).fetchall()
        ddl = ", ".join(column_ddl(name, dtype) for name, dtype in columns)
        con.execute(f'CREATE TABLE "_{table}_v7" ({ddl})')
        con.execute(f'INSERT INTO "_{table}_v7" SELECT * FROM "{table}"')
        con.execute(f'DROP TABLE "{table}"')
        con.execute(f'ALTER TABLE "_{table}_v7" RENAME TO "{table}"')


MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    2: _v1_to_v2,
    3: _v2_to_v3,
    4: _v3_to_v4,
    5: _v4_to_v5,
    6: _v5_to_v6,
    7: _v6_to_v7,
}
"""Step to version N (from N − 1)."""

REWRITING = {7}
"""Steps that rewrite whole tables: DuckDB reuses the blocks they free but never gives them
back, so after them the file is compacted (`compact`) — at national scale the raw tables'
rewrite would otherwise leave a file larger than before (4.8 GB instead of 4.0), which every
run's staging copy then pays for."""


def upgrade(live: Path, log: Path) -> int | None:
    """Bring the live warehouse to `SCHEMA_VERSION`; returns the old version when it
    migrated (after a backup `<name>.v<old>-<timestamp>.bak` beside it), else None."""
    if not live.exists():
        return None
    with file_lock(live):
        con = duckdb.connect(str(live), config=duckdb_config())
        try:
            old = read_state(con).schema_version
            if old >= SCHEMA_VERSION:
                return None
            con.execute("FORCE CHECKPOINT")
        finally:
            con.close()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        backup = live.with_name(f"{live.name}.v{old}-{stamp}.bak")
        shutil.copyfile(live, backup)
        con = duckdb.connect(str(live), config=duckdb_config())
        try:
            con.execute("SET enable_progress_bar = false")  # the CLI prints its own progress
            con.execute("BEGIN TRANSACTION")
            for version in range(old + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version](con)
            bump_generation(con)
            con.execute("COMMIT")
            con.execute("FORCE CHECKPOINT")
        finally:
            con.close()
        if REWRITING & set(range(old + 1, SCHEMA_VERSION + 1)):
            compact(live)
    audit.append(
        log,
        "migration",
        {"from_version": old, "to_version": SCHEMA_VERSION, "backup": backup.name},
    )
    return old


def compact(live: Path) -> None:
    """Rewrite `live` into a new file holding only what is in use, and swap it in (one
    rename). The caller holds the file lock and has checkpointed; a failure leaves `live`
    as it was."""
    partial = live.with_name(f".{live.name}.compact")
    partial.unlink(missing_ok=True)
    con = duckdb.connect(config=duckdb_config())
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{sql_path(partial)}' AS compacted")
        con.execute(f"ATTACH '{sql_path(live)}' AS original (READ_ONLY)")
        con.execute("COPY FROM DATABASE original TO compacted")
        con.execute("DETACH original")
        con.execute("CHECKPOINT compacted")
        con.execute("DETACH compacted")
    except BaseException:
        con.close()
        partial.unlink(missing_ok=True)
        raise
    con.close()
    partial.replace(live)


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])
