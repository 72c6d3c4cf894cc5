"""Writing a table in parts (`replace_table_from_parts`): the rows of every part in order,
replacing the old table in the caller's transaction — and nothing if that transaction fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from pipelines.resources import Warehouse
from warehouse.connection import query
from warehouse.tables import replace_table, replace_table_from_parts

SCHEMA = pl.Schema(
    {"uscc": pl.Utf8, "record_id": pl.Utf8, "segment": pl.Int32, "tags": pl.List(pl.Utf8)}
)


def rows(*keys: tuple[str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"uscc": u, "record_id": r, "segment": s, "tags": [r]} for u, r, s in keys], schema=SCHEMA
    )


def test_parts_are_stored_together_in_their_order(tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    parts = [rows(("B", "x", 1), ("A", "y", 0)), rows(), rows(("A", "x", 1), ("B", "x", 0))]
    with warehouse.transaction() as con:
        replace_table(con, "t", rows(("Z", "old", 0)), SCHEMA)
    with warehouse.transaction() as con:
        replace_table_from_parts(con, "t", iter(parts), SCHEMA)
    with warehouse.connect(read_only=True) as con:
        stored = query(con, "SELECT * FROM t")
    assert stored.equals(pl.concat(parts))


def test_a_part_that_fails_leaves_the_old_table(tmp_path: Path) -> None:
    warehouse = Warehouse(path=str(tmp_path / "w.duckdb"))
    with warehouse.transaction() as con:
        replace_table(con, "t", rows(("Z", "old", 0)), SCHEMA)

    def failing() -> Iterator[pl.DataFrame]:
        yield rows(("A", "new", 0))
        raise RuntimeError("source unreadable")

    with pytest.raises(RuntimeError), warehouse.transaction() as con:
        replace_table_from_parts(con, "t", failing(), SCHEMA)
    assert warehouse.read_table("t").equals(rows(("Z", "old", 0)))


def test_duckdb_memory_is_capped_by_default_and_as_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def limit(warehouse: Warehouse) -> str:
        with warehouse.connect() as con:
            return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]

    monkeypatch.delenv("RENFANG_DUCKDB_MEMORY", raising=False)
    assert limit(Warehouse(path=str(tmp_path / "w.duckdb"))) == "1.8 GiB"  # 2 GB by default
    assert limit(Warehouse(path=str(tmp_path / "w.duckdb"), memory_limit="1GB")) == "953.6 MiB"
    monkeypatch.setenv("RENFANG_DUCKDB_MEMORY", "4GB")
    assert limit(Warehouse(path=str(tmp_path / "w.duckdb"))) == "3.7 GiB"
