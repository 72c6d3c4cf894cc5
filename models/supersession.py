"""Received files that stop being in force, and what that means for their rows.

A received file stays in force until a deliberate, dated act ends it: a new version of the
same file (same path, other content) supersedes it from the day the change was seen, or an
operator withdraws it (`renfang withdraw`). Nothing is deleted: for dates before that day
its rows count as they did; from that day on, only what is in force counts.

What belongs here: the rule at row level. A row of a retired file that the file in force
repeats unchanged (same key, same content) simply continues — it was never withdrawn in
substance. Any other row of a retired file is retired on its file's date. A row that a
superseding version adds or changes is new information seen on the day of the change, so it
counts from that day at the earliest (its `collected_on` is raised to it): a correction
never rewrites what was published before it was received.

What does not: where files and events are stored (`warehouse`), how records and scores use
the retirement date (`models.engine`).
"""

from __future__ import annotations

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


def apply_retirement(
    current: pl.DataFrame, retired: pl.DataFrame, files: pl.DataFrame, source: Source
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows in force, with corrections dated from their arrival; retired rows with their
    `retired_on`). `current` and `retired` are clean rows with `file_sha256`; `files` has
    `FILE_STATUS_SCHEMA`."""
    content = content_columns(source)
    retired = retired.join(
        files.select("file_sha256", "retired_on"), on="file_sha256", how="left"
    ).filter(pl.col("retired_on").is_not_null())
    if current.is_empty() and retired.is_empty():
        return current, retired
    fingerprint = pl.struct(content).hash().alias("_fingerprint")
    current_prints = current.select(fingerprint)
    retired_prints = retired.select(fingerprint)
    continued = retired.with_columns(fingerprint).join(
        current_prints, on="_fingerprint", how="semi"
    )
    still_retired = (
        retired.with_columns(fingerprint)
        .join(continued.select("_fingerprint"), on="_fingerprint", how="anti")
        .drop("_fingerprint")
    )
    if "collected_on" not in current.columns:
        return current, still_retired
    arrival = files.filter("superseding").select("file_sha256", "first_seen_on")
    dated = (
        current.with_columns(fingerprint)
        .join(arrival, on="file_sha256", how="left")
        .with_columns(
            _carried=pl.col("_fingerprint").is_in(retired_prints["_fingerprint"].implode())
        )
        .with_columns(
            collected_on=pl.when(pl.col("first_seen_on").is_not_null() & ~pl.col("_carried"))
            .then(pl.max_horizontal("collected_on", "first_seen_on"))
            .otherwise(pl.col("collected_on"))
        )
        .select(current.columns)
    )
    return dated, still_retired
