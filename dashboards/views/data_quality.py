"""数据质量 Data quality: quarantine by reason and source, the latest files, the Great
Expectations results with links to their Data Docs pages, and the review report."""

import os

import polars as pl
import streamlit as st

from dashboards.data import reports_folder, warehouse_file
from dashboards.i18n import column, lang, t
from dashboards.queries import quality as q
from dashboards.ui import get, labelled, table
from warehouse.audit import audit_path

st.title(t("page.data_quality"))

files = get(q.latest_files, None)
by_reason = get(q.quarantine_by_reason, None)
cols = st.columns(4)
cols[0].metric(t("dq.rows_read"), f"{int(files['rows_read'].sum() or 0):,d}")
cols[1].metric(t("dq.quarantined"), f"{int(by_reason['rows'].sum() or 0):,d}")

reports = q.Reports(folder=reports_folder(), docs_url=os.environ.get("RENFANG_DOCS_URL"))
gx = get(q.gx_results, reports)
passed = int(gx["success"].sum()) if not gx.is_empty() else 0
cols[2].metric(t("dq.gx"), t("dq.gx_passed", passed=passed, total=gx.height))
review = get(q.review_totals, None)
total = review.filter(pl.col("source") == "全部")
if not total.is_empty():
    cols[3].metric(t("dq.coverage"), f"{total['valid_doc_no_share'][0]:.1%}")

st.subheader(t("dq.by_reason"))
if by_reason.is_empty():
    st.success(t("no_data"))
else:
    chart = labelled(by_reason.select("reason_code", "source", "rows"))
    st.bar_chart(chart, x=column("reason_code"), y=column("rows"), color=column("source"))
    example = "example_en" if lang() == "en" else "example_zh"
    table(by_reason, ["source", "reason_code", "rows", example])
    with st.expander(t("dq.rows")):
        table(get(q.quarantine_rows, None))

st.subheader(t("dq.gx"))
if gx.is_empty():
    st.info(t("dq.gx_none"))
else:
    link = st.column_config.LinkColumn(display_text=t("dq.docs"))
    table(
        gx, ["source", "success", "evaluated", "passed", "validated_at", "docs_page"],
        column_config={column("docs_page"): link},
    )  # fmt: skip

st.subheader(t("dq.conflicts"))
conflicts = get(q.open_conflicts, None)
if conflicts.is_empty():
    st.success(t("dq.no_conflicts"))
else:
    table(conflicts)

st.subheader(t("dq.review"))
table(review)
st.subheader(t("dq.files"))
table(files, ["source", "file", "format", "encoding", "rows_read", "rows_accepted",
              "rows_quarantined", "rows_collapsed"])  # fmt: skip

st.subheader(t("dq.audit"))
entries = get(q.audit_entries, q.AuditLog(audit_path(warehouse_file())))
if entries.is_empty():
    st.info(t("no_data"))
else:
    if not entries["chain_intact"][0]:
        st.error(t("dq.audit_broken"))
    table(entries, ["seq", "at", "actor", "action", "detail"])
