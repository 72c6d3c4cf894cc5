"""Shared drawing helpers for the page modules: the session's user, fetching with clear
errors, data shown as plain text, labelled and formatted tables, and the charts every page
draws the same way.

What belongs here: what every page repeats — run a query and stop with a zh/en message when
the warehouse is missing or busy; show data as text, never as markup; show a frame with
translated headers, code labels from the catalogue (models/labels.yaml) and the formats
people expect (dates 2025-10-23, rates 99.8%, scores 72.0, empty cells "—"); tier charts with
the tiers' fixed colours and axes that say the year. What does not: page content
(dashboards.views) or SQL (dashboards.queries).

User text is never markup: `st.title`, `subheader`, `caption`, `markdown`, `error`, `info`,
`warning`, `success` and metric labels render Markdown (links, images that the browser
fetches, Streamlit's `:red[…]` and `:icon:` directives, `$…$` formulas, bare URLs). Every
string built from data goes through `plain` (or `say`, for a message with data in it);
`tests/unit/dashboards/test_ui.py` fails on a call that passes anything else. Tables and
charts show values as text already.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import duckdb
import polars as pl
import streamlit as st

from dashboards.auth import User
from dashboards.data import WarehouseBusyError, WarehouseMissingError, fetch, warehouse_file
from dashboards.i18n import column, lang, t
from models.labels import default_labels
from models.listing import STEPS
from models.normalise import plain_text
from models.rules import RuleSet
from warehouse.staging import live_state, update_in_progress

F = TypeVar("F")
R = TypeVar("R")
USER_KEY = "user"
EMPTY = "—"
"""What an empty cell shows (never "None" or "nan")."""

MONTH_AXIS = "%Y-%m"
DAY_AXIS = "%Y-%m-%d"


_MARKDOWN = re.compile("([" + re.escape(string.punctuation) + "])")
_AUTOLINK = re.compile(r"(?i)(://|www(?=\.)|@)")
WORD_JOINER = "\u2060"


def plain(value: object) -> str:
    """`value` as literal text for a widget that renders Markdown: one line (control and
    bidi characters out, `models.normalise.plain_text`) and every ASCII punctuation
    character backslash-escaped — CommonMark allows escaping any of them, so no link, image,
    emphasis, heading, HTML tag, formula or Streamlit directive can form, and the text reads
    exactly as stored. Bare URLs and e-mail addresses are linked by GitHub-flavoured
    Markdown after escapes are resolved, so an invisible WORD JOINER (U+2060) goes after
    `://`, `www` and `@`: `http://evil.example` stays text."""
    text = _AUTOLINK.sub(lambda m: m.group(1) + WORD_JOINER, plain_text(str(value)))
    return _MARKDOWN.sub(r"\\\1", text)


def say(key: str, **values: object) -> str:
    """`t(key, …)` with every value shown as plain text (the template's own Markdown, such
    as a `command`, is kept). Numbers stay numbers, so the template can format them
    (`{n:,d}`): a number carries no markup."""
    return t(
        key,
        **{
            name: value if isinstance(value, int | float) else plain(value)
            for name, value in values.items()
        },
    )


def current_user() -> User:
    """The logged-in user (the router never runs a page without one)."""
    user = st.session_state.get(USER_KEY)
    assert isinstance(user, User), "pages run only after login"
    return user


def get(query: Callable[[duckdb.DuckDBPyConnection, F], R], filters: F) -> R:
    """A query's result; on a missing or busy warehouse, say so in zh/en and stop the page."""
    try:
        return fetch(query, filters)
    except WarehouseMissingError:
        st.error(say("warehouse.missing", path=warehouse_file()))
    except WarehouseBusyError:
        st.warning(t("warehouse.busy"))
    st.stop()


def labelled(
    frame: pl.DataFrame, codes: Mapping[str, str] | None = None, *, short: bool = False
) -> pl.DataFrame:
    """Codes as words in the session's language (catalogue), headers translated; values
    keep their types (for charts)."""
    out = default_labels().labelled(frame, lang(), codes, short=short)
    return out.rename({c: column(c) for c in out.columns})


