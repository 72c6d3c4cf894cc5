"""Reading what is published from the warehouse and writing the files people receive.

What belongs here: the SQL behind the association's tier list and the public disclosure feed
(the published tier of every firm as of a scored date, published rounds and their results,
the decided 严重失信 listings in force, the penalty decisions in their publication period),
the centre's penalty-feed report (every decision's state as of a date, late publications and
withdrawals flagged), and writing them with `warehouse.exports` (formula-safe XLSX/CSV,
atomic). Shared by the Dagster assets, `renfang export` and the dashboards' public pages,
so all three publish the same rows. What does not: shaping the content (models.publication,
models.disclosure), the assets themselves.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from models.disclosure import (
    DISCLOSURE_SCHEMA,
    FEED_CHANGES,
    FEED_STATES_ZH,
    PUBLIC_PENALTY_FIELDS,
    feed_as_of,
    public_penalties,
    report_changes,
)
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
from warehouse.listing import listings_on
from warehouse.paths import confined

TIER_LIST_FILE = "信用等级名单_{as_of}.xlsx"
"""The association's workbook, named in Chinese like every file people open."""
DISCLOSURE_FOLDER = "disclosure_{as_of}"
"""The public feed's folder (machine-read CSV files: its names follow the feed standard)."""
PENALTY_FEED_FILE = "penalty_feed_{as_of}.csv"
"""The centre's penalty-feed report of a date, the whole feed (machine-read, like the feed it
reports on): written by the month's first run and by `renfang export penalty-feed`."""
PENALTY_FEED_CHANGES_FILE = "penalty_feed_changes_{as_of}.csv"
"""The other days' report: only the rows that changed since the last report
(`models.disclosure.full_report_due`)."""


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
    columns = ", ".join(
        "coalesce(json_extract_string(parameters, '$.office'), '市级') AS office"
        if c == "office"
        else c
        for c in ROUND_INPUT
    )
    rounds = query(con, f"SELECT {columns} FROM sampling_rounds WHERE status = 'published'").cast(
        ROUND_INPUT
    )
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
    audience: str = "association",
) -> tuple[Path, int]:
    """An audience's tier list XLSX (the association's by default: the tiers, fields and
    lists its rule set gives it); returns the path and the number of firms listed."""
    frame, used = _checked_tier_list(con, rules, as_of)
    sheets = tier_list_sheets(
        frame.select(list(TIER_LIST_INPUT)),
        used,
        as_of,
        labels,
        audience=audience,
        listed=listings_on(con, as_of),
    )
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
    listed = frame.filter(pl.col("tier").is_in(list(used.publication.audiences[audience].tiers)))
    return write_workbook(book, path, labels), listed.height


def audience_tier_list(
    con: duckdb.DuckDBPyConnection, as_of: date, audience: str | None
) -> tuple[pl.DataFrame, RuleSet]:
    """The tier list rows an audience may see (`None`: the centre's own view, every firm),
    with the published tier label and the firm's decided listing, if any."""
    frame, used = _checked_tier_list(con, None, as_of)
    if audience is not None:
        frame = frame.filter(pl.col("tier").is_in(list(used.publication.audiences[audience].tiers)))
    listed = listings_on(con, as_of).select("uscc", listed="decision_doc_no").unique("uscc")
    labels = {t.tier: used.public_label(t.tier) for t in used.tiers}
    frame = frame.join(listed, on="uscc", how="left").with_columns(
        tier_label=pl.col("tier").replace_strict(labels, default=None)
    )
    return frame, used


