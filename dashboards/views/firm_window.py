"""本单位信用 A firm's own window: its record, its credit report, its cases — and nothing else.

The firm is the signed-in account's USCC, taken from the users file on the server: this page
reads no firm from its URL, offers no search, and every query, download and filing below is
made for that USCC only (`dashboards.queries.firm`, `warehouse.firm_cases`). A firm files an
objection against one of its own records or applies for credit repair, with its reason, the
list of materials and attached files; the filing is recorded at once (status 已提交, with its
filing time) and the centre's decision shows here with the day it takes effect.
"""

import polars as pl
import streamlit as st

from dashboards.auth import FIRM_ROLE, may
from dashboards.data import clear_cache, warehouse_file
from dashboards.firm_record import report_button, show_record
from dashboards.i18n import t
from dashboards.queries import firm as q
from dashboards.ui import current_user, domain_error, get, say, table, term
from models.firm_cases import KINDS, MAX_FILES, FilingError

st.title(t("page.firm_window"))
user = current_user()
if user.role != FIRM_ROLE or not user.uscc:
    st.error(t("fw.no_firm"))
    st.stop()
uscc = user.uscc  # the signed-in firm's own USCC, never one from the URL
firm = q.Firm(uscc=uscc)
FILED_KEY = "fw_filed"

as_of = show_record(uscc)
if may(user, "report"):
    report_button(uscc, as_of, user)

st.subheader(t("fw.own_cases"))
if FILED_KEY in st.session_state:
    st.success(say("fw.filed", **st.session_state.pop(FILED_KEY)))
cases = get(q.online_cases, firm)
table(
    cases,
    ["case_id", "kind", "record_doc_no", "filed_at", "deadline", "status", "decision",
     "decision_text", "effective_on"],
)  # fmt: skip
st.caption(t("fw.effective_note"))
files = get(q.online_files, firm)
if not files.is_empty():
    from warehouse.connection import Warehouse
    from warehouse.firm_cases import attachment

    for row in files.iter_rows(named=True):
        name, data = attachment(Warehouse(path=str(warehouse_file())), row["case_id"], row["seq"],
                                uscc)  # fmt: skip
        st.download_button(
            say("fw.download_file", name=f"{row['case_id']} · {name}"),
            data=data,
            file_name=f"{row['case_id']}-{row['seq']:02d}{'.' + name.rsplit('.', 1)[-1]}",
            key=f"file-{row['case_id']}-{row['seq']}",
            on_click="ignore",
        )

if may(user, "file_case"):
    st.subheader(t("fw.file"))
    records = get(q.own_records, firm)
    if not records:
        st.info(t("fw.no_records"))
        st.stop()
    with st.form("file_case", clear_on_submit=True):
        kinds = {term(k): k for k in KINDS}  # shown in the session's language
        kind = kinds[st.radio(t("fw.kind"), list(kinds), horizontal=True)]
        record = st.selectbox(t("fw.record"), records)
        reason = st.text_area(t("fw.reason"), max_chars=2000)
        materials = st.text_area(t("fw.materials"), max_chars=2000)
        uploads = st.file_uploader(
            t("fw.files"), type=["pdf", "png", "jpg", "jpeg"], accept_multiple_files=True
        )
        submitted = st.form_submit_button(t("fw.submit"), type="primary")
    if submitted:
        from warehouse.connection import Warehouse
        from warehouse.firm_cases import file_case

        attached = [(u.name, u.getvalue()) for u in (uploads or [])[: MAX_FILES + 1]]
        try:
            case_id = file_case(
                Warehouse(path=str(warehouse_file())), uscc=uscc, kind=kind,
                record_doc_no=str(record), reason=reason, materials=materials.splitlines(),
                attachments=attached, actor=user.username,
            )  # fmt: skip
        except FilingError as exc:
            domain_error(exc)
        else:
            clear_cache()
            mine = get(q.online_cases, firm).filter(pl.col("case_id") == case_id).row(0, named=True)
            st.session_state[FILED_KEY] = {
                "case_id": case_id, "at": f"{mine['filed_at']:%Y-%m-%d %H:%M}",
                "deadline": mine["deadline"],
            }  # fmt: skip
            st.rerun()
