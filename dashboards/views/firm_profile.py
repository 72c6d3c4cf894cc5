"""单位画像 Firm profile: search by name or USCC; score history; every reason with its document
number, dates and points; the path to the next tier; repair options; open objections."""

import altair as alt
import polars as pl
import streamlit as st

from dashboards.i18n import column, t
from dashboards.queries import firm as q
from dashboards.queries.rules import rules_as_of
from dashboards.ui import (
    DAY_AXIS,
    EMPTY,
    firm_type_label,
    get,
    labelled,
    month_axis,
    plain,
    say,
    score_text,
    table,
    term,
    tier_caption,
)
from models.normalise import plain_text

VETO_PREFIX = "一票否决："  # stored veto reasons start with it; the banner says it once

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
            firm_type_label(card["firm_type"]),
            card["district"],
            card["qualification"],
            term(card["status"]) if card["status"] else None,
        )
        if v
    )
)
cols = st.columns([1, 2, 1, 1])  # the tier's label is the longest value
cols[0].metric(t("fp.score"), score_text(card["score"]))
cols[1].metric(t("fp.tier"), EMPTY if card["tier"] is None else tier_caption(card["tier"], rules))
cols[2].metric(t("fp.records"), card["counting_records"] or 0)
cols[3].metric(t("as_of"), card["as_of"].isoformat() if card["as_of"] else EMPTY)
if card["veto"]:
    reason = term((card["veto_reason"] or "").removeprefix(VETO_PREFIX)) or EMPTY
    until = card["veto_until"].isoformat() if card["veto_until"] else EMPTY
    st.error(say("fp.veto", reason=reason, until=until))

st.subheader(t("fp.history"))
history = get(q.score_history, firm)
if not history.is_empty():
    score = column("score")
    # the thresholds share the score's field, so the axis is titled once ("信用得分")
    thresholds = pl.DataFrame(
        {
            score: [float(x.min_score) for x in rules.tiers[:-1]],
            "label": [t("fp.threshold", tier=x.tier, score=x.min_score) for x in rules.tiers[:-1]],
        }
    )
    line = (
        alt.Chart(labelled(history))
        .mark_line(point=True)
        .encode(
            alt.X(f"{column('as_of')}:T", axis=month_axis(column("as_of"))),
            alt.Y(f"{score}:Q", scale=alt.Scale(domain=[0, 100]), title=score),
            tooltip=[
                alt.Tooltip(f"{column('as_of')}:T", format=DAY_AXIS),
                score,
                column("tier"),
            ],
        )
    )
    rule = alt.Chart(thresholds).mark_rule(strokeDash=[4, 4], color="#999")
    rule = rule.encode(alt.Y(f"{score}:Q", title=score))
    text_marks = alt.Chart(thresholds).mark_text(align="left", dx=4, dy=-7, color="#666")
    text_marks = text_marks.encode(alt.Y(f"{score}:Q", title=score), x=alt.value(0), text="label")
    st.altair_chart(line + rule + text_marks, width="stretch")

st.subheader(t("fp.reasons"))
reasons = get(q.reasons, firm)
if reasons.is_empty():
    st.info(t("fp.no_reasons"))
else:
    severity = {code: f"{code} {term(s.label_zh)}" for code, s in rules.severities.items()}
    reasons = reasons.with_columns(pl.col("severity").replace(severity))
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
            say("fp.path_on", date=row["next_tier_on"].isoformat(), tier=row["next_tier"],
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

classes = get(q.supervision_class, firm)
if classes.height:
    final = classes.row(-1, named=True)["supervision_class"]
    st.subheader(say("fp.class", tier=final or "—"))
    table(classes)
