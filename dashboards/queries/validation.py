"""Validation (模型验证): the risk model's outputs, once they exist.

The risk model and its backtest (DESIGN §7) are built separately; until the pipeline writes
their tables this module reports that none exist, and the page says so plainly. Wiring the
page to the model means adding its queries here.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.resources import query

MODEL_TABLE_PREFIXES = ("risk_", "backtest")


def model_tables(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Warehouse tables written by the risk model (empty: no model exists yet)."""
    likes = " OR ".join("table_name LIKE ?" for _ in MODEL_TABLE_PREFIXES)
    return query(
        con,
        f"SELECT table_name FROM information_schema.tables WHERE {likes} ORDER BY 1",
        [f"{p}%" for p in MODEL_TABLE_PREFIXES],
    )
