"""总览 Overview: tier mix by firm type and district, monthly tier trend, this period's movers."""

import polars as pl
import streamlit as st

from dashboards.i18n import t, widget
from dashboards.queries import overview as q
from dashboards.queries.rules import rules_as_of
from dashboards.ui import (
    firm_type_label,
    get,
    plain,
    say,
    table,
    tier_caption,
    tier_chart,
    tier_moves,
    tier_trend,
)

st.title(t("page.overview"))

dates = get(q.as_of_dates, None)["as_of"].to_list()
if not dates:
    st.info(t("no_data"))
    st.stop()
dims = get(q.firm_dimensions, None)
left, mid, right = st.columns([1, 2, 2])
as_of = left.selectbox(t("as_of"), dates, index=0, format_func=lambda d: d.isoformat())
types = mid.multiselect(
    t("firm_types"),
    sorted(dims["firm_type"].unique().to_list()),
    format_func=firm_type_label,
    placeholder=widget("choose_many"),
)
districts = right.multiselect(
    t("districts"),
    sorted(dims["district"].drop_nulls().unique()),
    placeholder=widget("choose_many"),
)
scope = q.Scope(as_of=as_of, firm_types=tuple(types), districts=tuple(districts))

mix = get(q.tier_mix, scope)
rules = get(rules_as_of, as_of)
trend = get(q.tier_trend, scope)
by_tier = mix.group_by("tier").agg(pl.col("firms").sum()).sort("tier")
counts = dict(zip(by_tier["tier"], by_tier["firms"], strict=True))
previous = trend.filter(pl.col("as_of") < as_of)
before = {}
if not previous.is_empty():
    last = previous.filter(pl.col("as_of") == previous["as_of"].max())
    before = dict(zip(last["tier"], last["firms"], strict=True))

cols = st.columns(5)
cols[0].metric(t("ov.firms"), f"{sum(counts.values()):,d}")
for col, tier in zip(cols[1:], ("A", "B", "C", "D"), strict=True):
    now = counts.get(tier, 0)
    delta = now - before.get(tier, 0) if before else None
    col.metric(plain(tier_caption(tier, rules)), f"{now:,d}", delta=delta, delta_color="off")

left, right = st.columns(2)
with left:
    st.subheader(t("ov.mix_type"))
    tier_chart(mix.group_by("firm_type", "tier").agg(pl.col("firms").sum()), "firm_type",
               horizontal=True)  # fmt: skip
with right:
    st.subheader(t("ov.mix_district"))
    tier_chart(mix.group_by("district", "tier").agg(pl.col("firms").sum()), "district")

st.subheader(t("ov.trend"))
st.caption(t("ov.trend_caption"))
tier_trend(trend, rules)

st.subheader(t("ov.movers"))
movers = get(q.movers, scope)
if movers.is_empty():
    st.info(t("ov.no_movers"))
else:
    up, down = tier_moves(movers, rules)
    st.caption(
        say(
            "ov.movers_caption",
            start=movers["from_as_of"][0],
            end=movers["to_as_of"][0],
            n=movers.height,
            up=up,
            down=down,
        )
    )
    table(
        movers,
        ["name", "uscc", "firm_type", "district", "from_tier", "to_tier", "from_score",
         "to_score", "score_change", "documents"],
    )  # fmt: skip
