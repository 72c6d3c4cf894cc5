"""Shared fixtures: a fresh landing folder and warehouse per test, fixed processing date."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))  # `fixtures` importable from every test tier

from fixtures.landing import write_fixture_landing

# `make test` (and CI) draw the same examples every run, so a red build is reproducible and
# never depends on luck; `pytest --hypothesis-profile=explore` draws fresh ones on every run
# (run it after touching the scoring, draw or normalising code, as often as time allows).
# 'repeatable' seeds each test from a hash of the test itself, so pytest-randomly (which
# reseeds `random` and numpy before every test, and shuffles the order) does not change it.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")

_STARTED = pytest.StashKey[float]()


@pytest.fixture
def fixture_landing(tmp_path: Path) -> Path:
    return write_fixture_landing(tmp_path / "landing")


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow modules (whole pipeline runs, browsers) first, the rest in their usual order.

    `make test` runs one worker per core, a module per worker at a time. pytest-xdist's
    loadscope hands out modules with more tests first and keeps this order among modules of
    one size, so a one-test end-to-end module (the crash test) starts before the one-test
    unit modules instead of after them.

    pytest-randomly shuffles modules and the tests in each before this hook runs (its hook
    wraps the others); this stable sort then moves the slow ones ahead, keeping the shuffled
    order within each group, so the order is still random, still reproducible from the
    printed `--randomly-seed`, and identical on every xdist worker (same seed).
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


ARTEFACTS = Path(__file__).parents[1] / "artifacts" / "browser"
"""Screenshots of the browser tests (the bilingual walk, the offline reports)."""


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """Say where this run's screenshots are kept (when browser tests ran)."""
    started = config.stash.get(_STARTED, None)
    if started and ARTEFACTS.exists() and ARTEFACTS.stat().st_mtime >= started:
        shots = len(list(ARTEFACTS.rglob("*.png")))
        terminalreporter.write_line(f"browser screenshots ({shots}): {ARTEFACTS}")
