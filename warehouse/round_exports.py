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

import shutil
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path

import polars as pl

from models.labels import default_labels
from models.rules import RuleSet
from models.sampling.ical import inspector_calendars
from models.sampling.items import InspectionItems, default_items, record_rows, result_order
from models.sampling.round import RoundPlan
from warehouse.exports import escape_formulas, with_headers

PLAN_FILE = "plan.json"
INPUTS_DIR = "inputs"
CALENDARS_DIR = "calendars"
RECORDS_DIR = "检查记录"
DRAFT_MARK = "草案"
DRAFT_BANNER = "草案 — 未公布 / DRAFT — not published"

PLAN_HEADERS = {
    "round_id": "抽查批次",
    "inspection_date": "检查日期",
    "uscc": "统一社会信用代码",
    "firm_name": "单位名称",
    "firm_type": "单位类型",
    "district": "所属区",
    "address": "注册地址",
    "tier": "监管类别",
    "credit_tier": "行业信用等级",
    "public_grade": "公共信用综合评价",
    "rectification_result": "行业整治评价",
    "stratum": "抽取层",
    "is_control": "对照组",
    "draw_order": "抽取序号",
    "inspector_id": "检查人员编号",
    "inspector_name": "检查人员姓名",
    "unit": "所属单位",
    "department": "所属部门",
    "certificate_no": "执法证号",
    "team": "检查组",
    "pool": "可抽取单位数",
    "ratio": "抽取概率",
    "probability": "实际入选概率",
    "expected": "期望抽取数",
    "drawn": "实抽数",
    "n_required": "每层最少",
    "n_drawn": "实抽数",
    "firms": "检查单位数",
    "first_date": "首次检查日期",
    "last_date": "末次检查日期",
    "result": "检查结果",
    "inspected_on": "检查日期",
    "office": "组织单位",
    "departments": "联合抽查部门",
}
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


