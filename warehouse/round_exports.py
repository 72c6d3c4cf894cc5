"""The files of a round: plan file, published inputs, the centre's plan, calendars, public list,
inspection record workbooks.

What belongs here: where a round's files live (`<reports>/rounds/<round_id>/`), their names
and Chinese headers, the draft mark, and writing them so that a reader never sees half a
round: everything is written to a staging folder first and swapped in with one rename. What
does not: the draw (models), the warehouse tables (`warehouse.sampling`).

Draft versus published, unmistakable: every file of a draft carries `_草案` in its name
(`plan_草案.json`, `抽查计划_2027Q1_草案.xlsx`, `inputs/firms_草案.csv`,
`calendars/SH-INS-0001_草案.ics`, `公示_2027Q1_草案.csv` …), the first row of every sheet says
`草案 — 未公布` (a published round's says `已公布` and the date), a draft's CSV files start with
that line too, and its calendar events are titled 【草案】. A published round's names are the
plain ones below.

Folder layout (the README's "Double-random rounds" section shows it to users):

    plan.json                          everything a third party needs to re-run the draw
    inputs/{firms,inspectors,conflicts,previous,risk,bookings}.csv   the canonical inputs,
                                       byte for byte what the plan hashes
    抽查计划_<round>.xlsx / .csv        the centre's plan: one row per firm × inspector with
                                       the inspector's unit, name and certificate number
    calendars/<inspector_id>.ics       each inspector's schedule (RFC 5545, busy)
    检查记录/检查记录_<round>_组NN.xlsx  per team: one row per firm × item to fill in and drop
                                       into the landing folder's inspection_records/
                                       (published rounds only)
    公示_<round>.xlsx / .csv            the public list: firm, type, round, result and, once a
                                       result exists, the inspection date; no tier, control
                                       flag or inspector (written by the feedback step)
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import polars as pl

from models.identifiers import check_safe_name, is_safe_name
from models.labels import Labels, default_labels
from models.publication import NOTES_COLUMNS
from models.rules import RuleSet
from models.sampling.ical import inspector_calendars
from models.sampling.items import InspectionItems, default_items, record_rows, result_order
from models.sampling.round import RoundPlan
from warehouse.exports import (
    Sheet,
    Workbook,
    csv_bytes,
    readable,
    write_csv,
    write_csv_bytes,
    write_workbook,
)
from warehouse.paths import confined, remove_tree, rename_within

PLAN_FILE = "plan.json"
INPUTS_DIR = "inputs"
CALENDARS_DIR = "calendars"
RECORDS_DIR = "检查记录"
DRAFT_MARK = "草案"
DRAFT_BANNER = "草案 — 未公布 / DRAFT — not published"
PLAN_TITLE = "双随机抽查计划"
PUBLIC_TITLE = "双随机抽查结果公示"
PENDING = "待检查"

INPUT_NAMES = {
    "firms": "单位名录",
    "inspectors": "检查人员名录",
    "conflicts": "回避名单",
    "previous": "上一批次检查组",
}
"""The published inputs (`inputs/<name>.csv`) as the 说明 sheet names them."""

ROUNDS_DIR = "rounds"
CLASS_HEADER = {"tier": "监管类别"}
"""A draw's `tier` is the supervision class (`models.supervision`), not only the credit tier."""

RECORD_HEADERS = {
    "inspection_id": "检查编号",
    "round_id": "抽查批次",
    "uscc": "统一社会信用代码",
    "firm_name": "单位名称",
    "planned_date": "计划检查日期",
    "inspector_ids": "检查人员编号",
    "item_id": "事项编号",
    "item": "抽查事项",
    "legal_basis": "检查依据",
    "method": "检查方式",
    "result": "检查结果",
    "problem_count": "问题数量",
    "followup_doc_no": "后续文书号",
    "inspected_on": "检查日期",
}
"""The record workbook's headers: each is an alias of the `inspection_records` contract, so the
filled-in workbook is read back as it was written."""
RECORD_TO_FILL = frozenset({"result", "problem_count", "followup_doc_no", "inspected_on"})
"""The columns an inspector fills in."""


def round_folder(reports: Path, round_id: str) -> Path:
    """`<reports>/rounds/<round_id>`, resolved: the id must be a safe name
    (`models.identifiers`) and the folder must lie under the reports folder (no symlink on
    the way leads out); else `UnsafeNameError` / `PathOutsideRootError`, before any write."""
    check_safe_name(round_id, "抽查批次编号", "round id")
    return confined(reports, ROUNDS_DIR, round_id)


