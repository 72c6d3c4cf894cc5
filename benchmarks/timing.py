"""Timing for the benchmark scripts: best of N runs, with the process's peak RSS.

Run the scripts as `python benchmarks/<name>.py`; this folder is then first on `sys.path`.
"""

from __future__ import annotations

import resource
import time


def timed(label: str, fn, *args, repeat: int = 1, **kwargs):
    """Run `fn` `repeat` times and report the best time (sub-second steps are noisy here)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    if repeat > 1:
        label = f"{label} (best of {repeat})"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"{label:48s} {best:8.2f} s   peak RSS {rss:6.2f} GB", flush=True)
    return out, best
