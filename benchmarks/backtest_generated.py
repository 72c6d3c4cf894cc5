"""Benchmark: the backtest on a generated history where inspectors dominate.

`generator.risk_history.inspector_dominated_history`: firms differ little (latent log-odds
sd 0.5), inspectors a lot (strictness sd 1.0, 60 inspectors), a finding flag and no score;
each inspection's inspector drawn at random (双随机) or, with `--territorial P`, the firm's
home inspector with probability P (inspectors covering their own territory, as in most
public data). History carries little signal, the inspector most of it: the setting in which
a complex model loses to the history-only baseline unless it adjusts for who inspected.
Cut-off after four of five years, horizon 365 days. Prints every scorer's AUC (overall and
within inspector), lift and the bootstrap interval against history only, and the targets;
asserts nothing.

    .venv/bin/python benchmarks/backtest_generated.py [--entities N] [--seed S]
        [--territorial P] [--unit firm|inspection] [--cutoff D] [--out DIR]

`--seed 2` (or any other than the default 1) is a development draw.
"""

from __future__ import annotations

from datetime import date

from backtest_common import FIRM_RISK_NOT_BELOW_HISTORY, Target, arguments, headline, run
from timing import timed

from generator.risk_history import inspector_dominated_history
from models.risk.config import default_risk_config
from warehouse.connection import PROJECT_ROOT

CUTOFF = date(2024, 1, 1)
HORIZON = 365
HISTORY, INSPECTOR = "history_only", "inspector_only"
TARGETS = [
    *FIRM_RISK_NOT_BELOW_HISTORY,
    Target(
        "outcome forecast AUC ≥ inspector only", "outcome_forecast", "auc", above="inspector_only"
    ),
    Target("outcome forecast AUC ≥ history only", "outcome_forecast", "auc", above="history_only"),
    Target(
        "gradient boosting AUC ≥ history only", "gradient_boosting", "auc", above="history_only"
    ),
    Target("logistic AUC ≥ history only", "logistic", "auc", above="history_only"),
]


def main() -> None:
    parser = arguments(__doc__, PROJECT_ROOT / "data" / "generated_backtest", CUTOFF, None)
    parser.add_argument("--entities", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--territorial", type=float, default=0.0)
    args = parser.parse_args()
    history, _ = timed(
        "generate",
        inspector_dominated_history,
        entities=args.entities,
        years=5,
        seed=args.seed,
        firm_sd=0.5,
        inspector_sd=1.0,
        inspectors=60,
        territorial=args.territorial,
    )
    print(
        f"{history.outcomes.height:,d} inspections of {history.entities.height:,d} firms, "
        f"territorial share {args.territorial:.0%}"
    )
    report = run(history, args.cutoff, HORIZON, default_risk_config(), args.out, args.unit)
    headline(report, TARGETS)
    print(f"\nreport: {args.out}")


if __name__ == "__main__":
    main()
