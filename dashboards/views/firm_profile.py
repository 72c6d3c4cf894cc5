"""单位画像 Firm profile: search by name or USCC; score history; every reason with its document
number, dates and points; the path to the next tier; repair options; open objections."""

import altair as alt
import polars as pl
import streamlit as st

from dashboards.i18n import column, t
from dashboards.queries import firm as q
from dashboards.queries.rules import rules_as_of
from dashboards.ui import get, labelled, plain, say, table, tier_caption
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
firm = q.Firm(uscc=uscc)

card = get(q.firm_card, firm).row(0, named=True)
rules = get(rules_as_of, card["as_of"])
st.subheader(plain(card["name"]))
st.caption(
    " · ".join(
        plain(v)
        for v in (
            card["uscc"],
            labelled(pl.DataFrame({"firm_type": [card["firm_type"]]})).item(),
            card["district"],
            card["qualification"],
            card["status"],
        )
        if v
    )
)
cols = st.columns(4)
cols[0].metric(t("fp.score"), "—" if card["score"] is None else f"{card['score']:g}")
cols[1].metric(t("fp.tier"), "—" if card["tier"] is None else tier_caption(card["tier"], rules))
cols[2].metric(t("fp.records"), card["counting_records"] or 0)
cols[3].metric(t("as_of"), str(card["as_of"] or "—"))
if card["veto"]:
    st.error(say("fp.veto", reason=card["veto_reason"], until=card["veto_until"]))

st.subheader(t("fp.history"))
history = get(q.score_history, firm)
if not history.is_empty():
    thresholds = pl.DataFrame(
        {"tier": [x.tier for x in rules.tiers[:-1]],
         "min_score": [x.min_score for x in rules.tiers[:-1]]}
    )  # fmt: skip
    line = (
        alt.Chart(labelled(history))
        .mark_line(point=True)
        .encode(
            alt.X(f"{column('as_of')}:T"),
            alt.Y(f"{column('score')}:Q", scale=alt.Scale(domain=[0, 100])),
            tooltip=[column("as_of"), column("score"), column("tier")],
        )
    )
    rules = alt.Chart(thresholds).mark_rule(strokeDash=[4, 4], color="#999").encode(y="min_score")
    st.altair_chart(line + rules, width="stretch")

st.subheader(t("fp.reasons"))
reasons = get(q.reasons, firm)
if reasons.is_empty():
    st.info(t("fp.no_reasons"))
else:
    table(
        reasons,
        ["evidence_type", "evidence_doc_no", "severity", "category", "valid_from", "valid_until",
         "collected_on", "points", "multiplier", "status", "veto", "rule"],
    )  # fmt: skip

left, right = st.columns(2)
with left:
    st.subheader(t("fp.path"))
    path = get(q.tier_path, firm)
    if path.is_empty() or path["next_tier"][0] is None:
        st.success(t("fp.path_best"))
    elif path["next_tier_on"][0] is None:
        st.info(say("fp.path_none", tier=path["next_tier"][0]))
    else:
        row = path.row(0, named=True)
        st.info(
            say("fp.path_on", date=row["next_tier_on"], tier=row["next_tier"],
                score=row["next_tier_score"])
        )  # fmt: skip
    st.markdown(f"**{t('fp.repairs')}**")
    table(get(q.repair_options, firm))
with right:
    st.subheader(t("fp.open_cases"))
    open_cases = get(q.open_cases, firm)
    if open_cases.is_empty():
        st.success(t("fp.no_open_cases"))
    else:
        table(open_cases)
    st.markdown(f"**{t('fp.cases')}**")
    table(get(q.case_history, firm))
