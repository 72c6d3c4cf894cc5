"""Benchmark: the backtest on real public data — Wake County (NC) food inspections, 2016–2021.

Reads `../shared/data/wake_food_inspections/` in place (never copied into the project; see
its README): 36,657 inspections of 3,882 establishments by 61 inspectors; a score below 93
is a problem found. Cut-off 2019-01-01, horizon 365 days, each establishment's first
inspection after the cut-off is its label — the setting of the known public baselines
(history-only features: AUC ≈ 0.76, top-20 % lift ≈ 3×; inspector alone AUC ≈ 0.71).
Prints every scorer's AUC (overall and within inspector), lift and the bootstrap interval
against our history-only baseline, our figures beside the public ones and the issue's
targets; asserts nothing. The same as `renfang backtest --inspections …/inspections.csv
--firms …/entities.csv --score-col score --problem-below 93 --cutoff 2019-01-01`.

    .venv/bin/python benchmarks/backtest_wake.py [--data DIR] [--out DIR] [--cutoff D]
        [--unit firm|inspection] [--routine-only]

`--cutoff 2018-01-01` is the development cut-off (model choices are judged there, never on
the reported window).
"""

from __future__ import annotations

from datetime import date

import backtest_common as bench

from models.risk.config import default_risk_config
from warehouse.backtest_inputs import InspectionColumns

DATA = bench.SHARED_DATA / "wake_food_inspections"
CUTOFF = date(2019, 1, 1)
HORIZON = 365
KNOWN = {"auc": 0.76, "lift_top_20pct": 3.0, "inspector_auc": 0.71}
TARGETS = [
    bench.Target("outcome forecast AUC ≥ 0.83", "outcome_forecast", "auc", 0.83),
    bench.Target(
        "outcome forecast top-20 % lift ≥ 3.5×", "outcome_forecast", "lift_top_20pct", 3.5
    ),
    bench.Target("firm risk AUC ≥ 0.83", "firm_risk", "auc", 0.83),
    bench.Target("firm risk top-20 % lift ≥ 3.5×", "firm_risk", "lift_top_20pct", 3.5),
    *bench.FIRM_RISK_NOT_BELOW_HISTORY,
]


def main() -> None:
    parser = bench.arguments(__doc__, bench.LOCAL_DATA / "wake_backtest", CUTOFF, DATA)
    parser.add_argument(
        "--routine-only", action="store_true", help="evaluate routine inspections only"
    )
    args = parser.parse_args()
    config = default_risk_config()
    routine = (("inspection_type", "Inspection", False),) if args.routine_only else ()
    columns = InspectionColumns(score="score", problem_below=93, evaluate_where=routine)
    history = bench.read_public(
        args.data / "inspections.csv",
        [args.data / "entities.csv"],
        columns,
        args.cutoff,
        HORIZON,
        config,
    )
    report = bench.run(history, args.cutoff, HORIZON, config, args.out, args.unit)
    bench.headline(report, TARGETS)
    print("\nagainst the known public baselines (history-only features, same cut-off):")
    for name in ("firm_risk", "outcome_forecast", "history_only"):
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
