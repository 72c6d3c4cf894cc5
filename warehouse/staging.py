"""Write, audit, publish: a run writes a staging copy of the warehouse and makes it live at once.

What belongs here: making a run's staging copy of the live file (`begin`), checking at the end
that nobody changed the live file meanwhile (its `generation`), and swapping the staging copy
in with one atomic rename (`publish`); throwing away the copies of runs that died; and the
warehouse's state row (schema version, generation, last publication).

Why a whole-file swap: readers (dashboards, exports) only ever open the live file, so they
never see a half-written run or a mix of two runs; a run that fails anywhere — a blocking
check, a crash, `kill -9` at any point including during the swap — leaves the live file
byte for byte as it was, because it was never opened for writing. Acts outside runs (a
withdrawal, a rule adoption) write the live file in one transaction and bump its
generation, so a run that started before them refuses to publish over them.

Why a spare: copying a national file (~3 GB) was the largest single cost of a day's run
(3–7 s, most of it the kernel writing 3 GB back to disk), while a day changes ~5 % of its
blocks. The state a publication replaces is kept beside the live file (`spare_path`), and
the next run's copy is that spare with the blocks that differ from the live file written
over (`_refresh_spare`): every block is compared, so the copy is byte for byte the live
file whatever the spare held. It is used only when it is certainly nobody else's file: a
regular file (no symbolic link is followed), no other name for it (not the live file
itself after a crash between the two renames), and no reader holding it open.

What does not: deciding whether a run's results may be published (the guards in
`warehouse.guards`), Dagster (the `published_warehouse` asset calls `publish`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse import write_log
from warehouse.connection import duckdb_config, utc_now
from warehouse.tables import ensure_tables

STAGING_MARK = ".staging-"
SCHEMA_VERSION = 7
"""The warehouse layout this release writes (see `warehouse.migrations`)."""


class StagingError(RuntimeError):
    """The run's results cannot be made live (the live file changed, or the copy is gone)."""


@dataclass(frozen=True)
class State:
    schema_version: int
    generation: int
    published_at: datetime | None
    published_run_id: str | None


def staging_path(live: Path, run_id: str) -> Path:
    return live.with_name(f".{live.name}{STAGING_MARK}{run_id}")


def spare_path(live: Path) -> Path:
    """The state the last publication replaced: the next run's copy starts from it."""
    return live.with_name(f".{live.name}.spare")


def published_marker(staging: Path) -> Path:
    """Left behind when a staging copy became live, so the run's later steps read live."""
    return staging.with_name(staging.name + ".published")


@contextmanager
def file_lock(live: Path) -> Iterator[None]:
    """An exclusive lock beside the warehouse, held while a copy is made or swapped in."""
    live.parent.mkdir(parents=True, exist_ok=True)
    with live.with_name(f".{live.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), config=duckdb_config())


def _checkpoint(live: Path, retries: int = 50) -> None:
    """Fold the live file's WAL in (a write connection: retried while readers hold it).
    Only needed after an act's transaction left a WAL behind; a published file has none."""
    for attempt in range(retries + 1):
        try:
            con = _connect(live)
        except duckdb.IOException:
            if attempt == retries:
                raise
            time.sleep(0.1 * (attempt + 1))
            continue
        try:
            con.execute("FORCE CHECKPOINT")
        finally:
            con.close()
        return


def read_state(con: duckdb.DuckDBPyConnection) -> State:
    """The state row; a warehouse without one is at generation 0 of schema version 1."""
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'warehouse_state'"
    ).fetchall()
    if not rows[0][0]:
        return State(1, 0, None, None)
    found = con.execute(
        "SELECT schema_version, generation, published_at, published_run_id FROM warehouse_state"
    ).fetchall()
    if not found:
        return State(1, 0, None, None)
    version, generation, published_at, run_id = found[0]
    return State(int(version), int(generation), published_at, run_id)


