"""What the centre's last penalty-feed report said, kept beside the reports.

What belongs here: the rows of each report the main job writes (`penalty_feed`), stored as a
Parquet file per report day under `<reports>/.penalty_feed_state/`, and finding the last
one before a date. A day's change report compares the feed with what the last report
actually held, not with the last day's feed derived again from today's warehouse: a file
received today may carry a collection date (归集日期) weeks back, so today's warehouse
says its decision was public then, while no report said so; comparing with the derived feed
would leave it out of every report. What does not: the report's content (models.disclosure,
warehouse.publication) or the asset.

The files are the job's own bookkeeping, not something published: only the last report
before today and today's are needed, older ones are removed. Without one (a first run, a
reports folder emptied or moved) the next report is the whole feed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from warehouse.paths import confined

STATE_DIR = ".penalty_feed_state"


def last_report(reports: Path, before: date, schema: pl.Schema) -> tuple[date, pl.DataFrame] | None:
    """The day and rows (in `schema`) of the last report of a day before `before`, if one is
    kept and readable as `schema`: a damaged file, or one an older version wrote with other
    columns, counts as none (the report is then the whole feed, never a failed run)."""
    folder = confined(reports, STATE_DIR)
    days = sorted(d for d in _days(folder) if d < before)
    if not days:
        return None
    try:
        rows = pl.read_parquet(confined(folder, f"{days[-1]}.parquet"))
        return days[-1], rows.select(list(schema)).cast(schema)
    except (OSError, pl.exceptions.PolarsError):
        return None


def keep_report(reports: Path, day: date, rows: pl.DataFrame, since: date | None) -> Path:
    """Store `rows` (what the report of `day` shows) atomically; remove the states older
    than `since` (the report it was compared with), which no later report compares with."""
    folder = confined(reports, STATE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = confined(folder, f"{day}.parquet")
    partial = path.with_suffix(".parquet.tmp")
    rows.write_parquet(partial)
    partial.replace(path)
    for old in _days(folder):
        if old < (since or day):
            confined(folder, f"{old}.parquet").unlink(missing_ok=True)
    return path


def _days(folder: Path) -> list[date]:
    """The report days whose state is kept (other files in the folder are ignored)."""
    if not folder.is_dir():
        return []
    days = []
    for path in folder.glob("*.parquet"):
        try:
            days.append(date.fromisoformat(path.stem))
        except ValueError:
            continue
    return days
