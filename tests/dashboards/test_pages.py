"""Every page through Streamlit's AppTest on the fixture warehouse: the router, the log-in
form, the role checks and the numbers each page shows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.auth import PAGES, User

APP = Path(__file__).parents[2] / "dashboards" / "streamlit_app.py"


def app(role: str | None, lang: str = "zh") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    if role:
        at.session_state["user"] = User(username=role, name=role, role=role)
    at.session_state["lang"] = lang
    return at.run()


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def sql(path: Path, query: str) -> object:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query).fetchall()[0][0]


def test_the_login_form_admits_a_right_password_only(use_warehouse):
    at = app(None)
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    at.text_input[0].input("centre")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["用户名或密码错误。"]
    at.text_input[1].input("renfang-centre")
    at.button[0].click().run()
    assert at.session_state["user"].role == "centre"
    assert at.title[0].value == "总览"


def test_without_a_users_file_or_the_demo_flag_nothing_but_a_refusal_is_served(
    use_warehouse, monkeypatch
):
    monkeypatch.delenv("RENFANG_DEMO_USERS")
    at = app(None)
    assert not at.text_input and not at.button  # no sign-in form
    errors = [e.value.replace("\\", "") for e in at.error]  # the Markdown source, escaped
    assert any("RENFANG_USERS" in e and "拒绝" in e for e in errors), errors
    assert any("refusing to start with the shipped demo users" in e for e in errors), errors


def test_the_demo_users_are_announced_on_the_sign_in_page(use_warehouse):
    at = app(None)
    assert any("演示模式" in w.value and "README" in w.value for w in at.warning)
    at.text_input[0].input("public")
    at.text_input[1].input("renfang-public")
    at.button[0].click().run()
    assert "演示用户（密码公开）" in [c.value for c in at.caption]


def test_overview_shows_the_tier_mix_of_the_latest_date(use_warehouse):
    at = open_page(app("manager"), "overview")
    shown = metrics(at)
    firms = sql(use_warehouse, "SELECT count(*) FROM firms")
    assert shown["单位数"] == str(firms)
    # risk-class labels (issue 14: were B 基本守信, C 失信风险较高)
    for tier, label in (("B", "B 信用风险一般"), ("C", "C 信用风险较高")):
        n = sql(
            use_warehouse,
            "SELECT count(*) FROM credit_scores "
            f"WHERE as_of = DATE '2025-12-31' AND tier = '{tier}'",
        )
        assert shown[label] == str(n)
    # by type, by district, and the trend: one chart per tier, each on its own scale
    assert len(at.get("vega_lite_chart")) == 2 + 4


def test_firm_profile_lists_every_reason_with_its_document(use_warehouse):
    uscc = sql(
        use_warehouse,
        "SELECT uscc FROM score_reasons WHERE as_of = DATE '2025-12-31' "
        "GROUP BY uscc ORDER BY count(*) DESC, uscc LIMIT 1",
    )
    at = open_page(app("centre"), "firm_profile")
    at.text_input(key="firm_search").input(uscc).run()
    score = sql(
        use_warehouse,
        f"SELECT score FROM credit_scores WHERE uscc = '{uscc}' AND as_of = DATE '2025-12-31'",
    )
    assert metrics(at)["信用得分"] == f"{score:.1f}"
    reasons = at.dataframe[0].value
    counted = sql(
        use_warehouse,
        f"SELECT count(*) FROM score_reasons WHERE uscc = '{uscc}' AND as_of = DATE '2025-12-31'",
    )
    assert counted > 0 and len(reasons) == counted
    assert reasons["文号"].notna().all() and reasons["分值"].notna().all()
    assert len(at.get("vega_lite_chart")) == 1  # the score history


def test_rounds_shows_the_plan_and_its_inspectors(use_warehouse):
    at = open_page(app("centre"), "rounds")
    shown = metrics(at)
    assert shown["状态"] == "已公布"
    assert shown["抽取单位"] == str(sql(use_warehouse, "SELECT drawn FROM sampling_rounds"))
    assert any("检查人员" in df.value.columns for df in at.dataframe)


def test_data_quality_shows_quarantine_gx_and_review(use_warehouse):
    at = open_page(app("centre"), "data_quality")
    shown = metrics(at)
    assert shown["隔离行数"] == str(sql(use_warehouse, "SELECT count(*) FROM quarantine"))
    assert shown["通过质量检查的表"] == "9/9"


def test_validation_says_plainly_that_no_model_exists(use_warehouse):
    at = open_page(app("manager"), "validation")
    assert at.info[0].value.startswith("尚无风险模型")
    at = open_page(app("manager", lang="en"), "validation")
    assert at.info[0].value.startswith("No risk model exists yet")


def test_the_tier_list_hides_scores_from_the_public(use_warehouse):
    association = open_page(app("association"), "tier_list")
    assert "信用得分" in association.dataframe[0].value.columns
    assert metrics(association)["单位数"] == str(sql(use_warehouse, "SELECT count(*) FROM firms"))
    # the public audience receives the A list only (issue 14: before, every tier)
    public = open_page(app("public"), "tier_list")
    a_list = sql(
        use_warehouse,
        "SELECT count(*) FROM credit_scores WHERE as_of = DATE '2025-12-31' AND tier = 'A'",
    )
    assert metrics(public)["单位数"] == str(a_list)
    assert set(metrics(public)) == {"单位数", "A 信用风险低"}
    assert all("信用得分" not in df.value.columns for df in public.dataframe)


def test_the_case_page_and_the_public_lists(use_warehouse):
    cases = open_page(app("centre"), "cases")
    assert set(metrics(cases)) == {"办理中的列入案件", "陈述申辩期满待决定", "办理中的异议",
                                   "超期未办结的异议"}  # fmt: skip
    lists = open_page(app("public"), "public_lists")
    assert set(metrics(lists)) == {"严重失信主体名单", "行政处罚信息公示"}
    assert metrics(lists)["严重失信主体名单"] == "0"  # no firm is listed by a score


def test_round_results_show_published_rounds_without_inspectors(use_warehouse):
    at = open_page(app("public"), "round_results")
    assert metrics(at)["抽查单位"] == str(sql(use_warehouse, "SELECT drawn FROM sampling_rounds"))
    columns = at.dataframe[0].value.columns
    assert "检查人员" not in columns and "对照组" not in columns


@pytest.mark.parametrize("role", ["association", "public"])
def test_association_and_public_are_refused_firm_profiles_and_inspector_data(use_warehouse, role):
    at = app(role)
    for page in PAGES:
        if page in ("tier_list", "round_results", "public_lists"):
            continue
        open_page(at, page)
        label = "行业协会" if role == "association" else "公众"
        assert [e.value for e in at.error] == [f"无权访问：您的角色（{label}）不能查看此页面。"]
        assert not at.dataframe and not at.metric  # the page never ran its queries
    if role == "association":
        open_page(at, "round_results")
        assert at.error


def test_english_labels_everything(use_warehouse):
    at = open_page(app("centre", lang="en"), "overview")
    assert at.title[0].value == "Overview"
    assert "Firms" in metrics(at)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_in_english(use_warehouse, page):
    """e.g. the data-quality page once crashed in English: two columns both read 'Reason'."""
    at = open_page(app("centre", lang="en"), page)
    assert not at.exception and not at.error
