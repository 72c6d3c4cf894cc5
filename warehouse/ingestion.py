"""Ingestion's storage: receiving landing files into the archive, and rebuilding clean tables.

What belongs here: `receive` — one source's landing files read once per content: a new
content is parsed, archived, registered and its raw rows appended (raw tables only grow); a
path whose content changed supersedes its earlier content from the processing date; nothing
happens to what left the folder — and `rebuild_clean`, which types and checks the raw rows
of every received file still in force (plus, for record sources, the retired rows with their
dates, `models.supersession`). Also `clean_folder`, which reads and cleans a whole landing
folder in memory as a first run would (used where no warehouse is written, e.g. `renfang
backtest --landing`).
What does not: judging values (models.row_checks), the assets (pipelines.assets.ingestion).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from models.contracts import SOURCE_ORDER, Contracts, Source
from models.penalty_checks import penalty_rules
from models.row_checks import CleanResult, RowRule, clean_source
from models.rules import RuleSet
from models.supersession import assemble, boundaries, files_in_force
from warehouse.archive import (
    FileEvent,
    ensure_archive_tables,
    file_status,
    record_event,
    sha256_of,
    store,
)
from warehouse.audit import acting_user
from warehouse.catalogue import (
    LANDING_FILES_SCHEMA,
    LANDING_SCAN_SCHEMA,
    RETIRED_SOURCES,
    raw_schema,
    retired_schema,
    schema_of,
)
from warehouse.connection import query
from warehouse.landing import LandingLocation, ScannedFile, scan_file, source_files
from warehouse.tables import append, replace_slice


def registry_rows(
    new: list[ScannedFile], now: datetime, run_id: str | None, archived: Mapping[str, str]
) -> pl.DataFrame:
    fields = [c for c in LANDING_SCAN_SCHEMA if c != "first_seen_at"]
    return pl.DataFrame(
        [
            {
                **{c: getattr(f, c) for c in fields},
                "first_seen_at": now,
                "run_id": run_id,
                "archive_path": archived.get(f.sha256),
            }
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
        # the Chinese half of a bilingual detail (`中文 / English`): it becomes the reason
        read_detail=pl.col("detail").str.split(" / ").list.first(),
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
    rules: Sequence[RowRule] = (),
) -> CleanResult:
    """A source's raw rows typed, checked and de-duplicated as of the processing date
    (`models.row_checks.clean_source`, with the rule set's cross-field `rules`), plus one
    whole-file entry per file the scan refused (`file_entries`); the file hash travels along
    as lineage."""
    entries = file_entries(scan)
    rows = pl.concat([raw, entries], how="diagonal_relaxed") if entries.height else raw
    return clean_source(
        rows,
        source,
        contracts,
        today=landing.processing_date,
        known_keys=known_keys,
        rules=rules,
    )


def clean_folder(
    landing: LandingLocation, contracts: Contracts, rules: RuleSet | None = None
) -> dict[str, pl.DataFrame]:
    """Every source of a landing folder read and cleaned as a first run would: files first
    seen on the processing date's clock, references checked against the sources cleaned
    before them (contract order), penalty decisions also against `rules`' statutory limits
    (as the first run's official rule set would). Returns the accepted rows per source."""
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
        row_rules = (
            penalty_rules(((rules.effective_from, rules),))
            if rules is not None and name == "penalty_decisions"
            else []
        )
        accepted[name] = clean_raw(
            raw, source, contracts, landing, known_keys, scan, row_rules
        ).accepted
    return accepted


@dataclass(frozen=True)
class Received:
    """What one source's landing folder held this run."""

    scanned: list[ScannedFile]  # the new contents, parsed
    found: int  # files in the folder
    new_rows: int
    superseded: list[str]  # hashes whose path now holds other content


def receive(
    con: duckdb.DuckDBPyConnection,
    landing: LandingLocation,
    source: Source,
    contracts: Contracts,
    archive: Path,
    run_id: str | None,
) -> Received:
    """Take one source's landing files into the warehouse (inside the caller's transaction)."""
    ensure_archive_tables(con)
    # Receipts are strictly ordered even on a fixed clock (`--today`): a file received in a
    # later run is always later, so what an earlier run accepted stays established.
    [(last,)] = con.execute("SELECT max(first_seen_at) FROM landing_files").fetchall()
    now = landing.clock()
    if last is not None and now <= last:
        now = last + timedelta(microseconds=1)
    known = set(
        query(con, "SELECT sha256 FROM landing_files WHERE source = ?", [source.name])["sha256"]
    )
    paths = dict(
        con.execute(
            "SELECT file, sha256 FROM landing_paths WHERE source = ?", [source.name]
        ).fetchall()
    )
    status = file_status(con, source.name)
    retired = set(status.filter(pl.col("retired_on").is_not_null())["file_sha256"].to_list())
    scanned: list[ScannedFile] = []
    archived: dict[str, str] = {}
    seen_rows, superseded, reinstated = [], [], []
    found = source_files(landing.folder, source.name)
    for path in found:
        sha = sha256_of(path)
        rel = path.relative_to(landing.folder).as_posix()
        if sha not in known:
            found_file = scan_file(path, landing.folder, source, contracts)
            scanned.append(found_file)
            if found_file.problem != "file_too_large":  # refused unread: not kept either
                archived[sha] = store(archive, source.name, sha, path)
            known.add(sha)
        elif sha in retired:
            reinstated.append((sha, rel))
            retired.discard(sha)
        before = paths.get(rel)
        if before is not None and before != sha and before not in retired:
            superseded.append((before, sha, rel))
            retired.add(before)
        stat = path.stat()
        seen_rows.append(
            {"source": source.name, "file": rel, "sha256": sha, "seen_at": now,
             "size_bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        )  # fmt: skip
        paths[rel] = sha
    today = landing.processing_date
    for before, after, rel in superseded:
        record_event(con, FileEvent(source.name, before, "superseded", today, now, acting_user(),
                                    "同一路径出现新版本 / a new version arrived at its path",
                                    replaced_by=after, file=rel, run_id=run_id))  # fmt: skip
    for sha, rel in reinstated:
        record_event(con, FileEvent(source.name, sha, "reinstated", today, now, acting_user(),
                                    "该版本重新出现在收件目录 / this version is back in the "
                                    "landing folder", file=rel, run_id=run_id))  # fmt: skip
    first_seen = {f.sha256: now for f in scanned}
    append(con, "landing_files", registry_rows(scanned, now, run_id, archived),
           LANDING_FILES_SCHEMA)  # fmt: skip
    if seen_rows:
        seen = pl.DataFrame(seen_rows, schema=schema_of("landing_paths"))
        con.execute(
            "DELETE FROM landing_paths WHERE source = ? AND file IN (SELECT unnest(?))",
            [source.name, seen["file"].to_list()],
        )
        append(con, "landing_paths", seen, schema_of("landing_paths"))
    rows = raw_rows(scanned, first_seen, source)
    append(con, f"raw_{source.name}", rows, raw_schema(source))
    scan_all = query(
        con,
        "SELECT * EXCLUDE (run_id, archive_path) FROM landing_files WHERE source = ? "
        "AND sha256 IN (SELECT unnest(?))",
        [source.name, [r["sha256"] for r in seen_rows]],
    )
    replace_slice(con, "landing_scan", scan_all, LANDING_SCAN_SCHEMA, where_column="source",
                  value=source.name)  # fmt: skip
    return Received(scanned, len(found), rows.height, [b for b, _, _ in superseded])


@dataclass(frozen=True)
class Rebuilt:
    result: CleanResult  # of the rows in force: accepted, quarantine, per-file counts
    current: pl.DataFrame  # accepted rows in force (corrections dated from their arrival)
    retired: pl.DataFrame | None  # retired rows with retired_on (record sources only)
    files: pl.DataFrame  # the registry rows of the files in force (for the ingestion log)


def rebuild_clean(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    contracts: Contracts,
    landing: LandingLocation,
    known_keys: Mapping[str, pl.Series],
    rules: Sequence[RowRule] = (),
) -> Rebuilt:
    """The clean rows of every received file of `source` in force on the processing date,
    and — for record sources — the rows that stopped being in force, with the day they did
    (`models.supersession`: one clean pass per period in which the files in force were
    the same)."""
    raw = query(con, f'SELECT * FROM "raw_{source.name}"')
    status = file_status(con, source.name)
    today = landing.processing_date
    live = files_in_force(status, today)
    registry = query(
        con,
        "SELECT * EXCLUDE (run_id, archive_path) FROM landing_files WHERE source = ?",
        [source.name],
    )
    files = registry.filter(pl.col("sha256").is_in(live))

    def clean(shas: list[str]) -> CleanResult:
        """The rows of these files (and one entry per file refused whole), checked as one."""
        scan = registry.filter(pl.col("sha256").is_in(shas))
        rows = raw.filter(pl.col("file_sha256").is_in(shas))
        return clean_raw(rows, source, contracts, landing, known_keys, scan, rules)

    result = clean(live)
    if source.name not in RETIRED_SOURCES:
        return Rebuilt(result, result.accepted, None, files)
    periods: list[tuple[date | None, pl.DataFrame]] = []
    days = boundaries(status, today)
    for start, end in zip([None, *days], [*days, None], strict=True):
        if end is None:
            periods.append((start, result.accepted))
            continue
        periods.append((start, clean(files_in_force(status, end - timedelta(days=1))).accepted))
    current, retired = assemble(periods, source)
    return Rebuilt(result, current, retired.select(list(retired_schema(source))), files)


def landing_unchanged(live: Path, landing: Path) -> bool:
    """Whether every file in the landing folder is one the warehouse already received at
    that path, unchanged (same size and modification time) — then a run would change
    nothing. Files that left the folder change nothing either. Reads no file content."""
    if not live.exists():
        return False
    con = duckdb.connect(str(live), read_only=True)
    try:
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'landing_paths'"
        ).fetchall()[0][0]:
            return False
        known = {
            (source, file): (size, mtime)
            for source, file, size, mtime in con.execute(
                "SELECT source, file, size_bytes, mtime_ns FROM landing_paths"
            ).fetchall()
        }
    finally:
        con.close()
    for source in SOURCE_ORDER:
        for path in source_files(landing, source):
            stat = path.stat()
            rel = path.relative_to(landing).as_posix()
            if known.get((source, rel)) != (stat.st_size, stat.st_mtime_ns):
                return False
    return True
