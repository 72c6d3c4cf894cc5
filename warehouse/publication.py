"""Reading what is published from the warehouse and writing the files people receive.

What belongs here: the SQL behind the association's tier list and the public disclosure feed
(the published tier of every firm as of a scored date, published rounds and their results),
and writing them with `warehouse.exports` (formula-safe XLSX/CSV, atomic). Shared by the
Dagster assets, `renfang export` and the dashboards' public pages, so all three publish the
same rows. What does not: shaping the content (models.publication), the assets themselves.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from models.labels import Labels
from models.publication import (
    RESULT_INPUT,
    ROUND_INPUT,
    TIER_LIST_INPUT,
    disclosure_feed,
    tier_list_sheets,
)
from models.rules import RuleSet
from warehouse.connection import query, table_exists
from warehouse.exports import write_csv, write_xlsx
from warehouse.paths import confined

TIER_LIST_FILE = "tier_list_{as_of}.xlsx"
DISCLOSURE_FOLDER = "disclosure_{as_of}"


class PublicationError(ValueError):
    """The warehouse cannot provide what was asked (no scores, unknown date, stale rules)."""


def scored_dates(con: duckdb.DuckDBPyConnection) -> list[date]:
    if not table_exists(con, "credit_scores"):
        return []
    rows = con.execute("SELECT DISTINCT as_of FROM credit_scores ORDER BY as_of").fetchall()
    return [r[0] for r in rows]


def resolve_as_of(con: duckdb.DuckDBPyConnection, as_of: date | None) -> date:
    """`as_of` if scores are stored for exactly that date; None means the latest scores.

    A list names one scoring date: publishing a date nobody scored would silently show
    another date's tiers, so it is refused with the nearest stored dates and the fix.
    """
    dates = scored_dates(con)
    if not dates:
        raise PublicationError("no scores in the warehouse: run `renfang run` first")
    if as_of is None:
        return dates[-1]
    if as_of not in dates:
        before = [d for d in dates if d < as_of][-1:]
        after = [d for d in dates if d > as_of][:1]
        near = ", ".join(str(d) for d in before + after)
        raise PublicationError(
            f"no scores stored as of {as_of} (nearest: {near}); "
            f"run `renfang score --as-of {as_of}` first"
        )
    return as_of


def read_tier_list(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """Every scored firm of the directory with its score and tier as of `as_of`."""
    columns = ", ".join(
        f"f.{c}" for c in ("uscc", "name", "firm_type", "district", "qualification")
    )
    return query(
        con,
        f"SELECT {columns}, s.score, s.tier, s.veto, s.rule_set_version FROM credit_scores s "
        "JOIN firms f USING (uscc) WHERE s.as_of = ? ORDER BY f.uscc",
        [as_of],
    )


def read_published_rounds(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Published rounds and one row per drawn firm with its reported outcome (if any).
    Draft rounds are never read here: a plan is public only once published."""
    if not (table_exists(con, "sampling_rounds") and table_exists(con, "round_outcomes")):
        return pl.DataFrame(schema=ROUND_INPUT), pl.DataFrame(schema=RESULT_INPUT)
    rounds = query(
        con,
        f"SELECT {', '.join(ROUND_INPUT)} FROM sampling_rounds WHERE status = 'published'",
    ).cast(ROUND_INPUT)
    results = query(
        con,
        "SELECT " + ", ".join(f"o.{c}" for c in RESULT_INPUT) + " FROM round_outcomes o "
        "JOIN sampling_rounds r USING (round_id) WHERE r.status = 'published'",
    ).cast(RESULT_INPUT)
    return rounds, results


def _checked_tier_list(con: duckdb.DuckDBPyConnection, rules: RuleSet, as_of: date) -> pl.DataFrame:
    frame = read_tier_list(con, as_of)
    versions = set(frame["rule_set_version"].unique().to_list())
    if versions - {rules.version}:
        raise PublicationError(
            f"scores as of {as_of} were computed with rule set {sorted(versions)}, not "
            f"{rules.version}: re-run `renfang run` (or pass the matching --rules)"
        )
    return frame


def write_tier_list(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, labels: Labels, as_of: date, path: Path
) -> tuple[Path, int]:
    """The association's XLSX; returns the path and the number of firms listed."""
    frame = _checked_tier_list(con, rules, as_of)
    sheets = tier_list_sheets(frame.select(list(TIER_LIST_INPUT)), rules, as_of, labels)
    return write_xlsx(sheets, path), frame.height


def write_disclosure(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    labels: Labels,
    as_of: date,
    folder: Path,
    generated_at: datetime,
) -> dict[str, int]:
    """The public feed's CSV files in `folder`; returns rows per file."""
    tiers = _checked_tier_list(con, rules, as_of)
    rounds, results = read_published_rounds(con)
    feed = disclosure_feed(
        tiers,
        rounds,
        results,
        rules=rules,
        labels=labels,
        as_of=as_of,
        generated_at=generated_at,
    )
    for name, frame in feed.items():
        write_csv(frame, confined(folder, f"{name}.csv"))
    return {name: frame.height for name, frame in feed.items()}
