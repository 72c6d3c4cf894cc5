"""The dashboards in a real browser (Debian's chromium through Playwright), against a real
Streamlit server on the fixture warehouse: each role logs in, opens each of its pages, sees
the warehouse's numbers, and is refused the pages it may not open; every page is walked in
Chinese and in English and must show no raw code, no "None"/"nan", no traceback and (in
Chinese) no English; the validation reports (Data Docs) render completely with every
request off the machine blocked. One server, one browser for the whole module. Screenshots
go to `artifacts/browser/` (gitignored; the path is printed at the end of the run)."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from fixtures.browser import download_on_click, new_context, settle, wait_for_session
from fixtures.landing import HOSTILE_NAMES
from fixtures.page_text import problems
from openpyxl import load_workbook
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from dashboards.auth import DEFAULT_USERS, User, allowed_pages, hash_password
from dashboards.i18n import TEXT
from models.contracts import SOURCE_ORDER
from pipelines.serve import streamlit_command
from warehouse.connection import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SHOTS = PROJECT_ROOT / "artifacts" / "browser"
PASSWORDS = {role: f"renfang-{role}" for role in ("centre", "manager", "association", "public")}
PROBE_PASSWORD = "probe-password-2025"
TITLES = {
    "overview": "总览",
    "firm_profile": "单位画像",
    "rounds": "抽查计划",
    "data_quality": "数据质量",
    "validation": "模型验证",
    "tier_list": "等级名单",
    "round_results": "抽查结果公示",
    "cases": "案件办理",
    "public_lists": "信用信息公示",
}
ROLE_ZH = {
    "centre": "监管中心",
    "manager": "领导/处室",
    "association": "行业协会",
    "public": "公众",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(command: list[str], port: int, probe: str, env: dict | None = None) -> Iterator[str]:
    """A local server started in its own process group, yielded once `probe` answers, and
    stopped (the whole group) afterwards."""
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{url}{probe}", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"{command[0]} did not answer within 60 s")
        yield url
    finally:
        os.killpg(process.pid, 9)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dashboards' sign-in state folder (failure counts, revoked sessions, the secret)."""
    return tmp_path_factory.mktemp("dashboard_state")


@pytest.fixture(scope="module")
def server(dashboard_warehouse: Path, state: Path) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    port = _free_port()
    users = state.parent / "users.yaml"  # the documented users, and one to lock out
    users.write_text(
        DEFAULT_USERS.read_text(encoding="utf-8")
        + f"    probe:\n      name: 探针\n      password: '{hash_password(PROBE_PASSWORD)}'\n"
        "      roles: [public]\n",
        encoding="utf-8",
    )
    env = {**os.environ, "RENFANG_WAREHOUSE": str(dashboard_warehouse),
           "RENFANG_REPORTS": str(dashboard_warehouse.parent / "reports"),
           "RENFANG_USERS": str(users), "RENFANG_STATE_DIR": str(state)}  # fmt: skip
    env.pop("RENFANG_DEMO_USERS", None)
    with serving(streamlit_command(port), port, "/_stcore/health", env) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright  # dev dependency: imported when used

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def login(page, url: str, role: str, password: str | None = None, *, wait: bool = True) -> None:
    page.goto(url)
    page.get_by_label("用户名").fill(role)
    page.get_by_label("密码").fill(password or PASSWORDS[role])
    page.get_by_role("button", name="登录").click()
    if wait:
        wait_for_session(page)


def metric(page, label: str) -> str:
    """The value of the metric labelled exactly `label` (抽取单位 is not 可抽取单位)."""
    exact = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    box = page.get_by_test_id("stMetric").filter(has=exact).first
    return box.get_by_test_id("stMetricValue").inner_text()


def sql(path: Path, query: str) -> object:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query).fetchall()[0][0]


