"""Writing a backtest report: JSON, a readable summary and PNG plots (matplotlib, Agg).

What belongs here: turning a `models.risk.backtest.BacktestReport` into files under one
folder — `backtest.json` (every figure), `summary.txt` (what `renfang backtest` prints),
`scores.csv` (each evaluated unit's two scores and label), `lift.png`, `calibration.png`,
`tiers.png`, `inspectors.png` — and the text of the summary.
Shared by the CLI and the `risk_backtest` asset. What does not: computing any figure.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers or in Dagster runs

import matplotlib.pyplot as plt
import polars as pl

from models.risk.backtest import COMPARED, SCORERS, BacktestReport
from warehouse.paths import confined

PLOTS = ("lift.png", "calibration.png", "tiers.png", "inspectors.png")
SCORES_FILE = "scores.csv"
UNITS = {
    "firm": "each entity's first inspection in the window, firm state as of the cut-off",
    "inspection": "every inspection in the window, firm state as of the day before it",
}


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
    first = s["first_period"]
    no_inspectors = s["not_available"].get("inspector_only")
    lines = [
        f"backtest: cut-off {s['cutoff']}, horizon {s['horizon_days']} days "
        f"(window {s['window'][0]} → {s['window'][1]})",
        f"unit: {s['unit']} ({UNITS[s['unit']]})",
        f"evaluated {s['evaluated']:,d} ({s['evaluated_entities']:,d} entities), problems "
        f"{s['problems']:,d} ({_fmt(s['problem_rate'], '{:.1%}')})",
        (
            f"inspectors: not available ({no_inspectors}): no within-inspector figures"
            if no_inspectors
            else f"inspectors {insp['inspectors']}: share of outcome variance explained by "
            f"inspector {_fmt(insp['variance_explained'], '{:.1%}')} (partial pooling, prior "
            f"strength {_fmt(insp['prior_strength'], '{:.1f}')})"
        ),
        f"first month: {first['from']} … {first['to']} ({first['setting']})",
        "",
        *_selection_lines(s["selection"], s["primary"]),
        "",
        f"{'scorer':18s} {'AUC':>6s} {'AUC∣insp':>8s} "
        + " ".join(f"{f'lift@{k}%':>8s}" for k in shares)
        + f" {'Brier':>6s} {'days earlier':>12s} {'1st month':>13s}",
    ]
    for name in SCORERS:
        m = s["metrics"].get(name)
        if m is None:
            reason = s["not_available"].get(name, "no figure")
            lines.append(f"{name:18s}   not available: {reason}")
            continue
        actual = _fmt(m.get("share_first_actual"), "{:.0%}")
        first_share = f"{actual}→{_fmt(m.get('share_first_reordered'), '{:.0%}')}"
        lift_cells = " ".join(f"{_fmt(m.get(f'lift_top_{k}pct'), '{:.2f}'):>8s}" for k in shares)
        lines.append(
            f"{name:18s} {_fmt(m.get('auc')):>6s} {_fmt(m.get('auc_within_inspector')):>8s} "
            f"{lift_cells} {_fmt(m.get('brier')):>6s} "
            f"{_fmt(m.get('days_earlier'), '{:.1f}'):>12s} {first_share:>13s}"
        )
    lines += ["", *_comparison_lines(report)]
    lines += ["", f"failure rate by tier ({s['tier_source']}):"]
    for row in s["tiers"]:
        lines.append(
            f"  {row['tier']}: {row['entities']:>6,d} evaluated, {row['problems']:>5,d} problems, "
            f"rate {_fmt(row['failure_rate'], '{:.1%}')}, draw ratio {_fmt(row['ratio'], '{:.0%}')}"
        )
    lines += ["", "draw at the same budget (expected hit rate):"]
    for row in s["draw"]:
        lines.append(
            f"  {row['strategy']:12s} budget {row['budget']:>5,d}  "
            f"hits {row['expected_hits']:>8.1f}  hit rate {_fmt(row['hit_rate'], '{:.1%}')}"
        )
    return "\n".join(lines)


def _selection_lines(selection: dict[str, Any], primary: str) -> list[str]:
    """The model choice: every candidate's held-out figures and the reason."""
    lines = [f"model: {primary} (firm risk) — {selection.get('reason', '')}"]
    candidates = selection.get("candidates", [])
    if candidates:
        lines.append(
            f"  held-out snapshot {selection['held_out_as_of']} ({selection['held_out_rows']:,d} "
            f"rows), judged by {selection['metric']}; one standard error in brackets:"
        )
    for c in candidates:
        mark = "  ← model" if c["name"] == primary else ""
        lines.append(
            f"  {c['name']:18s} AUC {_fmt(c['auc'])} ({_fmt(c['auc_se'])})  within inspector "
            f"{_fmt(c['auc_within_inspector'])} ({_fmt(c['auc_within_inspector_se'])})  "
            f"lift@20% {_fmt(c['lift_top_20pct'], '{:.2f}')}{mark}"
        )
    return lines


def _comparison_lines(report: BacktestReport) -> list[str]:
    """AUC minus the history-only baseline's, with the bootstrap interval."""
    rows = report.metrics.filter(pl.col("metric").str.starts_with("auc_minus_history_only"))
    if rows.is_empty():
        return []
    lines = ["AUC minus history only (95 % paired bootstrap interval over the evaluated units):"]
    for name in COMPARED:
        cells = []
        for scope in ("overall", "within_inspector"):
            diff = report.metric(name, "auc_minus_history_only", scope)
            if math.isnan(diff):
                continue
            low = report.metric(name, "auc_minus_history_only_ci_low", scope)
            high = report.metric(name, "auc_minus_history_only_ci_high", scope)
            cells.append(
                f"{scope.replace('_', ' ')} {_fmt(diff, '{:+.3f}')} "
                f"[{_fmt(low, '{:+.3f}')}, {_fmt(high, '{:+.3f}')}]"
            )
        if cells:
            lines.append(f"  {name:18s} " + "   ".join(cells))
    return lines


def scores_frame(report: BacktestReport) -> pl.DataFrame:
    """`scores.csv`: one row per evaluated unit — the labelling inspection's id, the entity,
    its date, the date the firm's state was taken, both scores, the label, the lead inspector."""
    return report.scored.select(
        id=pl.col("label_id"),
        entity_id="entity_id",
        inspected_on="label_on",
        as_of="as_of",
        firm_risk="firm_risk",
        outcome_forecast="outcome_forecast",
        label=pl.col("label").cast(pl.Int8),
        inspector_id="label_inspector",
    )


def write_report(report: BacktestReport, out: Path) -> list[Path]:
    """Write every file of the report into `out` (created); returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [
        confined(out, "backtest.json"),
        confined(out, "summary.txt"),
        confined(out, SCORES_FILE),
    ]
    written[0].write_text(
        json.dumps(report.summary(), ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    written[1].write_text(summary_text(report) + "\n", encoding="utf-8")
    scores_frame(report).write_csv(written[2])
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
