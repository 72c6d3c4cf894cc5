"""抽查计划 Rounds: plan, strata, inspector assignments, progress, findings by tier and for the
control share (centre and managers only: it shows inspectors)."""

import polars as pl
import streamlit as st

from dashboards.i18n import column, t
from dashboards.queries import rounds as q
from dashboards.ui import get, labelled, plain, say, table

st.title(t("page.rounds"))

rounds = get(q.rounds, None)
if rounds.is_empty():
    st.info(t("rd.none"))
    st.stop()

status_label = {s: t(f"rd.status.{s}") for s in ("draft", "published")}
status_of = dict(zip(rounds["round_id"], rounds["status"], strict=True))
round_id = st.selectbox(
    t("rd.pick"),
    rounds["round_id"].to_list(),
    format_func=lambda r: f"{r}（{status_label.get(status_of[r], status_of[r])}）",
)
plan = rounds.filter(pl.col("round_id") == round_id).row(0, named=True)
selected = q.Round(round_id)
outcomes = get(q.progress, selected)

cols = st.columns(5)
cols[0].metric(t("rd.status"), status_label.get(plan["status"], plan["status"]))
cols[1].metric(t("rd.pool"), f"{plan['pool_size']:,d}")
cols[2].metric(t("rd.drawn"), f"{plan['drawn']:,d}")
cols[3].metric(t("rd.control"), f"{plan['control']:,d}")
inspected = int(outcomes["inspected"].cast(pl.Int64).max() or 0) if outcomes.height else 0  # type: ignore[arg-type]  # an Int64 column's max is an int or None
cols[4].metric(t("rd.inspected"), f"{inspected:,d}")
st.caption(
    plain(f"{plan['window_start']} — {plan['window_end']}") + " · "
    + say("rd.seed", seed=plan["seed"], algo=plan["algorithm_version"], sha=plan["plan_sha256"])
)  # fmt: skip

left, right = st.columns(2)
with left:
    st.subheader(t("rd.strata"))
    strata = get(q.strata, selected)
    table(strata, ["tier", "firm_type", "pool", "ratio", "n_required", "n_drawn"])
with right:
    st.subheader(t("rd.findings"))
    findings = get(q.findings, selected)
    if findings.is_empty() or not findings["inspected"].sum():
        st.info(t("rd.no_findings"))
    else:
        shown = findings.with_columns(
            group=pl.when(pl.col("is_control"))
            .then(pl.lit(t("rd.group.control")))
            .otherwise(pl.lit(t("rd.group.drawn")))
        )
        st.bar_chart(
            labelled(shown), x=column("tier"), y=column("finding_rate"), color=column("group"),
            stack=False,
        )  # fmt: skip
    table(findings)

st.subheader(t("rd.progress"))
if outcomes.is_empty():
    st.info(t("no_data"))
else:
    st.line_chart(labelled(outcomes), x=column("day"), y=[column("planned"), column("inspected")])

st.subheader(t("rd.assignments"))
table(get(q.assignments, selected))
