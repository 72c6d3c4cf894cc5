"""Numbered migrations: a new release opens a warehouse written by an older one.

What belongs here: the schema version each layout has, one function per step that carries
what cannot be re-derived (the register of received files, the raw rows, file events, the
rule-set register, rounds) forward inside one transaction, and `upgrade`, which runs the
missing steps after copying the old file aside. Derived tables (clean, credit, risk) need no
migration: the next run rebuilds them from what is carried forward.

Version 1 is every warehouse written before the archive existed (no `warehouse_state`).

Carried forward, besides the register of received files: the facts the centre enters and no
run can re-derive — the 严重失信 listing cases and every dated step of them
(`listing_cases`, `listing_events`: notices, statements, decisions, publications,
removals). A future layout change to those tables needs its own step here that keeps every
row; a derived table (the penalty feed `penalty_disclosures`, `objection_deadlines`) is
rebuilt by the next run and needs none.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse import audit
from warehouse.catalogue import LANDING_FILES_SCHEMA, catalogue
from warehouse.staging import SCHEMA_VERSION, bump_generation, file_lock, read_state
from warehouse.tables import duckdb_type, ensure_tables


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


MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {2: _v1_to_v2, 3: _v2_to_v3}
"""Step to version N (from N − 1)."""


def upgrade(live: Path, log: Path) -> int | None:
    """Bring the live warehouse to `SCHEMA_VERSION`; returns the old version when it
    migrated (after a backup `<name>.v<old>-<timestamp>.bak` beside it), else None."""
    if not live.exists():
        return None
    with file_lock(live):
        con = duckdb.connect(str(live))
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
        con = duckdb.connect(str(live))
        try:
            con.execute("BEGIN TRANSACTION")
            for version in range(old + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version](con)
            bump_generation(con)
            con.execute("COMMIT")
            con.execute("FORCE CHECKPOINT")
        finally:
            con.close()
    audit.append(
        log,
        "migration",
        {"from_version": old, "to_version": SCHEMA_VERSION, "backup": backup.name},
    )
    return old


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows[0][0])
