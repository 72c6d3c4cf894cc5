"""A later processing date in the stored tier paths (`warehouse.credit.update_tier_paths`):
day after day on generated records, then a day onto dates with an event of each kind, the
firms with an event derived again and the others' rows moved on in DuckDB give exactly the
rows of a derivation of every firm as of that day; the firms found in DuckDB are those
`models.tier_paths.firms_with_events` finds; a date moved back or a rule set changed
derives every firm again."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from generator import generate
from models.credit_records import derive_credit_records
from models.record_status import record_status_history
from models.rules import default_rule_set
from models.tier_paths import (
    RECORD_EVENT_DATES,
    STATUS_EVENT_DATES,
    firms_with_events,
    tier_paths,
)
from warehouse.catalogue import schema_of
from warehouse.connection import query
from warehouse.credit import event_firms, update_tier_paths, with_version
from warehouse.tables import insert, table_ddl

RULES = default_rule_set()
FIRST = date(2025, 6, 27)
DAYS = [FIRST + timedelta(days=n) for n in range(1, 22)] + [date(2025, 9, 30), date(2026, 4, 2)]
"""Three weeks day by day, then a quarter and half a year on: the history is 2021–2025."""
TABLES = ("tier_paths", "repair_options")


def stored(seed: int) -> tuple[duckdb.DuckDBPyConnection, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A warehouse holding the credit records, statuses and directory of a generated
    industry (the inputs of `update_tier_paths`), and those three frames."""
    frames = generate(seed, firms=150, years=5, start_year=2021, intensity=3.0)
    records = derive_credit_records(frames, RULES)
    statuses = record_status_history(records, frames["credit_cases"], RULES)
    firms = frames["firms"]
    con = duckdb.connect()
    for name, frame in (
        ("credit_records", records),
        ("credit_record_status", with_version(statuses, RULES)),
        ("firms", firms),
    ):
        schema = schema_of(name)
        con.execute(table_ddl(name, schema, replace=True))
        missing = [pl.lit(None).alias(c) for c in schema if c not in frame.columns]
        insert(con, name, frame.with_columns(missing), schema)
    return con, records, statuses, firms


def on_each_kind(records: pl.DataFrame, statuses: pl.DataFrame, after: date) -> list[date]:
    """Days after `after` on which an event of each kind falls (a few per kind: a record or
    status date no other date of its row shares), each with the day before it: a move of
    one day onto each."""
    days: set[date] = set()
    for frame, kinds in ((records, RECORD_EVENT_DATES), (statuses, STATUS_EVENT_DATES)):
        for kind in kinds:
            alone = pl.all_horizontal(
                pl.col(kind).ne_missing(pl.col(k)) for k in kinds if k != kind
            )
            found = frame.filter(alone & (pl.col(kind) > after + timedelta(days=1)))[kind]
            for day in found.unique().sort().gather_every(7).head(4):
                days |= {day - timedelta(days=1), day}
    return sorted(days)


def assert_stored_as_derived(
    con: duckdb.DuckDBPyConnection, expected: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    for table, rows in zip(TABLES, expected, strict=True):
        got = query(con, f"SELECT * FROM {table}").cast(schema_of(table))
        assert_frame_equal(got.sort(got.columns), rows.sort(rows.columns))


@pytest.mark.parametrize("seed", [1, 2])
def test_day_after_day_only_the_firms_with_events_are_derived_again(seed: int) -> None:
    con, records, statuses, firms = stored(seed)
    update_tier_paths(con, RULES, FIRST)
    before = FIRST
    for day in sorted({*DAYS, *on_each_kind(records, statuses, FIRST)}):
        events = firms_with_events(records, statuses, before, day)
        assert event_firms(con, RULES, before, day).to_list() == events.to_list()
        update = update_tier_paths(con, RULES, day)
        assert not update.full and update.firms == events.len() < firms.height
        assert_stored_as_derived(con, tier_paths(records, statuses, firms, RULES, day))
        before = day
    moved = query(
        con, "SELECT count(*) AS n FROM repair_options WHERE repair_eligible_from > as_of"
    )
    assert moved["n"].item() > 0  # some options not yet repairable kept their own date


def test_a_date_moved_back_or_another_rule_set_derives_every_firm() -> None:
    con, records, statuses, firms = stored(3)
    update_tier_paths(con, RULES, DAYS[-1])
    back = update_tier_paths(con, RULES, FIRST)
    assert back.full
    assert_stored_as_derived(con, tier_paths(records, statuses, firms, RULES, FIRST))
    other = RULES.model_copy(update={"version": "other-2025.1"})
    con.execute("UPDATE credit_records SET rule_set_version = ?", [other.version])
    con.execute("UPDATE credit_record_status SET rule_set_version = ?", [other.version])
    assert update_tier_paths(con, other, DAYS[0]).full
    assert_stored_as_derived(con, tier_paths(records, statuses, firms, other, DAYS[0]))
