"""模型验证 Validation: reserved for the risk model; until it exists the page says so plainly."""

import streamlit as st

from dashboards.i18n import t
from dashboards.queries import validation as q
from dashboards.ui import get, table

st.title(t("page.validation"))
tables = get(q.model_tables, None)
if tables.is_empty():
    st.info(t("va.none"))
else:
    st.subheader(t("va.tables"))
    table(tables)
