"""The files of a round: plan file, published inputs, the centre's plan, calendars, public list.

What belongs here: where a round's files live (`<reports>/rounds/<round_id>/`), their
Chinese headers, and writing them so that a reader never sees half a round: everything is
written to a staging folder first and swapped in with one rename. What does not: the draw
(models), the warehouse tables (`sampling_store`).

Folder layout (the README's "Double-random rounds" section shows it to users):

    plan.json                          everything a third party needs to re-run the draw
    inputs/{firms,inspectors,conflicts,previous}.csv   the canonical inputs, byte for byte
                                       what the plan hashes (`sha256sum` gives the same)
    抽查计划_<round>.xlsx / .csv        the centre's plan: one row per firm × inspector with
                                       the inspector's unit, name and certificate number
    calendars/<inspector_id>.ics       each inspector's schedule (RFC 5545)
    公示_<round>.xlsx / .csv            the public list: firm, type, round, result; no tier,
                                       date, control flag or inspector (written by the
                                       feedback step, so results appear once reported)
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime, time
from pathlib import Path

import polars as pl

from models.identifiers import check_safe_name, is_safe_name
from models.labels import Labels, default_labels
from models.publication import NOTES_COLUMNS
from models.rules import RuleSet
from models.sampling.ical import inspector_calendars
from models.sampling.round import RoundPlan
from warehouse.exports import Sheet, Workbook, readable, write_csv, write_workbook
from warehouse.paths import confined, remove_tree, rename_within

PLAN_FILE = "plan.json"
INPUTS_DIR = "inputs"
CALENDARS_DIR = "calendars"
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


def round_folder(reports: Path, round_id: str) -> Path:
    """`<reports>/rounds/<round_id>`, resolved: the id must be a safe name
    (`models.identifiers`) and the folder must lie under the reports folder (no symlink on
    the way leads out); else `UnsafeNameError` / `PathOutsideRootError`, before any write."""
    check_safe_name(round_id, "抽查批次编号", "round id")
    return confined(reports, ROUNDS_DIR, round_id)


def stage_round_files(
    plan: RoundPlan,
    plan_json: bytes,
    notes: pl.DataFrame,
    firms: pl.DataFrame,
    inspectors: pl.DataFrame,
    rules: RuleSet,
    reports: Path,
) -> Path:
    """Write every file of the round into a staging folder beside its final place."""
    final = round_folder(reports, plan.params.round_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    confined(reports, final.parent)  # `rounds/` itself may not be a link out
    staging = Path(tempfile.mkdtemp(prefix=f".{plan.params.round_id}.", dir=final.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the round's files are meant to be shared
    (staging / PLAN_FILE).write_bytes(plan_json)
    (staging / INPUTS_DIR).mkdir()
    for name, text in plan.input_texts.items():
        (staging / INPUTS_DIR / f"{name}.csv").write_bytes(text.encode("utf-8"))

    rows = plan_rows(plan, firms, inspectors, rules)
    round_id = plan.params.round_id
    title = f"{PLAN_TITLE}（{round_id}）"
    book = Workbook(
        title=title,
        as_of=plan.params.tier_as_of,
        sheets=[
            Sheet("说明", notes, title=f"{title}：说明", notes=True),
            Sheet("检查安排", rows, title=f"{title}：检查安排"),
            Sheet("分层抽取", _strata(plan, rules), title=f"{title}：分层抽取"),
            Sheet("检查人员任务", _workload(rows), title=f"{title}：检查人员任务"),
        ],
    )
    write_workbook(book, staging / f"抽查计划_{round_id}.xlsx")
    write_csv(readable(rows), staging / f"抽查计划_{round_id}.csv")

    stamp = datetime.combine(plan.params.tier_as_of, time(0), tzinfo=UTC)
    calendars = inspector_calendars(
        plan.assignments, firms, inspectors, round_id=round_id, stamp=stamp
    )
    (staging / CALENDARS_DIR).mkdir()
    for inspector_id, data in calendars.items():
        (staging / CALENDARS_DIR / calendar_file(inspector_id)).write_bytes(data)
    return staging


def publish_staged(staging: Path, reports: Path, round_id: str) -> Path:
    """Swap the staged folder in; the public list of the old folder is carried over until
    the feedback step rewrites it."""
    final = round_folder(reports, round_id)
    old = confined(reports, ROUNDS_DIR, f".{round_id}.old")
    remove_tree(reports, old)
    if final.exists() or final.is_symlink():
        rename_within(reports, final, old)
    rename_within(reports, staging, final)
    remove_tree(reports, old)
    return final


def discard_staged(staging: Path, reports: Path) -> None:
    remove_tree(reports, staging)


def plan_rows(
    plan: RoundPlan, firms: pl.DataFrame, inspectors: pl.DataFrame, rules: RuleSet
) -> pl.DataFrame:
    """One row per firm × inspector, in date order, with Chinese labels for codes."""
    people = inspectors.select(
        "inspector_id", pl.col("name").alias("inspector_name"), "unit", "certificate_no"
    )
    return (
        plan.assignments.join(plan.draws.drop("round_id", "firm_type"), on="uscc", how="left")
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
            stratum=stratum_words(pl.col("stratum"), rules),
        )
        .select(
            "round_id",
            "inspection_date",
            "uscc",
            "firm_name",
            "firm_type",
            "district",
            "address",
            "tier",
            "stratum",
            "is_control",
            "draw_order",
            "inspector_id",
            "inspector_name",
            "unit",
            "certificate_no",
            "team",
        )
        .sort("inspection_date", "team", "uscc", "inspector_id")
    )


def public_rows(outcomes: pl.DataFrame, firms: pl.DataFrame) -> pl.DataFrame:
    """The public list of one round: `outcomes` is its `round_outcomes` rows."""
    return (
        outcomes.join(
            firms.select("uscc", pl.col("name").alias("firm_name"), "firm_type", "district"),
            on="uscc",
            how="left",
        )
        .with_columns(result=pl.col("result").fill_null(PENDING))
        .select("round_id", "uscc", "firm_name", "firm_type", "district", "result")
        .sort("firm_type", "uscc")
    )


def write_public(rows: pl.DataFrame, reports: Path, round_id: str) -> list[Path]:
    folder = round_folder(reports, round_id)
    book = Workbook(title=f"{PUBLIC_TITLE}（{round_id}）", sheets=[Sheet("抽查结果公示", rows)])
    return [
        write_workbook(book, folder / f"公示_{round_id}.xlsx"),
        write_csv(readable(rows), folder / f"公示_{round_id}.csv"),
    ]


def plan_notes(
    plan: RoundPlan,
    *,
    status: str,
    excluded: int,
    previous_round_id: str | None,
    plan_sha256: str,
    labels: Labels | None = None,
) -> pl.DataFrame:
    """The plan's 说明 sheet: one readable row per fact — parameter, value, meaning."""
    labels = labels or default_labels()
    p = plan.params
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
        ("可抽取单位", f"{plan.inputs.firms.height:,d} 家", "在业且有信用等级的单位"),
        ("未纳入单位", f"{excluded:,d} 家", "不在业、没有信用等级等原因未纳入抽取范围"),
        *(
            (
                f"抽查比例：{tier} 级",
                f"{ratio:.1%}",
                "该等级每一层抽取的比例（向上取整，每层至少 1 家）",
            )
            for tier, ratio in p.ratios.items()
        ),
        ("总体抽查下限", f"{p.overall_floor:.1%}", "全部抽取单位占可抽取单位的最低比例"),
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
        ("复核方法", "renfang verify-draw plan.json", "第三方在自己的电脑上重新抽取并逐项比对"),
    ]
    return pl.DataFrame(rows, schema=list(NOTES_COLUMNS), orient="row")


def _strata(plan: RoundPlan, rules: RuleSet) -> pl.DataFrame:
    return plan.strata.with_columns(
        tier=_tier_zh(pl.col("tier"), rules), stratum=stratum_words(pl.col("stratum"), rules)
    ).select("stratum", "tier", "firm_type", "pool", "ratio", "n_required", "n_drawn")


def stratum_words(expr: pl.Expr, rules: RuleSet, labels: Labels | None = None) -> pl.Expr:
    """A stratum's key in words: `C/protective_equipment` reads `C 级 · 防护设备`."""
    labels = labels or default_labels()
    words = {t.tier: f"{t.tier} 级" for t in rules.tiers} | labels.firm_type_map("zh", short=True)
    parts = expr.str.split("/").list.eval(pl.element().replace(words))
    return parts.list.join(" · ")


def _workload(rows: pl.DataFrame) -> pl.DataFrame:
    return (
        rows.group_by("inspector_id", "inspector_name", "unit", "certificate_no")
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
