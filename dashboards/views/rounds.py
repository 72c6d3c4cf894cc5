"""抽查计划 Rounds: office filter, plan (draft marked), calendar notes, each class's inclusion
probability, exclusions, strata, tracking (planned / done / overdue), publication deadlines,
findings by tier and for the control share, assignments (centre and managers only: it shows
inspectors)."""

import json
import os
from datetime import date

import altair as alt
import polars as pl
import streamlit as st

from dashboards.i18n import column, lang, t
from dashboards.queries import rounds as q
from dashboards.ui import (
    DAY_AXIS,
    day_axis,
    firm_type_label,
    get,
    label_of,
    labelled,
    plain,
    say,
    table,
)
from models.sampling.calendar import LIBRARY_SOURCE
from models.sampling.feedback import deadline_list

# The tracking table's `status` is an inspection's (planned / done / overdue). A comment, not a
# docstring: Streamlit would show a bare string on the page.
TRACKING_CODES = {"status": "inspection_status", "deadline_status": "deadline_status"}


def _half(text: str) -> str:
    """A stored `中文 / English` line: the half of the session's language."""
    zh, _, en = text.partition(" / ")
    return en if lang() == "en" and en else zh


def _calendar_source(source: str) -> str:
    """The calendar's source in the session's language (the library's name is stored in
    English; a supplied notice's title as the centre wrote it)."""
    return source.replace(LIBRARY_SOURCE, t("rd.calendar.library")).replace(
        "other years:", t("rd.calendar.other")
    )


def _today() -> date:
    """The processing date the runs use (`RENFANG_TODAY`), else today."""
    given = os.environ.get("RENFANG_TODAY")
    try:
        return date.fromisoformat(given) if given else date.today()
    except ValueError:
        return date.today()


st.title(t("page.rounds"))

rounds = get(q.rounds, None)
if rounds.is_empty():
    st.info(t("rd.none"))
    st.stop()

offices = sorted(set(rounds["office"].to_list()))
office = st.selectbox(
    t("rd.office"), [None, *offices], format_func=lambda o: plain(o) if o else t("all")
)
if office is not None:
    rounds = rounds.filter(pl.col("office") == office)

today = _today()
deadlines = deadline_list(get(q.tracking, q.Tracking(today=today, office=office)))
st.subheader(t("rd.deadlines"))
if deadlines.is_empty():
    st.success(t("rd.no_deadlines"))
else:
    table(deadlines, ["round_id", "uscc", "name", "planned_date", "inspected_on",
                      "publication_deadline", "public_on", "deadline_status",
                      "working_days_left"], codes=TRACKING_CODES)  # fmt: skip

status_of = dict(zip(rounds["round_id"], rounds["status"], strict=True))
office_of = dict(zip(rounds["round_id"], rounds["office_name"], strict=True))
round_id = st.selectbox(
    t("rd.pick"),
    rounds["round_id"].to_list(),
    format_func=lambda r: t(
        "rd.option", round=r, status=f"{label_of('round_status', status_of[r])} · {office_of[r]}"
    ),
)
plan = rounds.filter(pl.col("round_id") == round_id).row(0, named=True)
selected = q.Round(round_id)
outcomes = get(q.progress, selected)

if plan["status"] != "published":
    st.warning(t("rd.draft_banner"))
for note in (plan["calendar_notes"] or "").splitlines():
    st.warning(plain(_half(note)))

cols = st.columns(6)
cols[0].metric(t("rd.status"), label_of("round_status", plan["status"]))
cols[1].metric(t("rd.office"), plan["office_name"])
cols[2].metric(t("rd.pool"), f"{plan['pool_size']:,d}")
cols[3].metric(t("rd.drawn"), f"{plan['drawn']:,d}")
cols[4].metric(t("rd.control"), f"{plan['control']:,d}")
inspected = int(outcomes["inspected"].cast(pl.Int64).max() or 0) if outcomes.height else 0  # type: ignore[arg-type]  # an Int64 column's max is an int or None
cols[5].metric(t("rd.inspected"), f"{inspected:,d}")
st.caption(
    plain(f"{plan['window_start'].isoformat()} — {plan['window_end'].isoformat()}") + " · "
    + say("rd.seed", seed=plan["seed"], algo=plan["algorithm_version"], sha=plan["plan_sha256"])
)  # fmt: skip
if plan["published_on"] is not None or plan["first_inspection_day"] is not None:
    st.caption(
        say(
            "rd.facts",
            office=plan["office_name"],
            scope="、".join(plan["scope_districts"] or []) or t("all"),
            partners="、".join(plan["partner_departments"] or []) or "—",
            published=plan["published_on"] or "—",
            first=plan["first_inspection_day"] or "—",
        )
    )