def label_of(kind: str, value: str, *, short: bool = False) -> str:
    return default_labels().code(kind, value, lang(), short=short)


def firm_type_label(code: str, *, short: bool = False) -> str:
    return default_labels().firm_type(code, lang(), short=short)


def term(text: str) -> str:
    """A stored Chinese term in the session's language."""
    return default_labels().term(text, lang())


def without_codes(text: str) -> str:
    """A stored message without the canonical column names it quotes: `表彰日期(awarded_on)：…`
    reads `表彰日期：…`."""
    return re.sub(r"\s?\([a-z][a-z0-9_]*\)", "", text)


def formatted(
    frame: pl.DataFrame, codes: Mapping[str, str] | None = None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The frame as a table shows it, and its column configuration.

    Codes become labels; dates read 2025-10-23 and times 2025-10-23 08:30; empty cells "—".
    Numbers stay numbers (they sort) with a display format from the catalogue — rates ×100 as
    99.8%, scores 72.0, points +5.0 — unless a column has empty cells: such a column is shown
    as formatted text, because a number column would show an empty cell as "None".
    """
    labels = default_labels()
    out = labels.labelled(frame, lang(), codes)
    exprs: list[pl.Expr] = []
    config: dict[str, Any] = {}
    header = headers(out.columns)
    for name, dtype in out.schema.items():
        kind = labels.column_format(name)
        value = pl.col(name)
        if dtype == pl.Date:
            exprs.append(value.dt.strftime(DAY_AXIS).fill_null(EMPTY))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(value.dt.strftime("%Y-%m-%d %H:%M").fill_null(EMPTY))
        elif isinstance(dtype, pl.List):
            exprs.append(value.cast(pl.List(pl.Utf8)).list.join("、").fill_null(EMPTY))
        elif dtype.is_numeric():
            series = out.get_column(name)
            if dtype.is_float():
                series = series.fill_nan(None)
                value = value.fill_nan(None)
            if series.null_count():
                exprs.append(number_text(value, kind).fill_null(EMPTY).alias(name))
            elif kind == "rate":
                exprs.append(value * 100)
                config[header[name]] = st.column_config.NumberColumn(format="%.1f%%")
            elif kind in ("score", "points", "number"):
                fmt = {"score": "%.1f", "points": "%+.1f", "number": "%.2f"}[kind]
                config[header[name]] = st.column_config.NumberColumn(format=fmt)
            elif kind == "count":
                config[header[name]] = st.column_config.NumberColumn(format="localized")
        elif dtype == pl.Utf8:
            exprs.append(value.fill_null(EMPTY))
        elif dtype == pl.Null:
            exprs.append(pl.lit(EMPTY).alias(name))
    out = out.with_columns(exprs) if exprs else out
    return out.rename(header), config


def headers(columns: Sequence[str]) -> dict[str, str]:
    """Each column's header; two columns with the same label are told apart (a table with
    duplicate headers cannot be shown)."""
    out: dict[str, str] = {}
    for name in columns:
        label = column(name)
        while label in out.values():
            label += " "
        out[name] = label
    return out


def number_text(value: pl.Expr, kind: str) -> pl.Expr:
    """A number as the text a table shows for it (used where a column has empty cells)."""
    match kind:
        case "rate":
            return pl.format("{}%", (value * 100).round(1))
        case "score":
            return value.round(1).cast(pl.Utf8)
        case "points":
            signed = value.round(1).cast(pl.Utf8)
            return pl.when(value > 0).then(pl.lit("+") + signed).otherwise(signed)
        case "count":
            return value.round(0).cast(pl.Int64).cast(pl.Utf8)
        case _:
            return value.round(2).cast(pl.Utf8)


def table(
    frame: pl.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    codes: Mapping[str, str] | None = None,
    column_config: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """A frame as an interactive table: translated headers, labels, formats (or 'no data')."""
    if frame.is_empty():
        st.info(t("no_data"))
        return
    shown, config = formatted(frame.select(list(columns)) if columns else frame, codes)
    config |= dict(column_config or {})
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, **kwargs)


def percent(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.1%}"


def score_text(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.1f}"


def tier_moves(movers: pl.DataFrame, rules: RuleSet) -> tuple[int, int]:
    """(upgrades, downgrades) by tier, best tier first in the rule set: a D → C move is an
    upgrade even when the score barely moved (comparing scores would call it either)."""
    rank = {definition.tier: i for i, definition in enumerate(rules.tiers)}
    before = movers["from_tier"].replace_strict(rank, default=None, return_dtype=pl.Int64)
    after = movers["to_tier"].replace_strict(rank, default=None, return_dtype=pl.Int64)
    return int((after < before).sum()), int((after > before).sum())


def tier_caption(tier: str, rules: RuleSet) -> str:
    """`A 信用风险低` — the tier with its published label in the rule set the scores were made
    with (never a name the law reserves for a decided list: `RuleSet.public_label`)."""
    if tier in rules.tier_names:
        return f"{tier} {rules.public_label(tier, lang())}"
    return tier


TIER_COLORS = {"A": "#2e7d32", "B": "#1976d2", "C": "#f9a825", "D": "#c62828"}


def tier_colors(tiers: Sequence[str]) -> list[str]:
    return [TIER_COLORS.get(tier, "#888888") for tier in tiers]


def tier_chart(frame: pl.DataFrame, x: str, *, y: str = "firms", horizontal: bool = False) -> None:
    """Firms per tier, stacked bars, in the tiers' fixed colours (A green … D red). Firm
    types are shown by their short labels (distinct in both languages), the full label in
    the tooltip."""
    import altair as alt  # streamlit's own chart library; imported where charts are drawn

    if frame.is_empty():
        st.info(t("no_data"))
        return
    data = labelled(frame, short=True)
    tooltip: list[Any] = [column(x), column("tier"), alt.Tooltip(f"{column(y)}:Q")]
    if "firm_type" in frame.columns:
        full = default_labels().firm_type_map(lang())
        data = data.with_columns(_full=frame.get_column("firm_type").replace(full))
        tooltip[0] = alt.Tooltip("_full:N", title=column("firm_type"))
    tiers = sorted(frame["tier"].unique().to_list())
    colour = alt.Color(
        f"{column('tier')}:N", scale=alt.Scale(domain=tiers, range=tier_colors(tiers))
    )
    across: alt.X | alt.Y = alt.X(f"{column(x)}:N", axis=alt.Axis(labelAngle=0, labelLimit=0))
    counts = alt.Axis(tickMinStep=1, format="d")
    amount: alt.X | alt.Y = alt.Y(f"sum({column(y)}):Q", title=column(y), axis=counts)
    if horizontal:
        across = alt.Y(f"{column(x)}:N", sort="-x", axis=alt.Axis(labelLimit=0))
        amount = alt.X(f"sum({column(y)}):Q", title=column(y), axis=counts)
    chart = alt.Chart(data).mark_bar().encode(across, amount, colour, tooltip=tooltip)
    st.altair_chart(chart, width="stretch")


def tier_trend(trend: pl.DataFrame, rules: RuleSet) -> None:
    """Firms per tier at each scoring date: one small line chart per tier, each on its own
    scale (a stacked area drowns the few C and D firms a manager watches under tier B),
    with the latest count and its change as the heading. Axes say the year (2025-04)."""
    import altair as alt

    if trend.is_empty():
        st.info(t("no_data"))
        return
    dates = trend.select("as_of").unique().sort("as_of")
    for col, definition in zip(st.columns(len(rules.tiers)), rules.tiers, strict=True):
        tier = definition.tier
        counts = (
            dates.join(trend.filter(pl.col("tier") == tier), on="as_of", how="left")
            .with_columns(pl.col("firms").fill_null(0), tier=pl.lit(tier))
            .sort("as_of")
        )
        latest = int(counts["firms"][-1])
        change = latest - int(counts["firms"][-2]) if counts.height > 1 else 0
        col.markdown(f"**{plain(tier_caption(tier, rules))}**")
        col.caption(say("ov.trend_value", n=latest, delta=change))
        data = labelled(counts.select("as_of", "tier", "firms"))
        chart = (
            alt.Chart(data)
            .mark_line(point=True)
            .encode(
                alt.X(
                    f"{column('as_of')}:T",
                    title=None,
                    axis=alt.Axis(format=MONTH_AXIS, labelAngle=-45, tickCount="month"),
                ),
                alt.Y(
                    f"{column('firms')}:Q",
                    title=column("firms"),
                    scale=alt.Scale(zero=False, nice=True),
                    axis=alt.Axis(tickMinStep=1, format="d"),
                ),
                tooltip=[
                    alt.Tooltip(f"{column('as_of')}:T", format=DAY_AXIS),
                    column("tier"),
                    column("firms"),
                ],
                color=alt.value(TIER_COLORS.get(tier, "#888888")),  # the line and its points
            )
            .properties(height=180)
        )
        col.altair_chart(chart, width="stretch")


def day_axis(title: str | None = None) -> Any:
    """A time axis in days (2025-10-23), never in hours, whatever the range."""
    import altair as alt

    return alt.Axis(
        format=DAY_AXIS,
        tickCount=alt.TimeIntervalStep(interval="day", step=1),
        labelAngle=-45,
        labelOverlap=True,
        title=title,
    )


def month_axis(title: str | None = None) -> Any:
    import altair as alt

    return alt.Axis(format=MONTH_AXIS, labelAngle=-45, title=title)


def freshness_banner() -> None:
    """While a run is writing, say that the pages show the last published state, and when it
    was made live (readers never see a half-written run: `warehouse.staging`)."""
    live = warehouse_file()
    if not live.exists() or not update_in_progress(live):
        return
    published = live_state(live).published_at
    when = published.strftime("%Y-%m-%d %H:%M") if published else "—"
    st.info(say("updating", when=when))


AUDIT_LIST_SHOWN = 5
"""Items of a list shown in an audit entry's detail (the rest counted): a feed's change
list can name hundreds of decisions."""


def audit_detail(detail: Mapping[str, Any]) -> str:
    """An audit entry's detail as a person reads it: each key by its label (the audit
    catalogue's, else a column's or a table's), coded values by theirs (a listing step by
    its name), yes/no for flags, long lists cut to their first items and a count. Empty
    values are left out."""
    zh = lang() == "zh"
    parts = [
        f"{_detail_key(key)}{'：' if zh else ': '}{_detail_value(key, value)}"
        for key, value in detail.items()
        if value not in (None, "", [], {})
    ]
    return ("；" if zh else "; ").join(parts) if parts else "—"


def _detail_key(key: str) -> str:
    labels = default_labels()
    for kind in ("audit_detail", "feed_state"):
        if key in labels.kinds.get(kind, {}):
            return labels.code(kind, key, lang())
    if key in labels.columns:
        return column(key)
    return labels.code("table", key, lang())


def _detail_value(key: str, value: Any) -> str:
    labels, zh = default_labels(), lang() == "zh"
    if isinstance(value, bool):
        return labels.code("boolean", str(value).lower(), lang())
    if isinstance(value, Mapping):
        return ("，" if zh else ", ").join(
            f"{_detail_key(k)} {_detail_value(k, v)}" for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        shown = ("、" if zh else ", ").join(_detail_value(key, v) for v in value[:AUDIT_LIST_SHOWN])
        if len(value) <= AUDIT_LIST_SHOWN:
            return shown
        return f"{shown} 等 {len(value)} 项" if zh else f"{shown} … ({len(value)} in all)"
    text = str(value)
    if key == "step" and text in STEPS:
        return STEPS[text][0 if zh else 1]
    for kind in ("audit_detail", "audit_action"):
        if text in labels.kinds.get(kind, {}):
            return labels.code(kind, text, lang())
    return text


def domain_error(exc: Exception) -> None:
    """A domain error whose message is `中文 / English`, shown in the session's language."""
    zh, _, en = str(exc).partition(" / ")
    st.error(plain(en if lang() == "en" and en else zh))
