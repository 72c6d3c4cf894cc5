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
    COVER_SHEET,
    RESULT_INPUT,
    ROUND_INPUT,
    TIER_LIST_INPUT,
    TIER_LIST_TITLE,
    disclosure_feed,
    tier_list_sheets,
)
from models.rules import RuleSet
from warehouse.connection import query, table_exists
from warehouse.credit import official_rules, stored_rule_set
from warehouse.exports import Sheet, Workbook, write_csv, write_workbook
from warehouse.paths import confined

TIER_LIST_FILE = "信用等级名单_{as_of}.xlsx"
"""The association's workbook, named in Chinese like every file people open."""
DISCLOSURE_FOLDER = "disclosure_{as_of}"
"""The public feed's folder (machine-read CSV files: its names follow the feed standard)."""


def tier_list_file(as_of: date) -> str:
    """`信用等级名单_2025-12-31.xlsx`."""
    return TIER_LIST_FILE.format(as_of=as_of.isoformat())


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


def _checked_tier_list(
    con: duckdb.DuckDBPyConnection, rules: RuleSet | None, as_of: date
) -> tuple[pl.DataFrame, RuleSet]:
    """The tier list of `as_of` and the rule set its scores were made with.

    Only official scores are published: they must carry the rule set official on that date
    (and, when the caller names one, that one). Labels and thresholds come from the stored
    rule set, never from whatever file the caller happens to hold.
    """
    frame = read_tier_list(con, as_of)
    versions = set(frame["rule_set_version"].unique().to_list())
    official = official_rules(con).for_date(as_of)
    expected = official or rules
    if expected is None:
        raise PublicationError(f"no official rule set for {as_of}")
    if versions - {expected.version} or (rules is not None and rules.version != expected.version):
        named = f"{rules.version}" if rules is not None else expected.version
        raise PublicationError(
            f"scores as of {as_of} were computed with rule set {sorted(versions)}; the "
            f"official rule set for that date is {expected.version} (asked: {named}): re-run "
            "`renfang run`, or name the official rule set"
        )
    stored = stored_rule_set(con, expected.version) if official else None
    return frame, stored or expected


def write_tier_list(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet | None,
    labels: Labels,
    as_of: date,
    path: Path,
) -> tuple[Path, int]:
    """The association's XLSX; returns the path and the number of firms listed."""
    frame, used = _checked_tier_list(con, rules, as_of)
    sheets = tier_list_sheets(frame.select(list(TIER_LIST_INPUT)), used, as_of, labels)
    book = Workbook(
        title=TIER_LIST_TITLE,
        as_of=as_of,
        sheets=[
            Sheet(name, part, notes=True)
            if name == COVER_SHEET
            else Sheet(name, part, title=f"{TIER_LIST_TITLE}（{name}）")
            for name, part in sheets.items()
        ],
    )
    return write_workbook(book, path, labels), frame.height


def write_disclosure(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet | None,
    labels: Labels,
    as_of: date,
    folder: Path,
    generated_at: datetime,
) -> dict[str, int]:
    """The public feed's CSV files in `folder`; returns rows per file."""
    tiers, used = _checked_tier_list(con, rules, as_of)
    rounds, results = read_published_rounds(con)
    feed = disclosure_feed(
        tiers,
        rounds,
        results,
        rules=used,
        labels=labels,
        as_of=as_of,
        generated_at=generated_at,
    )
    for name, frame in feed.items():
        write_csv(frame, confined(folder, f"{name}.csv"))
    return {name: frame.height for name, frame in feed.items()}
