"""`warehouse.incremental`'s dated change log: a firm logged several times is read from its
earliest date (from any date if one entry has none), and `dated_groups` gives each firm
the stored dates from that one on, in few groups. Its clean entries name their table, and
a firm's records are derived again for the sources those tables can change."""

from datetime import date

import duckdb
import polars as pl

from models.credit_records import sources_to_derive
from warehouse.incremental import (
    CLEAN,
    CLEAN_LAYERS,
    DATED_SCHEMA,
    Changes,
    changed_sources,
    changes_since,
    clean_layer,
    dated_groups,
    log_changes,
    log_dated_changes,
)

DAYS = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def _dated(rows: dict[str, date | None]) -> pl.DataFrame:
    return pl.DataFrame({"uscc": list(rows), "since": list(rows.values())}, schema=DATED_SCHEMA)


def test_a_firm_is_read_from_its_earliest_date_and_from_any_date_if_undated() -> None:
    con = duckdb.connect()
    first = log_dated_changes(con, "spans", _dated({"A": date(2026, 3, 1), "B": date(2026, 3, 1)}))
    log_dated_changes(con, "spans", _dated({"A": date(2026, 2, 1), "C": date(2026, 5, 1)}))
    log_changes(con, "directory", ["B"])
    log_changes(con, "records", ["D"])

    changes = changes_since(con, ["spans", "directory"], 0)
    assert not changes.every and changes.firms.to_list() == ["A", "B", "C"]
    assert changes.since is not None
    assert changes.since.rows() == [("A", date(2026, 2, 1)), ("B", None), ("C", date(2026, 5, 1))]
    later = changes_since(con, ["spans"], first)
    assert later.since is not None and later.since.rows() == [("A", date(2026, 2, 1)),
                                                              ("C", date(2026, 5, 1))]  # fmt: skip
    log_changes(con, "spans", None)
    assert changes_since(con, ["spans"], 0).every


def test_each_firm_is_derived_again_on_the_dates_from_its_first_changed_one() -> None:
    since = {"A": date(2026, 3, 1), "B": None, "C": date(2026, 5, 1), "D": date(2026, 2, 28)}
    changes = Changes(False, pl.Series(sorted(since)), 9, _dated(since))
    groups = dated_groups(changes, DAYS)
    assert [(days, firms.to_list()) for days, firms in groups] == [
        (DAYS, ["B"]),
        (DAYS[1:], ["D"]),
        (DAYS[2:], ["A"]),
    ]  # C changed after the last date: on none of them
    # at most `most` groups: the earliest merged, their firms derived again on more dates
    assert [(d, f.to_list()) for d, f in dated_groups(changes, DAYS, most=2)] == [
        (DAYS, ["B", "D"]),
        (DAYS[2:], ["A"]),
    ]
    # no dates known: every date for every firm
    undated = Changes(False, pl.Series(["A", "B"]), 9)
    assert [(d, f.to_list()) for d, f in dated_groups(undated, DAYS)] == [(DAYS, ["A", "B"])]


def test_clean_entries_name_their_tables_and_the_records_they_can_change() -> None:
    con = duckdb.connect()
    first = log_changes(con, clean_layer("inspection_outcomes"), ["A", "B"])
    log_changes(con, clean_layer("penalty_decisions"), ["B"])
    log_changes(con, clean_layer("credit_cases"), ["C"])
    log_changes(con, CLEAN, ["D"])  # written by an older release: any table
    log_changes(con, "records", ["E"])

    found = changed_sources(con, 0)
    assert found.rows() == [("A", ["inspection_outcomes"]),
                            ("B", ["inspection_outcomes", "penalty_decisions"]),
                            ("C", ["credit_cases"]), ("D", None)]  # fmt: skip
    assert changed_sources(con, first)["uscc"].to_list() == ["B", "C", "D"]
    assert changes_since(con, CLEAN_LAYERS, 0).firms.to_list() == ["A", "B", "C", "D"]
    derived = {uscc: sources_to_derive(sources) for uscc, sources in found.iter_rows()}
    assert derived == {
        "A": ["inspection_outcomes"],
        # a penalty decision: the circulars and notices that may record its fact too
        "B": ["penalty_decisions", "correction_notices", "circulars", "inspection_outcomes"],
        "C": [],  # cases change statuses, no record
        "D": ["penalty_decisions", "correction_notices", "circulars", "commendations",
              "inspection_outcomes"],
    }  # fmt: skip
    log_changes(con, clean_layer("firms"), None)
    assert changes_since(con, CLEAN_LAYERS, 0).every