def round_folder(reports: Path, round_id: str) -> Path:
    return reports / "rounds" / round_id


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
    summary: Mapping[str, object],
    firms: pl.DataFrame,
    inspectors: pl.DataFrame,
    rules: RuleSet,
    reports: Path,
    *,
    status: str = "draft",
    items: InspectionItems | None = None,
) -> Path:
    """Write every file of the round into a staging folder beside its final place."""
    round_id = plan.params.round_id
    final = round_folder(reports, round_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{round_id}.", dir=final.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the round's files are meant to be shared
    (staging / marked(PLAN_FILE, status)).write_bytes(plan_json)
    (staging / INPUTS_DIR).mkdir()
    for name, text in plan.input_texts.items():
        (staging / INPUTS_DIR / marked(f"{name}.csv", status)).write_bytes(text.encode("utf-8"))

    title = banner(status, plan.params.published_on)
    rows = plan_rows(plan, firms, inspectors, rules)
    sheets = {
        "说明": _cover(summary),
        "检查安排": with_headers(rows, PLAN_HEADERS),
        "分层抽取": with_headers(_strata(plan, rules), PLAN_HEADERS),
        "等级入选概率": with_headers(_tiers(plan, rules), PLAN_HEADERS),
        "检查人员任务": with_headers(_workload(rows), PLAN_HEADERS),
    }
    write_marked_xlsx(sheets, staging / marked(f"抽查计划_{round_id}.xlsx", status), title)
    write_marked_csv(
        sheets["检查安排"], staging / marked(f"抽查计划_{round_id}.csv", status), status, title
    )

    stamp = datetime.combine(plan.params.tier_as_of, time(0), tzinfo=UTC)
    calendars = inspector_calendars(
        plan.assignments,
        firms,
        inspectors,
        round_id=round_id,
        stamp=stamp,
        draft=status != "published",
    )
    (staging / CALENDARS_DIR).mkdir()
    for inspector_id, data in calendars.items():
        name = marked(f"{_safe_name(inspector_id)}.ics", status)
        (staging / CALENDARS_DIR / name).write_bytes(data)
    if status == "published":
        write_record_workbooks(plan, firms, inspectors, items or default_items(), staging)
    return staging


def publish_staged(staging: Path, reports: Path, round_id: str) -> Path:
    """Swap the staged folder in (a draft's files never survive its publication)."""
    final = round_folder(reports, round_id)
    old = final.with_name(f".{round_id}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def discard_staged(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


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
            firm_type=_firm_type_zh(pl.col("firm_type")),
            tier=_tier_zh(pl.col("tier"), rules),
            credit_tier=_tier_zh(pl.col("credit_tier"), rules),
            is_control=pl.when(pl.col("is_control")).then(pl.lit("是")).otherwise(pl.lit("否")),
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
            "tier",
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
            firm_type=_firm_type_zh(pl.col("firm_type")),
            inspected_on=pl.when(pl.col("result").is_not_null()).then(pl.col("inspected_on")),
            result=pl.col("result").fill_null("待检查"),
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


def write_public(
    rows: pl.DataFrame,
    reports: Path,
    round_id: str,
    status: str = "published",
    published_on: date | None = None,
) -> list[Path]:
    folder = round_folder(reports, round_id)
    readable = with_headers(rows, PLAN_HEADERS)
    title = banner(status, published_on)
    return [
        write_marked_xlsx(
            {"抽查结果公示": readable}, folder / marked(f"公示_{round_id}.xlsx", status), title
        ),
        write_marked_csv(readable, folder / marked(f"公示_{round_id}.csv", status), status, title),
    ]


def write_marked_xlsx(sheets: Mapping[str, pl.DataFrame], path: Path, title: str) -> Path:
    """One sheet per frame, its first row `title` (the draft or publication mark), its header
    on the second row (frozen); written atomically."""
    import xlsxwriter  # lazy: only exports need it

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".xlsx", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        draft = title == DRAFT_BANNER
        with xlsxwriter.Workbook(str(tmp_path)) as book:
            mark = book.add_format(
                {"bold": True, "font_color": "#9C0006" if draft else "#006100",
                 "bg_color": "#FFC7CE" if draft else "#C6EFCE"}
            )  # fmt: skip
            for name, frame in sheets.items():
                safe = escape_formulas(_flatten(frame))
                safe.write_excel(
                    workbook=book,
                    worksheet=name[:31],
                    position=(1, 0),
                    autofit=True,
                    freeze_panes=(2, 0),
                    header_format={"bold": True, "bg_color": "#DDEBF7"},
                )
                sheet = book.get_worksheet_by_name(name[:31])
                assert sheet is not None  # written just above
                last = max(safe.width - 1, 0)
                if last:
                    sheet.merge_range(0, 0, 0, last, title, mark)
                else:
                    sheet.write(0, 0, title, mark)
        tmp_path.chmod(0o644)  # NamedTemporaryFile is private (0600); a report is shared
        tmp_path.replace(path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return path


def write_marked_csv(frame: pl.DataFrame, path: Path, status: str, title: str) -> Path:
    """UTF-8 with BOM; a draft's first line is its mark (a published file starts with its
    header, so programs read it as they always did)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_suffix(path.suffix + ".tmp")
    body = escape_formulas(_flatten(frame)).write_csv()
    head = "" if status == "published" else f"{title}\n"
    tmp_path.write_text(head + body, encoding="utf-8-sig")
    tmp_path.replace(path)
    return path


def write_record_workbooks(
    plan: RoundPlan,
    firms: pl.DataFrame,
    inspectors: pl.DataFrame,
    items: InspectionItems,
    folder: Path,
) -> list[Path]:
    """Per team, the inspection record workbook (检查记录表): one row per firm × item, the
    result chosen from a drop-down, problem count (whole number ≥ 0), follow-up document
    number and date to fill in. Dropped into `<landing>/inspection_records/`, it is read back
    as the round's item results and inspection outcomes."""
    import xlsxwriter

    round_id = plan.params.round_id
    schedule = plan.schedule.join(plan.draws.select("uscc", "firm_type"), on="uscc", how="left")
    rows = record_rows(schedule, firms, items, round_id)
    names = dict(inspectors.select("inspector_id", "name").iter_rows())
    target = folder / RECORDS_DIR
    target.mkdir(parents=True, exist_ok=True)
    written = []
    results = result_order()
    columns = list(RECORD_HEADERS)
    for n, (team, part) in enumerate(
        sorted(rows.partition_by("team", as_dict=True).items(), key=lambda kv: str(kv[0])), 1
    ):
        team_id = str(team[0])
        members = "、".join(f"{names.get(i) or i}（{i}）" for i in team_id.split("、"))
        path = target / f"检查记录_{round_id}_组{n:02d}.xlsx"
        with xlsxwriter.Workbook(str(path)) as book:
            title = book.add_format({"bold": True, "font_color": "#006100", "bg_color": "#C6EFCE"})
            head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
            fill = book.add_format({"bg_color": "#FFF2CC", "border": 1})
            day = book.add_format({"num_format": "yyyy-mm-dd"})
            fill_day = book.add_format({"num_format": "yyyy-mm-dd", "bg_color": "#FFF2CC",
                                        "border": 1})  # fmt: skip
            sheet = book.add_worksheet("检查记录")
            sheet.merge_range(
                0, 0, 0, len(columns) - 1,
                f"检查记录表 · 抽查批次 {round_id} · 检查组 {n:02d}：{members} · "
                f"{banner('published', plan.params.published_on)}",
                title,
            )  # fmt: skip
            for c, column in enumerate(columns):
                sheet.write(1, c, RECORD_HEADERS[column], head)
            to_fill = {"result", "problem_count", "followup_doc_no", "inspected_on"}
            for r, row in enumerate(part.select(columns).iter_rows(named=True), 2):
                for c, column in enumerate(columns):
                    value = row[column]
                    if column in to_fill:
                        fmt = fill_day if column == "inspected_on" else fill
                        sheet.write_blank(r, c, None, fmt)
                    elif isinstance(value, date):
                        sheet.write_datetime(r, c, datetime.combine(value, time(0)), day)
                    elif value is not None:
                        sheet.write(r, c, _escape(str(value)))
            last = 1 + part.height
            col = {name: columns.index(name) for name in to_fill}
            choose = "请从下拉列表中选择检查结果 / choose a result from the list"
            whole = "问题数量应为非负整数 / a whole number ≥ 0"
            inside = "检查日期应在检查期间内 / a date inside the round's window"
            validations: dict[str, dict[str, object]] = {
                "result": {"validate": "list", "source": results, "error_message": choose},
                "problem_count": {
                    "validate": "integer",
                    "criteria": ">=",
                    "value": 0,
                    "error_message": whole,
                },
                "inspected_on": {
                    "validate": "date",
                    "criteria": "between",
                    "minimum": datetime.combine(plan.params.window_start, time(0)),
                    "maximum": datetime.combine(plan.params.window_end, time(0)),
                    "error_message": inside,
                },
            }
            for column, rule in validations.items():
                sheet.data_validation(2, col[column], last, col[column], rule)
            sheet.freeze_panes(2, 0)
            widths = {"inspection_id": 28, "uscc": 22, "firm_name": 30, "item": 44,
                      "legal_basis": 36, "method": 20, "inspector_ids": 26}  # fmt: skip
            for c, column in enumerate(columns):
                sheet.set_column(c, c, widths.get(column, 14))
            guide = book.add_worksheet("填写说明")
            lines = [
                banner("published", plan.params.published_on),
                f"抽查批次 {round_id}，检查组 {n:02d}：{members}",
                "每行一个检查事项：在黄色列填写检查结果（下拉选择）、问题数量、"
                "后续文书号和检查日期；",
                "一家单位至少一项结果和检查日期已填写即视为已检查，"
                "其检查结果取各事项中最重的结果，问题数量为各事项之和。",
                "填好后将本文件放入收件目录的 inspection_records/ 子目录，"
                "下次运行即导入为本批次的检查结果。",
                "Fill the yellow columns (result from the drop-down, problem count, follow-up "
                "document, date) and drop the file into the landing folder's inspection_records/.",
            ]
            for r, line in enumerate(lines):
                guide.write(r, 0, line, title if r == 0 else None)
            guide.set_column(0, 0, 120)
        path.chmod(0o644)
        written.append(path)
    return written


def _escape(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become `a、b` text: spreadsheets have no list cells."""
    return frame.with_columns(
        pl.col(c).list.join("、") for c, t in frame.schema.items() if isinstance(t, pl.List)
    )


def _cover(summary: Mapping[str, object]) -> pl.DataFrame:
    return pl.DataFrame(
        {"项目 / item": list(summary), "内容 / value": [str(v) for v in summary.values()]}
    )


def _strata(plan: RoundPlan, rules: RuleSet) -> pl.DataFrame:
    return (
        plan.strata.with_columns(
            expected=pl.col("stratum").replace_strict(plan.expected, return_dtype=pl.Float64)
        )
        .with_columns(
            firm_type=_firm_type_zh(pl.col("firm_type")), tier=_tier_zh(pl.col("tier"), rules)
        )
        .select(
            "stratum", "tier", "firm_type", "pool", "ratio", "expected", "n_required", "n_drawn"
        )
    )


def _tiers(plan: RoundPlan, rules: RuleSet) -> pl.DataFrame:
    return plan.tiers.with_columns(tier=_tier_zh(pl.col("tier"), rules))


def _workload(rows: pl.DataFrame) -> pl.DataFrame:
    return (
        rows.group_by("inspector_id", "inspector_name", "unit", "department", "certificate_no")
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


def _safe_name(text: str) -> str:
    """A file name from an id: anything but letters, digits, - and _ becomes _."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)
