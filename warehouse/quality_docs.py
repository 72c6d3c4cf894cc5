"""The validation reports (our Data Docs): static HTML rendered from the GX JSON results.

What belongs here: where the reports live (`<reports>/gx_docs/index.html` and one page per
validation, `validations/<run_id>/<source>.html`), the URL they are served under (the docs
server of `renfang ui`, `$RENFANG_DOCS_URL`), and rendering them from the JSON result files the
quality gate keeps (`<reports>/gx_results/<run_id>/<source>.json`). Every page is one file
with its style inline: no script, font or stylesheet from a CDN, so the reports read
completely on an intranet without internet access (GX's own Data Docs load 17 assets from
public CDNs and show empty lists offline). What does not: running the expectations
(pipelines.quality.gx_gate), GX itself (never imported here).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from models.contracts import Contracts, default_contracts
from models.labels import Labels, default_labels

DOCS_DIR = "gx_docs"
RESULTS_DIR = "gx_results"
INDEX = "index.html"
DEFAULT_DOCS_URL = "http://127.0.0.1:3001"
"""Where `renfang ui` serves the reports by default (its `--docs-port`)."""

INDEX_LIMIT = 90
"""Validations listed on the index (ten runs of the nine sources); older pages stay on disk."""

SCOPE_KEY = "validation_scope"
"""Where a result's meta says which rows were validated: mode (full | incremental), reason
(`REASONS`, decided by `warehouse.gate_state.plan`), rows validated and rows of the table."""
WHOLE_TABLE = "whole_table"
"""Meta flag of an outcome judged on the whole table in DuckDB while GX saw only the changed
rows (row count, key uniqueness: `pipelines.quality.gx_gate`)."""
UNCHANGED = "unchanged"
"""Meta flag of a row-level outcome of a validation with no changed rows (`NO_NEW_ROWS`): not
run, every row passed it before under the same suite."""
NO_NEW_ROWS = "no_new_rows"
"""The reason of an incremental validation with no rows for GX: only the whole-table checks
ran (in DuckDB), GX did not."""

MODES: dict[str, tuple[str, str]] = {
    "full": ("全量校验", "full"),
    "incremental": ("增量校验", "incremental"),
}
REASONS: dict[str, tuple[str, str]] = {
    "full_run": ("全量重建运行", "a full rebuild run"),
    "never_passed": ("此前没有通过的校验", "no earlier passing validation"),
    "table_rebuilt": ("清洗步骤重建了整张表", "the clean step rebuilt the table"),
    "suite_changed": ("检查项已变更", "the suite changed"),
    "date_moved_back": (
        "处理日期早于上次通过的校验",
        "the processing date is before the last pass's",
    ),
    "changed_rows": ("上次通过校验后写入的行", "rows written since the last pass"),
    NO_NEW_ROWS: ("无新增行", "no new rows"),
}
"""Why a validation covered what it did, in words (Chinese, English)."""

EXPECTATIONS: dict[str, tuple[str, str]] = {
    "expect_table_columns_to_match_set": (
        "表包含约定的全部列",
        "The table has the contract's columns",
    ),
    "expect_table_row_count_to_be_between": ("行数不少于 {min_value}", "At least {min_value} rows"),
    "expect_column_values_to_not_be_null": ("「{column}」不为空", "{column} is never empty"),
    "expect_column_values_to_be_in_set": (
        "「{column}」取值在允许范围内",
        "{column} takes allowed values",
    ),
    "expect_column_values_to_match_regex": ("「{column}」格式正确", "{column} is well formed"),
    "expect_column_values_to_be_between": (
        "「{column}」在允许范围内（{range_zh}）",
        "{column} lies within its range ({range_en})",
    ),
    "expect_column_value_lengths_to_be_between": (
        "「{column}」长度不超过 {max_value}",
        "{column} is at most {max_value} characters",
    ),
    "expect_column_values_to_be_unique": ("「{column}」不重复", "{column} is unique"),
    "expect_compound_columns_to_be_unique": (
        "{column_list} 组合不重复",
        "{column_list} together are unique",
    ),
    "expect_column_pair_values_a_to_be_greater_than_b": (
        "「{column_A}」不早于「{column_B}」",
        "{column_A} is not before {column_B}",
    ),
}
"""What each expectation checks, in words (Chinese, English); unknown types show their name."""

STYLE = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;
margin:2rem;color:#222;max-width:75rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.en{color:#666;font-size:.9em}.meta{color:#444;margin:.2rem 0 1rem}
table{border-collapse:collapse;width:100%;margin-top:.5rem}
th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef3f8}tr.fail td{background:#fdecea}
.ok{color:#1b5e20;font-weight:bold}.bad{color:#b71c1c;font-weight:bold}
code{font-size:.8em;color:#555}a{color:#0b57d0}
"""


