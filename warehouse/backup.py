"""Backups that can be trusted: a consistent copy of the record, and bringing it back.

What belongs here: `backup` — the live warehouse file, the record's folders (the archive
of received files, the published rounds' files, the listing procedure's documents, the
attachments firms filed with their cases) and a copy of the audit log, written under the
warehouse's lock (no run can swap the live file meanwhile; readers keep working, they only
read) with a manifest of every file's SHA-256; `restore` — after checking the manifest,
the warehouse and the folders put back in place (the live file replaced in one rename).
The audit log is never rewritten by a restore: the current log stays and records the
restore, because nothing may delete from it; the backup's copy is kept for reference.

What does not: deciding when to back up (operations: cron, the README), migrations.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from warehouse.archive import archive_root
from warehouse.connection import WarehouseLocation, utc_now
from warehouse.firm_cases import FILES_FOLDER, case_files_root
from warehouse.listing import DOCUMENTS as LISTING_DOCUMENTS
from warehouse.staging import file_lock, live_state

MANIFEST = "manifest.json"
WAREHOUSE_COPY = "warehouse.duckdb"
ARCHIVE_COPY = "archive"
AUDIT_COPY = "audit.jsonl"


def record_folders(warehouse: WarehouseLocation) -> dict[str, Path]:
    """The folders that are part of the record, by their name in a backup: what a run, an
    act or a firm put there is not in the warehouse file and cannot be made again."""
    return {
        ARCHIVE_COPY: archive_root(warehouse),
        "rounds": warehouse.reports / "rounds",
        LISTING_DOCUMENTS: warehouse.reports / LISTING_DOCUMENTS,
        FILES_FOLDER: case_files_root(warehouse),
    }


class BackupError(RuntimeError):
    """The backup folder is not usable (exists and is not empty, or fails its manifest)."""


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    files: int
    generation: int


def backup(live: Path, folders: Mapping[str, Path], audit_log: Path, folder: Path) -> BackupReport:
    """Write a consistent copy into `folder` (new or empty): the live file and each of
    `folders` (name → where it lives; `archive` is the content-addressed archive)."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"备份目录 {folder} 不是空目录 / backup folder {folder} is not empty")
    if not live.exists():
        raise BackupError(f"{live} 不存在 / {live} does not exist")
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(live):
        shutil.copyfile(live, folder / WAREHOUSE_COPY)
        wal = live.with_name(live.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, folder / (WAREHOUSE_COPY + ".wal"))
        for name, source in folders.items():
            if source.exists():
                shutil.copytree(source, folder / name)
        if audit_log.exists():
            shutil.copyfile(audit_log, folder / AUDIT_COPY)
        generation = live_state(live).generation
    files = {
        p.relative_to(folder).as_posix(): _sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    manifest = {
        "created_at": utc_now().isoformat(timespec="seconds"),
        "warehouse": str(live),
        "generation": generation,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    return BackupReport(folder, len(files), generation)


def verify(folder: Path) -> dict[str, object]:
    """The manifest, after checking that every file it lists is present and unchanged."""
    path = folder / MANIFEST
    if not path.exists():
        raise BackupError(f"{folder} 不是备份（无 {MANIFEST}）/ {folder} is not a backup")
    manifest: dict[str, object] = json.loads(path.read_text("utf-8"))
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BackupError(f"{path} 格式不正确 / {path} is not a backup manifest")
    for name, digest in files.items():
        file = folder / name
        if not file.exists() or _sha256(file) != digest:
            raise BackupError(
                f"备份文件 {name} 缺失或已改变 / backup file {name} is missing or changed"
            )
    return manifest


def restore(folder: Path, live: Path, folders: Mapping[str, Path]) -> dict[str, object]:
    """Put a verified backup back in place (the live file and each of `folders` the backup
    holds); returns its manifest."""
    manifest = verify(folder)
    with file_lock(live):
        live.parent.mkdir(parents=True, exist_ok=True)
        partial = live.with_name(f".{live.name}.restore")
        shutil.copyfile(folder / WAREHOUSE_COPY, partial)
        live.with_name(live.name + ".wal").unlink(missing_ok=True)
        if (folder / (WAREHOUSE_COPY + ".wal")).exists():
            shutil.copyfile(folder / (WAREHOUSE_COPY + ".wal"), live.with_name(live.name + ".wal"))
        partial.replace(live)
        for name, target in folders.items():
            if not (folder / name).exists():
                continue
            # the archive is content-addressed: what is there already is identical
            copy = _copy_missing if name == ARCHIVE_COPY else shutil.copy2
            shutil.copytree(folder / name, target, dirs_exist_ok=True, copy_function=copy)
    return manifest


def _copy_missing(source: str, target: str) -> str:
    if not Path(target).exists():
        shutil.copy2(source, target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
