"""Published pages (等级名单, 抽查结果公示, 信用信息公示): the same rows the association's XLSX
and the public disclosure feed hold, read by `warehouse.publication` and `warehouse.listing`
(one place for what is public)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from models.disclosure import public_penalties
from models.periods import publishable_dates
from warehouse.connection import query
from warehouse.listing import listings_on
from warehouse.publication import audience_tier_list as read_audience
from warehouse.publication import (
    read_disclosures,
    read_published_rounds,
    read_tier_list,
    scored_dates,
)


@dataclass(frozen=True)
class Listing:
    as_of: date


@dataclass(frozen=True)
class AudienceListing:
    as_of: date
    audience: str | None


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


def serious_dishonesty(con: duckdb.DuckDBPyConnection, day: date) -> pl.DataFrame:
    """The 严重失信主体名单 in force on `day`: decided, published, unexpired listings only."""
    return listings_on(con, day)


def penalties(con: duckdb.DuckDBPyConnection, day: date) -> pl.DataFrame:
    """行政处罚信息公示 of `day`: the national fields of every decision public that day."""
    return public_penalties(read_disclosures(con), day)


def audience_tier_list(con: duckdb.DuckDBPyConnection, listing: AudienceListing) -> pl.DataFrame:
    """The tier list an audience receives (`None`: the centre's own view, every firm)."""
    return read_audience(con, listing.as_of, listing.audience)[0]