if plan["calendar_source"]:
    st.caption(say("rd.calendar", source=_calendar_source(plan["calendar_source"])))
if plan["backdated"]:
    st.info(say("rd.backdated", reason=plan["backdate_reason"] or "—"))

left, right = st.columns(2)
with left:
    st.subheader(t("rd.tiers"))
    table(get(q.tiers, selected))
    if plan["monotone"] is False:
        st.warning(t("rd.not_monotone"))
with right:
    st.subheader(t("rd.excluded"))
    excluded = json.loads(plan["excluded_by_reason"] or "{}")
    table(
        pl.DataFrame(
            {"excluded_reason": list(excluded), "count": list(excluded.values())},
            schema={"excluded_reason": pl.Utf8, "count": pl.Int64},
        )
    )

left, right = st.columns(2)
with left:
    st.subheader(t("rd.strata"))
    strata = get(q.strata, selected)
    if not strata.is_empty():  # the stratum's words, not its key (`C/protective_equipment`)
        words = [
            f"{tier} · {firm_type_label(firm_type, short=True)}"
            for tier, firm_type in strata.select("tier", "firm_type").iter_rows()
        ]
        strata = strata.with_columns(stratum=pl.Series(words, dtype=pl.Utf8))
    table(strata, ["stratum", "pool", "ratio", "n_required", "n_drawn"])
with right:
    st.subheader(t("rd.findings"))
    findings = get(q.findings, selected)
    if findings.is_empty() or not findings["inspected"].sum():
        st.info(t("rd.no_findings"))
    else:
        shown = findings.with_columns(
            group=pl.when(pl.col("is_control"))
            .then(pl.lit(t("rd.group.control")))
            .otherwise(pl.lit(t("rd.group.drawn")))
        )
        chart = (
            alt.Chart(labelled(shown))
            .mark_bar()
            .encode(
                alt.X(f"{column('tier')}:N", axis=alt.Axis(labelAngle=0)),
                alt.Y(f"{column('finding_rate')}:Q", axis=alt.Axis(format="%")),
                alt.Color(f"{column('group')}:N"),
                alt.XOffset(f"{column('group')}:N"),
            )
        )
        st.altair_chart(chart, width="stretch")
    table(findings)

st.subheader(t("rd.tracking"))
tracked = get(q.tracking, q.Tracking(today=today, round_id=round_id))
if tracked.is_empty():
    st.info(t("no_data"))
else:
    counts = dict(tracked.group_by("status").len().iter_rows())
    for col, key in zip(st.columns(3), ("planned", "done", "overdue"), strict=True):
        col.metric(t(f"rd.{key}"), f"{counts.get(key, 0):,d}")
    table(tracked, ["uscc", "name", "planned_date", "status", "inspected_on", "result",
                    "publication_deadline", "deadline_status"], codes=TRACKING_CODES)  # fmt: skip

st.subheader(t("rd.progress"))
if outcomes.is_empty():
    st.info(t("no_data"))
else:
    series = outcomes.unpivot(index="day", on=["planned", "inspected"], variable_name="series")
    series = series.with_columns(
        pl.col("series").replace({s: column(s) for s in ("planned", "inspected")})
    )
    chart = (
        alt.Chart(series.rename({"day": column("day"), "value": column("firms")}))
        .mark_line(point=True, interpolate="step-after")
        .encode(
            alt.X(f"{column('day')}:T", axis=day_axis(column("day"))),
            alt.Y(f"{column('firms')}:Q", title=column("firms")),
            alt.Color("series:N", title=None),
            tooltip=[alt.Tooltip(f"{column('day')}:T", format=DAY_AXIS), "series",
                     column("firms")],
        )
    )  # fmt: skip
    st.altair_chart(chart, width="stretch")

st.subheader(t("rd.assignments"))
table(get(q.assignments, selected))