def read_disclosures(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every published penalty decision version with its dates (`models.disclosure`)."""
    if not table_exists(con, "penalty_disclosures"):
        return pl.DataFrame(schema=DISCLOSURE_SCHEMA)
    return query(con, "SELECT * FROM penalty_disclosures").cast(DISCLOSURE_SCHEMA)


PENALTY_FEED_HEADERS = {
    **PUBLIC_PENALTY_FIELDS,
    "state_zh": "公示状态",
    "published_on": "公示日期",
    "publish_due": "应公示截止日（7个工作日）",
    "late": "逾期公示",
    "ended_on": "下线或撤回日期",
    "revoked_on": "撤销日期",
    "withdraw_due": "应撤回截止日（3个工作日）",
    "withdrawal_late": "逾期撤回",
    "version": "版本",
}
"""The centre's penalty-feed report: the national fields and every date of the feed."""

FEED_REPORT_COLUMNS = [c if c != "state_zh" else "state" for c in PENALTY_FEED_HEADERS]
"""What the report shows of a row, as `feed_as_of` holds it (doc_no and version among them):
what a change report compares, and what is kept of each report (`warehouse.feed_reports`)."""


def penalty_feed(
    con: duckdb.DuckDBPyConnection, as_of: date, *, feed: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Every penalty decision collected by `as_of` with its feed state that day (`feed`:
    `feed_as_of` of the stored disclosures, when the caller has it already)."""
    if feed is None:
        feed = feed_as_of(read_disclosures(con), as_of)
    return _with_state_zh(feed)


def _with_state_zh(feed: pl.DataFrame) -> pl.DataFrame:
    return feed.with_columns(
        state_zh=pl.col("state").replace_strict(FEED_STATES_ZH, default=pl.col("state"))
    )


def write_penalty_feed(
    con: duckdb.DuckDBPyConnection, as_of: date, path: Path, *, feed: pl.DataFrame | None = None
) -> dict[str, int]:
    """The centre's penalty-feed report (CSV, Chinese headers); returns counts by state and
    of late publications and withdrawals (`feed`: as for `penalty_feed`)."""
    feed = penalty_feed(con, as_of, feed=feed)
    write_feed_report(feed, path)
    return feed_counts(feed)


def write_feed_report(feed: pl.DataFrame, path: Path) -> int:
    """The whole report of a `feed_as_of` to `path`; returns its rows."""
    write_csv(_readable(_with_state_zh(feed)).select(list(PENALTY_FEED_HEADERS.values())), path)
    return feed.height


def write_penalty_feed_changes(
    then: pl.DataFrame, now: pl.DataFrame, since: date | None, path: Path, labels: Labels
) -> int:
    """The report of the rows that changed between the feed of `since` (`then`, the last
    report's day) and `now` (both `feed_as_of`), each with what changed and that date in
    front of the whole report's columns; returns its rows."""
    changes = report_changes(then, now, FEED_REPORT_COLUMNS)
    readable = _readable(_with_state_zh(changes)).select(
        pl.col("change")
        .cast(pl.Utf8)
        .replace_strict(labels.code_map("feed_change", list(FEED_CHANGES)), default=None)
        .alias("变更类型"),
        pl.lit(since, dtype=pl.Date).alias("对比报告日期"),
        *PENALTY_FEED_HEADERS.values(),
    )
    write_csv(readable, path)
    return changes.height


def feed_counts(feed: pl.DataFrame) -> dict[str, int]:
    """Decisions by feed state, and how many were published or withdrawn late."""
    counts = {str(k): int(v) for k, v in feed.group_by("state").len().iter_rows()}
    counts["late"] = int(feed["late"].sum())
    counts["withdrawal_late"] = int(feed["withdrawal_late"].fill_null(False).sum())
    return counts


def _readable(feed: pl.DataFrame) -> pl.DataFrame:
    """The report's columns under their Chinese headers, yes/no in Chinese."""
    yes_no = {True: "是", False: "否"}
    return feed.with_columns(
        pl.col("late").replace_strict(yes_no, default=None, return_dtype=pl.Utf8),
        pl.col("withdrawal_late").replace_strict(yes_no, default=None, return_dtype=pl.Utf8),
    ).rename(PENALTY_FEED_HEADERS, strict=False)


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
        listings=listings_on(con, as_of),
        penalties=public_penalties(read_disclosures(con), as_of),
    )
    for name, frame in feed.items():
        write_csv(frame, confined(folder, f"{name}.csv"))
    return {name: frame.height for name, frame in feed.items()}
