"""Shared generator fixtures: one small population and one written landing folder per session."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from generator import generate, write_landing

SEED = 7


@pytest.fixture(scope="session")
def population() -> dict[str, pl.DataFrame]:
    return generate(SEED)


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The default sample (same arguments as the bundled one), written once."""
    out = tmp_path_factory.mktemp("landing")
    return out, write_landing(out)
