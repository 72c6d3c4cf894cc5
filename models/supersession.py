"""Received files that stop being in force, and what that means for their rows.

A received file stays in force until a deliberate, dated act ends it: a new version of the
same file (same path, other content) supersedes it from the day the change was seen, or an
operator withdraws it (`renfang withdraw`). Nothing is deleted: for dates before that day
its rows count as they did; from that day on, only what is in force counts.

What belongs here: the rule at row level. Time is cut into periods in which the set of files
in force is constant; each period's rows are checked and de-duplicated as one whole (so a
conflict a withdrawal resolves is resolved from that day, not before). A row the files in
force repeat unchanged (same key, same content) simply continues. A row that stops being
accepted is retired on that day. A row that starts being accepted on a later day — a
correction, a resolved conflict — is new information seen that day, so it counts from that
day at the earliest (its `collected_on` is raised to it): nothing rewrites what was
published before it was received.

What does not: where files and events are stored (`warehouse`), how records and scores use
the retirement date (`models.engine`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from models.contracts import Source

FILE_STATUS_SCHEMA = pl.Schema(
    {
        "file_sha256": pl.Utf8(),
        "retired_on": pl.Date(),  # null while in force
        "superseding": pl.Boolean(),  # this version replaced an earlier one at its path
        "first_seen_on": pl.Date(),
    }
)


def content_columns(source: Source) -> list[str]:
    """What makes two rows the same document: every canonical column but `collected_on`."""
    return [c for c in source.column_names if c != "collected_on"]


def boundaries(status: pl.DataFrame, processing: date) -> list[date]:
    """The days on which the set of files in force changed, up to the processing date: a
    file retired, or a new version of a file began."""
    retired = status["retired_on"].drop_nulls().to_list()
    begun = status.filter("superseding")["first_seen_on"].drop_nulls().to_list()
    return sorted({d for d in (*retired, *begun) if isinstance(d, date) and d <= processing})


def files_in_force(status: pl.DataFrame, on: date) -> list[str]:
    """The files in force on a day: not retired by then, and — for a new version of a file —
    already arrived (until then its predecessor is in force)."""
    keep = status.filter(
        (pl.col("retired_on").is_null() | (pl.col("retired_on") > on))
        & ~(pl.col("superseding") & (pl.col("first_seen_on") > on))
    )
    return sorted(keep["file_sha256"].to_list())


def assemble(
    periods: Sequence[tuple[date | None, pl.DataFrame]], source: Source
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows in force, retired rows with `retired_on`) from the accepted rows of each period
    in which the set of files in force was constant (`periods`: start — None for the first
    — and that period's accepted clean rows, in date order; the last period is today's).

    A row is the same document in two periods when its key and content are equal. A row
    accepted in the last period is in force; if it is accepted only since a later period
    began (a correction, or a conflict that a withdrawal resolved), it counts from that
    day at the earliest (`collected_on` raised to it). A row accepted earlier but not in the
    last period is retired on the first day it was no longer accepted.
    """
    if len(periods) == 1:  # the same files in force throughout (every full rebuild of a
        # folder nothing was withdrawn from): all in force, none retired — without a hash
        # and a Python set of every row (~0.2 s a slice of 500,000 rows)
        rows = periods[0][1]
        return rows, pl.DataFrame(schema=dict(rows.schema) | {"retired_on": pl.Date()})
    content = content_columns(source)
    has_collected = "collected_on" in periods[-1][1].columns
    fingerprinted = [
        (start, rows.with_columns(pl.struct(content).hash().alias("_fingerprint")))
        for start, rows in periods
    ]
    present = [set(rows["_fingerprint"].to_list()) for _, rows in fingerprinted]
    starts = [start for start, _ in fingerprinted]
    last = len(fingerprinted) - 1

    def since(index: int, fingerprint: int) -> date | None:
        """The start of the run of periods ending at `index` in which the row is present."""
        first = index
        while first > 0 and fingerprint in present[first - 1]:
            first -= 1
        return starts[first]

    current = fingerprinted[last][1]
    if has_collected and last > 0:
        floors = [since(last, f) for f in current["_fingerprint"].to_list()]
        current = (
            current.with_columns(_floor=pl.Series(floors, dtype=pl.Date))
            .with_columns(
                collected_on=pl.when(pl.col("_floor").is_not_null())
                .then(pl.max_horizontal("collected_on", "_floor"))
                .otherwise(pl.col("collected_on"))
            )
            .drop("_floor")
        )
    retired_parts = []
    done: set[int] = set(present[last])
    for index in range(last - 1, -1, -1):
        rows = fingerprinted[index][1]
        ended = rows.filter(~pl.col("_fingerprint").is_in(sorted(done)))
        if ended.is_empty():
            continue
        end = starts[index + 1]
        fingerprints = ended["_fingerprint"].to_list()
        begun = [since(index, f) for f in fingerprints]
        ended = ended.with_columns(
            retired_on=pl.lit(end, dtype=pl.Date), _floor=pl.Series(begun, dtype=pl.Date)
        )
        if has_collected:
            ended = ended.with_columns(
                collected_on=pl.when(pl.col("_floor").is_not_null())
                .then(pl.max_horizontal("collected_on", "_floor"))
                .otherwise(pl.col("collected_on"))
            )
        retired_parts.append(ended.drop("_floor"))
        done |= set(fingerprints)
    schema = dict(current.schema) | {"retired_on": pl.Date()}
    retired = (
        pl.concat(retired_parts, how="vertical") if retired_parts else pl.DataFrame(schema=schema)
    )
    return current.drop("_fingerprint"), retired.drop("_fingerprint")