@dataclass(frozen=True)
class Validation:
    """One kept GX result, reduced to what the index lists."""

    run_id: str
    source: str
    success: bool
    evaluated: int
    passed: int
    validated_at: str
    result_file: Path
    scope: Mapping[str, Any] | None  # SCOPE_KEY of the result (None: kept before it existed)


def scope_words(
    mode: str, reason: str | None, validated: int, rows: int, success: bool | None = None
) -> tuple[str, str]:
    """Which rows a validation covered, in Chinese and in English: e.g. `增量校验：共 4,800
    行，校验其中 12 行（上次通过校验后写入的行）` and `incremental: 12 of 4,800 rows validated
    (rows written since the last pass)`; with no new rows, `增量校验：共 4,800 行，无新增行，
    整表检查通过` and `incremental: 4,800 rows, no new rows, whole-table checks passed` (the
    verdict when `success` is given)."""
    mode_zh, mode_en = MODES.get(mode, (mode, mode))
    if reason == NO_NEW_ROWS:
        why_zh, why_en = REASONS[NO_NEW_ROWS]
        zh, en = f"{mode_zh}：共 {rows:,d} 行，{why_zh}", f"{mode_en}: {rows:,d} rows, {why_en}"
        if success is not None:
            zh += "，整表检查" + ("通过" if success else "未通过")
            en += ", whole-table checks " + ("passed" if success else "failed")
        return zh, en
    why_zh, why_en = REASONS.get(reason, (reason, reason)) if reason else ("", "")
    zh = f"{mode_zh}：共 {rows:,d} 行，校验其中 {validated:,d} 行" + (
        f"（{why_zh}）" if why_zh else ""
    )
    en = f"{mode_en}: {validated:,d} of {rows:,d} rows validated" + (
        f" ({why_en})" if why_en else ""
    )
    return zh, en


def scope_text(
    mode: str, reason: str | None, validated: int, rows: int, success: bool | None = None
) -> str:
    """`scope_words` as one line, Chinese first (the check's metadata)."""
    return " / ".join(scope_words(mode, reason, validated, rows, success))


def _scope_of(scope: Mapping[str, Any], success: bool | None = None) -> tuple[str, str]:
    return scope_words(
        str(scope.get("mode", "")),
        scope.get("reason"),
        int(scope.get("rows_validated") or 0),
        int(scope.get("table_rows") or 0),
        success,
    )


def docs_folder(reports: Path) -> Path:
    return reports / DOCS_DIR


def results_folder(reports: Path) -> Path:
    return reports / RESULTS_DIR


def page_path(docs: Path, run_id: str, source: str) -> Path:
    """The report page of one validation in the docs folder (exists once rendered)."""
    return docs / "validations" / run_id / f"{source}.html"


def docs_url(environ: Mapping[str, str] | None = None) -> str:
    """The docs server's address: `$RENFANG_DOCS_URL` (set by `renfang ui` for the servers it
    starts), else the address `renfang ui` serves them at by default."""
    env = os.environ if environ is None else environ
    return (env.get("RENFANG_DOCS_URL") or DEFAULT_DOCS_URL).rstrip("/")


def page_url(docs: Path, page: Path, base: str | None = None) -> str:
    """The http address of a page of the docs folder under the docs server."""
    relative = page.relative_to(docs).as_posix()
    return f"{(base or docs_url()).rstrip('/')}/{relative}"


