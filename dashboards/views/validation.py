"""模型验证 Validation: do worse tiers really fail inspections more often? The risk model's
backtest (AUC, lift, calibration, failure rate by tier, tier-driven vs uniform sampling at
the same budget), the same figures within inspector, and month-over-month stability (PSI).
Until a model has been trained the page says plainly that none exists."""

from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboards.i18n import column, t
from dashboards.queries import validation as q
from dashboards.ui import get, label_of, labelled, say, table

PSI = {"kind": "psi_kind"}

st.title(t("page.validation"))
version = get(q.model_version, None)
if version.is_empty():
    st.info(t("va.none"))
    st.stop()

model = version.row(0, named=True)
st.caption(
    # the version is "<algorithm>-<hash>": the algorithm is shown by its label right after
    say("va.version", version=model["model_version"].rsplit("-", 1)[-1],
        algorithm=label_of("scorer", model["algorithm"]), cutoff=model["cutoff"].isoformat(),
        horizon=model["horizon_days"], rows=f"{model['training_rows']:,d}")
)  # fmt: skip
metrics = get(q.headline, None)
value = {(r["scorer"], r["metric"]): r["value"] for r in metrics.iter_rows(named=True)}
primary = model["algorithm"]  # the primary model's backtest scorer; tier_only = the tiers
headlines = [
    (primary, "auc", "va.auc_model"),
    ("tier_only", "auc", "va.auc_tier"),
    (primary, "lift_top_10pct", "va.lift10"),
    (primary, "brier", "va.brier"),
]
for col, (scorer, metric, key) in zip(st.columns(4), headlines, strict=True):
    shown = value.get((scorer, metric))
    col.metric(t(key), "—" if shown is None or shown != shown else f"{shown:.3f}")


def bars(frame: pl.DataFrame, x: str, y: str, *, colour: str | None = None, rate: bool = False):
    """A bar chart of labelled values (rates on a percent axis)."""
    data = labelled(frame)
    encoding: list[Any] = [
        alt.X(f"{column(x)}:N", axis=alt.Axis(labelAngle=0, labelLimit=0), sort=None),
        alt.Y(f"{column(y)}:Q", axis=alt.Axis(format="%" if rate else ".2f")),
    ]
    if colour:
        encoding += [alt.Color(f"{column(colour)}:N"), alt.XOffset(f"{column(colour)}:N")]
    st.altair_chart(alt.Chart(data).mark_bar().encode(*encoding), width="stretch")


left, right = st.columns(2)
with left:
    st.subheader(t("va.tiers"))
    failure = get(q.tier_failure, None)
    credit = failure.filter(pl.col("tier_source") == "credit")
    if not credit.is_empty():
        bars(credit, "tier", "failure_rate", rate=True)
    table(failure)
with right:
    st.subheader(t("va.draws"))
    draws = get(q.draw_comparison, None)
    if not draws.is_empty():
        bars(draws, "strategy", "hit_rate", rate=True)
    table(draws)

left, right = st.columns(2)
with left:
    st.subheader(t("va.lift"))
    lift = get(q.lift_curve, None)
    if not lift.is_empty():
        chart = (
            alt.Chart(labelled(lift))
            .mark_line()
            .encode(
                alt.X(f"{column('share_inspected')}:Q", axis=alt.Axis(format="%")),
                alt.Y(f"{column('share_found')}:Q", axis=alt.Axis(format="%")),
                alt.Color(f"{column('scorer')}:N"),
            )
        )
        st.altair_chart(chart, width="stretch")
with right:
    st.subheader(t("va.calibration"))
    calibration = get(q.calibration, None)
    if not calibration.is_empty():
        chart = (
            alt.Chart(labelled(calibration))
            .mark_circle(size=60)
            .encode(
                alt.X(f"{column('mean_predicted')}:Q", axis=alt.Axis(format="%")),
                alt.Y(f"{column('observed_rate')}:Q", axis=alt.Axis(format="%")),
                alt.Color(f"{column('scorer')}:N"),
            )
        )
        st.altair_chart(chart, width="stretch")

left, right = st.columns(2)
with left:
    st.subheader(t("va.inspectors"))
    within = get(q.within_inspector, None)
    effects = get(q.inspector_effects, None)
    st.caption(t("va.inspectors_note"))
    if not within.is_empty():
        bars(within.filter(pl.col("metric") == "auc"), "scorer", "value", colour="scope")
    table(effects.head(20))
with right:
    st.subheader(t("va.psi"))
    psi = get(q.psi_latest, None)
    if not psi.is_empty():
        flagged = psi.filter(pl.col("flagged"))
        if flagged.is_empty():
            st.success(t("va.psi_stable"))
        else:
            names = "、".join(label_of("feature", s) for s in flagged["subject"].head(8))
            st.warning(say("va.psi_flagged", n=flagged.height, names=names))
        bars(psi.head(15).drop("kind"), "subject", "psi")
    table(psi, codes=PSI)
