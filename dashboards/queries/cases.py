"""The centre's case page: open listing cases with their deadlines, objections with theirs,
and late penalty publications — read from the warehouse, shaped by `models`."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from models.disclosure import late_publications
from models.listing import case_overview
from models.objections import OBJECTION_DEADLINE_SCHEMA, open_objections
from warehouse.connection import query, table_exists
from warehouse.listing import read_cases, read_events
from warehouse.publication import read_disclosures


def listing_cases(con: duckdb.DuckDBPyConnection, day: date) -> pl.DataFrame:
    """Every listing case with its state, next step and deadline as of `day`."""
    return case_overview(read_cases(con), read_events(con), day)


def listing_steps(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Every step of every case with its document."""
    return read_events(con)


def objections(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Open and overdue objections, most urgent first (as of the last run)."""
    if not table_exists(con, "objection_deadlines"):
        return pl.DataFrame(schema=OBJECTION_DEADLINE_SCHEMA)
    return open_objections(query(con, "SELECT * FROM objection_deadlines"))


def late_penalties(con: duckdb.DuckDBPyConnection, day: date) -> pl.DataFrame:
    """Penalty decisions published late, or withdrawn late, known by `day`."""
    return late_publications(read_disclosures(con), day)
