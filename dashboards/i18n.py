"""User-interface text, Chinese first with English available (the sidebar toggle).

What belongs here: every string the dashboards show, keyed, in zh-CN and en, and `t()` to
look one up in the session's language. What does not: labels of the glossary's codes (firm
types, results: models.labels) and tier labels (the rule set).
"""

from __future__ import annotations

import streamlit as st

from models.labels import Language

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
    # overview
    "ov.firms": ("单位数", "Firms"),
    "ov.tier_n": ("{tier} 级", "Tier {tier}"),
    "ov.mix_type": ("按单位类型的等级分布", "Tier mix by firm type"),
    "ov.mix_district": ("按所属区的等级分布", "Tier mix by district"),
    "ov.trend": ("月度等级趋势", "Monthly tier trend"),
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
    "rd.status": ("状态", "Status"),
    "rd.status.draft": ("草稿", "draft"),
    "rd.status.published": ("已公布", "published"),
    "rd.pool": ("可抽取单位", "Eligible pool"),
    "rd.drawn": ("抽取单位", "Drawn"),
    "rd.control": ("对照组", "Control share"),
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
    "rd.group.control": ("对照组", "control"),
    "rd.group.drawn": ("按等级抽取", "tier-driven"),
    # data quality
    "dq.quarantined": ("隔离行数", "Quarantined rows"),
    "dq.files": ("最近一次读取的文件", "Files read in the latest run"),
    "dq.rows_read": ("读取行数", "Rows read"),
    "dq.by_reason": ("隔离原因与来源", "Quarantine by reason and source"),
    "dq.rows": ("隔离明细", "Quarantined rows"),
    "dq.gx": ("数据质量检查（Great Expectations）", "Quality checks (Great Expectations)"),
    "dq.gx_passed": ("{passed}/{total} 张表通过", "{passed}/{total} tables passed"),
    "dq.gx_none": ("尚无检查结果。", "No validation result yet."),
    "dq.docs": ("Data Docs 页面", "Data Docs page"),
    "dq.review": ("评议报告：证据完整性与归集时效", "Review: evidence coverage and intake delay"),
    "dq.coverage": ("有效文号比例", "Valid document numbers"),
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


