"""`warehouse.tables.replace_rows`: writing only the difference gives the same table as
deleting the slice and inserting the derived rows, whatever the rows (NULLs, NaN, lists,
repeats), and writes nothing when nothing changed."""

from datetime import date

import duckdb
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse.tables import insert, replace_rows, table_ddl

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
@given(stored=st.lists(rows, max_size=12), derived=st.lists(rows, max_size=12))
def test_writing_the_difference_equals_replacing_the_slice(stored, derived) -> None:
    old = pl.DataFrame(stored, schema=SCHEMA)
    new = pl.DataFrame(derived, schema=SCHEMA).filter(pl.col("uscc") == "A")
    expected = duckdb.connect()
    _table(expected, old)
    expected.execute("DELETE FROM t WHERE uscc = 'A'")
    insert(expected, "t", new, SCHEMA)
    actual = duckdb.connect()
    _table(actual, old)
    replace_rows(actual, "t", new, SCHEMA, where="uscc = ?", params=["A"])
    assert _content(actual) == _content(expected)


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
    assert replace_rows(con, "t", old.filter(pl.col("uscc") == "A"), SCHEMA,
                        where="uscc = ?", params=["A"]) == 0  # fmt: skip
    changed = old.filter(pl.col("uscc") == "A").with_columns(
        points=pl.when(pl.col("day").is_null()).then(2.0).otherwise(pl.col("points"))
    )
    # one row replaced: the old one deleted, the new one inserted
    assert replace_rows(con, "t", changed, SCHEMA, where="uscc = ?", params=["A"]) == 2
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(3,)]
