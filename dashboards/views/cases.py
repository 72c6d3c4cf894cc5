"""案件办理 Cases: what the centre must act on, and by when — objections and repair
applications firms filed online (with their deadline from the filing time, the record, the
reason, the materials and attached files, and the decision form: accept, reject or correct,
with a decision text and the day it takes effect), open 严重失信 listing cases with their
next step and deadline (the 陈述申辩 deadline after a notice, the end of a listing once
published), objections open or past their decision deadline, and penalty decisions
published or withdrawn after their deadline."""

from datetime import date

import polars as pl
import streamlit as st

from dashboards.auth import may
from dashboards.data import clear_cache, warehouse_file
from dashboards.i18n import t
from dashboards.queries import cases as q
from dashboards.queries.public import published_dates
from dashboards.ui import current_user, domain_error, get, plain, say, table, term
from models.firm_cases import DECISIONS, FilingError

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

st.subheader(t("cs.online"))
DECIDED_KEY = "cs_decided"
if DECIDED_KEY in st.session_state:
    st.success(say("cs.decided", **st.session_state.pop(DECIDED_KEY)))
queue = get(q.online_queue, day)
table(
    queue,
    ["case_id", "uscc", "firm_name", "kind", "record_doc_no", "filed_at", "deadline", "status",
     "decision", "effective_on"],
)  # fmt: skip
waiting = queue.filter(pl.col("decision").is_null())
if waiting.is_empty():
    st.caption(t("cs.no_online"))
else:
    st.markdown(f"**{t('cs.open_online')}**")
    chosen = st.selectbox(t("cs.pick"), waiting["case_id"].to_list())
    case = waiting.filter(pl.col("case_id") == chosen).row(0, named=True)
    st.caption(
        " · ".join(plain(str(v)) for v in (case["uscc"], case["firm_name"], term(case["kind"]),
                                            case["record_doc_no"]) if v)
    )  # fmt: skip
    st.write(say("cs.reason", text=case["reason"]))
    st.write(say("cs.materials", text="；".join(case["materials"] or []) or "—"))
    files = get(q.online_files, None).filter(pl.col("case_id") == chosen)
    if not files.is_empty():
        from warehouse.connection import Warehouse
        from warehouse.firm_cases import attachment

        for row in files.iter_rows(named=True):
            name, data = attachment(Warehouse(path=str(warehouse_file())), row["case_id"],
                                    row["seq"], None)  # fmt: skip
            st.download_button(
                say("fw.download_file", name=name), data=data,
                file_name=f"{row['case_id']}-{row['seq']:02d}.{name.rsplit('.', 1)[-1]}",
                key=f"file-{row['case_id']}-{row['seq']}", on_click="ignore",
            )  # fmt: skip
    user = current_user()
    if may(user, "decide_case"):
        with st.form("decide_case", clear_on_submit=True):
            outcomes = {t(f"cs.outcome.{o}"): o for o in DECISIONS[case["kind"]]}
            outcome = outcomes[st.radio(t("cs.outcome"), list(outcomes), horizontal=True)]
            text = st.text_area(t("cs.decision_text"), max_chars=2000)
            effective = st.date_input(t("cs.effective_on"), value=max(day, case["filed_on"]))
            decided = st.form_submit_button(t("cs.decide"), type="primary")
        if decided:
            from warehouse.connection import Warehouse
            from warehouse.firm_cases import decide_case

            try:
                decision = decide_case(
                    Warehouse(path=str(warehouse_file())), case_id=chosen, outcome=outcome,
                    text=text, effective_on=effective, actor=user.username,
                )  # fmt: skip
            except FilingError as exc:
                domain_error(exc)
            else:
                clear_cache()
                st.session_state[DECIDED_KEY] = {
                    "case_id": chosen,
                    "decision": term(decision),
                    "day": effective,
                }
                st.rerun()

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