def expected_numbers(path: Path) -> dict[str, dict[str, str]]:
    firms = str(sql(path, "SELECT count(*) FROM firms"))
    latest = (
        "SELECT count(*) FROM credit_scores WHERE as_of = (SELECT max(as_of) FROM credit_scores)"
    )
    b = str(sql(path, f"{latest} AND tier = 'B'"))
    return {
        "overview": {"单位数": firms, "B 信用风险一般": b},
        "tier_list": {"单位数": firms, "B 信用风险一般": b},
        "rounds": {"抽取单位": str(sql(path, "SELECT drawn FROM sampling_rounds"))},
        "round_results": {
            "抽查单位": str(sql(path, "SELECT drawn + control FROM sampling_rounds"))
        },
        "data_quality": {"隔离行数": str(sql(path, "SELECT count(*) FROM quarantine"))},
    }


def _wait_for_definitions(page, role: str) -> None:
    """The tier list's definitions, rendered after its table and before its downloads. When
    they never come (seen only under `-n 2`, the page's script still running after the
    chart), the failure keeps the page as it stood: a screenshot and its text."""
    try:
        page.get_by_text("等级定义").wait_for()
    except PlaywrightTimeoutError as exc:
        page.screenshot(path=SHOTS / f"{role}_tier_list_timeout.png", full_page=True)
        shown = page.inner_text("body")[:1500]
        raise AssertionError(f"the tier list never finished rendering:\n{shown}") from exc


