"""The archive of received documents: every landing file kept by content, and its status.

What belongs here: where the archive is (`$RENFANG_ARCHIVE`, else `archive/` beside the
warehouse), storing a file's bytes under its SHA-256 (write once, read only), the registry
rows that say when each content arrived and how it was read, the content last seen at each
landing path, the dated events that end a file's force (a new version at its path, a
withdrawal) and, from them, each file's status on a date.

Why: the warehouse, not the landing folder, is the record. Clean tables are rebuilt from what
was received, so a file that leaves the folder changes nothing, and a file that changes under
the same path supersedes its earlier version only from the day the change was seen.
What does not: reading a file's rows (`warehouse.landing`), the row-level rule of what a
retirement means (`models.supersession`).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from models.supersession import FILE_STATUS_SCHEMA
from warehouse.catalogue import schema_of
from warehouse.connection import WarehouseLocation, query, resolve_path
from warehouse.tables import append, ensure_tables

EVENTS = ("superseded", "withdrawn", "reinstated")


class ArchiveError(ValueError):
    """A file or hash names nothing received (the message says what was looked for)."""


@dataclass(frozen=True)
class FileEvent:
    source: str
    sha256: str
    event: str
    effective_on: date
    recorded_at: datetime
    actor: str
    reason: str
    replaced_by: str | None = None
    file: str | None = None
    run_id: str | None = None


def archive_root(warehouse: WarehouseLocation) -> Path:
    return resolve_path(None, "RENFANG_ARCHIVE", warehouse.live_file.parent / "archive")


def store(root: Path, source: str, sha256: str, path: Path) -> str:
    """Keep the file at `path` under its hash (idempotent, copied in chunks); returns its
    path relative to the archive."""
    relative = Path(source) / sha256[:2] / f"{sha256}{path.suffix.lower()}"
    target = root / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(path, partial)
        partial.chmod(0o444)
        partial.replace(target)
    return relative.as_posix()


def sha256_of(path: Path) -> str:
    """A file's SHA-256, read in chunks (never held whole in memory)."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def ensure_archive_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_tables(con, ["landing_files", "landing_paths", "file_events", "landing_scan"])


def record_event(con: duckdb.DuckDBPyConnection, event: FileEvent) -> None:
    if event.event not in EVENTS:
        raise ValueError(f"unknown file event {event.event!r}")
    ensure_archive_tables(con)
    schema = schema_of("file_events")
    append(con, "file_events", pl.DataFrame([event.__dict__], schema=schema), schema)


def file_status(con: duckdb.DuckDBPyConnection, source: str) -> pl.DataFrame:
    """Every received file of `source` with `FILE_STATUS_SCHEMA`: since when it is retired
    (its latest event is `superseded` or `withdrawn`; null when in force or reinstated),
    whether it superseded an earlier version, and the day it first arrived."""
    ensure_archive_tables(con)
    frame = query(
        con,
        """WITH latest AS (
              SELECT sha256, arg_max(event, recorded_at) AS event,
                     arg_max(effective_on, recorded_at) AS effective_on
              FROM file_events WHERE source = ? GROUP BY sha256),
            superseding AS (
              SELECT DISTINCT replaced_by AS sha256 FROM file_events
              WHERE source = ? AND event = 'superseded' AND replaced_by IS NOT NULL)
        SELECT f.sha256 AS file_sha256,
               CASE WHEN l.event IN ('superseded', 'withdrawn') THEN l.effective_on END
                 AS retired_on,
               s.sha256 IS NOT NULL AS superseding,
               CAST(f.first_seen_at AS DATE) AS first_seen_on
        FROM landing_files f
        LEFT JOIN latest l USING (sha256)
        LEFT JOIN superseding s USING (sha256)
        WHERE f.source = ?""",
        [source, source, source],
    )
    return (
        frame.cast(FILE_STATUS_SCHEMA) if frame.height else pl.DataFrame(schema=FILE_STATUS_SCHEMA)
    )


def resolve_received(con: duckdb.DuckDBPyConnection, target: str) -> tuple[str, str, str]:
    """(source, sha256, first path) of a received file named by a path to a copy of it or
    by its hash (or a unique prefix of at least 8 hexadecimal characters)."""
    ensure_archive_tables(con)
    path = Path(target)
    if path.is_file():
        sha = sha256_of(path)
        rows = con.execute(
            "SELECT source, sha256, file FROM landing_files WHERE sha256 = ?", [sha]
        ).fetchall()
    else:
        text = target.strip().lower()
        if len(text) < 8 or any(c not in "0123456789abcdef" for c in text):
            raise ArchiveError(
                f"“{target}”既不是文件也不是 SHA-256 / {target!r} is neither a file nor a SHA-256 "
                "(or a prefix of at least 8 hexadecimal characters)"
            )
        rows = con.execute(
            "SELECT source, sha256, file FROM landing_files WHERE sha256 LIKE ? || '%'", [text]
        ).fetchall()
    if not rows:
        raise ArchiveError(f"未收到过该文件 / no received file matches {target!r}")
    if len(rows) > 1:
        raise ArchiveError(f"“{target}”对应多个文件 / {target!r} matches {len(rows)} files")
    source, sha, file = rows[0]
    return str(source), str(sha), str(file)
