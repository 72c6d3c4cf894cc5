"""The dashboards' entry point: log-in, language, and the router that enforces roles.

What belongs here: navigation only. Every page is registered (so a typed URL reaches the
router), the menu shows the user's pages, and a page the user's role does not list is
refused here, before its module runs a single query. What does not: page content
(dashboards.views), queries (dashboards.queries), who may see what (dashboards/roles.yaml).

Run: `streamlit run dashboards/streamlit_app.py` (or `make ui`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only this folder on the path
    sys.path.insert(0, str(ROOT))

from dashboards.auth import PAGES, allowed_pages, authenticate, load_roles, may, may_open  # noqa: E402
from dashboards.data import clear_cache  # noqa: E402
from dashboards.i18n import LANG_KEY, lang, t  # noqa: E402
from dashboards.ui import USER_KEY, freshness_banner  # noqa: E402

MAX_FAILURES = 5
LOCKOUT_SECONDS = 30
ICONS = {
    "overview": ":material/dashboard:",
    "firm_profile": ":material/domain:",
    "rounds": ":material/shuffle:",
    "data_quality": ":material/fact_check:",
    "validation": ":material/query_stats:",
    "tier_list": ":material/format_list_numbered:",
    "round_results": ":material/campaign:",
    "cases": ":material/gavel:",
    "public_lists": ":material/policy:",
}


def login_form() -> None:
    """Username + password checked against the bcrypt hashes of the users file; a few
    failures lock the form for a while (slows password guessing)."""
    st.title(t("app.title"))
    locked_until = st.session_state.get("locked_until", 0.0)
    with st.form("login"):
        st.subheader(t("login.title"))
        username = st.text_input(t("login.username"))
        password = st.text_input(t("login.password"), type="password")
        submitted = st.form_submit_button(t("login.submit"), type="primary")
    if not submitted:
        return
    if time.monotonic() < locked_until:
        st.error(t("login.throttled", seconds=int(locked_until - time.monotonic()) + 1))
        return
    user = authenticate(username, password)
    if user is None:
        failures = st.session_state.get("failures", 0) + 1
        st.session_state["failures"] = failures
        if failures >= MAX_FAILURES:
            st.session_state["locked_until"] = time.monotonic() + LOCKOUT_SECONDS
            st.session_state["failures"] = 0
        st.error(t("login.failed"))
        return
    st.session_state[USER_KEY] = user
    st.session_state["failures"] = 0
    st.rerun()


def main() -> None:
    st.set_page_config(page_title=t("app.title"), page_icon="🛡️", layout="wide")
    st.sidebar.radio(
        t("lang.label"),
        ["zh", "en"],
        format_func=lambda code: "中文" if code == "zh" else "English",
        key=LANG_KEY,
        horizontal=True,
    )
    user = st.session_state.get(USER_KEY)
    # Every page keeps its own URL (a bookmark or a typed URL reaches the router and is
    # checked); "/" is a landing entry that sends each role to its first page.
    home = st.Page(lambda: None, title=t("app.title"), url_path="home", default=True)
    pages = {
        key: st.Page(
            ROOT / "dashboards" / "views" / f"{key}.py",
            title=t(f"page.{key}"),
            icon=ICONS[key],
            url_path=key,
        )
        for key in PAGES
    }
    current = st.navigation([home, *pages.values()], position="hidden")
    if user is None:
        login_form()
        return
    if current.url_path == home.url_path:
        st.switch_page(pages[allowed_pages(user)[0]])
    role = load_roles().roles[user.role].label(lang())
    freshness_banner()
    with st.sidebar:
        st.caption(t("signed_in", name=user.name, role=role))
        for key in allowed_pages(user):
            st.page_link(pages[key], label=t(f"page.{key}"), icon=ICONS[key])
        if may(user, "refresh") and st.button(t("refresh")):
            clear_cache()
        if st.button(t("logout")):
            del st.session_state[USER_KEY]
            st.rerun()
    page = next(key for key, p in pages.items() if p.url_path == current.url_path)
    if not may_open(user, page):
        st.title(t(f"page.{page}"))
        st.error(t("refused", role=role))
        return
    current.run()


main()
