"""数据质量 Data quality: quarantine by reason and source, the latest files, the Great
Expectations results with links to their validation reports, and the review report."""

import json
import os
import re

import altair as alt
import polars as pl
import streamlit as st

from dashboards.data import reports_folder, warehouse_file
from dashboards.i18n import column, lang, t
from dashboards.queries import quality as q
from dashboards.ui import audit_detail, get, label_of, percent, table, without_codes
from models.contracts import default_contracts
from models.labels import default_labels
from models.row_checks import FILE_COLUMN
from warehouse.audit import audit_path

FILES = {"status": "file_status"}
WHOLE_FILE = {"zh": "整个文件", "en": "Whole file"}


def column_label(source: str, name: str | None) -> str:
    """The landing column a quarantine row names, as users know it."""
    if name is None or name == FILE_COLUMN:
        return WHOLE_FILE[lang()]
    contracts = default_contracts()
    if source not in contracts.sources:
        return default_labels().column(name, lang())
    return default_labels().source_column(contracts.source(source), name, lang())


def reason_text(row: dict) -> str:
    """The reason in the session's language; the columns it names in words, not as codes."""
    if lang() == "zh":
        return without_codes(row["reason"] or "")
    text = (row["reason_en"] or "").replace(f"{FILE_COLUMN}: ", f"{WHOLE_FILE['en']}: ")
    return columns_in_words(row["source"], without_codes(text)) or ""


def columns_in_words(source: str, text: str | None) -> str | None:
    """`issued_on=2024-03-01; deadline=…` reads `下达日期=2024-03-01; 整改期限=…`."""
    if text is None:
        return None
    return re.sub(
        r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*\b",
        lambda m: column_label(source, m[0]) if is_column(source, m[0]) else m[0],
        text,
    )


def is_column(source: str, name: str) -> bool:
    contracts = default_contracts()
    return source in contracts.sources and name in contracts.source(source).column_names


def in_language(source: str, note: str | None) -> str | None:
    """A bilingual log note (`中文 / English`) in the session's language."""
    if note is None or " / " not in note:
        return note
    zh, en = note.split(" / ", 1)
    return without_codes(zh) if lang() == "zh" else columns_in_words(source, en)


def readable(rows: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows with one reason column in the session's language and the landing
    column by its header (the two stored reasons would otherwise both read 'Reason')."""
    records = rows.to_dicts()
    return rows.with_columns(
        column=pl.Series([column_label(r["source"], r["column"]) for r in records], dtype=pl.Utf8),
        reason=pl.Series([reason_text(r) for r in records], dtype=pl.Utf8),
        raw_value=pl.Series(
            [columns_in_words(r["source"], r.get("raw_value")) for r in records], dtype=pl.Utf8
        ),
    ).drop("reason_en")


st.title(t("page.data_quality"))

files = get(q.latest_files, None)
by_reason = get(q.quarantine_by_reason, None)
cols = st.columns(4)
cols[0].metric(t("dq.rows_read"), f"{int(files['rows_read'].sum() or 0):,d}")
cols[1].metric(t("dq.quarantined"), f"{int(by_reason['rows'].sum() or 0):,d}")

reports = q.Reports(folder=reports_folder(), docs_url=os.environ.get("RENFANG_DOCS_URL"))
gx = get(q.gx_results, reports)
passed = int(gx["success"].sum()) if not gx.is_empty() else 0
cols[2].metric(t("dq.gx_tables"), f"{passed}/{gx.height}")
review = get(q.review_totals, None)
total = review.filter(pl.col("source") == "全部")
if not total.is_empty():
    cols[3].metric(t("dq.coverage"), percent(total["valid_doc_no_share"][0]))

st.subheader(t("dq.by_reason"))
if by_reason.is_empty():
    st.success(t("no_data"))
else:
    shown = by_reason.with_columns(  # labels looked up here: the session knows the language
        reason_label=pl.Series([label_of("reason_code", c) for c in by_reason["reason_code"]]),
        source_label=pl.Series([label_of("table", s, short=True) for s in by_reason["source"]]),
    )
    chart = (
        alt.Chart(shown)
        .mark_bar()
        .encode(
            alt.Y("reason_label:N", title=column("reason_code"), sort="-x",
                  axis=alt.Axis(labelLimit=0)),
            alt.X("sum(rows):Q", title=column("rows"), axis=alt.Axis(tickMinStep=1, format="d")),
            alt.Color("source_label:N", title=column("source")),
            tooltip=[alt.Tooltip("reason_label:N", title=column("reason_code")),
                     alt.Tooltip("source_label:N", title=column("source")),
                     alt.Tooltip("rows:Q", title=column("rows"))],
        )
    )  # fmt: skip
    st.altair_chart(chart, width="stretch")
    examples = readable(
        by_reason.with_columns(reason=pl.col("example_zh"), reason_en=pl.col("example_en"))
    )
    table(examples.rename({"reason": "example"}), ["source", "reason_code", "rows", "example"])
    with st.expander(t("dq.rows")):
        table(readable(get(q.quarantine_rows, None)))

st.subheader(t("dq.gx"))
if gx.is_empty():
    st.info(t("dq.gx_none"))
else:
    link = st.column_config.LinkColumn(display_text=t("dq.docs"))
    table(
        gx, ["source", "success", "evaluated", "passed", "validated_at", "docs_page"],
        column_config={column("docs_page"): link},
    )  # fmt: skip
    index = reports.index_url()
    if index:
        st.link_button(t("dq.docs_site"), index)  # a button, not Markdown built from data

st.subheader(t("dq.conflicts"))
conflicts = get(q.open_conflicts, None)
if conflicts.is_empty():
    st.success(t("dq.no_conflicts"))
else:
    details = [in_language(r["source"], r["detail"]) for r in conflicts.to_dicts()]
    table(conflicts.with_columns(detail=pl.Series(details, dtype=pl.Utf8)))

st.subheader(t("dq.review"))
table(review)
st.subheader(t("dq.files"))
files = files.with_columns(
    detail=pl.Series(
        [in_language(r["source"], r["detail"]) for r in files.to_dicts()], dtype=pl.Utf8
    )
)
table(files, ["source", "file", "format", "encoding", "status", "header_row", "detail",
              "rows_read", "rows_accepted", "rows_quarantined", "rows_collapsed"],
      codes=FILES)  # fmt: skip

st.subheader(t("dq.audit"))
entries = get(q.audit_entries, q.AuditLog(audit_path(warehouse_file())))
if entries.is_empty():
    st.info(t("no_data"))
else:
    if not entries["chain_intact"][0]:
        st.error(t("dq.audit_broken"))
    readable_detail = [audit_detail(json.loads(d)) for d in entries["detail"]]
    table(
        entries.with_columns(detail=pl.Series(readable_detail, dtype=pl.Utf8)),
        ["seq", "at", "actor", "action", "detail"],
    )
