"""抽查结果公示 Round results: published rounds and the result of each drawn firm (一公开), with
the inspection date once a result exists and the organising office. No inspectors, planned
dates, tiers or control flags: the same fields as the public feed."""

import altair as alt
import polars as pl
import streamlit as st

from dashboards.i18n import column, t
from dashboards.queries import public as q
from dashboards.ui import get, labelled, plain, say, table
from models.publication import PENDING_RESULT

st.title(t("page.round_results"))
rounds = get(q.published_rounds, None)
if rounds.is_empty():
    st.info(t("pr.none"))
    st.stop()
round_id = st.selectbox(t("rd.pick"), rounds["round_id"].to_list())
plan = rounds.filter(pl.col("round_id") == round_id).row(0, named=True)
results = (
    get(q.published_results, None)
    .filter(pl.col("round_id") == round_id)
    .with_columns(pl.col("result").fill_null(PENDING_RESULT))
)
cols = st.columns(3)
cols[0].metric(t("pr.drawn"), f"{results.height:,d}")
cols[1].metric(t("pr.reported"), f"{int((results['result'] != PENDING_RESULT).sum()):,d}")
cols[2].metric(t("rd.pool"), f"{plan['pool_size']:,d}")
st.caption(
    plain(f"{plan['window_start'].isoformat()} — {plan['window_end'].isoformat()}") + " · "
    + say("rd.seed", seed=plan["seed"], algo=plan["algorithm_version"], sha=plan["plan_sha256"])
)  # fmt: skip
st.caption(say("pr.office", office=plan["office"]))
st.subheader(t("pr.results"))
counts = labelled(results.group_by("result").agg(firms=pl.len()))
chart = (
    alt.Chart(counts)
    .mark_bar()
    .encode(
        alt.X(f"{column('result')}:N", axis=alt.Axis(labelAngle=0, labelLimit=0)),
        alt.Y(f"{column('firms')}:Q", axis=alt.Axis(tickMinStep=1, format="d")),
    )
)
st.altair_chart(chart, width="stretch")
table(results, ["uscc", "name", "firm_type", "result", "inspected_on"])
