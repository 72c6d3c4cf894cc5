"""Firm profile (单位画像): search, score history, reasons with documents, path, open cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from warehouse.connection import query

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class Search:
    text: str


@dataclass(frozen=True)
class Firm:
    uscc: str
    as_of: date | None = None


def search_firms(con: duckdb.DuckDBPyConnection, search: Search) -> pl.DataFrame:
    """Firms whose name contains the text or whose USCC starts with it (upper-cased)."""
    text = search.text.strip()
    if not text:
        return query(con, "SELECT uscc, name, firm_type, district FROM firms LIMIT 0")
    return query(
        con,
        """SELECT uscc, name, firm_type, district FROM firms
        WHERE name ILIKE '%' || ? || '%' OR uscc LIKE upper(?) || '%'
        ORDER BY name LIMIT ?""",
        [text, text, SEARCH_LIMIT],
    )


def firm_card(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    """The firm's directory fields and its score as of the date (the latest if None)."""
    return query(
        con,
        """SELECT f.uscc, f.name, f.firm_type, f.district, f.qualification, f.status,
               s.as_of, s.score, s.tier, s.veto, s.veto_reason, s.veto_until,
               s.bonus_points, s.deduction_points, s.counting_records, s.rule_set_version
        FROM firms f LEFT JOIN credit_scores s ON s.uscc = f.uscc
         AND s.as_of = coalesce(?::DATE, (SELECT max(as_of) FROM credit_scores))
        WHERE f.uscc = ?""",
        [firm.as_of, firm.uscc],
    )


def score_history(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    return query(
        con,
        "SELECT as_of, score, tier FROM credit_scores WHERE uscc = ? ORDER BY as_of",
        [firm.uscc],
    )


def reasons(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    """Every record counting in the score as of the date, with its document and points."""
    return query(
        con,
        """SELECT r.evidence_type, r.evidence_doc_no, r.polarity, r.severity, r.category,
               r.valid_from, r.valid_until, r.points, r.multiplier, r.status, r.veto, r.rule,
               c.collected_on, r.record_id
        FROM score_reasons r
        LEFT JOIN credit_records c ON c.record_id = r.record_id AND c.segment = r.segment
         AND c.rule_set_version = r.rule_set_version
        WHERE r.uscc = ? AND r.as_of = coalesce(?::DATE, (SELECT max(as_of) FROM credit_scores))
        ORDER BY r.points, r.valid_from""",
        [firm.uscc, firm.as_of],
    )


def tier_path(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    """Next better tier and when it is reached with no new records (as of processing date)."""
    return query(con, "SELECT * FROM tier_paths WHERE uscc = ?", [firm.uscc])


def repair_options(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    return query(
        con,
        """SELECT evidence_doc_no, repair_eligible_from, valid_until, points_cleared,
               tier_if_repaired
        FROM repair_options WHERE uscc = ? ORDER BY repair_eligible_from""",
        [firm.uscc],
    )


def open_cases(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    """Objections (异议) and repair requests (信用修复) not decided yet, and records still
    marked disputed."""
    return query(
        con,
        """SELECT kind, case_id, record_doc_no, filed_on, decided_on, decision
        FROM credit_cases WHERE uscc = ? AND decided_on IS NULL
        UNION ALL
        SELECT DISTINCT '异议（记录争议中）', s.case_id, r.evidence_doc_no, s.status_from,
               NULL, NULL
        FROM credit_record_status s
        JOIN (SELECT DISTINCT record_id, evidence_doc_no, uscc FROM credit_records) r
          USING (record_id)
        WHERE r.uscc = ? AND s.status = 'disputed' AND s.status_until IS NULL
        ORDER BY filed_on""",
        [firm.uscc, firm.uscc],
    )


def case_history(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    """Every objection and repair case of the firm with its decision."""
    return query(
        con,
        """SELECT kind, case_id, record_doc_no, filed_on, decided_on, decision, note
        FROM credit_cases WHERE uscc = ? ORDER BY filed_on""",
        [firm.uscc],
    )


def online_cases(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    """The firm's own online filings with their status, decision and effective date (read
    from the filings themselves, so a filing shows at once, before the next run)."""
    from models.firm_cases import case_queue
    from warehouse.credit import official_rules
    from warehouse.firm_cases import read_decisions, read_filings

    today = date.today()
    adopted = official_rules(con).adopted
    return case_queue(read_filings(con, firm.uscc), read_decisions(con, firm.uscc), adopted, today)


def online_files(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    """The files attached to the firm's own online filings."""
    from warehouse.firm_cases import read_files

    return read_files(con, firm.uscc)


def own_records(con: duckdb.DuckDBPyConnection, firm: Firm) -> list[str]:
    """The document numbers of the firm's own records (what it may file against)."""
    from warehouse.firm_cases import own_records as records

    return records(con, firm.uscc)


def supervision_class(con: duckdb.DuckDBPyConnection, firm: Firm) -> pl.DataFrame:
    """The firm's supervision class (监管类别) as of the date, with the three evaluations
    behind it: the industry credit tier, the public credit composite grade and the industry
    rectification result known by then (`models.supervision`, the rule set's table)."""
    from dashboards.queries.rules import rules_as_of
    from models.supervision import supervision_classes
    from warehouse.sampling import evaluations_as_of

    card = firm_card(con, firm)
    if card.is_empty() or card["as_of"][0] is None:
        return pl.DataFrame(schema={"evaluation": pl.Utf8, "evaluation_result": pl.Utf8,
                                    "supervision_class": pl.Utf8})  # fmt: skip
    as_of = card["as_of"][0]
    rules = rules_as_of(con, as_of)
    evaluations = evaluations_as_of(con, as_of).filter(pl.col("uscc") == firm.uscc)
    frame = card.select("uscc", credit_tier="tier").join(evaluations, on="uscc", how="left")
    row = supervision_classes(frame, rules.supervision, rules.tier_names).row(0, named=True)
    return pl.DataFrame(
        {
            "evaluation": ["credit_tier", "public_grade", "rectification_result",
                           "supervision_class"],  # codes: labels in models/labels.yaml
            "evaluation_result": [row["credit_tier"], row["public_grade"],
                                  row["rectification_result"], row["class_basis"]],
            "supervision_class": [row["credit_tier"], row["public_class"],
                                  row["rectification_class"], row["tier"]],
        },
        schema={"evaluation": pl.Utf8, "evaluation_result": pl.Utf8,
                "supervision_class": pl.Utf8},
    )  # fmt: skip