def load_validation(file: Path) -> Validation:
    result = json.loads(file.read_text(encoding="utf-8"))
    stats = result.get("statistics", {})
    return Validation(
        run_id=file.parent.name,
        source=file.stem,
        success=bool(result.get("success")),
        evaluated=int(stats.get("evaluated_expectations", 0)),
        passed=int(stats.get("successful_expectations", 0)),
        validated_at=_run_time(result),
        result_file=file,
        scope=(result.get("meta") or {}).get(SCOPE_KEY),
    )


def kept_validations(results: Path) -> list[Validation]:
    """Every kept result in the results folder, newest first (validation time, source)."""
    root = results
    files = sorted(root.glob("*/*.json")) if root.exists() else []
    found = [load_validation(f) for f in files]
    return sorted(found, key=lambda v: (v.validated_at, v.source), reverse=True)


def render_reports(
    docs: Path,
    results: Path,
    run_id: str,
    source: str,
    *,
    contracts: Contracts | None = None,
    labels: Labels | None = None,
) -> Path:
    """Render the page of one kept validation, then the index; returns the page."""
    labels = labels or default_labels()
    contracts = contracts or default_contracts()
    result_file = results / run_id / f"{source}.json"
    result = json.loads(result_file.read_text(encoding="utf-8"))
    page = page_path(docs, run_id, source)
    _write(page, validation_page(result, run_id, source, contracts, labels))
    _write(docs / INDEX, index_page(kept_validations(results), labels))
    return page


def validation_page(
    result: Mapping[str, Any], run_id: str, source: str, contracts: Contracts, labels: Labels
) -> str:
    """One validation: what was checked, whether it held, and the evidence when it did not."""
    contract = contracts.sources.get(source)

    def col(name: str, lang: str) -> str:
        if contract is not None:
            return labels.source_column(contract, name, "zh" if lang == "zh" else "en")
        return labels.column(name, "zh" if lang == "zh" else "en")

    stats = result.get("statistics", {})
    ok = bool(result.get("success"))
    scope = (result.get("meta") or {}).get(SCOPE_KEY) or {}
    incremental = scope.get("mode") == "incremental"
    rows = []
    for n, item in enumerate(result.get("results", []), start=1):
        config = item.get("expectation_config") or {}
        kind = str(config.get("type", ""))
        kwargs = config.get("kwargs") or {}
        zh, en = _describe(kind, kwargs, col)
        passed = bool(item.get("success"))
        outcome = item.get("result") or {}
        count = outcome.get("unexpected_count")
        rows.append(
            f'<tr class="{"pass" if passed else "fail"}"><td>{n}</td>'
            f'<td>{escape(zh)}<br><span class="en">{escape(en)}</span><br><code>{escape(kind)}'
            f"</code></td><td>{_checked_on(item, incremental)}</td><td>{_verdict(passed)}</td>"
            f"<td>{'' if count is None else f'{int(count):,d}'}</td>"
            f"<td>{escape(_evidence(item))}</td></tr>"
        )
    title_zh = labels.code("table", source, "zh")
    title_en = labels.code("table", source, "en")
    body = f"""
<p><a href="../../{INDEX}">← 全部检查报告 <span class="en">All reports</span></a></p>
<h1>数据质量检查报告：{escape(title_zh)} <span class="en">Validation report: {escape(title_en)}
</span></h1>
<p class="meta">结论 <span class="en">Result</span>：{_verdict(ok)} ·
检查项 <span class="en">expectations</span> {int(stats.get("evaluated_expectations", 0))} ·
通过 <span class="en">passed</span> {int(stats.get("successful_expectations", 0))} ·
检查时间 <span class="en">validated at</span> {escape(_run_time(result))} ·
运行编号 <span class="en">run</span> <code>{escape(run_id)}</code></p>
{_scope_paragraph(scope, ok)}
<table><thead><tr><th>序号<br><span class="en">No.</span></th>
<th>检查内容<br><span class="en">Expectation</span></th><th>检查范围<br><span class="en">
Checked on</span></th><th>结果<br><span class="en">Result
</span></th><th>不符合行数<br><span class="en">Unexpected rows</span></th>
<th>说明<br><span class="en">Evidence</span></th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>"""
    return _html(f"数据质量检查报告：{title_zh}", body)


