"""The dashboards' entry point: sign-in, language, and the router that enforces roles.

What belongs here: navigation and the sign-in flow. Every page is registered (so a typed URL
reaches the router), the menu shows the user's pages, and a page the user's role does not
list is refused here, before its module runs a single query. Without `RENFANG_USERS` and
without the demo flag nothing but the refusal is shown. Sign-in failures are throttled on
the server and a signed-in session is kept in a cookie holding a signed, expiring token, so
a reload keeps it; signing out revokes the token (dashboards.signin). What does not: page
content (dashboards.views), queries (dashboards.queries), who may see what
(dashboards/roles.yaml), the throttle's and the tokens' rules (dashboards.signin).

Run: `streamlit run dashboards/streamlit_app.py` (or `make ui`).
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only this folder on the path
    sys.path.insert(0, str(ROOT))

from dashboards.auth import (  # noqa: E402
    PAGES,
    AccessConfigError,
    User,
    allowed_pages,
    authenticate,
    load_roles,
    load_users,
    may,
    may_open,
    users_source,
)
from dashboards.data import clear_cache, warehouse_file  # noqa: E402
from dashboards.i18n import LANG_KEY, lang, t  # noqa: E402
from dashboards.signin import (  # noqa: E402
    Sessions,
    Throttle,
    client_address,
    session_hours,
    session_secret,
    state_dir,
)
from dashboards.ui import USER_KEY, freshness_banner, plain, say  # noqa: E402

TOKEN_KEY = "session_token"
COOKIE = "renfang_session"
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


@st.cache_resource
def _state(folder: str) -> tuple[Throttle, Sessions]:
    """The sign-in throttle and the session signer of this state folder (one per process)."""
    path = Path(folder)
    return Throttle(path), Sessions(path, session_secret(path), session_hours())


def _signin_state() -> tuple[Throttle, Sessions]:
    return _state(str(state_dir(warehouse_file())))


def _client() -> str:
    return client_address(st.context.ip_address, st.context.headers.get("X-Forwarded-For"))


def _cookie() -> str | None:
    """The session cookie the browser sent when it connected (None without one)."""
    value = st.context.cookies.get(COOKIE)
    return value if isinstance(value, str) and value else None


def _cookie_script(token: str | None) -> None:
    """Keep the session token in a cookie (or drop it): a reload then finds the session.
    SameSite=Strict, Secure on HTTPS; the token itself is signed, expiring and revocable."""
    if token is None:
        value, age = '""', 0
    else:
        value, age = json.dumps(token), int(session_hours() * 3600)
    st.html(
        f"<script>document.cookie = '{COOKIE}=' + {value} + '; path=/; max-age={age}; "
        "samesite=strict' + (location.protocol === 'https:' ? '; secure' : '');</script>",
        unsafe_allow_javascript=True,
    )


def signed_in_user(users_file: Path) -> User | None:
    """The session's user: signed in in this tab, or restored from the cookie after a reload.
    Each run checks the token again, so a sign-out elsewhere or its expiry ends the session."""
    token = st.session_state.get(TOKEN_KEY) or _cookie()
    user = st.session_state.get(USER_KEY)
    if token is None:
        return user if isinstance(user, User) else None  # AppTest sets the user directly
    username = _signin_state()[1].verify(token, _client())
    entry = load_users(users_file).get(username) if username else None
    if username is None or entry is None:
        st.session_state.pop(USER_KEY, None)
        st.session_state.pop(TOKEN_KEY, None)
        return None
    user = User(username=username, name=entry.name, role=entry.roles[0])
    st.session_state[USER_KEY], st.session_state[TOKEN_KEY] = user, token
    return user


def login_form(demo: bool) -> None:
    """Username + password checked against the users file's bcrypt hashes. Failures are
    counted per name and per address on the server (dashboards.signin): each is answered
    after a growing delay, and enough of them lock the name or the address for a while."""
    st.title(t("app.title"))
    if demo:
        st.warning(t("login.demo"))
    if _cookie():  # a stale or revoked token: forget it
        _cookie_script(None)
    with st.form("login"):
        st.subheader(t("login.title"))
        username = st.text_input(t("login.username"))
        password = st.text_input(t("login.password"), type="password")
        submitted = st.form_submit_button(t("login.submit"), type="primary")
    if not submitted:
        return
    throttle, sessions = _signin_state()
    client = _client()
    wait = throttle.locked_for(username, client)
    if wait > 0:
        st.error(say("login.throttled", minutes=math.ceil(wait / 60)))
        return
    user = authenticate(username, password)
    if user is None:
        time.sleep(throttle.failed(username, client))
        st.error(t("login.failed"))
        return
    throttle.succeeded(username)
    st.session_state[USER_KEY] = user
    st.session_state[TOKEN_KEY] = sessions.issue(user.username, client)
    st.rerun()


def sign_out() -> None:
    token = st.session_state.pop(TOKEN_KEY, None) or _cookie()
    if token:
        _signin_state()[1].revoke(token)
    st.session_state.pop(USER_KEY, None)
    st.rerun()


def main() -> None:
    st.set_page_config(page_title=t("app.title"), page_icon="🛡️", layout="wide")
    try:  # no users file and no demo flag: refuse to serve anything
        users_file, demo = users_source()
        load_users(users_file)
    except (AccessConfigError, OSError) as exc:
        st.title(t("app.title"))
        for line in str(exc).splitlines():
            st.error(plain(line))
        st.stop()
    st.sidebar.radio(
        t("lang.label"),
        ["zh", "en"],
        format_func=lambda code: "中文" if code == "zh" else "English",
        key=LANG_KEY,
        horizontal=True,
    )
    user = signed_in_user(users_file)
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
        login_form(demo)
        return
    if current.url_path == home.url_path:
        st.switch_page(pages[allowed_pages(user)[0]])
    role = load_roles().roles[user.role].label(lang())
    freshness_banner()
    with st.sidebar:
        token = st.session_state.get(TOKEN_KEY)
        if token and _cookie() != token:
            _cookie_script(token)
        if demo:
            st.caption(t("login.demo_short"))
        # a user named after their role ("监管中心") is not shown twice
        key = "signed_in_as" if user.name == role else "signed_in"
        st.caption(say(key, name=user.name, role=role))
        for key in allowed_pages(user):
            st.page_link(pages[key], label=t(f"page.{key}"), icon=ICONS[key])
        if may(user, "refresh") and st.button(t("refresh")):
            clear_cache()
        if st.button(t("logout")):
            sign_out()
    page = next(key for key, p in pages.items() if p.url_path == current.url_path)
    if not may_open(user, page):
        st.title(t(f"page.{page}"))
        st.error(say("refused", role=role))
        return
    current.run()


main()
