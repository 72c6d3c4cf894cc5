"""Data quality (数据质量): quarantine by reason and source, the latest files read, the Great
Expectations results of the latest run (with their Data Docs pages) and the review report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from models.review import ALL
from warehouse import audit
from warehouse.connection import query, table_exists
from warehouse.quality_docs import (
    DOCS_DIR,
    INDEX,
    RESULTS_DIR,
    docs_url,
    kept_validations,
    page_path,
    page_url,
)


@dataclass(frozen=True)
class Reports:
    """Where the pipeline wrote its reports, and the URL its validation reports are served
    under (`renfang ui` serves `gx_docs/` alone, read-only, on 127.0.0.1 and sets
    `RENFANG_DOCS_URL`; without it, the address `renfang ui` uses by default)."""

    folder: Path
    docs_url: str | None = None

    def url(self, page: Path) -> str:
        return page_url(self.folder / DOCS_DIR, page, self.docs_url or docs_url())

    def index_url(self) -> str | None:
        index = self.folder / DOCS_DIR / INDEX
        return self.url(index) if index.exists() else None


def quarantine_by_reason(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    return query(
        con,
        """SELECT source, reason_code, count(*) AS rows,
               first("column" ORDER BY file, row_number) AS "column",
               first(reason_en ORDER BY file, row_number) AS example_en,
               first(reason ORDER BY file, row_number) AS example_zh
        FROM quarantine GROUP BY source, reason_code ORDER BY rows DESC, source, reason_code""",
    )


def quarantine_rows(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    return query(
        con,
        """SELECT source, file, row_number, "column", raw_value, reason_code, reason, reason_en
        FROM quarantine ORDER BY source, file, row_number""",
    )


def latest_files(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """The latest run's line per file: read = accepted + quarantined + collapsed."""
    return query(
        con,
        """SELECT source, file, format, encoding, status, header_row, detail, rows_read,
               rows_accepted, rows_quarantined, rows_collapsed, logged_at, run_id
        FROM ingestion_log
        WHERE run_id = (SELECT run_id FROM ingestion_log ORDER BY logged_at DESC LIMIT 1)
        ORDER BY source, file""",
    )


def review_totals(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """The review report's subtotal per source and the grand total (evidence, intake delay)."""
    return query(
        con,
        """SELECT source, records, with_valid_doc_no, valid_doc_no_share, delay_median_wd,
               delay_max_wd, over_7_wd, over_20_wd, over_7_share, over_20_share
        FROM review_report WHERE authority = ? AND month = ?
        ORDER BY source = ?, source""",
        [ALL, ALL, ALL],
    )


def gx_results(_: duckdb.DuckDBPyConnection, reports: Reports) -> pl.DataFrame:
    """Per source: the latest run's GX validation (expectations evaluated / passed) and the
    address of its report page. Results are JSON files the gate keeps per run."""
    kept = kept_validations(reports.folder / RESULTS_DIR)
    latest = kept[0].run_id if kept else None
    rows = []
    for v in sorted((v for v in kept if v.run_id == latest), key=lambda v: v.source):
        page = page_path(reports.folder / DOCS_DIR, v.run_id, v.source)
        rows.append(
            {
                "source": v.source,
                "success": v.success,
                "evaluated": v.evaluated,
                "passed": v.passed,
                "run_id": v.run_id,
                "validated_at": v.validated_at,
                "docs_page": reports.url(page) if page.exists() else None,
            }
        )
    schema = {
        "source": pl.Utf8,
        "success": pl.Boolean,
        "evaluated": pl.Int64,
        "passed": pl.Int64,
        "run_id": pl.Utf8,
        "validated_at": pl.Utf8,
        "docs_page": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema)


def open_conflicts(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Facts to resolve: key conflicts, cases and follow-ups naming no known document."""
    if not table_exists(con, "open_conflicts"):
        return pl.DataFrame()
    return query(
        con,
        "SELECT kind, source, key, uscc, detail, file, row_number FROM open_conflicts "
        "ORDER BY kind, source, key",
    )


@dataclass(frozen=True)
class AuditLog:
    """Where the audit log is (beside the warehouse): `warehouse.audit`."""

    path: Path


def audit_entries(_: duckdb.DuckDBPyConnection, log: AuditLog) -> pl.DataFrame:
    """The audit log, newest first, with whether its hash chain is intact."""
    entries = audit.read(log.path)
    check = audit.verify_chain(log.path)
    rows = [
        {
            "seq": e["seq"],
            "at": e["at"],
            "actor": e["actor"],
            "action": e["action"],
            "run_id": e.get("run_id"),
            "detail": json.dumps(e.get("detail", {}), ensure_ascii=False),
            "chain_intact": check.intact,
        }
        for e in reversed(entries)
    ]
    schema = {"seq": pl.Int64, "at": pl.Utf8, "actor": pl.Utf8, "action": pl.Utf8,
              "run_id": pl.Utf8, "detail": pl.Utf8, "chain_intact": pl.Boolean}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)
