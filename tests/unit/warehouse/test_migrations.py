"""Version 7: the rows as received are rewritten compressed and the file compacted — same
rows in the same order, every other table and view as it was, a smaller file; and a
migration opens the file as every writer does (`duckdb_config`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from fixtures.hashes import table_hashes

from warehouse import migrations
from warehouse.migrations import upgrade
from warehouse.staging import SCHEMA_VERSION


def old_warehouse(path: Path, rows: int) -> None:
    """A version-6 layout: raw rows stored as DuckDB chose, landing paths without the
    columns version 7 adds, a view over a table, a list column."""
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE warehouse_state (schema_version BIGINT, generation BIGINT, "
        "published_at TIMESTAMP, published_run_id VARCHAR)"
    )
    con.execute("INSERT INTO warehouse_state VALUES (6, 4, NULL, NULL)")
    con.execute(
        "CREATE TABLE raw_circulars AS SELECT 'circulars/a.csv' AS source_file, "
        'i::BIGINT AS source_row, \'{"通报文号":"沪民防通〔2025〕\' || i || \'号","事由":"\' '
        "|| repeat('检查', 30) || i || '\"}' AS raw_row, 'x' || i AS doc_no "
        f"FROM range({rows}) t(i)"
    )
    con.execute(
        "CREATE TABLE landing_paths (source VARCHAR, file VARCHAR, sha256 VARCHAR, "
        "seen_at TIMESTAMP, size_bytes BIGINT, mtime_ns BIGINT)"
    )
    con.execute("INSERT INTO landing_paths VALUES ('circulars', 'a.csv', 'ab', NULL, 1, 2)")
    con.execute(
        "CREATE TABLE credit_scores AS SELECT i AS n, [i, i + 1] AS pair FROM range(100) t(i)"
    )
    con.execute("CREATE VIEW doubled AS SELECT n * 2 AS m FROM credit_scores")
    con.execute("CHECKPOINT")
    con.close()


def test_version_7_compresses_the_rows_as_received_and_compacts_the_file(tmp_path: Path):
    live = tmp_path / "warehouse.duckdb"
    old_warehouse(live, rows=200_000)
    skip = {"warehouse_state", "landing_paths", "raw_circulars"}  # columns added to them
    before = table_hashes(live, skip=skip)
    raw = "SELECT source_file, source_row, raw_row, doc_no FROM raw_circulars"
    rows = duckdb.connect(str(live), read_only=True).execute(raw).fetchall()
    size = live.stat().st_size

    assert upgrade(live, tmp_path / "warehouse.audit.jsonl") == 6

    assert table_hashes(live, skip=skip) == before
    con = duckdb.connect(str(live), read_only=True)
    assert con.execute(raw).fetchall() == rows  # the same rows in the same order
    assert con.execute("SELECT sum(m) FROM doubled").fetchall() == [(9900,)]
    [(compression,)] = con.execute(
        "SELECT DISTINCT compression FROM pragma_storage_info('raw_circulars') "
        "WHERE column_name = 'raw_row' AND segment_type <> 'VALIDITY'"
    ).fetchall()
    columns = {r[0] for r in con.execute("DESCRIBE landing_paths").fetchall()}
    [(version,)] = con.execute("SELECT schema_version FROM warehouse_state").fetchall()
    con.close()
    assert compression == "ZSTD"
    assert {"ctime_ns", "inode", "hashed_at_ns"} <= columns
    assert version == SCHEMA_VERSION
    assert live.stat().st_size < size / 2, (size, live.stat().st_size)
    assert list(tmp_path.glob("warehouse.duckdb.v6-*.bak")), "the upgrade kept a backup"
    assert not list(tmp_path.glob(".warehouse.duckdb.compact*"))


def test_migrations_run_under_the_projects_connect_config(tmp_path: Path, monkeypatch):
    """A migration opens the file as every writer does (`duckdb_config`): no extension
    loaded behind its back, DuckDB's memory capped as `RENFANG_DUCKDB_MEMORY` says."""
    live = tmp_path / "warehouse.duckdb"
    old_warehouse(live, rows=10)
    monkeypatch.setenv("RENFANG_DUCKDB_MEMORY", "512MB")
    seen: list[tuple] = []
    real = migrations.MIGRATIONS[7]

    def recording(con: duckdb.DuckDBPyConnection) -> None:
        seen.append(
            con.execute(
                "SELECT current_setting('autoload_known_extensions'), "
                "current_setting('autoinstall_known_extensions'), current_setting('memory_limit')"
            ).fetchone()
        )
        real(con)

    monkeypatch.setitem(migrations.MIGRATIONS, 7, recording)

    assert upgrade(live, tmp_path / "warehouse.audit.jsonl") == 6

    [(autoload, autoinstall, limit)] = seen
    assert (autoload, autoinstall) == (False, False)
    assert limit == "488.2 MiB", limit  # 512 MB as DuckDB reports it
