"""User-interface text, Chinese first with English available (the sidebar toggle).

What belongs here: every sentence the dashboards show, keyed, in zh-CN and en, and `t()` to
look one up in the session's language; `column()`, `code()` and `widget()` read the label
catalogue (models/labels.yaml) in the same language. What does not: labels of codes, column
headers or widget words (the catalogue, shared with the workbooks and the CLI) and tier
labels (the rule set).
"""

from __future__ import annotations

import streamlit as st

from models.labels import Language, default_labels
from models.publication import RISK_CLASS_NOTE

LANG_KEY = "lang"

TEXT: dict[str, tuple[str, str]] = {
    # frame, login
    "app.title": ("人防行业信用监管", "Civil air defence credit supervision"),
    "lang.label": ("语言 / Language", "语言 / Language"),
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误。", "Wrong username or password."),
    "login.throttled": (
        "登录失败次数过多，已暂时锁定，请 {minutes} 分钟后再试。",
        "Too many failed attempts: locked for now; try again in {minutes} min.",
    ),
    "login.demo": (
        "演示模式：正在使用内置演示用户（RENFANG_DEMO_USERS=1），其密码公开于 README。"
        "仅供本机试用，切勿用于生产环境。",
        "Demo mode: the shipped demo users are active (RENFANG_DEMO_USERS=1) and their "
        "passwords are in the README. For a local trial only, never in production.",
    ),
    "login.demo_short": ("演示用户（密码公开）", "Demo users (public passwords)"),
    "logout": ("退出登录", "Log out"),
    "signed_in": ("当前用户：{name}（{role}）", "Signed in: {name} ({role})"),
    "updating": (
        "数据更新中（上次完成：{when}），页面显示的是上次发布的结果",
        "Data is being updated (last completed: {when}); the pages show the last published state",
    ),
    "signed_in_as": ("当前用户：{name}", "Signed in: {name}"),
    "refresh": ("刷新数据", "Refresh data"),
    "refused": (
        "无权访问：您的角色（{role}）不能查看此页面。",
        "Access denied: your role ({role}) may not open this page.",
    ),
    "warehouse.missing": (
        "尚无数据仓库（{path}）。请先运行 `make run`。",
        "No warehouse yet ({path}). Run `make run` first.",
    ),
    "warehouse.busy": (
        "数据仓库正在更新，请稍后刷新页面。",
        "The warehouse is being updated; refresh the page in a moment.",
    ),
    "no_data": ("暂无数据。", "No data."),
    "as_of": ("评价日期", "As of"),
    "firm_types": ("单位类型", "Firm types"),
    "districts": ("所属区", "Districts"),
    "all": ("全部", "All"),
    # pages
    "page.overview": ("总览", "Overview"),
    "page.firm_profile": ("单位画像", "Firm profile"),
    "page.rounds": ("抽查计划", "Rounds"),
    "page.data_quality": ("数据质量", "Data quality"),
    "page.validation": ("模型验证", "Validation"),
    "page.tier_list": ("等级名单", "Tier list"),
    "page.round_results": ("抽查结果公示", "Round results"),
    "page.cases": ("案件办理", "Cases"),
    "page.public_lists": ("信用信息公示", "Public lists"),
    # cases (centre)
    "cs.on": ("截至日期", "As of"),
    "cs.open_cases": ("办理中的列入案件", "Open listing cases"),
    "cs.overdue_cases": ("陈述申辩期满待决定", "Statement deadline passed"),
    "cs.open_objections": ("办理中的异议", "Open objections"),
    "cs.overdue_objections": ("超期未办结的异议", "Overdue objections"),
    "cs.listing": ("严重失信主体名单列入案件", "Serious-dishonesty listing cases"),
    "cs.steps": ("各案件办理步骤与文书", "Every step and document"),
    "cs.objections": ("异议办理期限", "Objections and their deadlines"),
    "cs.late_penalties": (
        "逾期公示或逾期撤回的行政处罚决定",
        "Penalty decisions published or withdrawn late",
    ),
    # public lists
    "pl.on": ("公示日期", "As of"),
    "pl.listed": ("严重失信主体名单", "Seriously dishonest entities"),
    "pl.listed_note": (
        "仅列示经告知、陈述申辩、决定等法定程序列入且在列入期内的主体；信用等级不构成失信认定。",
        "Only entities listed by the legal procedure (notice, statement, decision) and within "
        "their listing period; a credit tier is not a finding of dishonesty.",
    ),
    "pl.penalties": ("行政处罚信息公示", "Penalty decisions (双公示)"),
    # overview
    "ov.firms": ("单位数", "Firms"),
    "ov.tier_n": ("{tier} 级", "Tier {tier}"),
    "ov.mix_type": ("按单位类型的等级分布", "Tier mix by firm type"),
    "ov.mix_district": ("按所属区的等级分布", "Tier mix by district"),
    "ov.trend": ("月度等级趋势（各等级单位数）", "Monthly tier trend (firms per tier)"),
    "ov.trend_caption": (
        "每个等级一张图、各用自己的刻度，C、D 级的月度变化也看得清；"
        "数字为最近一期单位数及较上期变化。",
        "One chart per tier, each on its own scale, so the monthly moves of C and D show; "
        "the figure is the latest count and its change from the previous date.",
    ),
    "ov.trend_value": ("{n:,d} 家（{delta:+,d}）", "{n:,d} firms ({delta:+,d})"),
    "ov.movers": ("本期等级变动单位", "This period's movers"),
    "ov.movers_caption": (
        "{start} → {end}：{n} 家单位等级变动（升级 {up}，降级 {down}）",
        "{start} → {end}: {n} firms changed tier ({up} up, {down} down)",
    ),
    "ov.no_movers": ("本期没有单位等级变动。", "No firm changed tier this period."),
    # firm profile
    "fp.search": ("按单位名称或统一社会信用代码搜索", "Search by firm name or USCC"),
    "fp.pick": ("选择单位", "Choose a firm"),
    "fp.none": ("没有匹配的单位。", "No matching firm."),
    "fp.hint": ("请输入单位名称或统一社会信用代码。", "Type a firm name or a USCC."),
    "fp.score": ("信用得分", "Credit score"),
    "fp.tier": ("信用等级", "Tier"),
    "fp.records": ("计分记录", "Counting records"),
    "fp.veto": ("一票否决：{reason}（至 {until}）", "Veto: {reason} (until {until})"),
    "fp.history": ("得分历史", "Score history"),
    "fp.threshold": ("{tier} 级 ≥ {score:g}", "Tier {tier} ≥ {score:g}"),
    "fp.reasons": ("计分依据（每条记录及其文号）", "Reasons (every record with its document)"),
    "fp.no_reasons": ("没有计分记录：基础分。", "No counting record: base score."),
    "fp.path": ("升级路径", "Path to the next tier"),
    "fp.path_on": (
        "若无新记录，{date} 起升至 {tier} 级（{score:g} 分）。",
        "With no new records, tier {tier} from {date} ({score:g} points).",
    ),
    "fp.path_none": (
        "仅靠记录到期不能升至 {tier} 级。",
        "Waiting alone does not reach tier {tier}.",
    ),
    "fp.path_best": ("已是最高等级。", "Already the best tier."),
    "fp.repairs": ("可申请信用修复的记录", "Records a credit repair could clear"),
    "fp.open_cases": ("未决异议与信用修复", "Open objections and repairs"),
    "fp.no_open_cases": ("没有未决的异议或信用修复申请。", "No open objection or repair."),
    "fp.cases": ("异议与信用修复记录", "Objection and repair history"),
    # rounds
    "rd.none": (
        "尚无抽查批次。运行 `make run` 会起草下一批次。",
        "No round yet. `make run` drafts the next round.",
    ),
    "rd.pick": ("抽查批次", "Round"),
    "rd.option": ("{round}（{status}）", "{round} ({status})"),
    "rd.status": ("状态", "Status"),
    "rd.status.draft": ("草稿", "draft"),
    "rd.status.published": ("已公布", "published"),
    "rd.pool": ("可抽取单位", "Eligible pool"),
    "rd.drawn": ("抽取单位", "Drawn"),
    "rd.control": ("对照组单位", "Control firms"),
    "rd.inspected": ("已检查", "Inspected"),
    "rd.seed": (
        "随机种子 {seed} · 算法 {algo} · 计划 SHA-256 {sha}",
        "Seed {seed} · algorithm {algo} · plan SHA-256 {sha}",
    ),
    "rd.strata": ("分层抽取", "Strata"),
    "rd.assignments": ("检查安排（含检查人员）", "Assignments (with inspectors)"),
    "rd.progress": ("检查进度（累计）", "Progress (cumulative)"),
    "rd.findings": (
        "按等级的问题发现率（抽取组与对照组）",
        "Finding rate by tier (drawn vs control)",
    ),
    "rd.no_findings": ("尚无检查结果。", "No inspection reported yet."),
    "rd.group.control": ("对照组", "Control share"),
    "rd.group.drawn": ("按等级抽取", "Drawn by tier"),
    # data quality
    "dq.quarantined": ("隔离行数", "Quarantined rows"),
    "dq.files": ("最近一次读取的文件", "Files read in the latest run"),
    "dq.rows_read": ("读取行数", "Rows read"),
    "dq.by_reason": ("隔离原因与来源", "Quarantine by reason and source"),
    "dq.rows": ("隔离明细", "Quarantined rows"),
    "dq.gx": ("数据质量检查（Great Expectations）", "Quality checks (Great Expectations)"),
    "dq.gx_tables": ("通过质量检查的表", "Tables passing the checks"),
    "dq.gx_none": ("尚无检查结果。", "No validation result yet."),
    "dq.docs": ("查看报告", "Open report"),
    "dq.docs_site": ("全部检查报告（Data Docs）", "Every validation report (Data Docs)"),
    "dq.review": ("评议报告：证据完整性与归集时效", "Review: evidence coverage and intake delay"),
    "dq.coverage": ("有效文号比例", "Valid document numbers"),
    "dq.conflicts": ("待处理冲突", "Open conflicts"),
    "dq.no_conflicts": ("没有待处理的冲突。", "No open conflict."),
    "dq.audit": ("操作日志", "Audit log"),
    "dq.audit_broken": (
        "操作日志的哈希链已断开：日志被改动过，请核查",
        "The audit log's hash chain is broken: the log was altered; investigate",
    ),
    "dq.over7": ("归集超过 7 个工作日", "Collected after > 7 working days"),
    "dq.over20": ("归集超过 20 个工作日", "Collected after > 20 working days"),
    # validation
    "va.none": (
        "尚无风险模型：风险模型及其回测尚未建立，因此本页暂无验证结果。"
        "模型建成后，这里将显示 AUC、校准情况，"
        "以及按等级抽查与随机抽查在相同检查量下的命中率对比。",
        "No risk model exists yet: the risk model and its backtest have not been built, so "
        "there is nothing to validate. Once it exists this page shows AUC, calibration and the "
        "hit rate of tier-driven vs uniform random sampling at the same inspection budget.",
    ),
    "va.version": (
        "模型 {version}（{algorithm}）· 训练截止 {cutoff} · 预测期 {horizon} 天 · 训练样本 {rows}",
        "Model {version} ({algorithm}) · cutoff {cutoff} · horizon {horizon} days · "
        "{rows} training rows",
    ),
    "va.auc_model": ("模型 AUC", "Model AUC"),
    "va.auc_tier": ("信用等级 AUC", "Tier AUC"),
    "va.lift10": ("前 10% 提升度", "Lift, top 10%"),
    "va.brier": ("Brier 分数", "Brier score"),
    "va.tiers": ("各等级下次检查发现问题比例", "Next-inspection failure rate by tier"),
    "va.draws": ("相同检查量下的命中率", "Hit rate at the same inspection budget"),
    "va.lift": ("提升曲线", "Lift curve"),
    "va.calibration": ("校准", "Calibration"),
    "va.inspectors": ("检查人员效应（同一检查人员内比较）", "Inspector effects (within inspector)"),
    "va.inspectors_note": (
        "同一检查人员内的 AUC 只比较同一人检查的单位，排除检查人员宽严对结果的影响。",
        "Within-inspector AUC compares only firms inspected by the same person, so how strict "
        "an inspector is cannot explain it.",
    ),
    "va.psi": ("稳定性（PSI，逐月）", "Stability (PSI, month over month)"),
    "va.psi_flagged": (
        "{n} 项 PSI 超过 0.25，分布明显变化，请复核：{names}",
        "{n} subjects above PSI 0.25 — the distribution moved; review: {names}",
    ),
    "va.psi_stable": (
        "最近一期所有 PSI 均不超过 0.25。",
        "Every PSI of the latest month is ≤ 0.25.",
    ),
    # tier list
    "tl.caption": (
        "{as_of} 信用等级名单 · 评价标准 {version} · {n} 家单位",
        "Tier list as of {as_of} · rule set {version} · {n} firms",
    ),
    "tl.tiers": ("信用等级", "Tiers"),
    "tl.search": ("按名称或代码筛选", "Filter by name or code"),
    "tl.download": ("下载等级名单（Excel）", "Download the tier list (Excel)"),
    "tl.definitions": ("等级定义", "Tier definitions"),
    "tl.risk_note": (
        RISK_CLASS_NOTE,
        "A tier is the regulator's internal credit-risk class, used to set how often firms "
        "are inspected; it is not a finding of dishonesty. Entry on the list of seriously "
        "dishonest entities requires the legal procedure (notice, statement, decision) and is "
        "published separately.",
    ),
    "tl.audience": ("本名单公开的信用等级：{tiers}", "Tiers published in this list: {tiers}"),
    # public round results
    "pr.none": ("尚无已公布的抽查批次。", "No published round yet."),
    "pr.drawn": ("抽查单位", "Firms inspected"),
    "pr.reported": ("已出结果", "Results reported"),
    "pr.results": ("抽查结果", "Results"),
}


def lang() -> Language:
    return "en" if st.session_state.get(LANG_KEY) == "en" else "zh"


def t(key: str, **values: object) -> str:
    zh, en = TEXT[key]
    text = en if lang() == "en" else zh
    return text.format(**values) if values else text


def column(name: str) -> str:
    """The header of a column in the session's language, from the label catalogue (an
    unknown column keeps its name, which the browser walk then reports)."""
    return default_labels().column(name, lang())


def code(kind: str, value: str, *, short: bool = False) -> str:
    """A coded value's label in the session's language (models/labels.yaml)."""
    return default_labels().code(kind, value, lang(), short=short)


def widget(key: str) -> str:
    return default_labels().widget(key, lang())