def _scope_paragraph(scope: Mapping[str, Any], success: bool) -> str:
    """Which rows were validated; for an incremental validation, what that means."""
    if not scope:
        return ""
    zh, en = _scope_of(scope, success)
    text = (
        f'<p class="meta">校验范围 <span class="en">Scope</span>：{escape(zh)} '
        f'<span class="en">{escape(en)}</span></p>'
    )
    if scope.get("mode") != "incremental":
        return text
    if scope.get("reason") == NO_NEW_ROWS:
        return text + (
            '<p class="meta">上次通过校验后没有写入任何行，因此未运行 Great Expectations：'
            "表的列、行数与键唯一性（撤回文件只删除行也会改变它们）在 DuckDB 中对整张表检查；"
            "其余检查项只针对单行，各行已在同一组检查项下通过。"
            '<br><span class="en">No row was written since the table last passed, so Great '
            "Expectations did not run: the table's columns, row count and key uniqueness (which "
            "a withdrawal changes by deleting rows alone) were checked on the whole table in "
            "DuckDB; every other expectation is about one row, and every row passed it before "
            "under the same suite.</span></p>"
        )
    return text + (
        '<p class="meta">增量校验只把上次通过校验后写入的行交给 Great Expectations；其余各行'
        "已在同一组检查项下通过（处理日期只会后移）。行数与键唯一性仍对整张表检查（DuckDB 统计）。"
        '<br><span class="en">An incremental validation gives Great Expectations only the rows '
        "written since the table last passed; every other row passed the same suite before "
        "(the processing date only moved forward). Row count and key uniqueness are still "
        "checked on the whole table (counted in DuckDB).</span></p>"
    )


def _checked_on(item: Mapping[str, Any], incremental: bool) -> str:
    """Where an outcome was judged: the whole table, or the changed rows given to GX."""
    if (item.get("meta") or {}).get(WHOLE_TABLE):
        return '全表（DuckDB 统计）<br><span class="en">whole table (counted in DuckDB)</span>'
    if (item.get("meta") or {}).get(UNCHANGED):
        return (
            '无新增行，未运行（各行此前已通过）<br><span class="en">no new rows: not run '
            "(every row passed before)</span>"
        )
    if incremental:
        return '变更行<br><span class="en">changed rows</span>'
    return '全表<br><span class="en">whole table</span>'


def index_page(validations: Sequence[Validation], labels: Labels) -> str:
    """The latest validations, newest first, each linking to its page."""
    rows = []
    for v in validations[:INDEX_LIMIT]:
        href = f"validations/{v.run_id}/{v.source}.html"
        rows.append(
            f'<tr class="{"pass" if v.success else "fail"}"><td>{escape(v.validated_at)}</td>'
            f'<td><a href="{escape(href)}">{escape(labels.code("table", v.source, "zh"))}</a>'
            f'<br><span class="en">{escape(labels.code("table", v.source, "en"))}</span></td>'
            f"<td>{_verdict(v.success)}</td><td>{v.passed} / {v.evaluated}</td>"
            f"<td>{_index_scope(v.scope)}</td><td><code>{escape(v.run_id)}</code></td></tr>"
        )
    empty = '<tr><td colspan="6">尚无检查结果 <span class="en">No validation yet</span></td></tr>'
    body = f"""
<h1>数据质量检查报告 <span class="en">Validation reports (Data Docs)</span></h1>
<p class="meta">每次运行对每张清洗后的数据表执行一组检查（由数据约定生成）；
最近 {INDEX_LIMIT} 份报告。
<span class="en">Each run validates every clean table against the suite generated from its
contract; the latest {INDEX_LIMIT} reports.</span></p>
<table><thead><tr><th>检查时间<br><span class="en">Validated at</span></th>
<th>数据表<br><span class="en">Table</span></th><th>结果<br><span class="en">Result</span></th>
<th>通过 / 检查项<br><span class="en">Passed / expectations</span></th>
<th>校验行数<br><span class="en">Rows validated</span></th>
<th>运行编号<br><span class="en">Run</span></th></tr></thead>
<tbody>{"".join(rows) or empty}</tbody></table>"""
    return _html("数据质量检查报告 Validation reports", body)


