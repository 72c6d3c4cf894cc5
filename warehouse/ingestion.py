"""The rows ingestion stores: the landing registry, scan, raw rows and the ingestion log.

What belongs here: shaping what the landing reader found (`warehouse.landing.ScannedFile`)
into the bookkeeping and raw tables' rows, and `clean_folder`, which reads and cleans a
whole landing folder in memory exactly as the raw and clean assets do one source at a time
(used where no warehouse is written, e.g. `renfang backtest --landing`).
What does not: judging values (models.row_checks), the assets (pipelines.assets.ingestion).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

import polars as pl

from models.contracts import SOURCE_ORDER, Contracts, Source
from models.row_checks import CleanResult, clean_source
from warehouse.catalogue import LANDING_FILES_SCHEMA, LANDING_SCAN_SCHEMA, raw_schema
from warehouse.landing import LandingLocation, ScannedFile, scan_file, source_files


def registry_rows(new: list[ScannedFile], now: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"source": f.source, "sha256": f.sha256, "file": f.file, "first_seen_at": now}
            for f in new
        ],
        schema=LANDING_FILES_SCHEMA,
    )


def scan_rows(scanned: list[ScannedFile], first_seen: dict[str, datetime]) -> pl.DataFrame:
    fields = [c for c in LANDING_SCAN_SCHEMA if c != "first_seen_at"]
    return pl.DataFrame(
        [
            {**{c: getattr(f, c) for c in fields}, "first_seen_at": first_seen[f.sha256]}
            for f in scanned
        ],
        schema=LANDING_SCAN_SCHEMA,
    )


def raw_rows(
    scanned: list[ScannedFile], first_seen: dict[str, datetime], source: Source
) -> pl.DataFrame:
    schema = raw_schema(source)
    frames = []
    for f in scanned:
        if f.rows.is_empty():
            continue
        rows = f.rows.with_columns(
            source_file=pl.lit(f.file),
            file_sha256=pl.lit(f.sha256),
            file_first_seen=pl.lit(first_seen[f.sha256], dtype=pl.Datetime("us")),
        )
        missing = [c for c in schema if c not in rows.columns]
        rows = rows.with_columns(pl.lit(None, dtype=schema[c]).alias(c) for c in missing)
        frames.append(rows.select(list(schema)).cast(schema))
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames, how="vertical")


def file_entries(scan: pl.DataFrame) -> pl.DataFrame:
    """One raw-shaped entry per file refused whole (rejected or unreadable), built from the
    scan — those files keep no rows in the raw table — so the clean step quarantines each
    such file once, with its reason, and the log conserves it (read 1 = quarantined 1)."""
    refused = scan.filter(pl.col("status").is_in(["rejected", "unreadable"]))
    return refused.select(
        source_file=pl.col("file"),
        source_row=pl.lit(None, dtype=pl.Int64),
        file_sha256=pl.col("sha256"),
        file_first_seen=pl.col("first_seen_at").cast(pl.Datetime("us")),
        read_problem=pl.col("problem"),
        read_detail=pl.col("detail"),
        raw_row=pl.col("file").map_elements(
            lambda f: json.dumps({"file": f}, ensure_ascii=False), return_dtype=pl.Utf8
        ),
    )


def log_rows(run_id: str, scan: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """Join what was found in each file with what became of its rows."""
    now = datetime.now(UTC).replace(tzinfo=None)
    joined = scan.join(counts, left_on="file", right_on="source_file", how="left")
    return joined.with_columns(
        pl.col(
            "rows_read", "rows_accepted", "rows_quarantined", "rows_collapsed", "cells_cleaned"
        ).fill_null(0),
        run_id=pl.lit(run_id),
        logged_at=pl.lit(now, dtype=pl.Datetime("us")),
    )


def clean_raw(
    raw: pl.DataFrame,
    source: Source,
    contracts: Contracts,
    landing: LandingLocation,
    known_keys: Mapping[str, pl.Series],
    scan: pl.DataFrame,
) -> CleanResult:
    """A source's raw rows typed, checked and de-duplicated as of the processing date
    (`models.row_checks.clean_source`), plus one whole-file entry per file the scan refused
    (`file_entries`); the file hash is lineage, not a column to check."""
    entries = file_entries(scan)
    rows = pl.concat([raw, entries], how="diagonal_relaxed") if entries.height else raw
    return clean_source(
        rows.drop("file_sha256"),
        source,
        contracts,
        today=landing.processing_date,
        known_keys=known_keys,
    )


def clean_folder(landing: LandingLocation, contracts: Contracts) -> dict[str, pl.DataFrame]:
    """Every source of a landing folder read and cleaned as a first run would: files first
    seen on the processing date's clock, references checked against the sources cleaned
    before them (contract order). Returns the accepted rows per source."""
    now = landing.clock()
    accepted: dict[str, pl.DataFrame] = {}
    for name in SOURCE_ORDER:
        if name not in contracts.sources:
            continue
        source = contracts.source(name)
        scanned = [
            scan_file(p, landing.folder, source, contracts)
            for p in source_files(landing.folder, name)
        ]
        first_seen = dict.fromkeys((f.sha256 for f in scanned), now)
        raw = raw_rows(scanned, first_seen, source)
        known_keys = {
            r.source: accepted[r.source][contracts.source(r.source).key[0]]
            for r in source.references
            if r.source in accepted
        }
        scan = scan_rows(scanned, first_seen)
        accepted[name] = clean_raw(raw, source, contracts, landing, known_keys, scan).accepted
    return accepted
