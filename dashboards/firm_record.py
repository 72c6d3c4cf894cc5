"""One firm's record as the dashboards draw it: the centre's firm profile and a firm's own
window show the same thing, drawn once here.

What belongs here: the card (score, tier, veto), the score history with the tier thresholds,
every counting record with its document number, the path to the next tier, repair options,
open cases and the case history, and the credit-report download — all for the one USCC the
caller passes (a firm's own window passes the signed-in firm's, never one from the URL).
What does not: choosing the firm (the pages), SQL (dashboards.queries.firm).
"""

from __future__ import annotations

from datetime import date

import altair as alt
import polars as pl
import streamlit as st

from dashboards.auth import User
from dashboards.data import warehouse_file
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

VETO_PREFIX = "一票否决："  # stored veto reasons start with it; the banner says it once


def show_record(uscc: str) -> date | None:
    """Draw the firm's record; returns the as-of date of its latest score."""
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
    cols[1].metric(
        t("fp.tier"), EMPTY if card["tier"] is None else tier_caption(card["tier"], rules)
    )
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
                "label": [
                    t("fp.threshold", tier=x.tier, score=x.min_score) for x in rules.tiers[:-1]
                ],
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
        text_marks = text_marks.encode(
            alt.Y(f"{score}:Q", title=score), x=alt.value(0), text="label"
        )
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
            ["evidence_type", "evidence_doc_no", "severity", "category", "valid_from",
             "valid_until", "collected_on", "points", "multiplier", "status", "veto", "rule"],
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

    return card["as_of"]


def report_button(uscc: str, as_of: date | None, user: User) -> None:
    """The credit report (PDF) of `uscc` as of `as_of`, made on click and audit-logged."""
    from warehouse.connection import Warehouse
    from warehouse.credit_report import ReportError, log_report, report_bytes
    from warehouse.report_pdf import ReportFontMissingError

    if as_of is None:
        return

    def pdf() -> bytes:
        try:
            data, facts = report_bytes(Warehouse(path=str(warehouse_file())), uscc, as_of)
        except (ReportError, ReportFontMissingError) as exc:
            for line in str(exc).replace(" / ", "\n").splitlines():
                st.error(plain(line))
            return b""
        log_report(Warehouse(path=str(warehouse_file())), facts, "dashboard", user.username)
        return data

    st.download_button(
        t("fp.report"),
        data=pdf,
        file_name=f"信用报告_{uscc}_{as_of.isoformat()}.pdf",
        mime="application/pdf",
        on_click="ignore",
    )
