"""信用信息公示 Public lists: what the law allows to say about a firm, when it allows it —
the 严重失信主体名单 (decided, published and unexpired listings only: a score never puts a
firm on it) and 行政处罚信息公示 (penalty decisions in their publication period, with the
national 双公示 fields). The same rows as the public disclosure feed."""

from datetime import date

import streamlit as st

from dashboards.i18n import t
from dashboards.queries import public as q
from dashboards.ui import get, table
from models.disclosure import PUBLIC_PENALTY_FIELDS

st.title(t("page.public_lists"))
scored = get(q.published_dates, None)["as_of"].to_list()
default = scored[0] if scored else date.today()
day = st.date_input(t("pl.on"), value=default)

listings = get(q.serious_dishonesty, day)
penalties = get(q.penalties, day)
cols = st.columns(2)
cols[0].metric(t("pl.listed"), f"{listings.height:,d}")
cols[1].metric(t("pl.penalties"), f"{penalties.height:,d}")
st.subheader(t("pl.listed"))
st.caption(t("pl.listed_note"))
table(listings, ["uscc", "firm_name", "decision_doc_no", "decided_on", "published_on",
                 "listed_until", "grounds"])  # fmt: skip
st.subheader(t("pl.penalties"))
table(penalties.rename(PUBLIC_PENALTY_FIELDS))
