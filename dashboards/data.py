"""How the dashboards read the warehouse without ever blocking the pipeline's single writer.

Strategy (README "Dashboards"): every query opens a short-lived READ-ONLY DuckDB connection,
runs one pure query function `(connection, filters) -> frame` and closes it at once, so the
file lock is shared only for milliseconds. While the pipeline writes (it holds the lock for a
transaction), opening fails and is retried with a growing pause (`Warehouse.connect`); the
writer does the same in the other direction. Results are cached per (query, filters,
warehouse file version): a write changes the file's size/mtime, so the next rerun reads fresh
data, and a busy dashboard does not hammer the file.

What belongs here: opening the warehouse, the bounded cache, the "warehouse missing / busy"
errors. What does not: SQL (dashboards.queries) or drawing (dashboards.views).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import streamlit as st

from warehouse.connection import Warehouse

F = TypeVar("F")
R = TypeVar("R")

READ_RETRIES = 30
"""About 45 s of patience in total (0.1 s × attempt): longer than any single asset's write."""


class WarehouseMissingError(RuntimeError):
    """No warehouse file yet (`make run` has not run)."""


class WarehouseBusyError(RuntimeError):
    """The writer held the file for longer than the readers' patience."""


def warehouse_file() -> Path:
    """`$RENFANG_WAREHOUSE`, else `data/warehouse.duckdb` (read at every call, never cached)."""
    return Warehouse().file


def reports_folder() -> Path:
    """`$RENFANG_REPORTS`, else `reports/` beside the warehouse (where the pipeline writes)."""
    return Warehouse().reports


def read(path: Path, query: Callable[[duckdb.DuckDBPyConnection, F], R], filters: F) -> R:
    """Run one query on a fresh read-only connection (retried while a writer holds the file)."""
    if not path.exists():
        raise WarehouseMissingError(str(path))
    try:
        with Warehouse(path=str(path)).connect(read_only=True, retries=READ_RETRIES) as con:
            return query(con, filters)
    except duckdb.IOException as exc:
        raise WarehouseBusyError(str(exc)) from exc


def fetch(query: Callable[[duckdb.DuckDBPyConnection, F], R], filters: F) -> R:
    """`read` through the bounded cache, keyed by the warehouse file's current version."""
    path = warehouse_file()
    return _cached(query.__module__, query.__qualname__, filters, str(path), _version(path))


def _version(path: Path) -> tuple[int, ...]:
    """Size and mtime of the database and its WAL: any committed write changes one of them."""
    parts: list[int] = []
    for file in (path, path.with_name(path.name + ".wal")):
        stat = file.stat() if file.exists() else None
        parts += [stat.st_size, stat.st_mtime_ns] if stat else [0, 0]
    return tuple(parts)


@st.cache_data(ttl=600, max_entries=512, show_spinner=False)
def _cached(module: str, name: str, filters: Any, path: str, version: tuple[int, ...]) -> Any:
    query = getattr(importlib.import_module(module), name)
    return read(Path(path), query, filters)


def clear_cache() -> None:
    _cached.clear()
