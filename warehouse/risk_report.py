"""Writing a backtest report: JSON, a readable summary and PNG plots (matplotlib, Agg).

What belongs here: turning a `models.risk.backtest.BacktestReport` into files under one
folder — `backtest.json` (every figure), `summary.txt` (what `renfang backtest` prints),
`lift.png`, `calibration.png`, `tiers.png`, `inspectors.png` — and the text of the summary.
Shared by the CLI and the `risk_backtest` asset. What does not: computing any figure.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers or in Dagster runs

import matplotlib.pyplot as plt
import polars as pl

from models.risk.backtest import BASELINES, MODEL_SCORERS, BacktestReport
from warehouse.paths import confined

LABELS = {
    "gradient_boosting": "gradient boosting 梯度提升",
    "logistic": "logistic 逻辑回归",
    "random": "random 随机",
    "tier_only": "tier only 仅信用等级",
    "history_only": "history only 仅历史检查",
    "inspector_only": "inspector only 仅检查人员",
}
PLOTS = ("lift.png", "calibration.png", "tiers.png", "inspectors.png")


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else pattern.format(value)
    )


def _largest(values: pl.Series) -> float:
    """The largest value of a numeric column, 0 when it has none."""
    value = values.cast(pl.Float64).max()
    return float(value) if isinstance(value, int | float) else 0.0


def summary_text(report: BacktestReport) -> str:
    s = report.summary()
    insp = s["inspectors"]
    lifts = report.metrics.filter(pl.col("metric").str.starts_with("lift_top_"))["metric"]
    shares = sorted({int(m.removeprefix("lift_top_").removesuffix("pct")) for m in lifts})
    lines = [
        f"backtest: cut-off {s['cutoff']}, horizon {s['horizon_days']} days "
        f"(window {s['window'][0]} → {s['window'][1]})",
        f"evaluated entities {s['evaluated_entities']:,d}, problems {s['problems']:,d} "
        f"({_fmt(s['problem_rate'], '{:.1%}')})",
        f"inspectors {insp['inspectors']}: share of outcome variance explained by inspector "
        f"{_fmt(insp['variance_explained'], '{:.1%}')} (partial pooling, prior strength "
        f"{_fmt(insp['prior_strength'], '{:.1f}')})",
        "",
        f"{'scorer':18s} {'AUC':>6s} {'AUC∣insp':>8s} "
        + " ".join(f"{f'lift@{k}%':>8s}" for k in shares)
        + f" {'Brier':>6s} {'days earlier':>12s} {'1st month':>13s}",
    ]
    for name in (*MODEL_SCORERS, *BASELINES):
        m = s["metrics"].get(name)
        if m is None:
            lines.append(f"{name:18s}   (not available: no credit tier in the inputs)")
            continue
        actual = _fmt(m.get("share_first_actual"), "{:.0%}")
        first = f"{actual}→{_fmt(m.get('share_first_reordered'), '{:.0%}')}"
        lift_cells = " ".join(f"{_fmt(m.get(f'lift_top_{k}pct'), '{:.2f}'):>8s}" for k in shares)
        lines.append(
            f"{name:18s} {_fmt(m.get('auc')):>6s} {_fmt(m.get('auc_within_inspector')):>8s} "
            f"{lift_cells} {_fmt(m.get('brier')):>6s} "
            f"{_fmt(m.get('days_earlier'), '{:.1f}'):>12s} {first:>13s}"
        )
    lines += ["", f"failure rate by tier ({s['tier_source']}):"]
    for row in s["tiers"]:
        lines.append(
            f"  {row['tier']}: {row['entities']:>6,d} entities, {row['problems']:>5,d} problems, "
            f"rate {_fmt(row['failure_rate'], '{:.1%}')}, draw ratio {_fmt(row['ratio'], '{:.0%}')}"
        )
    lines += ["", "draw at the same budget (expected hit rate):"]
    for row in s["draw"]:
        lines.append(
            f"  {row['strategy']:12s} budget {row['budget']:>5,d}  "
            f"hits {row['expected_hits']:>8.1f}  hit rate {_fmt(row['hit_rate'], '{:.1%}')}"
        )
    return "\n".join(lines)


def write_report(report: BacktestReport, out: Path) -> list[Path]:
    """Write every file of the report into `out` (created); returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [confined(out, "backtest.json"), confined(out, "summary.txt")]
    written[0].write_text(
        json.dumps(report.summary(), ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    written[1].write_text(summary_text(report) + "\n", encoding="utf-8")
    for name, draw in zip(PLOTS, (_lift, _calibration, _tiers, _inspectors), strict=True):
        fig = draw(report)
        target = confined(out, name)  # a planted symlink is refused, never written through
        fig.savefig(target, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(target)
    return written


def _lift(report: BacktestReport) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, part in report.lift.group_by("scorer", maintain_order=True):
        curve = pl.concat(
            [
                pl.DataFrame({"share_inspected": [0.0], "share_found": [0.0]}),
                part.select("share_inspected", "share_found"),
            ]
        )
        ax.plot(curve["share_inspected"], curve["share_found"], label=name[0])
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(
        xlabel="share inspected, riskiest first",
        ylabel="share of problems found",
        title="Cumulative gains (lift)",
    )
    ax.legend(fontsize=8)
    return fig


def _calibration(report: BacktestReport) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, part in report.calibration.group_by("scorer", maintain_order=True):
        ax.plot(part["mean_predicted"], part["observed_rate"], marker="o", label=name[0])
    top = max(
        _largest(report.calibration["mean_predicted"]),
        _largest(report.calibration["observed_rate"]),
        0.05,
    )
    ax.plot([0, top], [0, top], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="mean predicted probability", ylabel="observed problem rate", title="Calibration")
    ax.legend(fontsize=8)
    return fig


def _tiers(report: BacktestReport) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.bar(report.tiers["tier"].to_list(), report.tiers["failure_rate"].to_list(), color="#b5532b")
    ax.set(
        xlabel=f"tier ({report.tier_source})",
        ylabel="problem rate of the next inspection",
        title="Failure rate by tier",
    )
    return fig


def _inspectors(report: BacktestReport) -> plt.Figure:
    table = report.inspectors.drop_nulls("inspections").sort("pooled_rate")
    fig, ax = plt.subplots(figsize=(6, 4))
    x = list(range(table.height))
    ax.scatter(x, table["raw_rate"], s=10, color="grey", label="raw rate")
    ax.scatter(x, table["pooled_rate"], s=12, color="#1f5f99", label="partially pooled")
    ax.set(xlabel="inspector (sorted)", ylabel="problem rate", title="Inspector strictness")
    ax.legend(fontsize=8)
    return fig
