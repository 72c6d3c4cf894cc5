"""`renfang backtest` on the bundled sample's own export files (Chinese headers, XLSX, GBK)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from warehouse.connection import DEFAULT_LANDING

pytestmark = pytest.mark.slow


def test_backtest_reads_the_sample_exports_and_derives_credit_tiers(tmp_path):
    landing = DEFAULT_LANDING
    args = [
        "backtest",
        "--inspections", str(landing / "inspection_outcomes"),
        "--firms", str(landing / "firms"),
        "--penalties", str(landing / "penalty_decisions"),
        "--cutoff", "2024-12-31", "--horizon", "365", "--out", str(tmp_path),
    ]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    summary = json.loads((tmp_path / "backtest.json").read_text(encoding="utf-8"))
    assert summary["tier_source"] == "credit"  # tiers from the penalties by the rule set
    assert summary["evaluated_entities"] > 100
    rates = {row["tier"]: row["failure_rate"] for row in summary["tiers"]}
    assert rates["C"] > rates["B"]  # worse tiers fail more often
    draw = {row["strategy"]: row["hit_rate"] for row in summary["draw"]}
    assert draw["tier_driven"] > draw["uniform"]
    assert summary["metrics"]["tier_only"]["auc"] > 0.5
