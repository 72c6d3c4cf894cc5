"""Backups that can be trusted: a consistent copy of the record, and bringing it back.

What belongs here: `backup` — the live warehouse file, the archive of received files, the
published rounds' files and a copy of the audit log, written under the warehouse's lock
(no run can swap the live file meanwhile; readers keep working, they only read) with a
manifest of every file's SHA-256; `restore` — after checking the manifest, the warehouse,
archive and rounds put back in place (the live file replaced in one rename). The audit log
is never rewritten by a restore: the current log stays and records the restore, because
nothing may delete from it; the backup's copy is kept for reference.

What does not: deciding when to back up (operations: cron, the README), migrations.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warehouse.staging import file_lock, live_state

MANIFEST = "manifest.json"
WAREHOUSE_COPY = "warehouse.duckdb"
ARCHIVE_COPY = "archive"
ROUNDS_COPY = "rounds"
AUDIT_COPY = "audit.jsonl"


class BackupError(RuntimeError):
    """The backup folder is not usable (exists and is not empty, or fails its manifest)."""


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    files: int
    generation: int


def backup(live: Path, archive: Path, rounds: Path, audit_log: Path, folder: Path) -> BackupReport:
    """Write a consistent copy into `folder` (new or empty)."""
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
        if archive.exists():
            shutil.copytree(archive, folder / ARCHIVE_COPY)
        if rounds.exists():
            shutil.copytree(rounds, folder / ROUNDS_COPY)
        if audit_log.exists():
            shutil.copyfile(audit_log, folder / AUDIT_COPY)
        generation = live_state(live).generation
    files = {
        p.relative_to(folder).as_posix(): _sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    manifest = {
        "created_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
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


def restore(folder: Path, live: Path, archive: Path, rounds: Path) -> dict[str, object]:
    """Put a verified backup back in place; returns its manifest."""
    manifest = verify(folder)
    with file_lock(live):
        live.parent.mkdir(parents=True, exist_ok=True)
        partial = live.with_name(f".{live.name}.restore")
        shutil.copyfile(folder / WAREHOUSE_COPY, partial)
        live.with_name(live.name + ".wal").unlink(missing_ok=True)
        if (folder / (WAREHOUSE_COPY + ".wal")).exists():
            shutil.copyfile(folder / (WAREHOUSE_COPY + ".wal"), live.with_name(live.name + ".wal"))
        partial.replace(live)
        if (folder / ARCHIVE_COPY).exists():  # content-addressed: what is there is identical
            shutil.copytree(folder / ARCHIVE_COPY, archive, dirs_exist_ok=True,
                            copy_function=_copy_missing)  # fmt: skip
        if (folder / ROUNDS_COPY).exists():
            shutil.copytree(folder / ROUNDS_COPY, rounds, dirs_exist_ok=True)
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
