"""模型验证 Validation: do worse tiers really fail inspections more often? The risk model's
backtest (AUC, lift, calibration, failure rate by tier, tier-driven vs uniform sampling at
the same budget), the same figures within inspector, and month-over-month stability (PSI).
Until a model has been trained the page says plainly that none exists."""

import polars as pl
import streamlit as st

from dashboards.i18n import column, t
from dashboards.queries import validation as q
from dashboards.ui import get, labelled, say, table

st.title(t("page.validation"))
version = get(q.model_version, None)
if version.is_empty():
    st.info(t("va.none"))
    st.stop()

model = version.row(0, named=True)
st.caption(
    say("va.version", version=model["model_version"], algorithm=model["algorithm"],
        cutoff=model["cutoff"], horizon=model["horizon_days"], rows=model["training_rows"])
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
    col.metric(t(key), "—" if shown is None else f"{shown:.3f}")

left, right = st.columns(2)
with left:
    st.subheader(t("va.tiers"))
    failure = get(q.tier_failure, None)
    credit = failure.filter(pl.col("tier_source") == "credit")
    if not credit.is_empty():
        st.bar_chart(labelled(credit), x=column("tier"), y=column("failure_rate"))
    table(failure)
with right:
    st.subheader(t("va.draws"))
    draws = get(q.draw_comparison, None)
    if not draws.is_empty():
        st.bar_chart(labelled(draws), x=column("strategy"), y=column("hit_rate"))
    table(draws)

left, right = st.columns(2)
with left:
    st.subheader(t("va.lift"))
    lift = get(q.lift_curve, None)
    if not lift.is_empty():
        st.line_chart(
            labelled(lift), x=column("share_inspected"), y=column("share_found"),
            color=column("scorer"),
        )  # fmt: skip
with right:
    st.subheader(t("va.calibration"))
    calibration = get(q.calibration, None)
    if not calibration.is_empty():
        st.scatter_chart(
            labelled(calibration), x=column("mean_predicted"), y=column("observed_rate"),
            color=column("scorer"),
        )  # fmt: skip

left, right = st.columns(2)
with left:
    st.subheader(t("va.inspectors"))
    within = get(q.within_inspector, None)
    effects = get(q.inspector_effects, None)
    st.caption(t("va.inspectors_note"))
    if not within.is_empty():
        st.bar_chart(
            labelled(within.filter(pl.col("metric") == "auc")), x=column("scorer"),
            y=column("value"), color=column("scope"), stack=False,
        )  # fmt: skip
    table(effects.head(20))
with right:
    st.subheader(t("va.psi"))
    psi = get(q.psi_latest, None)
    if not psi.is_empty():
        flagged = psi.filter(pl.col("flagged"))
        if flagged.is_empty():
            st.success(t("va.psi_stable"))
        else:
            names = "、".join(flagged.get_column("subject").head(8).to_list())
            st.warning(say("va.psi_flagged", n=flagged.height, names=names))
        st.bar_chart(labelled(psi.head(15)), x=column("subject"), y=column("psi"))
    table(psi)
