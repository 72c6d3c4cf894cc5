"""`warehouse.tables.rewrite_rows`: writing only the difference gives the same table as
deleting the slice and inserting the derived rows, whatever the rows (NULLs, NaN, lists,
repeats), and writes nothing when nothing changed. `ensure_tables`: absent tables created,
an older table's missing columns added, complete tables left as they are."""

from datetime import date

import duckdb
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse.catalogue import schema_of
from warehouse.tables import ensure_tables, insert, rewrite_rows, table_ddl

SCHEMA = pl.Schema(
    {"uscc": pl.Utf8, "day": pl.Date, "points": pl.Float64, "grounds": pl.List(pl.Utf8)}
)

rows = st.fixed_dictionaries(
    {
        "uscc": st.sampled_from(["A", "B", None]),
        "day": st.one_of(st.none(), st.sampled_from([date(2026, 1, 31), date(2026, 2, 28)])),
        "points": st.one_of(st.none(), st.sampled_from([0.0, -1.5, 2.0, float("nan")])),
        "grounds": st.one_of(st.none(), st.lists(st.sampled_from(["x", "y", None]), max_size=2)),
    }
)


def _table(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    con.execute(table_ddl("t", SCHEMA, replace=True))
    insert(con, "t", frame, SCHEMA)
    return frame


def _content(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The rows as a sorted multiset of their text (NaN equals NaN, unlike in a tuple)."""
    return sorted(map(repr, con.execute("SELECT uscc, day, points, grounds FROM t").fetchall()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stored=st.lists(rows, max_size=12),
    derived=st.lists(rows, max_size=12),
    with_null=st.booleans(),
)
def test_writing_the_difference_equals_replacing_the_slice(stored, derived, with_null) -> None:
    """Also what it says it wrote: the slice as stored, less the rows deleted, plus those
    inserted, is the derived frame. The slice's condition is one with OR half the time (it
    must bind as a whole next to what the function adds)."""
    in_slice = (pl.col("uscc") == "A") | (pl.col("uscc").is_null() & with_null)
    where = "uscc = ? OR uscc IS NULL" if with_null else "uscc = ?"
    old = pl.DataFrame(stored, schema=SCHEMA)
    new = pl.DataFrame(derived, schema=SCHEMA).filter(in_slice)
    expected = duckdb.connect()
    _table(expected, old)
    expected.execute(f"DELETE FROM t WHERE {where}", ["A"])
    insert(expected, "t", new, SCHEMA)
    actual = duckdb.connect()
    _table(actual, old)
    written = rewrite_rows(actual, "t", new, SCHEMA, where=where, params=["A"])
    assert _content(actual) == _content(expected)
    kept = _rows(old.filter(in_slice))
    for row in _rows(written.gone):
        kept.remove(row)
    assert sorted(kept + _rows(written.added)) == sorted(_rows(new))


def _rows(frame: pl.DataFrame) -> list[str]:
    return sorted(map(repr, frame.rows()))


def test_unchanged_rows_are_not_written() -> None:
    con = duckdb.connect()
    old = pl.DataFrame(
        {
            "uscc": ["A", "A", "B"],
            "day": [date(2026, 1, 31), None, date(2026, 1, 31)],
            "points": [1.0, float("nan"), None],
            "grounds": [["x"], None, []],
        },
        schema=SCHEMA,
    )
    _table(con, old)
    assert rewrite_rows(con, "t", old.filter(pl.col("uscc") == "A"), SCHEMA,
                        where="uscc = ?", params=["A"]).rows == 0  # fmt: skip
    changed = old.filter(pl.col("uscc") == "A").with_columns(
        points=pl.when(pl.col("day").is_null()).then(2.0).otherwise(pl.col("points"))
    )
    # one row replaced: the old one deleted, the new one inserted
    assert rewrite_rows(con, "t", changed, SCHEMA, where="uscc = ?", params=["A"]).rows == 2
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(3,)]


def test_rows_as_received_are_stored_compressed(tmp_path) -> None:
    """`raw_row` (long JSON, unique per row) is kept with ZSTD, the other columns as DuckDB
    chooses; the rows read back as written."""
    from models.contracts import default_contracts
    from warehouse.catalogue import raw_schema

    schema = raw_schema(default_contracts().source("circulars"))
    cell = '{{"通报文号":"沪民防通〔2025〕{0}号","事由":"' + "检查" * 20 + '{0}"}}'
    rows = pl.DataFrame(
        {"source_row": range(5_000), "raw_row": [cell.format(i) for i in range(5_000)]}
    ).with_columns(pl.col("source_row").cast(pl.Int64))
    frame = rows.select(
        pl.col(c) if c in rows.columns else pl.lit(None, dtype=t).alias(c)
        for c, t in schema.items()
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(table_ddl("raw_circulars", schema, replace=False))
    insert(con, "raw_circulars", frame, schema)
    con.execute("CHECKPOINT")
    used = dict(
        con.execute(
            "SELECT column_name, any_value(compression) FROM pragma_storage_info('raw_circulars') "
            "WHERE column_name IN ('raw_row', 'source_row') AND segment_type <> 'VALIDITY' "
            "GROUP BY 1"
        ).fetchall()
    )
    assert used["raw_row"] == "ZSTD" and used["source_row"] != "ZSTD"
    back = con.execute("SELECT raw_row FROM raw_circulars ORDER BY source_row").fetchall()
    assert [r[0] for r in back] == frame["raw_row"].to_list()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def test_ensure_tables_creates_completes_and_leaves_alone() -> None:
    con = duckdb.connect()
    log = schema_of("ingestion_log")
    older = pl.Schema({c: t for c, t in log.items() if c != "cells_cleaned"})
    con.execute(table_ddl("ingestion_log", older, replace=False))  # a warehouse from before
    con.execute("INSERT INTO ingestion_log (source) VALUES ('firms')")
    quarantine = schema_of("quarantine")
    con.execute(table_ddl("quarantine", quarantine, replace=False))
    con.execute("INSERT INTO quarantine (source) VALUES ('firms')")
    ensure_tables(con, ["ingestion_log", "quarantine", "landing_files"])
    assert _columns(con, "ingestion_log") == [*older, "cells_cleaned"]
    assert con.execute("SELECT source, cells_cleaned FROM ingestion_log").fetchall() == [
        ("firms", None)
    ]
    assert _columns(con, "quarantine") == list(quarantine)
    assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(1,)]
    assert _columns(con, "landing_files") == list(schema_of("landing_files"))
    ensure_tables(con, ["ingestion_log", "landing_files"])  # again: nothing to do
    assert _columns(con, "ingestion_log") == [*older, "cells_cleaned"]
