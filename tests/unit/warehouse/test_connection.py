"""A run's warehouse held open from step to step: one DuckDB instance, released whole."""

from pathlib import Path

import duckdb

from warehouse.connection import Warehouse, hold, one_instance_per_run, release


def _wal(file: Path) -> Path:
    return file.with_name(file.name + ".wal")


def test_a_held_file_is_one_instance_for_every_connection(tmp_path):
    file = tmp_path / "w.duckdb"
    wh = Warehouse(path=str(file))
    with one_instance_per_run():
        hold(file)
        with wh.transaction() as con:
            con.execute("CREATE TABLE t AS SELECT 1 AS x")
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
    file = tmp_path / "w.duckdb"
    with one_instance_per_run():
        hold(file)
        with Warehouse(path=str(file)).transaction() as con:
            con.execute("CREATE TABLE t AS SELECT 2 AS x")
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
    file = tmp_path / "w.duckdb"
    wh = Warehouse(path=str(file))
    with one_instance_per_run():
        hold(file)
        with wh.transaction() as con:
            con.execute("CREATE TABLE t (x INTEGER)")
        try:
            with wh.transaction() as con:
                con.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("the step failed")
        except RuntimeError:
            pass
        with wh.connect() as con:
            assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
