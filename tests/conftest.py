"""Shared fixtures: a fresh landing folder and warehouse per test, fixed processing date."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `fixtures` importable from every test tier

from fixtures.landing import write_fixture_landing


@pytest.fixture
def fixture_landing(tmp_path: Path) -> Path:
    return write_fixture_landing(tmp_path / "landing")


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"
