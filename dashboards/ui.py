"""Shared drawing helpers for the page modules: the session's user, fetching with clear
errors, labelled tables and charts.

What belongs here: what every page repeats (run a query and stop with a zh/en message when
the warehouse is missing or busy; show a frame with translated headers and code labels).
What does not: page content (dashboards.views) or SQL (dashboards.queries).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import duckdb
import polars as pl
import streamlit as st

from dashboards.auth import User
from dashboards.data import WarehouseBusyError, WarehouseMissingError, fetch, warehouse_file
from dashboards.i18n import column, lang, t
from models.labels import default_labels
from models.rules import RuleSet
from warehouse.staging import live_state, update_in_progress

F = TypeVar("F")
R = TypeVar("R")
USER_KEY = "user"


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
        st.error(t("warehouse.missing", path=warehouse_file()))
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
    """`A 信用风险低` — the tier with its published label in the rule set the scores were made
    with (never a name the law reserves for a decided list: `RuleSet.public_label`)."""
    if tier in rules.tier_names:
        return f"{tier} {rules.public_label(tier, lang())}"
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


def freshness_banner() -> None:
    """While a run is writing, say that the pages show the last published state, and when it
    was made live (readers never see a half-written run: `warehouse.staging`)."""
    live = warehouse_file()
    if not live.exists() or not update_in_progress(live):
        return
    published = live_state(live).published_at
    when = published.strftime("%Y-%m-%d %H:%M") if published else "—"
    st.info(t("updating", when=when))