@pytest.mark.parametrize("role", ["centre", "manager", "association", "public"])
def test_each_role_sees_its_pages_with_the_warehouse_numbers(
    server: str, browser, dashboard_warehouse: Path, role: str, tmp_path: Path
):
    numbers = expected_numbers(dashboard_warehouse)
    if role == "public":  # the public audience receives the A list only
        a_list = "SELECT count(*) FROM credit_scores WHERE tier = 'A' AND as_of = "
        a_list += "(SELECT max(as_of) FROM credit_scores)"
        numbers["tier_list"] = {"单位数": str(sql(dashboard_warehouse, a_list))}
    user = User(username=role, name=role, role=role)
    context = new_context(browser, viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    login(page, server, role)
    for key in allowed_pages(user):
        page.get_by_test_id("stSidebar").get_by_role("link", name=TITLES[key]).click()
        page.get_by_role("heading", name=TITLES[key], exact=True).first.wait_for()
        if key == "validation":
            page.get_by_text("尚无风险模型").wait_for()
        for label, value in numbers.get(key, {}).items():
            exact = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
            page.get_by_test_id("stMetric").filter(has=exact).first.wait_for()
            assert metric(page, label) == value, (role, key, label)
        if key == "overview" or (key == "tier_list" and numbers["tier_list"]["单位数"] != "0"):
            page.locator("[data-testid='stVegaLiteChart'] canvas, .vega-embed").first.wait_for()
        page.screenshot(path=SHOTS / f"{role}_{key}.png", full_page=True)
        if key == "tier_list" and role == "association":
            _wait_for_definitions(page, role)
            settle(page)  # a click while the page still reruns may find its file withdrawn
            saved = download_on_click(page, "下载等级名单（Excel）", tmp_path)
            assert saved.name == "信用等级名单_2025-12-31.xlsx"
            book = load_workbook(saved)
            assert book.sheetnames[0] == "封面" and len(book.sheetnames) == 6
            header = [c.value for c in book.worksheets[1][3]]
            assert header[:3] == ["序号", "统一社会信用代码", "单位名称"]
        elif key == "tier_list":
            _wait_for_definitions(page, role)
            button = page.get_by_role("button", name="下载等级名单（Excel）")
            expect(button).to_have_count(1 if role == "centre" else 0)
    context.close()

    forbidden = [
        k
        for k in ("overview", "firm_profile", "rounds", "data_quality")
        if k not in allowed_pages(user)
    ]
    for key in forbidden:
        context = new_context(browser, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        login(page, f"{server}/{key}", role)
        page.get_by_text(f"无权访问：您的角色（{ROLE_ZH[role]}）不能查看此页面。").wait_for()
        assert page.get_by_test_id("stMetric").count() == 0
        assert page.get_by_test_id("stDataFrame").count() == 0
        page.screenshot(path=SHOTS / f"{role}_{key}_refused.png", full_page=True)
        context.close()


# --- every page in both languages ----------------------------------------------------------

VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || !node.textContent.trim()) continue;
    // icons are ligature names (`dashboard`), drawn as glyphs; tables are read cell by cell
    if (el.closest('[data-testid="stIconMaterial"], [data-testid="stDataFrame"], script, style'))
      continue;
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    out.push(node.textContent.trim());
  }
  return out;
}"""
TABLE_CELLS = """() => Array.from(document.querySelectorAll(
  '[data-testid="stDataFrame"] table th, [data-testid="stDataFrame"] table td'
)).map(cell => cell.textContent)"""
"""Streamlit draws tables on a canvas; its accessible table holds the same cells (an empty
one is drawn as "None")."""


def walk_page(page, key: str, lang: str, uscc: str) -> list[str]:
    title = TEXT[f"page.{key}"][0 if lang == "zh" else 1]
    page.get_by_test_id("stSidebar").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title, exact=True).first.wait_for()
    if key == "firm_profile":  # a firm with many reasons, so every table has rows
        page.get_by_role("textbox").first.fill(uscc)
        page.keyboard.press("Enter")
        page.get_by_test_id("stDataFrame").first.wait_for()
    settle(page)
    for summary in page.locator("[data-testid='stExpander'] summary").all():
        summary.click()
    settle(page)
    page.screenshot(path=SHOTS / "walk" / f"{lang}_{key}.png", full_page=True)
    found = problems(page.evaluate(VISIBLE_TEXT), lang, cells=page.evaluate(TABLE_CELLS))
    if page.get_by_test_id("stException").count():
        found.append("an exception is shown")
    return [f"{lang} {key}: {p}" for p in found]


def test_every_page_reads_cleanly_in_chinese_and_in_english(
    server: str, browser, dashboard_warehouse: Path
):
    """The bilingual walk: as the centre (every page), each page in Chinese, then in English
    (the sidebar switch): no raw code, "None"/"nan", traceback, or English in Chinese; no
    Deploy button or developer menu (viewer mode)."""
    uscc = sql(
        dashboard_warehouse,
        "SELECT uscc FROM score_reasons WHERE as_of = DATE '2025-12-31' "
        "GROUP BY uscc ORDER BY count(*) DESC, uscc LIMIT 1",
    )
    (SHOTS / "walk").mkdir(parents=True, exist_ok=True)
    context = new_context(browser, viewport={"width": 1400, "height": 2400}, locale="zh-CN")
    page = context.new_page()
    login(page, server, "centre")
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)
    expect(page.get_by_text("Deploy", exact=True)).to_have_count(0)
    user = User(username="centre", name="监管中心", role="centre")
    found: list[str] = []
    for lang in ("zh", "en"):
        if lang == "en":
            page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
            page.get_by_text("Signed in:").wait_for()
        for key in allowed_pages(user):
            found += walk_page(page, key, lang, str(uscc))
    context.close()
    assert not found, "\n".join(found)


# --- the validation reports with the network off ------------------------------------------


@pytest.fixture(scope="module")
def docs_server(dashboard_warehouse: Path) -> Iterator[str]:
    """The reports folder served as `renfang ui` serves it (http.server on 127.0.0.1)."""
    import sys

    port = _free_port()
    docs = dashboard_warehouse.parent / "reports" / "gx_docs"
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
               "--directory", str(docs)]  # fmt: skip
    with serving(command, port, "/index.html") as url:
        yield url


def test_the_validation_reports_render_completely_offline(docs_server: str, browser):
    """An intranet without internet access: every request that leaves the docs server is
    blocked (and recorded); the index and every report still render in full."""
    context = new_context(browser, viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    blocked: list[str] = []
    failed: list[str] = []

    def only_the_docs_server(route) -> None:
        if route.request.url.startswith(docs_server):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_docs_server)
    page = context.new_page()
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(f"{docs_server}/index.html")
    page.get_by_role("heading", name="数据质量检查报告").wait_for()
    links = page.locator("tbody a")
    assert links.count() == len(SOURCE_ORDER)  # one report per source of the latest run
    page.screenshot(path=SHOTS / "docs_index.png", full_page=True)
    for i in range(links.count()):
        page.goto(f"{docs_server}/index.html")
        page.locator("tbody a").nth(i).click()
        page.get_by_role("heading").first.wait_for()
        rows = page.locator("tbody tr")
        assert rows.count() >= 10, page.url  # every expectation of the suite is listed
        assert page.locator("tr.fail").count() == 0
        assert page.get_by_text("通过").first.is_visible()
        if i == 0:
            page.screenshot(path=SHOTS / "docs_page.png", full_page=True)
    context.close()
    assert not blocked, blocked  # nothing from a CDN, fonts or images elsewhere
    assert not failed, failed


def test_markdown_and_url_firm_names_render_as_text(server: str, browser) -> None:
    """A firm named with a Markdown link and image, and one named by a URL: the profile's
    heading shows the text as stored; no link, no image, no request leaves for them."""
    context = new_context(browser, viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, server, "centre")
    for uscc, name in HOSTILE_NAMES.items():
        page.goto(f"{server}/firm_profile?q={uscc}")  # a new page load: the cookie signs in
        deadline = time.monotonic() + 30
        while name not in _headings(page):  # shown as stored (a word joiner breaks autolinks)
            assert time.monotonic() < deadline, _headings(page)
            time.sleep(0.2)
        links = page.locator("a[href*='evil.example']")
        assert links.count() == 0, links.first.evaluate("e => e.outerHTML")
        assert page.locator("img[src*='track.png']").count() == 0
        page.screenshot(path=SHOTS / f"hostile_name_{uscc}.png", full_page=True)
    assert not [url for url in requested if "evil.example" in url or "track.png" in url]
    context.close()


def test_a_reload_keeps_the_session_and_signing_out_revokes_it(server: str, browser) -> None:
    context = new_context(browser, viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    login(page, server, "manager")
    page.reload()
    page.get_by_text("当前用户：").wait_for()  # no sign-in form after the reload
    assert page.get_by_label("密码").count() == 0
    cookies = [c for c in context.cookies() if c["name"] == "renfang_session"]
    assert cookies and cookies[0]["sameSite"] == "Strict"
    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("密码").wait_for()
    page.reload()
    page.get_by_label("密码").wait_for()
    context.close()
    replay = new_context(browser, viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    replay.add_cookies(cookies)  # the signed-out token, kept by someone: refused
    page = replay.new_page()
    page.goto(server)
    page.get_by_label("密码").wait_for()
    assert page.get_by_text("当前用户：").count() == 0
    replay.close()


def test_a_lockout_holds_across_two_browser_sessions(server: str, browser, state: Path) -> None:
    """Five wrong passwords in one browser session lock the name: a second session (a new
    browser context, no shared cookie) is refused even with the right password."""
    first = new_context(browser, viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = first.new_page()
    for attempt in range(1, 6):
        login(page, server, "probe", f"wrong-{attempt}", wait=False)
        deadline = time.monotonic() + 30
        while _failures(state, "probe") < attempt:  # the server has counted this attempt
            assert time.monotonic() < deadline, f"attempt {attempt} was never answered"
            time.sleep(0.1)
        page.get_by_text("用户名或密码错误。").wait_for()
    first.close()
    second = new_context(browser, viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = second.new_page()
    login(page, server, "probe", PROBE_PASSWORD, wait=False)
    page.get_by_text("登录失败次数过多").wait_for()
    assert page.get_by_text("当前用户：").count() == 0
    page.screenshot(path=SHOTS / "locked_out.png", full_page=True)
    second.close()


def _headings(page) -> list[str]:
    return [h.replace("\u2060", "") for h in page.locator("h1, h2, h3").all_inner_texts()]


def _failures(state: Path, username: str) -> int:
    with sqlite3.connect(state / "signin.sqlite3") as con:
        row = con.execute(
            "SELECT failures FROM failures WHERE kind = 'user' AND key = ?", [username]
        ).fetchone()
    return row[0] if row else 0
