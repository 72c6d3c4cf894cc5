"""案件办理 Cases: what the centre must act on, and by when — open 严重失信 listing cases
with their next step and deadline (the 陈述申辩 deadline after a notice, the end of a
listing once published), objections open or past their decision deadline, and penalty
decisions published or withdrawn after their deadline."""

from datetime import date

import polars as pl
import streamlit as st

from dashboards.i18n import t
from dashboards.queries import cases as q
from dashboards.queries.public import published_dates
from dashboards.ui import get, table

st.title(t("page.cases"))
scored = get(published_dates, None)["as_of"].to_list()
today = max([*scored, date.today()]) if scored else date.today()
day = st.date_input(t("cs.on"), value=today)

cases = get(q.listing_cases, day)
open_cases = cases.filter(~pl.col("state").is_in(["dropped", "removed"]))
objections = get(q.objections, None)
late = get(q.late_penalties, day)
cols = st.columns(4)
cols[0].metric(t("cs.open_cases"), f"{open_cases.height:,d}")
cols[1].metric(t("cs.overdue_cases"), f"{int(open_cases['overdue'].sum()):,d}")
cols[2].metric(t("cs.open_objections"), f"{objections.height:,d}")
cols[3].metric(t("cs.overdue_objections"), f"{(objections['state'] == 'overdue').sum():,d}")

st.subheader(t("cs.listing"))
table(
    open_cases,
    ["case_id", "uscc", "firm_name", "basis", "state_zh", "last_on", "next_step", "deadline",
     "overdue", "evidence_doc_nos"],
)  # fmt: skip
with st.expander(t("cs.steps")):
    table(get(q.listing_steps, None), ["case_id", "seq", "step", "step_on", "doc_no", "deadline",
                                       "detail", "document", "actor"])  # fmt: skip
st.subheader(t("cs.objections"))
table(objections, ["case_id", "uscc", "record_doc_no", "filed_on", "deadline", "state",
                   "days_overdue"])  # fmt: skip
st.subheader(t("cs.late_penalties"))
table(late, ["doc_no", "uscc", "decided_on", "publish_due", "published_on", "late",
             "revoked_on", "withdraw_due", "ended_on", "withdrawal_late"])  # fmt: skip
