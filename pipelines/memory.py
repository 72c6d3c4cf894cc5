"""Memory between steps: every step starts on what the last one released, not on its rest.

What belongs here: the job hooks that, after each step (success or failure), collect
reference cycles and hand freed heap pages back to the system when the process holds more
than `RELEASE_ABOVE_BYTES`. All steps of a run share one process: measured at 100k firms,
the frames of a clean step kept alive by reference cycles (~1 GB) and the pages glibc kept
after a pandas validation (~1 GB) meant each later step started gigabytes higher, and the
run's peak was a sum of leftovers rather than the hungriest step. Below the threshold
nothing is done, so small runs (the sample, the tests) pay nothing.

What does not: freeing anything a step still uses (steps hold no state between them), or
the allocators' own tuning.
"""

from __future__ import annotations

import ctypes
import gc
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import dagster as dg

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


def release_memory(threshold: int = RELEASE_ABOVE_BYTES) -> bool:
    """Collect cycles and trim the heap if the process holds more than `threshold`; returns
    whether it did."""
    if resident_bytes() <= threshold:
        return False
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    return True


@dg.success_hook(name="release_memory_after_success")
def _after_success(context: dg.HookContext) -> None:
    release_memory()


@dg.failure_hook(name="release_memory_after_failure")
def _after_failure(context: dg.HookContext) -> None:
    release_memory()


MEMORY_HOOKS = {_after_success, _after_failure}
"""Hooks for every job: each step's leftovers released before the next one starts."""
