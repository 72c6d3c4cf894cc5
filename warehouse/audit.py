"""The audit log (操作日志): an append-only, hash-chained record of every official act.

What belongs here: appending one entry per act — runs (started, published, failed), file
withdrawals, rule-set adoptions, scenarios, round publications, exports, backups, every step
of a 严重失信 listing case, what the penalty feed published, took down or withdrew — with the
time, the acting user (the OS user for the CLI, the signed-in user in the dashboards) and
what changed; reading it back; and checking its chain.

Why a file beside the warehouse rather than a table in it: a failed run must leave the live
warehouse byte for byte as it was, yet the failure must be recorded. The log is a JSON-lines
file (`<warehouse>.audit.jsonl`) opened in append mode only; each entry carries the SHA-256
of the previous line, so removing or editing any entry breaks the chain, which
`verify_chain` reports (the data-quality page shows it). Nothing in the product deletes
from it; backups copy it whole. DuckDB reads it directly (`read_json`) for the dashboards.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from warehouse.connection import utc_now

GENESIS = "0" * 64
"""The `previous` of the first entry."""

ACTIONS = (
    "run_started",
    "run_published",
    "run_failed",
    "run_refused",
    "withdrawal",
    "rule_adoption",
    "scenario",
    "score",
    "round_published",
    "export",
    "backup",
    "restore",
    "migration",
    "conflict_resolution",
    "listing",
    "penalty_feed",
    "credit_report",
    "firm_account",
    "firm_case",
)
"""Every kind of act the log records (an unknown action is a programming error)."""


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    intact: bool
    broken_at: int | None  # 1-based line of the first entry whose `previous` does not match


def audit_path(warehouse_file: Path) -> Path:
    """`warehouse.duckdb` → `warehouse.audit.jsonl`, beside it."""
    return warehouse_file.with_name(f"{warehouse_file.stem}.audit.jsonl")


def acting_user() -> str:
    """Who acts from this process: `$RENFANG_ACTOR` (set by the dashboards for the signed-in
    user), else the OS user."""
    return os.environ.get("RENFANG_ACTOR") or getpass.getuser()


def append(
    log: Path,
    action: str,
    detail: Mapping[str, Any],
    *,
    actor: str | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Append one entry (under an exclusive lock, so concurrent writers keep the chain)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            last = next(_lines_backwards(handle), None)  # not the whole log: years of it
            previous = _line_hash(last) if last is not None else GENESIS
            entry = {
                "seq": _next_seq(handle, last),
                "at": utc_now().isoformat(timespec="seconds"),
                "actor": actor or acting_user(),
                "action": action,
                "run_id": run_id,
                "detail": dict(detail),
                "previous": previous,
            }
            line = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str)
            handle.write(line.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


def last(log: Path, action: str) -> dict[str, Any] | None:
    """The latest entry of `action` (None if there is none), read from the end of the log:
    a log of years is not read whole to find yesterday's entry."""
    if not log.exists():
        return None
    marker = json.dumps({"action": action}, ensure_ascii=False)[1:-1]
    with log.open("rb") as handle:
        for line in _lines_backwards(handle):
            if marker in line:
                entry: dict[str, Any] = json.loads(line)
                if entry.get("action") == action:
                    return entry
    return None


def _lines_backwards(raw: BinaryIO, chunk: int = 1 << 16) -> Iterator[str]:
    """The non-empty lines of an open binary file, last first, read in chunks from its end
    (the file position is left at the end)."""
    end = raw.seek(0, os.SEEK_END)
    tail = b""
    while end > 0:
        start = max(0, end - chunk)
        raw.seek(start)
        lines = (raw.read(end - start) + tail).split(b"\n")
        end = start
        tail = lines.pop(0) if end > 0 else b""  # may be cut: completed by the next chunk
        for line in reversed(lines):
            if line.strip():
                yield line.decode("utf-8")
    raw.seek(0, os.SEEK_END)


def _next_seq(raw: BinaryIO, last_line: str | None) -> int:
    """One more than the last entry's `seq`; a last line that is not an entry (a damaged
    log, which `verify_chain` reports) numbers by counting lines, as before."""
    if last_line is None:
        return 1
    try:
        return int(json.loads(last_line)["seq"]) + 1
    except (ValueError, KeyError, TypeError):
        raw.seek(0)
        count = sum(1 for line in raw if line.strip())
        raw.seek(0, os.SEEK_END)
        return count + 1


def read(log: Path) -> list[dict[str, Any]]:
    """Every entry, oldest first (an absent log has none)."""
    if not log.exists():
        return []
    return [json.loads(line) for line in _lines(log)]


def verify_chain(log: Path) -> ChainCheck:
    """Whether every entry names the hash of the line before it."""
    if not log.exists():
        return ChainCheck(0, True, None)
    lines = _lines(log)
    previous = GENESIS
    for number, line in enumerate(lines, 1):
        try:
            stated = json.loads(line).get("previous")
        except json.JSONDecodeError:
            return ChainCheck(len(lines), False, number)
        if stated != previous:
            return ChainCheck(len(lines), False, number)
        previous = _line_hash(line)
    return ChainCheck(len(lines), True, None)


def _lines(log: Path) -> list[str]:
    """The log's entries as written: one per `\n` (JSON escapes every control character, but
    not U+2028 and its kind, which `str.splitlines` would also cut at)."""
    return [line for line in log.read_text(encoding="utf-8").split("\n") if line.strip()]


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()
