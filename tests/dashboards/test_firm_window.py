"""A firm's own window in a real browser (Debian's chromium through Playwright), against a
real Streamlit server on its own warehouse (the fixture landing folder plus one recent
penalty, run by `renfang run` as of today, so the filing's real time falls in the scored
period): the centre makes the firm's account with `renfang users add-firm`; the firm signs
in, sees its own record only — no other firm by URL, no search, no other firm's case,
attachment or report — files an objection with an attachment; the centre sees it in its
queue and accepts it; after the next run the firm sees its changed score and the decision
with the day it takes effect."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from fixtures.browser import download_on_click, new_context, settle, wait_for_session
from fixtures.cli import renfang
from fixtures.landing import FIRM_DESIGN, FIRM_SUPERVISION, PENALTY_HEADER, write_fixture_landing

from dashboards.auth import DEFAULT_USERS
from pipelines.serve import streamlit_command
from warehouse.connection import Warehouse
from warehouse.firm_cases import file_case
from warehouse.report_pdf import read_back

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
TODAY = date.today()
RECENT = "沪国动罚〔2026〕91号"
OTHER_DOC = "沪国动罚〔2026〕92号"
OTHER_NAME = "上海黄浦建设监理咨询有限公司"
OWN_NAME = "上海申防人防工程设计有限公司"
PDF = b"%PDF-1.4\n% an attachment\n"


def _csv(rows: list[list[str]]) -> str:
    return "\n".join(",".join(row) for row in rows) + "\n"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("firm_window")
    landing = write_fixture_landing(root / "landing")
    decided, collected = TODAY - timedelta(days=40), TODAY - timedelta(days=35)
    (landing / "penalty_decisions" / "近期.csv").write_text(
        _csv([PENALTY_HEADER] + [
            [doc, uscc, "某单位", decided.isoformat(), "超越资质范围承接业务", "罚款", "15000",
             "普通", "上海市国防动员办公室", "有效", collected.isoformat()]
            for doc, uscc in ((RECENT, FIRM_DESIGN), (OTHER_DOC, FIRM_SUPERVISION))
        ]),
        encoding="utf-8",
    )  # fmt: skip
    run(root)
    return root


def run(root: Path) -> None:
    renfang("run", "--landing", str(root / "landing"), "--today", TODAY.isoformat(), "--quiet",
            root=root)  # fmt: skip


def latest_score(root: Path, uscc: str) -> float:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute(
            "SELECT score FROM credit_scores WHERE uscc = ? AND as_of = "
            "(SELECT max(as_of) FROM credit_scores)",
            [uscc],
        ).fetchone()
    assert row is not None
    return float(row[0])


@pytest.fixture(scope="module")
def firm_password(root: Path) -> str:
    users = root / "users.yaml"
    users.write_text(DEFAULT_USERS.read_text(encoding="utf-8"), encoding="utf-8")
    done = renfang("users", "add-firm", "--uscc", FIRM_DESIGN, "--users", str(users), root=root)
    password = done.stdout.strip().splitlines()[-1]
    assert password not in users.read_text(encoding="utf-8")
    # another firm's online case with an attachment: the firm must never see it
    file_case(
        Warehouse(path=str(root / "warehouse.duckdb")), uscc=FIRM_SUPERVISION, kind="异议",
        record_doc_no=OTHER_DOC, reason="他人的异议", materials=["说明"],
        attachments=[("他人.pdf", PDF)], actor="setup",
    )  # fmt: skip
    return password


@pytest.fixture(scope="module")
def server(root: Path, firm_password: str) -> Iterator[str]:
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RENFANG_WAREHOUSE": str(root / "warehouse.duckdb"),
           "RENFANG_REPORTS": str(root / "reports"), "RENFANG_USERS": str(root / "users.yaml"),
           "RENFANG_STATE_DIR": str(root / "state")}  # fmt: skip
    env.pop("RENFANG_DEMO_USERS", None)
    process = subprocess.Popen(
        streamlit_command(port), env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the dashboards did not start"
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, 9)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def sign_in(browser, url: str, username: str, password: str):
    context = new_context(browser, viewport={"width": 1400, "height": 2400}, locale="zh-CN")
    page = context.new_page()
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    wait_for_session(page)
    return context, page


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    box.wait_for()
    return box.get_by_test_id("stMetricValue").inner_text()


TABLE_CELLS = """() => Array.from(document.querySelectorAll(
  '[data-testid="stDataFrame"] table th, [data-testid="stDataFrame"] table td'
)).map(cell => cell.textContent).join('\\n')"""


def body(page) -> str:
    """The page's visible text and the cells of its tables (drawn on a canvas)."""
    page.wait_for_timeout(1500)
    return page.evaluate("() => document.body.innerText") + page.evaluate(TABLE_CELLS)


