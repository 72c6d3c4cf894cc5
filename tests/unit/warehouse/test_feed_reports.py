"""What the last penalty-feed report held: found by day, kept atomically, pruned to the two
a later report can compare with, never outside the reports folder."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from warehouse.feed_reports import STATE_DIR, keep_report, last_report
from warehouse.paths import PathOutsideRootError

ROWS = pl.DataFrame({"doc_no": ["A", None], "version": ["", "v1"], "state": ["public", "expired"]})


def test_the_last_report_is_the_latest_of_an_earlier_day(tmp_path: Path) -> None:
    assert last_report(tmp_path, date(2026, 7, 9), ROWS.schema) is None  # none yet: whole feed
    keep_report(tmp_path, date(2026, 7, 7), ROWS.head(1), None)
    keep_report(tmp_path, date(2026, 7, 8), ROWS, date(2026, 7, 7))
    (tmp_path / STATE_DIR / "notes.parquet").write_bytes(b"not a day")  # ignored
    found = last_report(tmp_path, date(2026, 7, 9), ROWS.schema)
    assert found and found[0] == date(2026, 7, 8) and found[1].equals(ROWS)
    # a second run on the 8th compares with the 7th, as the first run that day did
    found = last_report(tmp_path, date(2026, 7, 8), ROWS.schema)
    assert found and found[0] == date(2026, 7, 7) and found[1].equals(ROWS.head(1))


def test_states_older_than_the_compared_report_are_removed(tmp_path: Path) -> None:
    for day in (1, 2, 3):
        keep_report(
            tmp_path, date(2026, 7, day), ROWS, None if day == 1 else date(2026, 7, day - 1)
        )
    kept = sorted(p.name for p in (tmp_path / STATE_DIR).iterdir())
    assert kept == ["2026-07-02.parquet", "2026-07-03.parquet"]  # no temporary file left
    keep_report(tmp_path, date(2026, 8, 1), ROWS, None)  # compared with nothing: only itself
    assert [p.name for p in (tmp_path / STATE_DIR).iterdir()] == ["2026-08-01.parquet"]


def test_a_state_folder_linked_elsewhere_is_refused(tmp_path: Path) -> None:
    reports, outside = tmp_path / "reports", tmp_path / "outside"
    reports.mkdir()
    outside.mkdir()
    (reports / STATE_DIR).symlink_to(outside)
    with pytest.raises(PathOutsideRootError):
        keep_report(reports, date(2026, 7, 1), ROWS, None)
    with pytest.raises(PathOutsideRootError):
        last_report(reports, date(2026, 7, 1), ROWS.schema)
    assert not list(outside.iterdir())


def test_a_damaged_or_older_state_counts_as_none(tmp_path: Path) -> None:
    """The report is then the whole feed; the run never fails on its own bookkeeping."""
    keep_report(tmp_path, date(2026, 7, 1), ROWS.drop("state"), None)  # an older layout
    assert last_report(tmp_path, date(2026, 7, 2), ROWS.schema) is None
    (tmp_path / STATE_DIR / "2026-07-01.parquet").write_bytes(b"PAR1 damaged")
    assert last_report(tmp_path, date(2026, 7, 2), ROWS.schema) is None
    keep_report(tmp_path, date(2026, 7, 1), ROWS.select("state", "version", "doc_no"), None)
    found = last_report(tmp_path, date(2026, 7, 2), ROWS.schema)  # columns in another order
    assert found and found[1].equals(ROWS)
