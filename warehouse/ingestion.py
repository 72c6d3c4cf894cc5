"""Ingestion's storage: receiving landing files into the archive, and keeping clean tables.

What belongs here: `receive` — one source's landing files read once per content: a new
content is parsed, archived, registered, its raw rows appended (raw tables only grow) and
indexed (`raw_index`: each row's key group, firm and dates); a path whose content changed
supersedes its earlier content from the processing date; nothing happens to what left the
folder — and `update_clean`, which keeps the clean table equal to the typed, checked raw
rows of every received file in force (plus, for record sources, the retired rows with their
dates, `models.supersession`), cleaning again only the key groups a change touches, or all
of them slice by slice (`--full`). Also `clean_folder`, which reads and cleans a whole
landing folder in memory as a first run would (used where no warehouse is written, e.g.
`renfang backtest --landing`).
What does not: judging values (models.row_checks), the assets (pipelines.assets.ingestion).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from models.contracts import SOURCE_ORDER, Contracts, Source
from models.normalise import has_control_characters, is_given, per_distinct
from models.penalty_checks import penalty_rules
from models.row_checks import (
    FILE_COUNT_SCHEMA,
    QUARANTINE_SCHEMA,
    RAW_META_COLUMNS,
    CleanResult,
    RowRule,
    clean_schema,
    clean_source,
    typed_rows,
)
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
from warehouse.connection import query, table_exists, utc_now
from warehouse.credit import official_rules
from warehouse.gate_state import mark_unvalidated
from warehouse.incremental import (
    clean_layer,
    contracts_fingerprint,
    log_changes,
    read_step,
    write_step,
)
from warehouse.landing import LandingLocation, ScannedFile, scan_file, source_files
from warehouse.tables import append, ensure_tables, insert, replace_slice, table_ddl


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
    now = utc_now()
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

    scanned: list[ScannedFile]  # the new contents, as read (their rows dropped once stored)
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
    *,
    rehash: bool = False,
) -> Received:
    """Take one source's landing files into the warehouse (inside the caller's transaction).

    A file untouched since a run hashed it keeps that hash (`known_hash`); `rehash` (a full
    rebuild) reads every file again."""
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
    recorded = {
        row[0]: PathRecord(*row[1:])
        for row in con.execute(
            "SELECT file, sha256, size_bytes, mtime_ns, ctime_ns, inode, hashed_at_ns "
            "FROM landing_paths WHERE source = ?",
            [source.name],
        ).fetchall()
    }
    paths = {file: record.sha256 for file, record in recorded.items()}
    status = file_status(con, source.name)
    retired = set(status.filter(pl.col("retired_on").is_not_null())["file_sha256"].to_list())
    scanned: list[ScannedFile] = []
    archived: dict[str, str] = {}
    seen_rows, superseded, reinstated = [], [], []
    found = source_files(landing.folder, source.name)
    con.execute(table_ddl(f"raw_{source.name}", raw_schema(source), replace=False))
    ensure_tables(con, ["raw_index"])
    new_rows = 0
    for path in found:
        rel = path.relative_to(landing.folder).as_posix()
        stat = path.stat()
        record = None if rehash else recorded.get(rel)
        sha = known_hash(record, stat) if record else None
        hashed_at: int | None
        if sha is None:
            hashed_at = time.time_ns()
            sha = sha256_of(path)
            stat = path.stat()  # as it was when read (a file still being written is re-read)
        else:
            hashed_at = record.hashed_at_ns if record else None
        if sha not in known:
            found_file = scan_file(path, landing.folder, source, contracts)
            # stored and indexed file by file, its rows then dropped: a national year's
            # inspection outcomes held whole (and concatenated) were the run's memory peak
            new_rows += _store_raw(con, found_file, now, source, contracts)
            scanned.append(replace(found_file, rows=found_file.rows.clear()))
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
        seen_rows.append(
            {"source": source.name, "file": rel, "sha256": sha, "seen_at": now,
             "size_bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns,
             "ctime_ns": stat.st_ctime_ns, "inode": stat.st_ino, "hashed_at_ns": hashed_at}
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
    append(con, "landing_files", registry_rows(scanned, now, run_id, archived),
           LANDING_FILES_SCHEMA)  # fmt: skip
    if seen_rows:
        seen = pl.DataFrame(seen_rows, schema=schema_of("landing_paths"))
        con.execute(
            "DELETE FROM landing_paths WHERE source = ? AND file IN (SELECT unnest(?))",
            [source.name, seen["file"].to_list()],
        )
        append(con, "landing_paths", seen, schema_of("landing_paths"))
    scan_all = query(
        con,
        "SELECT * EXCLUDE (run_id, archive_path) FROM landing_files WHERE source = ? "
        "AND sha256 IN (SELECT unnest(?))",
        [source.name, [r["sha256"] for r in seen_rows]],
    )
    replace_slice(con, "landing_scan", scan_all, LANDING_SCAN_SCHEMA, where_column="source",
                  value=source.name)  # fmt: skip
    return Received(scanned, len(found), new_rows, [b for b, _, _ in superseded])


RACY_NS = 2_000_000_000
"""A file changed less than this before its hash was computed may have changed again in the
same clock tick unseen (git's "racy" files): its hash is never reused."""


@dataclass(frozen=True)
class PathRecord:
    """What the last run recorded of one landing path (`landing_paths`)."""

    sha256: str
    size_bytes: int | None
    mtime_ns: int | None
    ctime_ns: int | None
    inode: int | None
    hashed_at_ns: int | None


def known_hash(record: PathRecord, stat: os.stat_result) -> str | None:
    """The recorded SHA-256 of a landing file when the file cannot have changed since it was
    hashed, else None (read it again).

    Size and modification time can be set back by a copy that keeps them (`cp -p`, rsync),
    so the hash is reused only when the inode and the change time — which no user can set —
    are the recorded ones too, and the file had stopped changing before the hash was taken.
    Every write, rename, copy over or replacement of the file gives it another change time.
    """
    if None in (record.ctime_ns, record.inode, record.hashed_at_ns, record.mtime_ns):
        return None
    assert record.ctime_ns is not None and record.hashed_at_ns is not None  # for mypy
    same = (
        stat.st_size == record.size_bytes
        and stat.st_mtime_ns == record.mtime_ns
        and stat.st_ctime_ns == record.ctime_ns
        and stat.st_ino == record.inode
    )
    settled = record.ctime_ns < record.hashed_at_ns - RACY_NS
    return record.sha256 if same and settled else None


def _store_raw(
    con: duckdb.DuckDBPyConnection,
    scanned: ScannedFile,
    first_seen: datetime,
    source: Source,
    contracts: Contracts,
) -> int:
    """Append one new file's raw rows and their index rows; returns the rows stored."""
    rows = raw_rows([scanned], {scanned.sha256: first_seen}, source)
    insert(con, f"raw_{source.name}", rows, raw_schema(source))
    insert(con, "raw_index", index_rows(rows, source, contracts), schema_of("raw_index"))
    return rows.height


INDEXED_REFERENCES = ("uscc", "inspector_id")
"""Reference columns the raw index keeps typed (a contract referencing another column makes
every run of that source full)."""

SLICE_ROWS = 500_000
"""Raw rows cleaned at once in a full rebuild: complete key groups, one slice at a time."""


def index_rows(raw: pl.DataFrame, source: Source, contracts: Contracts) -> pl.DataFrame:
    """The `raw_index` rows of raw rows (`raw_<source>` columns): the typed key as text, the
    firm and inspector the row names, the range of its given dates that may not lie after
    the processing date (the only check whose verdict changes with the date), and how many
    cells `clean_text` rewrites (the ingestion log's `cells_cleaned`)."""
    schema = schema_of("raw_index")
    if raw.is_empty():
        return pl.DataFrame(schema=schema)
    future_checked = [c.name for c in source.columns if c.type == "date" and not c.allow_future]
    wanted = {*source.key, *future_checked, *(c for c in INDEXED_REFERENCES
                                                if c in source.column_names)}  # fmt: skip
    present = [c for c in source.column_names if c in wanted and c in raw.columns]
    typed = typed_rows(raw.select(*RAW_META_COLUMNS, *present), source, contracts, list(wanted))
    key = pl.concat_str(
        [pl.col(k).cast(pl.Utf8).fill_null(NULL_KEY) for k in source.key], separator=KEY_JOINER
    )
    given = [
        per_distinct(raw[c], is_given).alias(f"_given_{c}")
        if c in raw.columns
        else pl.lit(value=False).alias(f"_given_{c}")
        for c in future_checked
    ]
    dates = [pl.when(pl.col(f"_given_{c}")).then(pl.col(c)) for c in future_checked]
    cleaned = [has_control_characters(pl.col(c)).cast(pl.Int64)
               for c in source.column_names if c in raw.columns]  # fmt: skip
    return (
        typed.with_columns(given)
        .rechunk()  # see `models.row_checks.typed_rows`
        .select(
            source=pl.lit(source.name),
            file_sha256="file_sha256",
            source_row="source_row",
            row_key=key,
            uscc=pl.col("uscc") if "uscc" in source.column_names else pl.lit(None, pl.Utf8),
            inspector_id=(
                pl.col("inspector_id")
                if "inspector_id" in source.column_names
                else pl.lit(None, pl.Utf8)
            ),
            first_date=pl.min_horizontal(dates) if dates else pl.lit(None, pl.Date),
            last_date=pl.max_horizontal(dates) if dates else pl.lit(None, pl.Date),
        )
        .with_columns(
            cells_cleaned=raw.select(
                pl.sum_horizontal(cleaned) if cleaned else pl.lit(0, pl.Int64)
            ).to_series()
        )
        .cast(schema)
    )


NULL_KEY = "\x00"
KEY_JOINER = "\x1f"
"""A row's key as one text: key columns joined (clean text never holds control characters),
an empty key column spelt as NUL."""


def ensure_index(con: duckdb.DuckDBPyConnection, source: Source, contracts: Contracts) -> int:
    """Index the raw rows of files received before the index existed (an older warehouse);
    returns the files indexed. New files are indexed when received (`receive`)."""
    ensure_tables(con, ["raw_index"])
    missing = query(
        con,
        f'SELECT DISTINCT file_sha256 FROM "raw_{source.name}" EXCEPT '
        "SELECT DISTINCT file_sha256 FROM raw_index WHERE source = ?",
        [source.name],
    )["file_sha256"].to_list()
    for sha in missing:
        raw = query(con, f'SELECT * FROM "raw_{source.name}" WHERE file_sha256 = ?', [sha])
        insert(con, "raw_index", index_rows(raw, source, contracts), schema_of("raw_index"))
    return len(missing)


def file_signatures(status: pl.DataFrame, today: date) -> pl.DataFrame:
    """Each received file's status as the clean layer sees it on `today`: the day it began
    (a new version of a file) and the day it retired, when on or before today, and whether
    it is in force today. A new version that arrives after today plays no part yet."""
    present = status.filter(~(pl.col("superseding") & (pl.col("first_seen_on") > pl.lit(today))))
    begun = pl.when("superseding").then(pl.col("first_seen_on").cast(pl.Utf8)).otherwise(pl.lit(""))
    retired = pl.when(pl.col("retired_on") <= pl.lit(today)).then(pl.col("retired_on"))
    return present.select(
        "file_sha256",
        signature=pl.concat_str([begun, retired.cast(pl.Utf8).fill_null("")], separator="|"),
        current=retired.is_null(),
    )


@dataclass(frozen=True)
class CleanUpdate:
    """What one clean step did: rebuilt or re-derived some key groups."""

    full: bool
    rederived: int  # raw rows (and whole-file entries) cleaned again
    current_rows: int  # rows of the clean table after
    retired_rows: int  # rows of the retired table after (0 for sources without one)
    counts: pl.DataFrame  # FILE_COUNT_SCHEMA: the files in force, read = accepted + …
    files: pl.DataFrame  # the registry rows of the files in force (for the ingestion log)
    quarantine_by_reason: dict[str, int]  # of the source's quarantine after the step


def row_rules_of(
    con: duckdb.DuckDBPyConnection, source: Source, configured: RuleSet
) -> list[RowRule]:
    """The cross-field row rules of `source`: for penalty decisions, the statutory fine
    limits of the official rule sets (the `configured` one in a new warehouse: it becomes
    official when the credit layer runs)."""
    if source.name != "penalty_decisions":
        return []
    adopted = official_rules(con).adopted
    return penalty_rules(adopted or ((configured.effective_from, configured),))


def update_clean(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    contracts: Contracts,
    landing: LandingLocation,
    rules: Sequence[RowRule] = (),
    *,
    full: bool = False,
) -> CleanUpdate:
    """Bring the clean table of `source` (and its retired rows, its quarantine rows, its
    collapsed rows) up to date with every received file in force on the processing date,
    inside the caller's transaction; `rules` are the cross-field row rules
    (`models.penalty_checks` for penalty decisions).

    Incremental unless `full`, or nothing was derived here before, or the contract or the
    row rules changed:
    only the key groups of the rows that a change touches are cleaned again — rows of files
    whose status changed (new, superseded, withdrawn, reinstated), rows whose future-date
    verdict the new processing date changes, rows naming a firm or inspector whose presence
    in the directory changed — each with every other row of its key group. A key group's
    clean rows depend on nothing else (`models.row_checks`, `models.supersession`), so the
    result is the full rebuild's. A full rebuild cleans the key groups one slice at a time.
    The firms of the rows cleaned again are logged for the credit layer, and their key
    groups (or the whole table) marked for the quality gate (`warehouse.gate_state`)."""
    name = source.name
    step = f"clean:{name}"
    today = landing.processing_date
    fingerprint = contracts_fingerprint(contracts, rules)
    has_retired = name in RETIRED_SOURCES
    ensure_tables(con, ["quarantine", "raw_index", "collapsed_rows", "derived_files",
                        "derived_refs", "landing_files", "file_events"])  # fmt: skip
    con.execute(table_ddl(f"raw_{name}", raw_schema(source), replace=False))
    ensure_index(con, source, contracts)
    state = read_step(con, step)
    full = (
        full
        or state is None
        or state.fingerprint != fingerprint
        or not table_exists(con, name)
        or (has_retired and not table_exists(con, f"retired_{name}"))
        or any(r.column not in INDEXED_REFERENCES for r in source.references)
    )
    status = file_status(con, name)
    registry = query(
        con, "SELECT * EXCLUDE (run_id, archive_path) FROM landing_files WHERE source = ?", [name]
    )
    signatures = file_signatures(status, today)
    refs = _reference_keys(con, source, contracts)
    if full:
        con.execute(table_ddl(name, clean_schema(source), replace=True))
        if has_retired:
            con.execute(table_ddl(f"retired_{name}", retired_schema(source), replace=True))
        con.execute("DELETE FROM quarantine WHERE source = ?", [name])
        con.execute("DELETE FROM collapsed_rows WHERE source = ?", [name])
        mark_unvalidated(con, name, None)
        previous = pl.DataFrame(schema=schema_of("derived_files")).drop("source")
        changed = signatures["file_sha256"]
        selection = _all_rows(con, name)
    else:
        assert state is not None  # not full
        previous = query(
            con, "SELECT * EXCLUDE (source) FROM derived_files WHERE source = ?", [name]
        )
        changed = _changed_files(previous, signatures)
        selection = _affected_rows(con, source, changed, refs, state.processing_date, today)
    was_current = set(previous.filter("current")["file_sha256"].to_list())
    refused = registry.filter(pl.col("status").is_in(["rejected", "unreadable"]))
    entries = refused.filter(pl.col("sha256").is_in(changed.implode()))
    known_keys = {ref: keys for ref, (_, keys) in refs.items()}
    rederived = 0
    firms: set[str] = set()
    in_force = files_in_force(status, today)
    for i, part in enumerate(_slices(selection, full)):
        raw = _fetch(con, name, part)
        scan = entries if i == 0 else entries.clear()
        cleaned = _clean_part(raw, scan, source, contracts, landing, known_keys, status, rules)
        if not full:
            _delete_previous(con, source, contracts, raw, part, scan, was_current)
        _insert_part(con, source, raw, part, cleaned, in_force)
        if not full:  # for the quality gate, which validates what changed
            mark_unvalidated(con, name, cleaned.current.select(source.key))
        rederived += raw.height + scan.height
        if not full:  # a full rebuild logs every firm (a set of ten million texts: ~1 s)
            firms |= set(part["uscc"].drop_nulls().to_list())
    _write_snapshots(con, name, signatures, refs)
    write_step(con, step, seq=0, processing_date=today, fingerprint=fingerprint)
    if name in CREDIT_INPUTS:
        log_changes(con, clean_layer(name), None if full else firms)
    if name == "firms":  # the directory: which firms are scored on every stored date
        log_changes(con, "directory", None if full else firms)
    current = signatures.filter("current")["file_sha256"]
    files = registry.filter(pl.col("sha256").is_in(current.implode()))
    [(rows,)] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()
    retired_rows = 0
    if has_retired:
        [(retired_rows,)] = con.execute(f'SELECT count(*) FROM "retired_{name}"').fetchall()
    reasons = con.execute(
        "SELECT reason_code, count(*) FROM quarantine WHERE source = ? GROUP BY 1 ORDER BY 2 DESC",
        [name],
    ).fetchall()
    return CleanUpdate(
        full=full,
        rederived=rederived,
        current_rows=int(rows),
        retired_rows=int(retired_rows),
        counts=_file_counts(con, source, files),
        files=files,
        quarantine_by_reason={str(code): int(n) for code, n in reasons},
    )


CREDIT_INPUTS = (*RETIRED_SOURCES, "credit_cases", "firms")
"""The clean tables the credit layer reads: their changed firms are logged for it."""


def _reference_keys(
    con: duckdb.DuckDBPyConnection, source: Source, contracts: Contracts
) -> dict[str, tuple[str, pl.Series]]:
    """Per referenced source: (the referencing column, the keys its clean table holds now)."""
    refs: dict[str, tuple[str, pl.Series]] = {}
    for ref in source.references:
        key = contracts.source(ref.source).key[0]
        keys = (
            query(con, f'SELECT DISTINCT "{key}" AS k FROM "{ref.source}"')["k"]
            if table_exists(con, ref.source)
            else pl.Series("k", [], dtype=pl.Utf8)
        )
        refs[ref.source] = (ref.column, keys.cast(pl.Utf8))
    return refs


def _changed_files(previous: pl.DataFrame, signatures: pl.DataFrame) -> pl.Series:
    """Files whose status as the clean layer sees it differs from the last derivation's."""
    joined = previous.select("file_sha256", before="signature").join(
        signatures.select("file_sha256", after="signature"), on="file_sha256", how="full",
        coalesce=True,
    )  # fmt: skip
    return joined.filter(pl.col("before").ne_missing(pl.col("after")))["file_sha256"].sort()


def _all_rows(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    """Every indexed row of a source; when they are more than one slice, each with its place
    in the raw table (`_rowid`, which `_slices` follows) — an index row without a raw row is
    then left out, as the join of `_fetch` leaves it out."""
    [(count,)] = con.execute("SELECT count(*) FROM raw_index WHERE source = ?", [name]).fetchall()
    if count <= SLICE_ROWS:
        return query(
            con,
            "SELECT file_sha256, source_row, row_key, uscc FROM raw_index WHERE source = ?",
            [name],
        )
    return query(
        con,
        f"""SELECT i.file_sha256, i.source_row, i.row_key, i.uscc, r.rowid AS _rowid
            FROM raw_index i JOIN "raw_{name}" r
              ON r.file_sha256 = i.file_sha256 AND r.source_row = i.source_row
            WHERE i.source = ?""",
        [name],
    )


def _affected_rows(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    changed: pl.Series,
    refs: dict[str, tuple[str, pl.Series]],
    before: date | None,
    today: date,
) -> pl.DataFrame:
    """The rows a change touches, with every other row of their key groups."""
    conditions = ["file_sha256 IN (SELECT unnest(?::VARCHAR[]))"]
    params: list[object] = [source.name, changed.to_list()]
    if before is not None and before != today:
        low, high = sorted((before, today))
        conditions.append("(last_date > ? AND first_date <= ?)")
        params += [low, high]
    for ref, (column, keys) in refs.items():
        con.register("_keys_now", pl.DataFrame({"key": keys}))
        moved = query(
            con,
            "(SELECT key FROM _keys_now EXCEPT SELECT key FROM derived_refs "
            "WHERE source = ? AND ref = ?) UNION (SELECT key FROM derived_refs WHERE source = ? "
            "AND ref = ? EXCEPT SELECT key FROM _keys_now)",
            [source.name, ref, source.name, ref],
        )["key"]
        con.unregister("_keys_now")
        if moved.len():
            conditions.append(f'"{column}" IN (SELECT unnest(?::VARCHAR[]))')
            params.append(moved.to_list())
    return query(
        con,
        f"""WITH seed AS (
              SELECT DISTINCT row_key FROM raw_index
              WHERE source = ? AND ({" OR ".join(conditions)}))
            SELECT file_sha256, source_row, row_key, uscc FROM raw_index
            WHERE source = ? AND row_key IN (SELECT row_key FROM seed)""",
        [*params, source.name],
    )


def _slices(selection: pl.DataFrame, full: bool) -> list[pl.DataFrame]:
    """The selection in parts of whole key groups (one part unless a full rebuild is big);
    always at least one part, so whole-file entries are cleaned even without rows.

    A full rebuild's parts follow the raw table (`_rowid`): a key group belongs to the
    stretch of `SLICE_ROWS` raw rows where its first row lies, so each part is read from
    its own stretch of the table (`_fetch`) instead of a scan of all of it per part (a
    national year of inspection outcomes in ten parts: 14 s of scans → 3 s). The rare
    groups with rows beyond their stretch (a document sent again in a later file) make
    parts of their own, by hash, read like an incremental selection."""
    if not full or selection.height <= SLICE_ROWS or "_rowid" not in selection.columns:
        return [selection]
    stretch = pl.col("_rowid") // SLICE_ROWS
    slotted = selection.with_columns(
        _home=stretch.min().over("row_key"), _away=stretch.max().over("row_key")
    ).with_columns(_away=pl.col("_away") != pl.col("_home"))
    away = int(slotted["_away"].sum())
    count = max(1, -(-away // SLICE_ROWS))
    hashed = (pl.col("row_key").hash(seed=0) % count).cast(pl.Int64)
    slot = pl.when("_away").then(-1 - hashed).otherwise(pl.col("_home"))
    parts = slotted.with_columns(_slot=slot).drop("_home", "_away")
    split = parts.partition_by("_slot", as_dict=True, include_key=False)
    return [split[key] for key in sorted(split)]


def _fetch(con: duckdb.DuckDBPyConnection, name: str, part: pl.DataFrame) -> pl.DataFrame:
    """The raw rows of a part: by their place in the raw table when a full rebuild's slice
    gives it (`_slices`: the scan reads only the part's stretch of the table), else by file
    and row number."""
    if "_rowid" in part.columns and part.height:
        con.register("_part", part.select("_rowid"))
        try:
            return query(
                con,
                f'SELECT r.* FROM "raw_{name}" r JOIN _part p ON r.rowid = p._rowid '
                "WHERE r.rowid BETWEEN ? AND ?",
                [part["_rowid"].min(), part["_rowid"].max()],
            )
        finally:
            con.unregister("_part")
    con.register("_part", part.select("file_sha256", "source_row"))
    try:
        return query(
            con,
            f'SELECT r.* FROM "raw_{name}" r JOIN _part p '
            "ON r.file_sha256 = p.file_sha256 AND r.source_row = p.source_row",
        )
    finally:
        con.unregister("_part")


@dataclass(frozen=True)
class _Part:
    accepted: pl.DataFrame  # the rows of the files in force today, accepted and rejected
    quarantine: pl.DataFrame  # (not their `CleanResult`: it holds the raw rows it counts)
    current: pl.DataFrame
    retired: pl.DataFrame | None


def _clean_part(
    raw: pl.DataFrame,
    entries: pl.DataFrame,
    source: Source,
    contracts: Contracts,
    landing: LandingLocation,
    known_keys: Mapping[str, pl.Series],
    status: pl.DataFrame,
    rules: Sequence[RowRule],
) -> _Part:
    """Whole key groups cleaned as a full rebuild would: for record sources, one pass per
    period in which the files in force were the same (`models.supersession`)."""
    today = landing.processing_date

    def clean(shas: list[str]) -> CleanResult:
        """The rows of these files (and one entry per file refused whole), checked as one."""
        scan = entries.filter(pl.col("sha256").is_in(shas))
        rows = raw.filter(pl.col("file_sha256").is_in(shas))
        return clean_raw(rows, source, contracts, landing, known_keys, scan, rules)

    result = clean(files_in_force(status, today))
    if source.name not in RETIRED_SOURCES:
        return _Part(result.accepted, result.quarantine, result.accepted, None)
    periods: list[tuple[date | None, pl.DataFrame]] = []
    days = boundaries(status, today)
    for start, end in zip([None, *days], [*days, None], strict=True):
        if end is None:
            periods.append((start, result.accepted))
            continue
        periods.append((start, clean(files_in_force(status, end - timedelta(days=1))).accepted))
    current, retired = assemble(periods, source)
    retired = retired.select(list(retired_schema(source)))
    return _Part(result.accepted, result.quarantine, current, retired)


def _typed_keys(raw: pl.DataFrame, source: Source, contracts: Contracts) -> pl.DataFrame:
    present = [c for c in source.key if c in raw.columns]
    typed = typed_rows(raw.select(*RAW_META_COLUMNS, *present), source, contracts, source.key)
    return typed.select(source.key).unique()


def _delete_previous(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    contracts: Contracts,
    raw: pl.DataFrame,
    part: pl.DataFrame,
    entries: pl.DataFrame,
    was_current: set[str],
) -> None:
    """Remove what the last derivation made of these key groups: their clean and retired
    rows, the quarantine rows of their rows in the files then in force (and the entries of
    files refused whole), their collapsed rows."""
    name = source.name
    match = " AND ".join(f't."{k}" IS NOT DISTINCT FROM k."{k}"' for k in source.key)
    keys = _typed_keys(raw, source, contracts)
    if keys.height:  # no statement on the clean table otherwise: it would count as a write
        con.register("_keys", keys)  # (`warehouse.write_log`) and cost the guard its skip
        try:
            con.execute(f'DELETE FROM "{name}" t USING _keys k WHERE {match}')
            if name in RETIRED_SOURCES:
                con.execute(f'DELETE FROM "retired_{name}" t USING _keys k WHERE {match}')
        finally:
            con.unregister("_keys")
    current = sorted(was_current)
    located = pl.concat(
        [
            raw.filter(pl.col("file_sha256").is_in(current)).select(
                file="source_file", row_number="source_row"
            ),
            entries.filter(pl.col("sha256").is_in(current)).select(
                file="file", row_number=pl.lit(None, pl.Int64)
            ),
        ]
    )
    con.register("_located", located)
    con.register("_row_keys", part.select("row_key").unique())
    try:
        con.execute(
            "DELETE FROM quarantine q USING _located l WHERE q.source = ? AND q.file = l.file "
            "AND q.row_number IS NOT DISTINCT FROM l.row_number",
            [name],
        )
        con.execute(
            "DELETE FROM collapsed_rows c USING _row_keys k WHERE c.source = ? "
            "AND c.row_key = k.row_key",
            [name],
        )
    finally:
        con.unregister("_located")
        con.unregister("_row_keys")


def _insert_part(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    raw: pl.DataFrame,
    part: pl.DataFrame,
    cleaned: _Part,
    in_force: list[str],
) -> None:
    """Store what these key groups are now: clean and retired rows, the quarantine rows of
    the files in force, and their rows collapsed into an identical accepted one."""
    name = source.name
    insert(con, name, cleaned.current, clean_schema(source))
    if cleaned.retired is not None:
        insert(con, f"retired_{name}", cleaned.retired, retired_schema(source))
    quarantine = cleaned.quarantine
    insert(con, "quarantine", quarantine, QUARANTINE_SCHEMA)
    accepted = cleaned.accepted.select("source_file", "source_row")
    rejected = quarantine.select(source_file="file", source_row="row_number")
    collapsed = (
        raw.filter(pl.col("file_sha256").is_in(in_force))
        .select("file_sha256", "source_file", "source_row")
        .join(accepted, on=["source_file", "source_row"], how="anti")
        .join(rejected, on=["source_file", "source_row"], how="anti", nulls_equal=True)
        .join(part.select("file_sha256", "source_row", "row_key"), on=["file_sha256", "source_row"])
        .select(source=pl.lit(name), file="source_file", source_row="source_row", row_key="row_key")
    )
    insert(con, "collapsed_rows", collapsed, schema_of("collapsed_rows"))


def _write_snapshots(
    con: duckdb.DuckDBPyConnection,
    name: str,
    signatures: pl.DataFrame,
    refs: dict[str, tuple[str, pl.Series]],
) -> None:
    """What this derivation used: every file's status and the referenced keys."""
    con.execute("DELETE FROM derived_files WHERE source = ?", [name])
    insert(con, "derived_files", signatures.with_columns(source=pl.lit(name)),
           schema_of("derived_files"))  # fmt: skip
    for ref, (_, keys) in refs.items():
        con.register("_keys_now", pl.DataFrame({"key": keys}))
        try:
            con.execute(
                "DELETE FROM derived_refs WHERE source = ? AND ref = ? AND key NOT IN "
                "(SELECT key FROM _keys_now)",
                [name, ref],
            )
            con.execute(
                "INSERT INTO derived_refs SELECT ?, ?, key FROM _keys_now EXCEPT "
                "SELECT source, ref, key FROM derived_refs WHERE source = ? AND ref = ?",
                [name, ref, name, ref],
            )
        finally:
            con.unregister("_keys_now")


def _file_counts(
    con: duckdb.DuckDBPyConnection, source: Source, files: pl.DataFrame
) -> pl.DataFrame:
    """Per file in force (`files`: registry rows): rows read (its raw rows, or the one entry
    of a file refused whole), accepted (rows of the clean table), quarantined, collapsed,
    and cells cleaned — read from the tables, so the log conserves what was stored."""
    name = source.name
    con.register("_files", files.select("sha256", "file", "status"))
    try:
        counts = query(
            con,
            f"""WITH indexed AS (
                  SELECT file_sha256 AS sha256, count(*) AS n, count(source_row) AS numbered,
                         sum(cells_cleaned) AS cells
                  FROM raw_index WHERE source = ? GROUP BY 1),
                accepted AS (SELECT source_file AS file, count(*) AS n FROM "{name}" GROUP BY 1),
                held AS (SELECT file, count(*) AS n FROM quarantine WHERE source = ? GROUP BY 1),
                collapsed AS (
                  SELECT file, count(*) AS n FROM collapsed_rows WHERE source = ? GROUP BY 1)
            SELECT f.file AS source_file,
                   -- a file refused whole: its one entry, plus the numbered rows a
                   -- warehouse from before the archive kept of it (cleaned and quarantined
                   -- too; an unnumbered one was that time's entry)
                   CASE WHEN f.status IN ('rejected', 'unreadable')
                        THEN coalesce(i.numbered, 0) + 1 ELSE coalesce(i.n, 0) END AS rows_read,
                   coalesce(a.n, 0) AS rows_accepted,
                   coalesce(h.n, 0) AS rows_quarantined,
                   coalesce(c.n, 0) AS rows_collapsed,
                   coalesce(i.cells, 0) AS cells_cleaned
            FROM _files f
            LEFT JOIN indexed i USING (sha256)
            LEFT JOIN accepted a USING (file)
            LEFT JOIN held h USING (file)
            LEFT JOIN collapsed c USING (file)
            WHERE f.status IN ('rejected', 'unreadable') OR i.n IS NOT NULL""",
            [name, name, name],
        )
    finally:
        con.unregister("_files")
    return counts.cast(FILE_COUNT_SCHEMA).sort("source_file")


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