def bump_generation(
    con: duckdb.DuckDBPyConnection, *, run_id: str | None = None, published: bool = False
) -> int:
    """Within the caller's transaction: one more change of the live state; returns it."""
    ensure_tables(con, ["warehouse_state"])
    state = read_state(con)
    generation = state.generation + 1
    now = utc_now()
    con.execute("DELETE FROM warehouse_state")
    con.execute(
        "INSERT INTO warehouse_state VALUES (?, ?, ?, ?)",
        [
            SCHEMA_VERSION,
            generation,
            now if published else state.published_at,
            run_id if published else state.published_run_id,
        ],
    )
    return generation


def live_state(live: Path) -> State:
    if not live.exists():
        return State(SCHEMA_VERSION, 0, None, None)
    con = duckdb.connect(str(live), read_only=True)
    try:
        return read_state(con)
    finally:
        con.close()


def begin(live: Path, run_id: str) -> tuple[Path, bool]:
    """The run's staging copy of `live` (made once per run); True when made by this call.

    The live file is checkpointed first (its committed WAL folded in), so the copy is the
    whole committed state. A new warehouse starts from an empty staging file.
    """
    staging = staging_path(live, run_id)
    with file_lock(live):
        if staging.exists() or published_marker(staging).exists():
            return staging, False
        if live.exists():
            if live.with_name(live.name + ".wal").exists():  # fold committed changes in
                _checkpoint(live)
            partial = staging.with_name(staging.name + ".partial")
            spare = spare_path(live)
            if _refresh_spare(live, spare):
                spare.replace(partial)
            else:
                shutil.copyfile(live, partial)
            partial.replace(staging)
        else:
            _connect(staging).close()
        con = _connect(staging)
        try:
            ensure_tables(con, ["warehouse_state"])
            if not con.execute("SELECT count(*) FROM warehouse_state").fetchall()[0][0]:
                con.execute(
                    "INSERT INTO warehouse_state VALUES (?, 0, NULL, NULL)", [SCHEMA_VERSION]
                )
            base = read_state(con).generation
            con.execute("CREATE OR REPLACE TABLE _staging_base AS SELECT ? AS generation", [base])
            write_log.install(con)  # the run's writes to clean tables logged from here on
        finally:
            con.close()
    return staging, True


def publish(live: Path, staging: Path, run_id: str) -> int:
    """Make the staging copy live (one rename); returns the new generation.

    Refused when the live file changed since the copy was made (an act in between): the
    run's results would silently undo it. The caller runs the guards before this.
    """
    with file_lock(live):
        if not staging.exists():
            raise StagingError(f"运行 {run_id} 的暂存副本不存在 / staging copy {staging} is gone")
        con = _connect(staging)
        try:
            base = con.execute("SELECT generation FROM _staging_base").fetchall()[0][0]
            current = live_state(live).generation
            if live.exists() and current != base:
                raise StagingError(
                    f"运行期间正式库已被修改（第 {base} → {current} 版），请重新运行 / the live "
                    f"warehouse changed during the run (generation {base} → {current}); run again"
                )
            con.execute("BEGIN TRANSACTION")
            con.execute("DROP TABLE _staging_base")
            generation = bump_generation(con, run_id=run_id, published=True)
            con.execute("COMMIT")
            con.execute("FORCE CHECKPOINT")
        finally:
            con.close()
        if live.with_name(live.name + ".wal").exists():
            raise StagingError(f"{live}.wal exists: the live file was written during the run")
        _failpoint("publish")
        _fsync(staging)
        _keep_spare(live)
        _failpoint("spare")  # the spare is a second name of the live file until the swap
        staging.replace(live)
        _fsync(live.parent)
        published_marker(staging).touch()
    return generation


def _keep_spare(live: Path) -> None:
    """Before the swap: a second name for the state being replaced, the next run's spare.
    Without hard links (some file systems) there is no spare and the next copy is whole."""
    if not live.exists():
        return
    spare = spare_path(live)
    link = spare.with_name(spare.name + ".link")
    try:
        link.unlink(missing_ok=True)
        os.link(live, link)
        link.replace(spare)
    except OSError:
        with suppress(OSError):
            link.unlink(missing_ok=True)


