"""The memory hooks: every job releases a finished step's leftovers above the threshold."""

import gc

import pytest

from pipelines.definitions import build_defs
from pipelines.memory import MEMORY_HOOKS, release_memory, resident_bytes, survivors_frozen


def test_resident_size_is_read():
    assert resident_bytes() > 10 * 2**20  # an interpreter with polars and dagster loaded


def test_below_the_threshold_nothing_is_done(monkeypatch):
    collected = []
    monkeypatch.setattr(gc, "collect", lambda *a: collected.append(1) or 0)
    assert release_memory(threshold=1 << 50) is False
    assert collected == []


def test_above_the_threshold_cycles_are_collected(monkeypatch):
    collected = []
    monkeypatch.setattr(gc, "collect", lambda *a: collected.append(1) or 0)
    assert release_memory(threshold=0, growth=0) is True
    assert collected == [1]


def test_above_the_threshold_a_process_that_did_not_grow_is_left_alone(monkeypatch):
    """A run holding its warehouse open stays above the threshold between steps: only a
    step that grew the process since the last release pays for a collection."""
    collected = []
    monkeypatch.setattr(gc, "collect", lambda *a: collected.append(1) or 0)
    assert release_memory(threshold=0, growth=0) is True
    assert release_memory(threshold=0, growth=1 << 30) is False  # has not grown by 1 GiB
    grown = resident_bytes()
    monkeypatch.setattr("pipelines.memory.resident_bytes", lambda: grown + (1 << 30))
    assert release_memory(threshold=0, growth=1 << 30) is True
    assert collected == [1, 1]


@pytest.mark.parametrize("job", ["main", "round", "risk"])
def test_every_job_carries_the_hooks(job):
    hooks = build_defs().resolve_job_def(job).hook_defs
    assert set(hooks) >= MEMORY_HOOKS


def test_within_a_run_survivors_are_frozen_and_thawed_when_it_ends():
    """Frozen, what survived a release is not walked by the next collection; thawed at the
    run's end, nothing frozen outlives the run."""
    with survivors_frozen():
        assert release_memory(threshold=0, growth=0) is True
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
