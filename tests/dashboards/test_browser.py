"""The dashboards in a real browser (Debian's chromium through Playwright), against a real
Streamlit server on the fixture warehouse: each role logs in, opens each of its pages, sees
the warehouse's numbers, and is refused the pages it may not open. Screenshots go to
`artifacts/browser/` (gitignored)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from dashboards.auth import User, allowed_pages
from pipelines.serve import streamlit_command
from warehouse.connection import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
SHOTS = PROJECT_ROOT / "artifacts" / "browser"
PASSWORDS = {role: f"renfang-{role}" for role in ("centre", "manager", "association", "public")}
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


@pytest.fixture(scope="module")
def server(dashboard_warehouse: Path) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    port = _free_port()
    env = {**os.environ, "RENFANG_WAREHOUSE": str(dashboard_warehouse),
           "RENFANG_REPORTS": str(dashboard_warehouse.parent / "reports")}  # fmt: skip
    env.pop("RENFANG_USERS", None)  # the documented default users
    process = subprocess.Popen(
        streamlit_command(port), cwd=PROJECT_ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the dashboard server did not answer within 60 s")
        yield url
    finally:
        os.killpg(process.pid, 9)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright  # dev dependency: imported when used

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def login(page, url: str, role: str) -> None:
    page.goto(url)
    page.get_by_label("用户名").fill(role)
    page.get_by_label("密码").fill(PASSWORDS[role])
    page.get_by_role("button", name="登录").click()
    page.get_by_text("当前用户：").wait_for()


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
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
        "round_results": {"抽查单位": str(sql(path, "SELECT drawn FROM sampling_rounds"))},
        "data_quality": {"隔离行数": str(sql(path, "SELECT count(*) FROM quarantine"))},
    }


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
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    login(page, server, role)
    for key in allowed_pages(user):
        page.get_by_test_id("stSidebar").get_by_role("link", name=TITLES[key]).click()
        page.get_by_role("heading", name=TITLES[key], exact=True).first.wait_for()
        if key == "validation":
            page.get_by_text("尚无风险模型").wait_for()
        for label, value in numbers.get(key, {}).items():
            page.get_by_test_id("stMetric").filter(has_text=label).first.wait_for()
            assert metric(page, label) == value, (role, key, label)
        if key == "overview" or (key == "tier_list" and numbers["tier_list"]["单位数"] != "0"):
            page.locator("[data-testid='stVegaLiteChart'] canvas, .vega-embed").first.wait_for()
        page.screenshot(path=SHOTS / f"{role}_{key}.png", full_page=True)
        if key == "tier_list" and role == "association":
            with page.expect_download() as download:
                page.get_by_role("button", name="下载等级名单（Excel）").click()
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
            assert saved.name == "tier_list_2025-12-31.xlsx"
            book = load_workbook(saved)
            assert book.sheetnames[0] == "封面" and len(book.sheetnames) == 6
            assert [c.value for c in book.worksheets[1][1]][:2] == ["统一社会信用代码", "单位名称"]
        elif key == "tier_list":
            page.get_by_text("等级定义").wait_for()  # rendered after the table, before downloads
            button = page.get_by_role("button", name="下载等级名单（Excel）")
            expect(button).to_have_count(1 if role == "centre" else 0)
    context.close()

    forbidden = [
        k
        for k in ("overview", "firm_profile", "rounds", "data_quality")
        if k not in allowed_pages(user)
    ]
    for key in forbidden:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        login(page, f"{server}/{key}", role)
        page.get_by_text(f"无权访问：您的角色（{ROLE_ZH[role]}）不能查看此页面。").wait_for()
        assert page.get_by_test_id("stMetric").count() == 0
        assert page.get_by_test_id("stDataFrame").count() == 0
        page.screenshot(path=SHOTS / f"{role}_{key}_refused.png", full_page=True)
        context.close()