COLUMNS: dict[str, tuple[str, str]] = {
    "uscc": ("统一社会信用代码", "USCC"),
    "name": ("单位名称", "Firm"),
    "firm_type": ("单位类型", "Firm type"),
    "district": ("所属区", "District"),
    "qualification": ("资质等级", "Qualification"),
    "tier": ("信用等级", "Tier"),
    "score": ("信用得分", "Score"),
    "veto": ("一票否决", "Veto"),
    "firms": ("单位数", "Firms"),
    "as_of": ("评价日期", "As of"),
    "from_as_of": ("上期日期", "From"),
    "to_as_of": ("本期日期", "To"),
    "from_tier": ("原等级", "From tier"),
    "to_tier": ("新等级", "To tier"),
    "from_score": ("原得分", "From score"),
    "to_score": ("新得分", "To score"),
    "score_change": ("得分变化", "Change"),
    "documents": ("相关文号", "Documents"),
    "evidence_type": ("证据类型", "Evidence"),
    "evidence_doc_no": ("文号", "Document no."),
    "polarity": ("性质", "Kind"),
    "severity": ("严重程度", "Severity"),
    "category": ("类别", "Category"),
    "valid_from": ("起算日期", "Valid from"),
    "valid_until": ("失效日期", "Valid until"),
    "collected_on": ("归集日期", "Collected on"),
    "points": ("分值", "Points"),
    "multiplier": ("倍数", "Multiplier"),
    "status": ("状态", "Status"),
    "rule": ("规则", "Rule"),
    "repair_eligible_from": ("可申请修复日期", "Repairable from"),
    "points_cleared": ("可恢复分值", "Points cleared"),
    "tier_if_repaired": ("修复后等级", "Tier if repaired"),
    "kind": ("类型", "Kind"),
    "case_id": ("案件编号", "Case"),
    "record_doc_no": ("涉及文书号", "Record document"),
    "filed_on": ("申请日期", "Filed on"),
    "decided_on": ("决定日期", "Decided on"),
    "decision": ("决定", "Decision"),
    "note": ("说明", "Note"),
    "round_id": ("抽查批次", "Round"),
    "stratum": ("抽取层", "Stratum"),
    "pool": ("可抽取单位数", "Pool"),
    "ratio": ("抽查比例", "Ratio"),
    "n_required": ("应抽数", "Required"),
    "n_drawn": ("实抽数", "Drawn"),
    "draw_order": ("抽取序号", "Order"),
    "is_control": ("对照组", "Control"),
    "inspection_date": ("检查日期", "Inspection date"),
    "team": ("检查组", "Team"),
    "inspectors": ("检查人员", "Inspectors"),
    "day": ("日期", "Date"),
    "planned": ("计划检查", "Planned"),
    "inspected": ("已检查", "Inspected"),
    "with_findings": ("发现问题", "With findings"),
    "finding_rate": ("问题发现率", "Finding rate"),
    "group": ("组别", "Group"),
    "result": ("检查结果", "Result"),
    "source": ("数据来源", "Source"),
    "reason_code": ("原因代码", "Reason code"),
    "rows": ("行数", "Rows"),
    "example_zh": ("示例", "Example"),
    "example_en": ("示例（英文）", "Example"),
    "file": ("文件", "File"),
    "row_number": ("行号", "Row"),
    "column": ("列", "Column"),
    "raw_value": ("原始值", "Raw value"),
    "reason": ("原因", "Reason"),
    "reason_en": ("原因（英文）", "Reason"),
    "format": ("格式", "Format"),
    "encoding": ("编码", "Encoding"),
    "rows_read": ("读取", "Read"),
    "rows_accepted": ("接收", "Accepted"),
    "rows_quarantined": ("隔离", "Quarantined"),
    "rows_collapsed": ("合并重复", "Collapsed"),
    "success": ("通过", "Passed"),
    "evaluated": ("检查项", "Expectations"),
    "passed": ("通过项", "Passed"),
    "validated_at": ("检查时间", "Validated at"),
    "docs_page": ("Data Docs", "Data Docs"),
    "records": ("记录数", "Records"),
    "with_valid_doc_no": ("有效文号", "Valid doc no."),
    "valid_doc_no_share": ("有效文号比例", "Valid share"),
    "delay_median_wd": ("归集时滞中位数（工作日）", "Median delay (wd)"),
    "delay_max_wd": ("最长时滞（工作日）", "Max delay (wd)"),
    "over_7_wd": ("超过 7 个工作日", "> 7 wd"),
    "over_20_wd": ("超过 20 个工作日", "> 20 wd"),
    "over_7_share": ("超 7 日比例", "> 7 wd share"),
    "over_20_share": ("超 20 日比例", "> 20 wd share"),
    "tier_source": ("分级来源", "Tiers from"),
    "entities": ("单位数", "Firms"),
    "problems": ("发现问题", "With problems"),
    "failure_rate": ("问题发现率", "Failure rate"),
    "strategy": ("抽查方式", "Strategy"),
    "budget": ("检查量", "Budget"),
    "expected_hits": ("预期命中", "Expected hits"),
    "hit_rate": ("命中率", "Hit rate"),
    "scorer": ("评分方式", "Scorer"),
    "share_inspected": ("检查比例", "Share inspected"),
    "share_found": ("发现比例", "Share found"),
    "mean_predicted": ("预测概率", "Predicted"),
    "observed_rate": ("实际比例", "Observed"),
    "window_start": ("开始日期", "Window start"),
    "scope": ("口径", "Scope"),
    "metric": ("指标", "Metric"),
    "value": ("数值", "Value"),
    "subject": ("对象", "Subject"),
    "psi": ("PSI", "PSI"),
    "previous_as_of": ("对比日期", "Compared with"),
    "flagged": ("超阈值", "Flagged"),
    "inspections": ("检查次数", "Inspections"),
    "pooled_rate": ("收缩后发现率", "Pooled rate"),
    "strictness": ("宽严度", "Strictness"),
    "within_auc": ("同人 AUC", "Within AUC"),
    "window_end": ("结束日期", "Window end"),
}


def column(name: str) -> str:
    """The header of a column in the session's language (unknown columns keep their name)."""
    pair = COLUMNS.get(name)
    return (pair[1] if lang() == "en" else pair[0]) if pair else name
