"""A run's warehouse held open from step to step: one DuckDB instance, released whole."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.connection import Warehouse, hold, one_instance_per_run, release


def _wal(file: Path) -> Path:
    return file.with_name(file.name + ".wal")


@contextmanager
def _run_holding(tmp_path: Path, table_sql: str) -> Iterator[tuple[Path, Warehouse]]:
    """Inside a run that holds `w.duckdb`, with one table written in its own transaction."""
    file = tmp_path / "w.duckdb"
    wh = Warehouse(path=str(file))
    with one_instance_per_run():
        hold(file)
        with wh.transaction() as con:
            con.execute(table_sql)
        yield file, wh


def test_a_held_file_is_one_instance_for_every_connection(tmp_path):
    with _run_holding(tmp_path, "CREATE TABLE t AS SELECT 1 AS x") as (file, wh):
        # a closed connection of a held instance does not fold its WAL in: the instance
        # is still open, so the next step opens nothing and reads the same state
        assert _wal(file).exists()
        with wh.connect(read_only=True) as con:  # read-only asked: the held instance serves
            assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
        release(file)
        assert not _wal(file).exists()  # released: the file is whole on disk
        with duckdb.connect(str(file), read_only=True) as other:  # any other opener
            assert other.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_the_run_ending_releases_what_it_held(tmp_path):
    with _run_holding(tmp_path, "CREATE TABLE t AS SELECT 2 AS x") as (file, _):
        pass
    assert not _wal(file).exists()
    with duckdb.connect(str(file), read_only=True) as other:
        assert other.execute("SELECT x FROM t").fetchall() == [(2,)]


def test_outside_a_run_nothing_is_held(tmp_path):
    """The Dagster UI runs steps in separate processes: none may keep the file between
    steps, so `hold` does nothing unless the in-process run asked for it."""
    file = tmp_path / "w.duckdb"
    hold(file)
    with Warehouse(path=str(file)).transaction() as con:
        con.execute("CREATE TABLE t AS SELECT 3 AS x")
    assert not _wal(file).exists()  # the step's connection closed the instance
    with duckdb.connect(str(file)) as other:  # nothing of this process holds it
        assert other.execute("SELECT x FROM t").fetchall() == [(3,)]


def test_a_failed_write_of_a_held_file_is_rolled_back(tmp_path):
    with _run_holding(tmp_path, "CREATE TABLE t (x INTEGER)") as (_, wh):
        try:
            with wh.transaction() as con:
                con.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("the step failed")
        except RuntimeError:
            pass
        with wh.connect() as con:
            assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