def test_a_firm_sees_only_itself_files_an_objection_and_sees_the_decision(
    root: Path, server: str, browser, firm_password: str, tmp_path: Path
) -> None:
    before = latest_score(root, FIRM_DESIGN)
    context, page = sign_in(browser, server, FIRM_DESIGN, firm_password)
    page.get_by_role("heading", name="本单位信用", exact=True).wait_for()
    assert metric(page, "信用得分") == f"{before:.1f}"
    page.get_by_role("heading", name=OWN_NAME).wait_for()

    # nothing of another firm: not by URL, not by search, not by download
    for path in (f"firm_profile?q={FIRM_SUPERVISION}", "tier_list", "cases", "overview"):
        page.goto(f"{server}/{path}")
        page.get_by_text("无权访问：您的角色（企业用户）不能查看此页面。").wait_for()
        assert page.get_by_test_id("stDataFrame").count() == 0
    for path in (f"firm_window?q={FIRM_SUPERVISION}", f"firm_window?uscc={FIRM_SUPERVISION}"):
        page.goto(f"{server}/{path}")
        page.get_by_role("heading", name=OWN_NAME).wait_for()
        text = body(page)
        assert OTHER_NAME not in text and FIRM_SUPERVISION not in text
    assert page.get_by_label("按单位名称或统一社会信用代码搜索").count() == 0  # no search
    text = body(page)
    assert "他人.pdf" not in text and OTHER_DOC not in text and f"WS{TODAY.year}-0001" not in text
    settle(page)
    saved = download_on_click(page, "下载信用报告", tmp_path)
    facts = read_back(saved.read_bytes()).facts
    assert facts is not None and facts["uscc"] == FIRM_DESIGN
    assert RECENT in {r["doc_no"] for r in facts["records"]}
    assert OTHER_DOC not in json.dumps(facts, ensure_ascii=False)

    # the firm files an objection against its recent penalty, with an attachment
    attachment = tmp_path / "说明材料.pdf"
    attachment.write_bytes(PDF)
    form = page.get_by_test_id("stForm")
    form.get_by_text("异议", exact=True).click()
    form.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=RECENT).click()
    form.get_by_label("申请理由").fill("该处罚已于复议中撤销，附复议决定书。")
    form.get_by_label("材料清单（每行一项）").fill("行政复议决定书\n情况说明")
    form.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(attachment))
    form.get_by_text("说明材料.pdf").wait_for()
    form.get_by_role("button", name="提交申请").click()
    page.get_by_text(re.compile(r"已提交：案件编号 WS\d{4}-0002")).wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "filed.png", full_page=True)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        filed = con.execute(
            "SELECT case_id, kind, record_doc_no, filed_at FROM firm_cases WHERE uscc = ?",
            [FIRM_DESIGN],
        ).fetchall()
        stored = con.execute(
            "SELECT stored_name, original_name FROM firm_case_files WHERE case_id = ?",
            [filed[0][0]],
        ).fetchall()
    [(case_id, kind, record, filed_at)] = filed
    # filed today: the module's date, or the next one when the test runs across midnight
    assert (kind, record) == ("异议", RECENT) and TODAY <= filed_at.date() <= date.today()
    assert stored[0][1] == "说明材料.pdf" and re.fullmatch(r"01-[0-9a-f]{16}\.pdf", stored[0][0])
    assert (root / "case_files" / case_id / stored[0][0]).read_bytes() == PDF
    log = (root / "warehouse.audit.jsonl").read_text(encoding="utf-8")
    assert f'"case_id": "{case_id}"' in log and '"step": "filed"' in log
    context.close()

    # the centre sees it in its queue and accepts it
    context, page = sign_in(browser, server, "centre", "renfang-centre")
    page.goto(f"{server}/cases")
    page.get_by_role("heading", name="企业网上申请").wait_for()
    page.get_by_test_id("stSelectbox").filter(has_text="选择案件").click()
    page.get_by_role("option", name=case_id).click()
    page.get_by_text("申请理由：该处罚已于复议中撤销").wait_for()
    page.get_by_role("button", name=re.compile("下载附件：说明材料.pdf")).wait_for()
    form = page.get_by_test_id("stForm")
    form.get_by_text("采纳（撤销记录／准予修复）").click()
    form.get_by_label("决定理由").fill("经核实，处罚决定已被复议机关撤销，撤销该记录。")
    form.get_by_role("button", name="作出决定").click()
    page.get_by_text(f"已作出决定：{case_id} 撤销").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "decided.png", full_page=True)
    context.close()

    # the next run takes the decision into the scores; the firm sees it
    run(root)
    after = latest_score(root, FIRM_DESIGN)
    assert after > before
    context, page = sign_in(browser, server, FIRM_DESIGN, firm_password)
    page.get_by_role("heading", name="本单位信用", exact=True).wait_for()
    deadline = time.monotonic() + 30
    while metric(page, "信用得分") != f"{after:.1f}":
        assert time.monotonic() < deadline, metric(page, "信用得分")
        page.reload()
        page.get_by_role("heading", name="本单位信用", exact=True).wait_for()
    deadline = time.monotonic() + 30  # the grid fills its accessible table after drawing
    while not {case_id, "已办结", "撤销"} <= set(page.evaluate(TABLE_CELLS).split("\n")):
        assert time.monotonic() < deadline, page.evaluate(TABLE_CELLS)
        page.wait_for_timeout(500)
    text = body(page)
    assert TODAY.isoformat() in text  # the day the decision takes effect
    page.screenshot(path=tmp_path / "after.png", full_page=True)
    context.close()
