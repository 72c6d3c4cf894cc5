"""The guard before publishing, on real DuckDB files made live through `warehouse.staging`.

Its verdict (removed established firms, changed share per clean table) must not depend on the
shortcut that skips the tables a run did not write (`warehouse.write_log`): every test
compares it with a reference that hashes every row of every table, and the random sequences
of writes include the ways a table can change without a writer logging it (a table
replaced, its triggers dropped, a column's type altered, a write to the live file)."""

from __future__ import annotations

import contextlib
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models.contracts import SOURCE_ORDER, default_contracts
from warehouse import guards, staging, write_log
from warehouse.catalogue import schema_of
from warehouse.tables import insert, table_ddl

TABLES = ("firms", "penalty_decisions", "circulars", "commendations")
ROWS = 30


def rows(name: str, start: int, n: int) -> pl.DataFrame:
    """`n` rows of clean table `name`, every column filled from the row number."""
    columns: dict[str, list[object]] = {}
    for column, dtype in schema_of(name).items():
        values: list[object] = []
        for i in range(start, start + n):
            if dtype == pl.Date:
                values.append(date(2024, 1, 1 + i % 28))
            elif dtype == pl.Datetime:
                values.append(datetime(2024, 1, 1, i % 24))
            elif dtype in (pl.Int64, pl.Int32):
                values.append(i)
            elif dtype == pl.Float64:
                values.append(float(i))
            elif dtype == pl.Boolean:
                values.append(i % 2 == 0)
            elif isinstance(dtype, pl.List):
                values.append([f"{column}{i}"])
            else:
                values.append(f"{column}-{i}")
        columns[column] = values
    return pl.DataFrame(columns, schema=schema_of(name))


def make_live(path: Path) -> None:
    con = duckdb.connect(str(path))
    for name in TABLES:
        con.execute(table_ddl(name, schema_of(name), replace=False))
        insert(con, name, rows(name, 0, ROWS), schema_of(name))
    con.close()


def publish(live: Path, run: str) -> Path:
    """A run with no writes, made live: the live file then carries the triggers and tokens."""
    copy, _ = staging.begin(live, run)
    staging.publish(live, copy, run)
    return copy


def reference(live: Path, copy: Path) -> guards.GuardReport:
    """The verdict from every row of every clean table (the guard without its shortcut)."""
    contracts = default_contracts()
    con = duckdb.connect(str(copy), read_only=True)
    con.execute(f"ATTACH '{live}' AS live (READ_ONLY)")
    removed = [
        r[0]
        for r in con.execute(
            "SELECT uscc FROM live.main.firms EXCEPT SELECT uscc FROM main.firms ORDER BY 1"
        ).fetchall()
    ]
    shares = {}
    for name in SOURCE_ORDER:
        if name not in TABLES:
            continue
        present = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
            "AND database_name = 'live'", [name]).fetchall()}  # fmt: skip
        here = {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
            "AND database_name <> 'live'", [name]).fetchall()}  # fmt: skip
        cols = ", ".join(
            f'"{c}"' for c in contracts.source(name).column_names if c in present & here
        )
        [(of,)] = con.execute(f'SELECT count(*) FROM live.main."{name}"').fetchall()
        [(n,)] = con.execute(
            f'SELECT count(*) FROM (SELECT {cols} FROM live.main."{name}" '
            f'EXCEPT ALL SELECT {cols} FROM main."{name}")'
        ).fetchall()
        shares[name] = (int(n), int(of))
    con.close()
    return guards.GuardReport(removed, shares, guards.max_change_share())


def same_verdict(a: guards.GuardReport, b: guards.GuardReport) -> None:
    assert a.removed_firms == b.removed_firms
    assert a.changed_shares == b.changed_shares
    assert a.passed == b.passed and a.message() == b.message()


def first_text_column(name: str) -> str:
    return next(c for c, t in schema_of(name).items() if t == pl.Utf8 and c not in ("uscc",))


def key(name: str) -> str:
    return default_contracts().source(name).key[0]


