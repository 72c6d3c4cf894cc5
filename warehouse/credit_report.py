"""A firm's credit report from the warehouse: its facts as of a date, the file, the check.

What belongs here: reading one firm's facts as of a stored scoring date (directory row,
score, counting records, history, path to the next tier, open cases — the landing file's
and those filed online — and listings in force), writing the report under a checked path
with an audit-log entry, and verifying a report file: its embedded facts against those
recomputed from the warehouse as of its date, its printed code against them, and its page
text against the text the recomputed facts draw. What does not: the facts' shape and code
(`models.credit_report`), drawing (`warehouse.report_pdf`), command options (`pipelines`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from models.credit_report import (
    Facts,
    fact_differences,
    normalised_text,
    report_facts,
    verification_code,
)
from models.labels import Labels, default_labels
from models.rules import RuleSet
from models.tier_paths import tier_paths
from warehouse import audit
from warehouse.connection import WarehouseLocation, query, table_exists
from warehouse.credit import firm_records, official_rules
from warehouse.firm_cases import open_cases_of
from warehouse.listing import listings_on
from warehouse.publication import PublicationError, resolve_as_of
from warehouse.report_pdf import read_back, render


class ReportError(ValueError):
    """No report can be made for this firm and date (message: Chinese / English)."""


def facts_of(
    con: duckdb.DuckDBPyConnection, uscc: str, as_of: date | None, labels: Labels
) -> tuple[Facts, RuleSet]:
    """The report facts of `uscc` as of a stored scoring date (None: the latest), with the
    official rule set of that date."""
    try:
        day = resolve_as_of(con, as_of)
    except PublicationError as exc:
        raise ReportError(
            f"{as_of} 没有已存储的评分（先运行 renfang score --as-of {as_of}）/ {exc}"
        ) from exc
    rules = official_rules(con).for_date(day)
    if rules is None:
        raise ReportError(f"{day} 没有正式评价标准 / no official rule set on {day}")
    firm = query(
        con,
        "SELECT uscc, name, firm_type, district, qualification FROM firms WHERE uscc = ?",
        [uscc],
    )
    if firm.is_empty():
        raise ReportError(f"名录中无此单位 {uscc} / {uscc} is not in the firm directory")
    score = query(con, "SELECT * FROM credit_scores WHERE uscc = ? AND as_of = ?", [uscc, day])
    if score.is_empty():
        raise ReportError(f"{uscc} 在 {day} 没有评分 / {uscc} has no score as of {day}")
    reasons = query(
        con,
        "SELECT * FROM score_reasons WHERE uscc = ? AND as_of = ?",
        [uscc, day],
    )
    history = query(
        con,
        "SELECT as_of, score, tier FROM credit_scores WHERE uscc = ? AND as_of <= ?",
        [uscc, day],
    )
    listed = listings_on(con, day)
    listed = listed.filter(pl.col("uscc") == uscc) if "uscc" in listed.columns else listed
    facts = report_facts(
        firm=firm.row(0, named=True),
        score=score.row(0, named=True),
        reasons=reasons,
        history=history,
        path=_path(con, uscc, day, rules),
        cases=open_cases_of(con, uscc, day),
        listings=listed,
        rules=rules,
        as_of=day,
        issuer=labels.issuer("zh"),
    )
    return facts, rules


def _path(
    con: duckdb.DuckDBPyConnection, uscc: str, day: date, rules: RuleSet
) -> dict[str, Any] | None:
    """The firm's path to the next tier as of `day`, from its records and statuses."""
    if not table_exists(con, "credit_records"):
        return None
    records, statuses, firms = firm_records(con, uscc, rules)
    paths, _ = tier_paths(records, statuses, firms, rules, day)
    return paths.row(0, named=True) if not paths.is_empty() else None


def write_report(
    warehouse: WarehouseLocation,
    uscc: str,
    as_of: date | None,
    out: Path,
    *,
    actor: str | None = None,
    labels: Labels | None = None,
) -> tuple[Facts, Path]:
    """Write the report of `uscc` to `out` (a checked output path) and log it."""
    data, facts = report_bytes(warehouse, uscc, as_of, labels=labels)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    log_report(warehouse, facts, str(out), actor)
    return facts, out


def report_bytes(
    warehouse: WarehouseLocation, uscc: str, as_of: date | None, *, labels: Labels | None = None
) -> tuple[bytes, Facts]:
    """The report's PDF bytes and facts (nothing written, nothing logged)."""
    labels = labels or default_labels()
    with warehouse.connect(read_only=True) as con:
        facts, rules = facts_of(con, uscc, as_of, labels)
    return render(facts, rules, labels), facts


def log_report(warehouse: WarehouseLocation, facts: Facts, where: str, actor: str | None) -> None:
    audit.append(
        warehouse.audit_log,
        "credit_report",
        {
            "uscc": facts["uscc"],
            "as_of": facts["as_of"],
            "code": verification_code(facts),
            "out": where,
        },
        actor=actor,
    )


@dataclass
class Verification:
    """The outcome of checking one report file; `problems` are (Chinese, English) pairs."""

    uscc: str | None = None
    as_of: str | None = None
    code: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_report(
    warehouse: WarehouseLocation, data: bytes, labels: Labels | None = None
) -> Verification:
    """Check a report file against the warehouse (see the module's docstring)."""
    from warehouse.report_pdf import page_text

    labels = labels or default_labels()
    result = Verification()
    try:
        found = read_back(data)
    except Exception as exc:  # pypdf raises many kinds on a file that is no PDF
        result.problems.append(("文件不是可读的 PDF", f"the file is not a readable PDF ({exc})"))
        return result
    stated = found.facts
    if stated is None:
        result.problems.append(("文件中没有嵌入报告事实", "the file holds no embedded facts"))
        return result
    result.uscc, result.as_of = str(stated.get("uscc")), str(stated.get("as_of"))
    if found.info_facts != stated:
        result.problems.append(
            (
                "文档信息中的事实与嵌入的事实不一致",
                "the document information's facts differ from the embedded facts",
            )
        )
    try:
        with warehouse.connect(read_only=True) as con:
            recomputed, rules = facts_of(con, result.uscc, date.fromisoformat(result.as_of), labels)
    except (ReportError, ValueError) as exc:
        zh, _, en = str(exc).partition(" / ")
        result.problems.append((f"无法按报告日期重新计算：{zh}", f"cannot recompute: {en or zh}"))
        return result
    result.code = verification_code(recomputed)
    for difference in fact_differences(stated, recomputed):
        result.problems.append(
            (f"嵌入的事实与数据仓库不符：{difference}", f"embedded fact differs: {difference}")
        )
    if found.printed_code != result.code:
        result.problems.append(
            (
                f"页面上的核验码 {found.printed_code} 与重新计算的 {result.code} 不符",
                f"the printed code {found.printed_code} is not the recomputed {result.code}",
            )
        )
    expected = normalised_text(page_text(recomputed, rules, labels))
    if normalised_text(found.text) != expected:
        result.problems.append(
            (
                "页面文字与按数据仓库重新生成的报告不一致（文字被改动）",
                "the page text differs from the report the warehouse gives (the text was altered)",
            )
        )
    return result
