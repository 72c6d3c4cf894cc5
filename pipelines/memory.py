"""Memory between steps: every step starts on what the last one released, not on its rest.

What belongs here: the job hooks that, after each step (success or failure), collect
reference cycles and hand freed heap pages back to the system when the process holds more
than `RELEASE_ABOVE_BYTES` and grew by `RELEASE_GROWTH_BYTES` since the last release. All
steps of a run share one process: measured at 100k firms, the frames of a clean step kept
alive by reference cycles (~1 GB) and the pages glibc kept after a pandas validation (~1 GB)
meant each later step started gigabytes higher, and the run's peak was a sum of leftovers
rather than the hungriest step. Below the threshold nothing is done, so small runs (the
sample, the tests) pay nothing. Within a run, what survives a collection is frozen until the
run ends (`survivors_frozen`), so later collections walk only what the steps made since.

What does not: freeing anything a step still uses (steps hold no state between them), or
the allocators' own tuning.
"""

from __future__ import annotations

import ctypes
import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import dagster as dg

from warehouse.connection import holding

RELEASE_ABOVE_BYTES = 2 << 30
"""Resident size above which a finished step's leftovers are released (2 GiB: a collection
costs ~70 ms at national scale, so the many small steps of a day that end below it pay
nothing, while the full rebuild's big steps are cleaned up after)."""


def resident_bytes() -> int:
    """This process's resident set size (0 where /proc is not available)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None on a system without it (musl, macOS)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


RELEASE_GROWTH_BYTES = 512 << 20
"""…and, while a run holds its warehouse open, has grown by this much since the last release
(512 MiB). Such a process stays above the threshold for good — it keeps DuckDB's cache
between steps (`warehouse.connection.one_instance_per_run`) — and collecting after every step
cost more than the steps' own work (a national day: 4 s of ~60 s in `gc.collect`), while a
step that leaves real leftovers behind still grows the process by far more than this.
Measured again once survivors were frozen (collections cheap): without the rule a national
day took 49.5 / 56.6 s against 47.4 / 45.9 s with it (identical copies, alternated), as
a release after every step still costs more than it saves — so the rule stays."""

_after_last_release = 0
"""Resident size right after the last release (lowered when the process shrinks)."""

_freezing = False


@contextmanager
def survivors_frozen() -> Iterator[None]:
    """While a run executes in this process: what survives a release's collection is frozen
    (`gc.freeze`), so the next collection walks only what the steps made since, not again
    the ~450k objects of Dagster, GX, polars and the run's own context (0.07–0.27 s a
    collection, up to ~20 collections a national day and one after every big step of a full
    rebuild). Unfrozen when the run ends, so nothing frozen outlives it: what the run
    leaves as garbage is collected as usual afterwards."""
    global _freezing
    before = _freezing
    _freezing = True
    try:
        yield
    finally:
        _freezing = before
        if not before:
            gc.unfreeze()


def release_memory(threshold: int = RELEASE_ABOVE_BYTES, growth: int | None = None) -> bool:
    """Collect cycles and trim the heap if the process holds more than `threshold` and grew
    by at least `growth` since the last release (default: `RELEASE_GROWTH_BYTES` while a run
    holds its warehouse open, else 0); returns whether it did."""
    global _after_last_release
    if growth is None:
        growth = RELEASE_GROWTH_BYTES if holding() else 0
    resident = resident_bytes()
    _after_last_release = min(_after_last_release, resident)
    if resident <= threshold or resident - _after_last_release < growth:
        return False
    gc.collect()
    if _freezing:
        gc.freeze()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    _after_last_release = resident_bytes()
    return True


@dg.success_hook(name="release_memory_after_success")
def _after_success(context: dg.HookContext) -> None:
    release_memory()


@dg.failure_hook(name="release_memory_after_failure")
def _after_failure(context: dg.HookContext) -> None:
    release_memory()


MEMORY_HOOKS = {_after_success, _after_failure}
"""Hooks for every job: each step's leftovers released before the next one starts."""
