"""Shared fixtures: a fresh landing folder and warehouse per test, fixed processing date."""

from __future__ import annotations

import json
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


MODULE_SECONDS = Path(__file__).parent / "module_seconds.json"
"""Seconds each test module took (setup, calls and teardown added up) in a full `make test`
on two cores: the order in which the workers are handed the modules. Refreshed with
`--store-module-seconds` (the modules a run covered; the others keep their figures)."""
UNKNOWN_SLOW, UNKNOWN = 30.0, 1.0
"""What a module not listed yet is taken to cost: `slow` ones (whole runs, browsers) tens of
seconds, the others a second."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store-module-seconds",
        action="store_true",
        help=f"write the modules' durations of this run to {MODULE_SECONDS.name}",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest modules first (by `MODULE_SECONDS`), the rest in their usual order.

    `make test` runs one worker per core, a module per worker at a time (`--dist loadscope`,
    with `--no-loadscope-reorder` so that pytest-xdist hands the modules out in this order).
    Longest first, each worker taking the next module when it is nearly done, keeps the two
    busy to the end: a long module handed out last would leave the other worker idle for
    minutes (the crash test alone takes three).

    pytest-randomly shuffles modules and the tests in each before this hook runs (its hook
    wraps the others); this stable sort then moves the long ones ahead, keeping the shuffled
    order among modules of equal weight (those not listed) and within each module, so the
    order is still random, still reproducible from the printed `--randomly-seed`, and
    identical on every xdist worker (same seed).
    """
    known = json.loads(MODULE_SECONDS.read_text()) if MODULE_SECONDS.exists() else {}

    def seconds(item: pytest.Item) -> float:
        module = item.nodeid.split("::")[0]
        if module in known:
            return float(known[module])
        return UNKNOWN_SLOW if item.get_closest_marker("slow") else UNKNOWN

    items.sort(key=lambda item: -seconds(item))


_MODULE_TOTALS: dict[str, float] = {}
"""This run's seconds by module (setup, call and teardown of each test added up)."""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up each module's seconds; under xdist the workers' reports reach the controller
    here too, and only the controller writes the file."""
    module = report.nodeid.split("::")[0]
    _MODULE_TOTALS[module] = _MODULE_TOTALS.get(module, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if not config.getoption("--store-module-seconds") or hasattr(config, "workerinput"):
        return
    known = json.loads(MODULE_SECONDS.read_text()) if MODULE_SECONDS.exists() else {}
    known.update({module: round(total, 1) for module, total in _MODULE_TOTALS.items()})
    ordered = dict(sorted(known.items(), key=lambda kv: (-kv[1], kv[0])))
    MODULE_SECONDS.write_text(json.dumps(ordered, indent=1, ensure_ascii=False) + "\n")


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
