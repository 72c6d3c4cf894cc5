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
from collections.abc import Mapping
from datetime import UTC, datetime, time
from pathlib import Path

import polars as pl

from models.identifiers import check_safe_name, is_safe_name
from models.labels import default_labels
from models.rules import RuleSet
from models.sampling.ical import inspector_calendars
from models.sampling.round import RoundPlan
from warehouse.exports import with_headers, write_csv, write_xlsx
from warehouse.paths import confined, remove_tree, rename_within

PLAN_FILE = "plan.json"
INPUTS_DIR = "inputs"
CALENDARS_DIR = "calendars"

PLAN_HEADERS = {
    "round_id": "抽查批次",
    "inspection_date": "检查日期",
    "uscc": "统一社会信用代码",
    "firm_name": "单位名称",
    "firm_type": "单位类型",
    "district": "所属区",
    "address": "注册地址",
    "tier": "信用等级",
    "stratum": "抽取层",
    "is_control": "对照组",
    "draw_order": "抽取序号",
    "inspector_id": "检查人员编号",
    "inspector_name": "检查人员姓名",
    "unit": "所属单位",
    "certificate_no": "执法证号",
    "team": "检查组",
    "pool": "可抽取单位数",
    "ratio": "抽查比例",
    "n_required": "应抽数",
    "n_drawn": "实抽数",
    "firms": "检查单位数",
    "first_date": "首次检查日期",
    "last_date": "末次检查日期",
    "result": "检查结果",
}


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
    summary: Mapping[str, object],
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
    sheets = {
        "说明": _cover(summary),
        "检查安排": with_headers(rows, PLAN_HEADERS),
        "分层抽取": with_headers(_strata(plan, rules), PLAN_HEADERS),
        "检查人员任务": with_headers(_workload(rows), PLAN_HEADERS),
    }
    write_xlsx(sheets, staging / f"抽查计划_{round_id}.xlsx")
    write_csv(sheets["检查安排"], staging / f"抽查计划_{round_id}.csv")

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
            firm_type=_firm_type_zh(pl.col("firm_type")),
            tier=_tier_zh(pl.col("tier"), rules),
            is_control=pl.when(pl.col("is_control")).then(pl.lit("是")).otherwise(pl.lit("否")),
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
        .with_columns(
            firm_type=_firm_type_zh(pl.col("firm_type")),
            result=pl.col("result").fill_null("待检查"),
        )
        .select("round_id", "uscc", "firm_name", "firm_type", "district", "result")
        .sort("firm_type", "uscc")
    )


def write_public(rows: pl.DataFrame, reports: Path, round_id: str) -> list[Path]:
    folder = round_folder(reports, round_id)
    readable = with_headers(rows, PLAN_HEADERS)
    return [
        write_xlsx({"抽查结果公示": readable}, folder / f"公示_{round_id}.xlsx"),
        write_csv(readable, folder / f"公示_{round_id}.csv"),
    ]


def _cover(summary: Mapping[str, object]) -> pl.DataFrame:
    return pl.DataFrame(
        {"项目 / item": list(summary), "内容 / value": [str(v) for v in summary.values()]}
    )


def _strata(plan: RoundPlan, rules: RuleSet) -> pl.DataFrame:
    return plan.strata.with_columns(
        firm_type=_firm_type_zh(pl.col("firm_type")), tier=_tier_zh(pl.col("tier"), rules)
    )


def _workload(rows: pl.DataFrame) -> pl.DataFrame:
    return (
        rows.group_by("inspector_id", "inspector_name", "unit", "certificate_no")
        .agg(
            pl.len().alias("firms"),
            pl.col("inspection_date").min().alias("first_date"),
            pl.col("inspection_date").max().alias("last_date"),
        )
        .sort("inspector_id")
    )


def _firm_type_zh(expr: pl.Expr) -> pl.Expr:
    """The same firm-type names as the dashboards and the association's tier list."""
    return expr.replace(default_labels().firm_type_map("zh"))


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