# One write to the staging copy (or, for `live_*`, to the live file after the copy was made).
def do(con: duckdb.DuckDBPyConnection, op: str, name: str, k: int) -> None:
    schema = schema_of(name)
    text = first_text_column(name)
    if op == "insert":
        insert(con, name, rows(name, 1000 + k, 1 + k % 3), schema)
    elif op == "append":  # DuckDB's appender, not an INSERT statement
        con.append(name, rows(name, 2000 + k, 2).to_pandas())
    elif op == "update":
        con.execute(
            f'UPDATE "{name}" SET "{text}" = "{text}" || \'x\' WHERE rowid % 7 = ?', [k % 7]
        )
    elif op == "delete":
        con.execute(f'DELETE FROM "{name}" WHERE rowid % 5 = ?', [k % 5])
    elif op == "delete_nothing":
        con.execute(f'DELETE FROM "{name}" WHERE false')
    elif op == "delete_insert_same":  # the same rows deleted and inserted again
        con.execute(f'CREATE TEMP TABLE _keep AS SELECT * FROM "{name}" WHERE rowid % 4 = 0')
        con.execute(f'DELETE FROM "{name}" WHERE rowid % 4 = 0')
        con.execute(f'INSERT INTO "{name}" SELECT * FROM _keep')
        con.execute("DROP TABLE _keep")
    elif op == "truncate":
        con.execute(f'TRUNCATE "{name}"')
    elif op == "replace_table":  # recreated: its triggers go with the old table
        con.execute(f'CREATE TEMP TABLE _keep AS SELECT * FROM "{name}" WHERE rowid % 3 <> 0')
        con.execute(table_ddl(name, schema, replace=True))
        con.execute(f'INSERT INTO "{name}" SELECT * FROM _keep')
        con.execute("DROP TABLE _keep")
    elif op == "replace_same":  # recreated with the same rows
        con.execute(f'CREATE TEMP TABLE _keep AS SELECT * FROM "{name}"')
        con.execute(table_ddl(name, schema, replace=True))
        con.execute(f'INSERT INTO "{name}" SELECT * FROM _keep')
        con.execute("DROP TABLE _keep")
    elif op == "drop_triggers":  # a writer that removes the triggers, then writes
        for event in write_log.EVENTS:
            con.execute(f"DROP TRIGGER IF EXISTS {write_log.trigger_name(name, event)} ON {name}")
        con.execute(f'DELETE FROM "{name}" WHERE rowid % 2 = ?', [k % 2])
    elif op == "alter_type":  # values rewritten without an INSERT, UPDATE or DELETE
        with contextlib.suppress(duckdb.DependencyException):  # refused: row triggers on it
            con.execute(
                f'ALTER TABLE "{name}" ALTER "{text}" TYPE VARCHAR USING upper("{text}") || \'!\''
            )
    elif op == "add_column":  # the definition changes, and with it the row triggers
        con.execute(f'ALTER TABLE "{name}" ADD COLUMN "extra_{k}" VARCHAR')
    elif op == "forget_log":  # a writer deleting the log's tokens for the table
        con.execute(f"DELETE FROM {write_log.TABLE} WHERE table_name = ?", [name])
        con.execute(f'DELETE FROM "{name}" WHERE rowid % 3 = ?', [k % 3])
    elif op == "rollback":
        con.execute("BEGIN TRANSACTION")
        con.execute(f'DELETE FROM "{name}"')
        con.execute("ROLLBACK")
    else:
        raise AssertionError(op)


