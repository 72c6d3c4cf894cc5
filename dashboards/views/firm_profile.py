"""单位画像 Firm profile: search by name or USCC; score history; every reason with its document
number, dates and points; the path to the next tier; repair options; open objections; the
firm's credit report (信用报告) to download; the supervision class (监管类别) with the
evaluations behind it."""

import streamlit as st

from dashboards.auth import may
from dashboards.firm_record import report_button, show_record
from dashboards.i18n import t
from dashboards.queries import firm as q
from dashboards.ui import current_user, get, say, table
from models.normalise import plain_text

st.title(t("page.firm_profile"))

text = st.text_input(t("fp.search"), key="firm_search", value=st.query_params.get("q", ""))
if not text.strip():
    st.info(t("fp.hint"))
    st.stop()
found = get(q.search_firms, q.Search(text))
if found.is_empty():
    st.warning(t("fp.none"))
    st.stop()
options = found["uscc"].to_list()
names = dict(zip(found["uscc"], found["name"], strict=True))
uscc = st.selectbox(t("fp.pick"), options, format_func=lambda u: plain_text(f"{names[u]}（{u}）"))
as_of = show_record(uscc)
user = current_user()
if may(user, "report"):
    report_button(uscc, as_of, user)

classes = get(q.supervision_class, q.Firm(uscc=uscc))
if classes.height:
    final = classes.row(-1, named=True)["supervision_class"]
    st.subheader(say("fp.class", tier=final or "—"))
    table(classes)