BLOCK_BYTES = 256 * 1024
"""DuckDB's block size: the unit in which a run changes the file."""


def _refresh_spare(live: Path, spare: Path) -> bool:
    """Make `spare` byte for byte the live file by writing only the blocks that differ;
    False (nothing written) when the spare is absent or may be somebody else's file."""
    try:
        fd = os.open(spare, os.O_RDWR | os.O_NOFOLLOW)
    except OSError:  # absent, or a symbolic link
        return False
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode) or found.st_nlink != 1:
            return False  # another name for it: the live file itself, or a planted link
        try:  # DuckDB holds a lock on every file it has open (shared for readers)
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a reader still has the replaced state open: leave it be
        with live.open("rb", buffering=0) as source:
            size = os.fstat(source.fileno()).st_size
            offset = 0
            while offset < size:
                block = source.read(BLOCK_BYTES)
                if not block:
                    break
                if os.pread(fd, len(block), offset) != block:
                    written = 0
                    while written < len(block):
                        written += os.pwrite(fd, block[written:], offset + written)
                offset += len(block)
        os.ftruncate(fd, offset)
        return True
    finally:
        os.close(fd)  # and its lock


def discard(staging: Path) -> None:
    """Remove a run's staging copy, its WAL and its published marker. The copy of a run that
    was not published becomes the next run's spare when there is none (its blocks are
    mostly the live file's: a run refused by a guard and run again copies little)."""
    live = _live_of(staging)
    with file_lock(live) if live is not None else nullcontext():
        spare = spare_path(live) if live is not None else None
        if spare is not None and not spare.exists() and staging.is_file():
            with suppress(OSError):  # `is_file` follows links: a link is only ever deleted
                if not staging.is_symlink():
                    staging.replace(spare)
        for path in (staging, staging.with_name(staging.name + ".wal"), published_marker(staging)):
            path.unlink(missing_ok=True)  # the copy itself is gone when it became the spare


def _live_of(staging: Path) -> Path | None:
    """The live file a staging copy (`.<name>.staging-<run id>`) was made of."""
    name = staging.name
    if not name.startswith(".") or STAGING_MARK not in name:
        return None
    return staging.with_name(name[1:].split(STAGING_MARK)[0])


def stale_copies(live: Path, alive: set[str]) -> list[Path]:
    """Staging copies (and markers) of runs not in `alive` (their run ids)."""
    pattern = f".{live.name}{STAGING_MARK}*"
    stale = []
    for path in live.parent.glob(pattern):
        run_id = path.name.removeprefix(f".{live.name}{STAGING_MARK}").split(".")[0]
        if run_id not in alive:
            stale.append(path)
    return stale


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _failpoint(where: str) -> None:
    """Crash-safety test hook, inert unless `RENFANG_FAILPOINT_AT=<where>` and a marker path
    are set: stop right before the swap and wait to be killed."""
    if os.environ.get("RENFANG_FAILPOINT_AT") != where:
        return
    marker = os.environ.get("RENFANG_FAILPOINT_MARKER")
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(600)


STALE_AFTER_HOURS = 12
"""A staging copy older than this without a publication is a dead run's, not an update."""


def update_in_progress(live: Path) -> bool:
    """Whether a run is writing a new state of `live` (a fresh staging copy not yet made
    live): readers keep the last published state meanwhile, and may say so."""
    now = datetime.now(UTC).timestamp()
    for path in live.parent.glob(f".{live.name}{STAGING_MARK}*"):
        if path.name.endswith((".published", ".partial", ".wal")):
            continue
        if published_marker(path).exists():
            continue
        if now - path.stat().st_mtime < STALE_AFTER_HOURS * 3600:
            return True
    return False