def marked(name: str, status: str) -> str:
    """A draft's file name carries `_草案` before its extension; a published one is plain."""
    if status == "published":
        return name
    path = Path(name)
    return str(path.with_name(f"{path.stem}_{DRAFT_MARK}{path.suffix}"))


def plan_path(reports: Path, round_id: str, status: str) -> Path:
    return round_folder(reports, round_id) / marked(PLAN_FILE, status)


def banner(status: str, published_on: date | None) -> str:
    """The first row of every sheet (and of a draft's CSV files)."""
    if status != "published":
        return DRAFT_BANNER
    when = f"（{published_on}）" if published_on else ""
    return f"已公布{when} / published {published_on or ''}".rstrip()


def stage_round_files(
    plan: RoundPlan,
    plan_json: bytes,
    notes: pl.DataFrame,
    firms: pl.DataFrame,
    inspectors: pl.DataFrame,
    rules: RuleSet,
    reports: Path,
    *,
    status: str = "draft",
    items: InspectionItems | None = None,
    rows: pl.DataFrame | None = None,
) -> Path:
    """Write every file of the round into a staging folder beside its final place (`rows`:
    `plan_rows` of the round, when the caller made them already)."""
    round_id = plan.params.round_id
    final = round_folder(reports, round_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    confined(reports, final.parent)  # `rounds/` itself may not be a link out
    staging = Path(tempfile.mkdtemp(prefix=f".{round_id}.", dir=final.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the round's files are meant to be shared
    (staging / marked(PLAN_FILE, status)).write_bytes(plan_json)
    (staging / INPUTS_DIR).mkdir()
    for name, text in plan.input_texts.items():
        (staging / INPUTS_DIR / marked(f"{name}.csv", status)).write_bytes(text.encode("utf-8"))

    with ThreadPoolExecutor(max_workers=1) as background:
        # the calendars and their ~3,600 files (file-system time), then the plan's CSV, are
        # written while the centre's workbook is (mostly polars and zlib, which let go of the
        # GIL)
        calendars = background.submit(
            write_calendars, plan, firms, inspectors, staging / CALENDARS_DIR, status
        )
        rows = plan_rows(plan, firms, inspectors, rules) if rows is None else rows
        title = f"{PLAN_TITLE}（{round_id}）"
        mark = banner(status, plan.params.published_on)
        table = background.submit(
            lambda: write_csv(
                readable(rows),
                staging / marked(f"抽查计划_{round_id}.csv", status),
                first_line=None if status == "published" else mark,
            )
        )
        book = Workbook(
            title=f"{mark} · {title}",
            as_of=plan.params.tier_as_of,
            sheets=[
                Sheet("说明", notes, title=f"{mark} · {title}：说明", notes=True),
                Sheet("检查安排", rows, title=f"{mark} · {title}：检查安排"),
                Sheet("分层抽取", _strata(plan, rules), title=f"{mark} · {title}：分层抽取"),
                Sheet("等级入选概率", _tiers(plan, rules), title=f"{mark} · {title}：等级入选概率",
                      headers=CLASS_HEADER),
                Sheet("检查人员任务", _workload(rows), title=f"{mark} · {title}：检查人员任务"),
            ],
        )  # fmt: skip
        write_workbook(book, staging / marked(f"抽查计划_{round_id}.xlsx", status))
        calendars.result()
        table.result()
    if status == "published":
        write_record_workbooks(plan, firms, inspectors, items or default_items(), staging)
    return staging


def write_calendars(
    plan: RoundPlan, firms: pl.DataFrame, inspectors: pl.DataFrame, folder: Path, status: str
) -> None:
    """Every inspector's calendar of the round into `folder` (created)."""
    calendars = inspector_calendars(
        plan.assignments,
        firms,
        inspectors,
        round_id=plan.params.round_id,
        stamp=datetime.combine(plan.params.tier_as_of, time(0), tzinfo=UTC),
        draft=status != "published",
    )
    folder.mkdir()
    for inspector_id, data in calendars.items():
        (folder / marked(calendar_file(inspector_id), status)).write_bytes(data)


def swap_staged(staging: Path, reports: Path, round_id: str) -> tuple[Path, Path]:
    """Swap the staged folder in: (the round's folder, the folder it replaced, set aside for
    `remove_tree` — a caller may remove it while it goes on: a national round's ~3,600
    files take seconds of file-system time). A replaced folder left behind by a crash is
    removed by the next swap."""
    final = round_folder(reports, round_id)
    old = confined(reports, ROUNDS_DIR, f".{round_id}.old")
    remove_tree(reports, old)
    if final.exists() or final.is_symlink():
        rename_within(reports, final, old)
    rename_within(reports, staging, final)
    return final, old


def discard_staged(staging: Path, reports: Path) -> None:
    remove_tree(reports, staging)


def plan_rows(
    plan: RoundPlan, firms: pl.DataFrame, inspectors: pl.DataFrame, rules: RuleSet
) -> pl.DataFrame:
    """One row per firm × inspector, in date order, with Chinese labels for codes."""
    people = inspectors.select(
        "inspector_id",
        pl.col("name").alias("inspector_name"),
        "unit",
        (pl.col("department") if "department" in inspectors.columns else pl.lit(None, pl.Utf8))
        .fill_null("")
        .alias("department"),
        "certificate_no",
    )
    evaluations = plan.inputs.firms.select(
        "uscc", "credit_tier", "public_grade", "rectification_result"
    )
    return (
        plan.assignments.join(plan.draws.drop("round_id", "firm_type"), on="uscc", how="left")
        .join(evaluations, on="uscc", how="left")
        .join(
            firms.select(
                "uscc", pl.col("name").alias("firm_name"), "firm_type", "district", "address"
            ),
            on="uscc",
            how="left",
        )
        .join(people, on="inspector_id", how="left")
        .with_columns(
            tier=_tier_zh(pl.col("tier"), rules),
            credit_tier=_tier_zh(pl.col("credit_tier"), rules),
            stratum=stratum_words(pl.col("stratum"), rules),
            department=pl.when(pl.col("department") == "")
            .then(pl.lit(plan.params.office_label))
            .otherwise(pl.col("department")),
        )
        .select(
            "round_id",
            "inspection_date",
            "uscc",
            "firm_name",
            "firm_type",
            "district",
            "address",
            pl.col("tier").alias("supervision_class"),
            "credit_tier",
            "public_grade",
            "rectification_result",
            "stratum",
            "is_control",
            "draw_order",
            "inspector_id",
            "inspector_name",
            "unit",
            "department",
            "certificate_no",
            "team",
        )
        .sort("inspection_date", "team", "uscc", "inspector_id")
    )


def public_rows(
    outcomes: pl.DataFrame,
    firms: pl.DataFrame,
    office: str = "市级（全市）",
    departments: tuple[str, ...] = (),
) -> pl.DataFrame:
    """The public list of one round: `outcomes` is its `round_outcomes` rows; `office` and
    `departments` name the organising office and a joint round's partner departments. The
    inspection date is shown once a result exists (announcing planned dates would defeat the
    purpose)."""
    return (
        outcomes.join(
            firms.select("uscc", pl.col("name").alias("firm_name"), "firm_type", "district"),
            on="uscc",
            how="left",
        )
        .with_columns(
            inspected_on=pl.when(pl.col("result").is_not_null()).then(pl.col("inspected_on")),
            result=pl.col("result").fill_null(PENDING),
            office=pl.lit(office, dtype=pl.Utf8),
            departments=pl.lit("、".join(departments) or "—", dtype=pl.Utf8),
        )
        .select(
            "round_id",
            "office",
            "departments",
            "uscc",
            "firm_name",
            "firm_type",
            "district",
            "result",
            "inspected_on",
        )
        .sort("firm_type", "uscc")
    )


@dataclass(frozen=True)
class PublicList:
    """A round's public list as it would be written: the workbook, the CSV bytes and where
    each goes (`public_list`)."""

    book: Workbook
    csv: bytes
    xlsx_path: Path
    csv_path: Path


def public_list(
    rows: pl.DataFrame,
    reports: Path,
    round_id: str,
    status: str = "published",
    published_on: date | None = None,
) -> PublicList:
    """The public list of `public_rows` `rows`, not yet written (a caller may first compare
    it with the files there)."""
    folder = round_folder(reports, round_id)
    mark = banner(status, published_on)
    book = Workbook(
        title=f"{mark} · {PUBLIC_TITLE}（{round_id}）", sheets=[Sheet("抽查结果公示", rows)]
    )
    return PublicList(
        book=book,
        csv=csv_bytes(readable(rows), first_line=None if status == "published" else mark),
        xlsx_path=folder / marked(f"公示_{round_id}.xlsx", status),
        csv_path=folder / marked(f"公示_{round_id}.csv", status),
    )


def write_public_list(public: PublicList) -> list[Path]:
    return [
        write_workbook(public.book, public.xlsx_path),
        write_csv_bytes(public.csv, public.csv_path),
    ]


def write_record_workbooks(
    plan: RoundPlan,
    firms: pl.DataFrame,
    inspectors: pl.DataFrame,
    items: InspectionItems,
    folder: Path,
) -> list[Path]:
    """Per team, the inspection record workbook (检查记录表): one row per firm × item, the
    result chosen from a drop-down, problem count (whole number ≥ 0), follow-up document
    number and date (inside the window) to fill in, and a 说明 sheet on how to fill it in.
    Dropped into `<landing>/inspection_records/`, it is read back as the round's item results
    and inspection outcomes: its headers are aliases of the `inspection_records` contract
    (`RECORD_HEADERS`), and the reader finds them under the title rows and skips 序号."""
    round_id = plan.params.round_id
    schedule = plan.schedule.join(plan.draws.select("uscc", "firm_type"), on="uscc", how="left")
    rows = record_rows(schedule, firms, items, round_id)
    names = dict(inspectors.select("inspector_id", "name").iter_rows())
    mark = banner("published", plan.params.published_on)
    window = (
        datetime.combine(plan.params.window_start, time(0)),
        datetime.combine(plan.params.window_end, time(0)),
    )
    validations: dict[str, dict[str, object]] = {
        "result": {"validate": "list", "source": result_order(),
                   "error_message": "请从下拉列表中选择检查结果 / choose a result from the list"},
        "problem_count": {"validate": "integer", "criteria": ">=", "value": 0,
                          "error_message": "问题数量应为非负整数 / a whole number ≥ 0"},
        "inspected_on": {"validate": "date", "criteria": "between", "minimum": window[0],
                         "maximum": window[1],
                         "error_message": "检查日期应在检查期间内 / a date in the window"},
    }  # fmt: skip
    written = []
    teams = sorted(rows.partition_by("team", as_dict=True).items(), key=lambda kv: str(kv[0]))
    for n, (team, part) in enumerate(teams, 1):
        members = "、".join(f"{names.get(i) or i}（{i}）" for i in str(team[0]).split("、"))
        title = f"{mark} · 检查记录表（{round_id}）· 检查组 {n:02d}：{members}"
        guide = pl.DataFrame(
            [
                ("抽查批次", round_id, "本记录表所属的批次"),
                ("检查组", f"{n:02d}：{members}", "本组负责下列单位的检查"),
                ("填写", "黄色列", "检查结果（下拉选择）、问题数量、后续文书号、检查日期"),
                ("视为已检查", "至少一项结果和检查日期已填写",
                 "检查结果取各事项中最重的结果，问题数量为各事项之和"),
                ("交回", "放入收件目录的 inspection_records/",
                 "下次运行即导入为本批次的检查结果 / drop into the landing folder's "
                 "inspection_records/"),
            ],
            schema=list(NOTES_COLUMNS),
            orient="row",
        )  # fmt: skip
        book = Workbook(
            title=title,
            as_of=plan.params.tier_as_of,
            sheets=[
                Sheet("检查记录", part.select(list(RECORD_HEADERS)), title=title,
                      headers=RECORD_HEADERS, to_fill=RECORD_TO_FILL, validations=validations),
                Sheet("说明", guide, title=f"{title}：填写说明", notes=True),
            ],
        )  # fmt: skip
        path = folder / RECORDS_DIR / f"检查记录_{round_id}_组{n:02d}.xlsx"
        written.append(write_workbook(book, path))
    return written


def plan_notes(
    plan: RoundPlan,
    *,
    status: str,
    excluded: int,
    previous_round_id: str | None,
    plan_sha256: str,
    excluded_by_reason: Mapping[str, int] | None = None,
    in_scope: int | None = None,
    backdate_reason: str | None = None,
    labels: Labels | None = None,
) -> pl.DataFrame:
    """The plan's 说明 sheet: one readable row per fact — parameter, value, meaning: the
    office and scope, the publication and notice period, the calendar (and whether a year is
    estimated), each class's ratio and effective inclusion probability, the frequency limits,
    the exclusions by reason, the inputs' hashes."""
    labels = labels or default_labels()
    p = plan.params
    f = p.frequency
    reasons = excluded_by_reason or {}
    drawn = plan.draws.filter(~pl.col("is_control")).height
    control = plan.draws.height - drawn
    strata = " × ".join(labels.column(key, "zh") for key in p.strata)
    recent = p.eligibility.exclude_inspected_within_days
    rows: list[tuple[str, str, str]] = [
        ("抽查批次", p.round_id, "本计划的批次编号"),
        (
            "状态",
            labels.code("round_status", status),
            "草案可重新抽取；已公布的批次只能按原结果重跑",
        ),
        ("随机种子", str(p.seed), "事先公布的随机种子：相同的输入和种子必然得到相同的抽取结果"),
        ("算法版本", plan.algorithm_version, "抽取算法的版本，复核时使用同一版本"),
        ("等级评价基准日", p.tier_as_of.isoformat(), "抽取依据的是各单位在这一天的信用等级"),
        (
            "检查期间",
            f"{p.window_start.isoformat()} 至 {p.window_end.isoformat()}",
            "全部检查在此期间内完成",
        ),
        ("组织单位", p.office_label, "组织本批次抽查的机关；只抽取其范围内的单位和检查人员"),
        ("抽查范围（区）", "、".join(p.scope_districts) or "全部", "只抽取这些区的单位"),
        (
            "抽查范围（单位类型）",
            "、".join(labels.firm_type(c, "zh") for c in p.scope.firm_types) or "全部",
            "只抽取这些类型的单位",
        ),
        (
            "本市检查人员参加",
            "是" if p.allow_city_inspectors else "否",
            "区级批次是否也可抽取市级检查人员",
        ),
        (
            "联合抽查部门",
            "、".join(p.partner_departments) or "—",
            "联合抽查：每个检查组至少包括每个部门的一名检查人员",
        ),
        ("公布日期", p.published_on.isoformat() if p.published_on else "—", "提前告知期由此起算"),
        (
            "补录往期批次",
            f"是：{backdate_reason or '—'}" if p.backdate else "否",
            "检查期间早于公布日期的批次须说明理由（记入审计日志）",
        ),
        (
            "提前告知期",
            f"{p.notice_working_days} 个工作日",
            "首次检查不早于公布后这么多个工作日",
        ),
        ("最早检查日", plan.first_day.isoformat(), "本批次第一天可以安排检查的日期"),
        ("工作日历", plan.calendar.source, "法定节假日和调休的来源"),
        *(
            ("工作日历说明", note, "该年度官方放假安排尚未收录时按周末估算")
            for note in plan.calendar.notes
        ),
        ("范围内单位", "—" if in_scope is None else f"{in_scope:,d} 家", "组织单位范围内的单位"),
        ("可抽取单位", f"{plan.inputs.firms.height:,d} 家", "在业且有信用等级的单位"),
        ("未纳入单位", f"{excluded:,d} 家", "不在业、没有信用等级、检查频次限制等原因"),
        *(
            (f"未纳入：{labels.code('exclusion_reason', reason, 'zh')}", f"{n:,d} 家", "")
            for reason, n in reasons.items()
        ),
        *(
            (
                f"抽查比例：{tier} 类",
                f"{ratio:.1%}",
                "该监管类别每家单位的入选概率（A ≤ B ≤ C ≤ D，信用越好比例越低）",
            )
            for tier, ratio in p.ratios.items()
        ),
        *(
            (
                f"实际入选概率：{tier} 类",
                f"{probability:.2%}",
                f"可抽取 {pool:,d} 家，期望抽取 {expected:g} 家，实抽 {drawn_n:,d} 家",
            )
            for tier, _, pool, probability, expected, drawn_n in plan.tiers.iter_rows()
        ),
        (
            "每层最少抽取",
            f"{p.min_per_stratum} 家",
            "0：每家单位都按其类别比例入选；≥ 1 会抬高小层的入选概率",
        ),
        ("总体抽查下限", f"{p.overall_floor:.1%}", "全部抽取单位占可抽取单位的最低比例"),
        (
            "同一单位最短检查间隔",
            "不限" if f.min_interval_days is None else f"{f.min_interval_days} 天",
            "间隔内检查过（或已列入已公布批次）的单位不再抽取",
        ),
        (
            "同一单位每年最多检查",
            "不限" if f.max_per_year is None else f"{f.max_per_year} 次",
            "跨全部批次计算",
        ),
        (
            "频次限制豁免",
            "、".join(f.exempt_tiers) + ("、有未整改问题的单位" if f.exempt_open_findings else ""),
            "这些单位不受上述频次限制",
        ),
        ("分层", strata, "每一层单独按比例抽取"),
        ("在业状态", "、".join(p.eligibility.active_statuses), "只抽取处于这些状态的单位"),
        ("近期已检查单位", "不排除" if recent is None else f"排除近 {recent} 天内检查过的", ""),
        ("每家单位检查人员", f"{p.inspectors_per_firm} 名", "每次检查的执法人员人数"),
        ("每名检查人员最多检查", f"{p.max_firms_per_inspector} 家", "本批次内的上限"),
        ("检查人员轮换", "是" if p.rotation else "否", "同一检查人员不连续两个批次检查同一单位"),
        ("每组每日检查上限", f"{p.daily_cap_per_team} 家", ""),
        (
            "按风险排序检查日期",
            "是" if p.order_by_risk else "否",
            "是：每层每组内风险高的单位先检查",
        ),
        ("按等级抽取", f"{drawn:,d} 家", "按上述比例抽取的单位"),
        (
            "对照组比例",
            f"{p.control_share:.1%}",
            "另从未抽中的单位中不分等级随机抽取，用于检验按等级抽查的效果",
        ),
        ("对照组单位", f"{control:,d} 家", "按对照组比例抽取的单位数"),
        ("上一批次", previous_round_id or "—", "检查人员轮换所对照的批次"),
        *(
            (
                f"输入文件 SHA-256：{INPUT_NAMES.get(name, name)}",
                digest,
                f"inputs/{name}.csv 的 SHA-256",
            )
            for name, digest in plan.input_hashes.items()
        ),
        ("计划文件 SHA-256", plan_sha256, "plan.json 的 SHA-256，公布后任何人都可核对"),
        (
            "复核方法",
            f"renfang verify-draw {marked(PLAN_FILE, status)}",
            "第三方在自己的电脑上重新抽取并逐项比对",
        ),
    ]
    return pl.DataFrame(rows, schema=list(NOTES_COLUMNS), orient="row")


def _strata(plan: RoundPlan, rules: RuleSet) -> pl.DataFrame:
    return plan.strata.with_columns(
        expected=pl.col("stratum").replace_strict(plan.expected, return_dtype=pl.Float64),
        tier=_tier_zh(pl.col("tier"), rules),
        stratum=stratum_words(pl.col("stratum"), rules),
    ).select("stratum", "tier", "firm_type", "pool", "ratio", "expected", "n_required", "n_drawn")


def stratum_words(expr: pl.Expr, rules: RuleSet, labels: Labels | None = None) -> pl.Expr:
    """A stratum's key in words: `C/protective_equipment` reads `C 级 · 防护设备`."""
    labels = labels or default_labels()
    words = {t.tier: f"{t.tier} 级" for t in rules.tiers} | labels.firm_type_map("zh", short=True)
    parts = expr.str.split("/").list.eval(pl.element().replace(words))
    return parts.list.join(" · ")


def _tiers(plan: RoundPlan, rules: RuleSet) -> pl.DataFrame:
    return plan.tiers.with_columns(tier=_tier_zh(pl.col("tier"), rules))


def _workload(rows: pl.DataFrame) -> pl.DataFrame:
    return (
        rows.group_by("inspector_id", "inspector_name", "unit", "department", "certificate_no")
        .agg(
            pl.len().alias("firms_assigned"),
            pl.col("inspection_date").min().alias("first_date"),
            pl.col("inspection_date").max().alias("last_date"),
        )
        .sort("inspector_id")
    )


def _tier_zh(expr: pl.Expr, rules: RuleSet) -> pl.Expr:
    labels = {t.tier: f"{t.tier} {t.label_zh}" for t in rules.tiers}
    return expr.replace(labels)


def calendar_file(inspector_id: str) -> str:
    """`<inspector_id>.ics` when the id is a safe name; otherwise its letters and digits
    (ASCII and CJK, at most 40) and 8 hex digits of its SHA-256, so two ids never share a
    file and no id, however written, names a path elsewhere."""
    if is_safe_name(inspector_id):
        return f"{inspector_id}.ics"
    kept = "".join(
        c if (c.isascii() and c.isalnum()) or "\u4e00" <= c <= "\u9fff" else "_"
        for c in inspector_id
    )[:40]
    digest = hashlib.sha256(inspector_id.encode("utf-8")).hexdigest()[:8]
    return f"{kept.strip('_') or 'inspector'}-{digest}.ics"
