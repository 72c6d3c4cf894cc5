"""What the backtest benchmarks share: run the backtest (timed), print its summary — every
scorer's AUC overall and within inspector, lifts, each model's AUC minus the history-only
baseline with its paired bootstrap interval, the candidates' held-out figures — then whether
the failure rate rises A → D and each target met or missed by how much. Asserts nothing.

The benchmark scripts (`backtest_wake.py`, `backtest_syracuse.py`, `backtest_generated.py`)
import it; `python benchmarks/<script>.py` puts this folder first on `sys.path`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path

from timing import timed

from models.risk.backtest import BacktestReport, Unit, run_backtest
from models.risk.config import RiskConfig
from models.risk.history import History
from models.rules import default_rule_set
from models.sampling.params import default_round_params
from warehouse.backtest_inputs import FirmColumns, InspectionColumns, read_history
from warehouse.connection import PROJECT_ROOT
from warehouse.risk_report import summary_text, write_report

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
"""The public evaluation datasets, read in place (never copied into the repository)."""
LOCAL_DATA = PROJECT_ROOT / "data"
"""Where the reports go (git-ignored)."""


@dataclass(frozen=True)
class Target:
    """A figure of the report (scorer, metric, scope) and the least it should be; `above`
    names another scorer whose figure it must not fall below instead of a number."""

    label: str
    scorer: str
    metric: str
    least: float | None = None
    scope: str = "overall"
    above: str | None = None


FIRM_RISK_NOT_BELOW_HISTORY = (
    Target("firm risk AUC ≥ history only", "firm_risk", "auc", above="history_only"),
    Target(
        "firm risk AUC within inspector ≥ history only",
        "firm_risk",
        "auc",
        scope="within_inspector",
        above="history_only",
    ),
)
"""The issue's floor on every dataset: the model is at least as good as history only."""


def arguments(doc: str, out: Path, cutoff: date, data: Path | None) -> argparse.ArgumentParser:
    """The options every backtest benchmark takes: --out, --cutoff, --unit (and --data)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if data is not None:
        parser.add_argument("--data", type=Path, default=data, help="the dataset's folder")
    parser.add_argument("--out", type=Path, default=out, help="the report's folder")
    parser.add_argument("--cutoff", type=date.fromisoformat, default=cutoff)
    parser.add_argument("--unit", choices=("firm", "inspection"), default="firm")
    return parser


def read_public(
    inspections: Path,
    firms: list[Path],
    columns: InspectionColumns,
    cutoff: date,
    horizon: int,
    config: RiskConfig,
) -> History:
    """A public dataset's files read in place, as `renfang backtest` reads them (timed)."""
    inputs, _ = timed(
        "read the files",
        read_history,
        [inspections],
        firms=firms,
        penalties=[],
        inspection_columns=columns,
        firm_columns=FirmColumns(),
        config=config,
        rules=default_rule_set(),
        cutoff=cutoff,
        horizon_days=horizon,
    )
    for note in inputs.notes:
        print(f"note: {note}")
    return inputs.history


def run(
    history: History,
    cutoff: date,
    horizon: int,
    config: RiskConfig,
    out: Path,
    unit: Unit = "firm",
) -> BacktestReport:
    ratios = default_round_params().ratios
    report, _ = timed(
        f"select + train + backtest ({unit})",
        run_backtest,
        history,
        cutoff,
        horizon,
        config,
        ratios,
        unit=unit,
    )
    write_report(report, out)
    return report


def headline(report: BacktestReport, targets: Sequence[Target] = ()) -> None:
    """The report's summary, then the tiers' order and the targets."""
    print()
    print(summary_text(report))
    print()
    rates = {row["tier"]: row["failure_rate"] for row in report.tiers.to_dicts()}
    letters = sorted(rates)
    rising = all(rates[a] < rates[b] for a, b in pairwise(letters))
    print(
        f"\nfailure rate by tier ({report.tier_source}): "
        + " → ".join(f"{t} {rates[t]:.1%}" for t in letters)
        + f"  ({'rising' if rising else 'NOT rising'})"
    )
    print(f"model: {report.primary} — {report.selection.get('reason', '')}")
    if targets:
        print("\ntargets:")
    for target in targets:
        value = report.metric(target.scorer, target.metric, target.scope)
        least = (
            report.metric(target.above, target.metric, target.scope)
            if target.above
            else target.least
        )
        assert least is not None
        verdict = "met" if value >= least - 1e-12 else f"missed by {least - value:.3f}"
        against = f"{target.above} {least:.3f}" if target.above else f"{least:g}"
        print(f"  {target.label:46s} {value:6.3f} vs {against:>22s}: {verdict}")