OPS = ("insert", "append", "update", "delete", "delete_nothing", "delete_insert_same",
       "truncate", "replace_table", "replace_same", "drop_triggers", "alter_type", "add_column",
       "forget_log", "rollback", "live_delete", "live_update")  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A live file that went through one published run (so it carries the triggers)."""
    live = tmp_path / "w.duckdb"
    make_live(live)
    publish(live, "run-0")
    return live


def test_a_new_warehouse_passes(tmp_path: Path) -> None:
    live = tmp_path / "w.duckdb"
    copy, _ = staging.begin(live, "run-1")
    assert guards.compare(live, copy).passed


def test_a_run_that_writes_nothing_skips_every_table_and_passes(world: Path) -> None:
    copy, _ = staging.begin(world, "run-1")
    con = duckdb.connect(str(copy), read_only=True)
    con.execute(f"ATTACH '{world}' AS live (READ_ONLY)")
    assert set(write_log.unchanged(con, "live", TABLES)) == set(TABLES)
    con.close()
    report = guards.compare(world, copy)
    assert report.passed and report.changed_shares == {t: (0, ROWS) for t in TABLES}
    same_verdict(report, reference(world, copy))


def test_ordinary_writes_are_judged_from_the_log_alone(world: Path) -> None:
    """Rows deleted, inserted, appended and updated: the guard reads the hashes the triggers
    logged, not the tables, and finds what a compare of every row finds."""
    copy, _ = staging.begin(world, "run-1")
    con = duckdb.connect(str(copy))
    for k, op in enumerate(("insert", "append", "update", "delete", "delete_insert_same")):
        do(con, op, "penalty_decisions", k)
    do(con, "delete_insert_same", "circulars", 0)
    con.close()
    con = duckdb.connect(str(copy), read_only=True)
    con.execute(f"ATTACH '{world}' AS live (READ_ONLY)")
    assert write_log.changed_rows(con, "live", "circulars") == 0
    logged = write_log.changed_rows(con, "live", "penalty_decisions")
    con.close()
    report = guards.compare(world, copy)
    same_verdict(report, reference(world, copy))
    assert logged == report.changed_shares["penalty_decisions"][0] > 0


def test_a_copy_not_made_by_begin_is_compared_in_full(world: Path) -> None:
    """A copy whose row log was not emptied (the live file's log, last run's rows) cannot
    be judged from it."""
    copy, _ = staging.begin(world, "run-1")
    con = duckdb.connect(str(copy))
    do(con, "delete", "penalty_decisions", 1)
    con.close()
    staging.publish(world, copy, "run-1")
    stale = world.with_name("stale.duckdb")
    shutil.copyfile(world, stale)  # a copy made without `staging.begin`
    con = duckdb.connect(str(stale))
    do(con, "insert", "penalty_decisions", 2)
    con.close()
    con = duckdb.connect(str(stale), read_only=True)
    con.execute(f"ATTACH '{world}' AS live (READ_ONLY)")
    assert write_log.changed_rows(con, "live", "penalty_decisions") is None
    con.close()
    same_verdict(guards.compare(world, stale), reference(world, stale))


def test_a_warehouse_written_before_the_triggers_is_compared_in_full_once(tmp_path: Path) -> None:
    live = tmp_path / "w.duckdb"
    make_live(live)
    copy, _ = staging.begin(live, "run-1")  # installs the triggers in the copy only
    con = duckdb.connect(str(copy), read_only=True)
    con.execute(f"ATTACH '{live}' AS live (READ_ONLY)")
    assert write_log.unchanged(con, "live", TABLES) == {}
    con.close()
    same_verdict(guards.compare(live, copy), reference(live, copy))


def test_removed_established_firms_and_a_large_share_refuse_the_run(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy, _ = staging.begin(world, "run-1")
    con = duckdb.connect(str(copy))
    con.execute("DELETE FROM firms WHERE rowid < 2")
    con.execute("UPDATE circulars SET doc_no = doc_no || 'x' WHERE rowid < 20")
    con.close()
    report = guards.compare(world, copy)
    same_verdict(report, reference(world, copy))
    assert report.removed_firms == ["uscc-0", "uscc-1"]
    assert report.over_share == {"circulars": (20, ROWS)}
    assert not report.passed
    monkeypatch.setenv("RENFANG_MAX_CHANGE_SHARE", "0.9")
    assert guards.compare(world, copy).over_share == {}


@example(writes=[("alter_type", "firms", 1)], runs=1)
@example(writes=[("alter_type", "penalty_decisions", 1)], runs=2)
@example(writes=[("drop_triggers", "circulars", 1)], runs=1)
@example(writes=[("replace_table", "firms", 1)], runs=2)
@example(writes=[("replace_same", "commendations", 1)], runs=1)
@example(writes=[("forget_log", "penalty_decisions", 1)], runs=1)
@example(writes=[("live_delete", "firms", 1)], runs=1)
@example(writes=[("live_update", "circulars", 1)], runs=2)
@example(writes=[("append", "commendations", 1)], runs=1)
@example(writes=[("truncate", "firms", 1)], runs=1)
@example(writes=[("delete_insert_same", "penalty_decisions", 1)], runs=1)
@example(writes=[("rollback", "firms", 1)], runs=1)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    writes=st.lists(
        st.tuples(st.sampled_from(OPS), st.sampled_from(TABLES), st.integers(0, 20)),
        max_size=4,
    ),
    runs=st.integers(1, 2),
)
def test_the_verdict_equals_one_from_every_row_whatever_the_run_wrote(
    tmp_path_factory: pytest.TempPathFactory,
    writes: list[tuple[str, str, int]],
    runs: int,
) -> None:
    """Random writes in one or two runs (the first published): the guard's verdict on the
    last run equals the reference's, and a table the run wrote is never vouched."""
    base = tmp_path_factory.mktemp("guard")
    live = base / "w.duckdb"
    make_live(live)
    publish(live, "run-0")
    for run in range(runs):
        copy, _ = staging.begin(live, f"run-{run + 1}")
        written = set()
        for op, name, k in writes:
            if op.startswith("live_"):
                target = duckdb.connect(str(live))
                op = op.removeprefix("live_")
            else:
                target = duckdb.connect(str(copy))
            try:
                do(target, op, name, k)
            finally:
                target.close()
            if op not in (
                "delete_nothing",
                "rollback",
                "replace_same",
                "delete_insert_same",
                "alter_type",
            ):
                written.add(name)
        same_verdict(guards.compare(live, copy), reference(live, copy))
        con = duckdb.connect(str(copy), read_only=True)
        con.execute(f"ATTACH '{live}' AS live (READ_ONLY)")
        vouched = write_log.unchanged(con, "live", TABLES)
        con.close()
        assert not written & set(vouched), (writes, vouched)
        if run + 1 < runs:
            shutil.copyfile(copy, live)  # made live, as a publication does
            staging.discard(copy)


def test_a_column_renamed_after_the_triggers_are_removed_is_compared_in_full(world: Path) -> None:
    copy, _ = staging.begin(world, "run-1")
    con = duckdb.connect(str(copy))
    with pytest.raises(duckdb.DependencyException):
        con.execute('ALTER TABLE circulars RENAME COLUMN summary TO "summary_text"')
    write_log.remove(con, "circulars")
    con.execute('ALTER TABLE circulars RENAME COLUMN summary TO "summary_text"')
    con.execute('ALTER TABLE circulars RENAME COLUMN "summary_text" TO summary')
    con.close()
    con = duckdb.connect(str(copy), read_only=True)
    con.execute(f"ATTACH '{world}' AS live (READ_ONLY)")
    assert "circulars" not in write_log.unchanged(con, "live", TABLES)
    assert write_log.changed_rows(con, "live", "circulars") is None
    con.close()
    same_verdict(guards.compare(world, copy), reference(world, copy))
