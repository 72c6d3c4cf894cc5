"""Published pages (等级名单, 抽查结果公示): the same rows the association's XLSX and the
public disclosure feed hold, read by `warehouse.publication` (one place for what is public)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from models.periods import publishable_dates
from warehouse.connection import query
from warehouse.publication import read_published_rounds, read_tier_list, scored_dates


@dataclass(frozen=True)
class Listing:
    as_of: date


def published_dates(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Dates a tier list can be published for: month ends and the latest scoring date."""
    keep = publishable_dates(scored_dates(con))
    return pl.DataFrame({"as_of": keep}, schema={"as_of": pl.Date})


def tier_list(con: duckdb.DuckDBPyConnection, listing: Listing) -> pl.DataFrame:
    return read_tier_list(con, listing.as_of)


def published_rounds(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    return read_published_rounds(con)[0]


def published_results(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Drawn firms of published rounds with their names and reported results (no
    inspectors, no control flags)."""
    results = read_published_rounds(con)[1]
    names = query(con, "SELECT uscc, name, firm_type FROM firms")
    return results.join(names, on="uscc", how="left")
