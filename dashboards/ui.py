"""Shared drawing helpers for the page modules: the session's user, fetching with clear
errors, data shown as plain text, labelled tables and charts.

What belongs here: what every page repeats (run a query and stop with a zh/en message when
the warehouse is missing or busy; show data as text, never as markup; show a frame with
translated headers and code labels). What does not: page content (dashboards.views) or SQL
(dashboards.queries).

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
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import duckdb
import polars as pl
import streamlit as st

from dashboards.auth import User
from dashboards.data import WarehouseBusyError, WarehouseMissingError, fetch, warehouse_file
from dashboards.i18n import column, lang, t
from models.labels import default_labels
from models.normalise import plain_text
from models.rules import RuleSet

F = TypeVar("F")
R = TypeVar("R")
USER_KEY = "user"


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
    as a `command`, is kept)."""
    return t(key, **{name: plain(value) for name, value in values.items()})


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


def labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Firm types and results as words in the session's language; headers translated."""
    labels = default_labels()
    out = frame
    if "firm_type" in out.columns:
        out = out.with_columns(pl.col("firm_type").replace(labels.firm_type_map(lang())))
    if "result" in out.columns and lang() == "en":
        out = out.with_columns(pl.col("result").replace(labels.result_map("en")))
    return out.rename({c: column(c) for c in out.columns})


def table(frame: pl.DataFrame, columns: Sequence[str] | None = None, **kwargs: Any) -> None:
    """A frame as an interactive table with translated headers (or 'no data')."""
    if frame.is_empty():
        st.info(t("no_data"))
        return
    shown = frame.select(list(columns)) if columns else frame
    st.dataframe(labelled(shown), hide_index=True, width="stretch", **kwargs)


def tier_caption(tier: str, rules: RuleSet) -> str:
    """`A 信用风险低` — the tier with its label in the rule set the scores were made with."""
    for definition in rules.tiers:
        if definition.tier == tier:
            return f"{tier} {definition.label_zh if lang() == 'zh' else definition.label_en}"
    return tier


TIER_COLORS = {"A": "#2e7d32", "B": "#1976d2", "C": "#f9a825", "D": "#c62828"}


def tier_colors(tiers: Sequence[str]) -> list[str]:
    return [TIER_COLORS.get(tier, "#888888") for tier in tiers]


def tier_chart(
    frame: pl.DataFrame, x: str, *, y: str = "firms", kind: str = "bar", horizontal: bool = False
) -> None:
    """Firms per tier, stacked, in the tiers' fixed colours (A green … D red)."""
    import altair as alt  # streamlit's own chart library; imported where charts are drawn

    if frame.is_empty():
        st.info(t("no_data"))
        return
    data = labelled(frame)
    tiers = sorted(frame["tier"].unique().to_list())
    colour = alt.Color(
        f"{column('tier')}:N", scale=alt.Scale(domain=tiers, range=tier_colors(tiers))
    )
    x_type = "T" if frame.schema[x] == pl.Date else "N"
    across: alt.X | alt.Y = alt.X(f"{column(x)}:{x_type}")
    amount: alt.X | alt.Y = alt.Y(f"sum({column(y)}):Q", title=column(y))
    if horizontal:
        across = alt.Y(f"{column(x)}:N", sort="-x")
        amount = alt.X(f"sum({column(y)}):Q", title=column(y))
    mark = alt.Chart(data).mark_area() if kind == "area" else alt.Chart(data).mark_bar()
    chart = mark.encode(across, amount, colour, tooltip=list(data.columns))
    st.altair_chart(chart, width="stretch")
