"""Benchmark: the backtest on real public data — Wake County (NC) food inspections, 2016–2021.

Reads `../shared/data/wake_food_inspections/` in place (never copied into the project; see
its README): 36,657 inspections of 3,882 establishments by 61 inspectors; a score below 93
is a problem found. Cut-off 2019-01-01, horizon 365 days, each establishment's first
inspection after the cut-off is its label — the setting of the known public baselines
(history-only features: AUC ≈ 0.76, top-20 % lift ≈ 3×; inspector alone AUC ≈ 0.71).
Prints our figures beside them; asserts nothing. Also times the run (the CLI's own path).

    .venv/bin/python benchmarks/backtest_wake.py [--data DIR] [--out DIR] [--routine-only]
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from timing import timed  # benchmarks/ is on sys.path when a script runs

from models.risk.backtest import run_backtest
from models.risk.config import default_risk_config
from models.rules import default_rule_set
from models.sampling.params import default_round_params
from warehouse.backtest_inputs import FirmColumns, InspectionColumns, read_history
from warehouse.connection import PROJECT_ROOT
from warehouse.risk_report import summary_text, write_report

DATA = PROJECT_ROOT.parent / "shared" / "data" / "wake_food_inspections"
CUTOFF = date(2019, 1, 1)
HORIZON = 365
KNOWN = {"auc": 0.76, "lift_top_20pct": 3.0, "inspector_auc": 0.71}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "wake_backtest")
    parser.add_argument(
        "--routine-only", action="store_true", help="drop re-inspections (inspection_type)"
    )
    args = parser.parse_args()
    config = default_risk_config()
    where = (("inspection_type", "Inspection"),) if args.routine_only else ()
    columns = InspectionColumns(score="score", problem_below=93, where=where)
    history, _ = timed(
        "read inspections + entities",
        read_history,
        [args.data / "inspections.csv"],
        firms=[args.data / "entities.csv"],
        penalties=[],
        inspection_columns=columns,
        firm_columns=FirmColumns(),
        config=config,
        rules=default_rule_set(),
        cutoff=CUTOFF,
        horizon_days=HORIZON,
    )
    ratios = default_round_params().ratios
    report, _ = timed(
        "train (3 models) + backtest", run_backtest, history, CUTOFF, HORIZON, config, ratios
    )
    write_report(report, args.out)
    print()
    print(summary_text(report))
    print()
    print("against the known public baselines (history-only features, same cut-off):")
    for name in ("gradient_boosting", "logistic", "history_only"):
        auc, lift = report.metric(name, "auc"), report.metric(name, "lift_top_20pct")
        print(
            f"  {name:18s} AUC {auc:.3f} ({auc - KNOWN['auc']:+.3f} vs {KNOWN['auc']}),  "
            f"top-20% lift {lift:.2f}× ({lift - KNOWN['lift_top_20pct']:+.2f} vs "
            f"{KNOWN['lift_top_20pct']}×)"
        )
    insp = report.metric("inspector_only", "auc")
    print(f"  {'inspector_only':18s} AUC {insp:.3f} (public: ≈ {KNOWN['inspector_auc']})")
    print(f"\nreport: {args.out}")


if __name__ == "__main__":
    main()