def _index_scope(scope: Mapping[str, Any] | None) -> str:
    """`增量 12 / 4,800` or `全量 4,800`: the mode and the rows GX saw."""
    if not scope:
        return ""
    mode = str(scope.get("mode", ""))
    zh, en = MODES.get(mode, (mode, mode))
    validated, rows = int(scope.get("rows_validated") or 0), int(scope.get("table_rows") or 0)
    count = f"{validated:,d} / {rows:,d}" if mode == "incremental" else f"{rows:,d}"
    if scope.get("reason") == NO_NEW_ROWS:
        why_zh, why_en = REASONS[NO_NEW_ROWS]
        count += f'（{why_zh} <span class="en">{why_en}</span>）'

    return f'{escape(zh)} <span class="en">{escape(en)}</span> {count}'


def _describe(kind: str, kwargs: Mapping[str, Any], col: Any) -> tuple[str, str]:
    texts = EXPECTATIONS.get(kind)
    if texts is None:
        return kind, kind
    out = []
    for lang, text in zip(("zh", "en"), texts, strict=True):
        values = {
            "column": col(str(kwargs.get("column", "")), lang),
            "column_A": col(str(kwargs.get("column_A", "")), lang),
            "column_B": col(str(kwargs.get("column_B", "")), lang),
            "column_list": "、".join(col(str(c), lang) for c in kwargs.get("column_list") or []),
            "min_value": _value(kwargs.get("min_value")),
            "max_value": _value(kwargs.get("max_value")),
            "range_zh": _range(kwargs, "至", "以上", "以下"),
            "range_en": _range(kwargs, "to", "or more", "or less"),
        }
        out.append(text.format(**values))
    return out[0], out[1]


def _range(kwargs: Mapping[str, Any], to: str, above: str, below: str) -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        return f"{_value(low)} {to} {_value(high)}"
    if low is not None:
        return f"{_value(low)} {above}"
    return f"{_value(high)} {below}"


def _value(value: Any) -> str:
    """A bound as people read it: dates without midnight, numbers without `.0`."""
    if value is None:
        return "—"
    text = str(value)
    if len(text) >= 19 and text[10] == "T" and text.endswith("00:00:00"):
        return text[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return text


def _evidence(item: Mapping[str, Any]) -> str:
    """What was observed: the offending keys and values, GX's error, or the observed value."""
    info = item.get("exception_info") or {}
    message = info.get("exception_message") if isinstance(info, dict) else None
    if message:
        return f"错误 error: {message}"
    result = item.get("result") or {}
    parts: list[str] = []
    keys = result.get("partial_unexpected_index_list") or []
    if keys:
        parts.append("；".join(", ".join(f"{k}={v}" for k, v in dict(row).items()) for row in keys))
    values = result.get("partial_unexpected_list") or []
    if values and not keys:
        parts.append("、".join(str(v) for v in values))
    mismatched = (result.get("details") or {}).get("mismatched")
    if mismatched and not item.get("success"):
        parts.append(json.dumps(mismatched, ensure_ascii=False))
    observed = result.get("observed_value")
    if observed is not None and not isinstance(observed, list):
        parts.append(f"实际 observed: {observed}")
    return " · ".join(parts)


def _verdict(passed: bool) -> str:
    if passed:
        return '<span class="ok">通过</span> <span class="en">passed</span>'
    return '<span class="bad">未通过</span> <span class="en">failed</span>'


def _run_time(result: Mapping[str, Any]) -> str:
    meta = result.get("meta") or {}
    run = meta.get("run_id") or {}
    stamp = str(run.get("run_time") or meta.get("validation_time") or "")
    return stamp[:19].replace("T", " ")


def _html(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def _write(path: Path, text: str) -> None:
    """Atomically: checks of one run may write the index at the same time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False
    ) as tmp:
        tmp.write(text)
    tmp_path = Path(tmp.name)
    tmp_path.chmod(0o644)
    tmp_path.replace(path)
