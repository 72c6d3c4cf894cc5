"""The credit report (信用报告): what it states about one firm as of one date, and its code.

What belongs here: assembling a report's facts — identity, score, tier and risk class, every
counting record with its document number, dates and points, the score history, the path to
the next tier, open cases and listings, the as-of date and issuer — from frames already
read, as one plain mapping; writing them as canonical JSON; the verification code (SHA-256
of that JSON); and comparing two sets of facts key by key. Pure: polars in, plain data out.

Why facts rather than the PDF's bytes: a reader (a bank, a tendering agency) must be able to
check a report against the warehouse years later. The facts are what the report says; the
same facts always give the same JSON and code, whatever library renders the page, and
`renfang verify-report` recomputes them from the warehouse as of the report's date.

What a report says follows the audiences of `publication`: it is the firm's own record (the
firm sees its score), tiers carry their risk-class names (never a name the law reserves for
a decided list), and 严重失信 appears only as a decided, published, unexpired listing.
What does not: reading the warehouse (`warehouse.credit_report`), drawing the page
(`warehouse.report_pdf`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl

from models.rules import RuleSet

REPORT_FORMAT = 1
"""Bumped when the facts' shape changes (a verifier reads the format it was written in)."""

KIND = "renfang-credit-report"

Facts = dict[str, Any]


def _day(value: object) -> str | None:
    return value.isoformat() if isinstance(value, date) else None


def _points(value: object) -> str:
    """Points and scores as text with two decimals: the JSON never holds a float."""
    return f"{float(value):.2f}" if isinstance(value, int | float) else "0.00"


def tier_label(rules: RuleSet, tier: str | None) -> str:
    """The tier's risk-class name (信用风险低 …), neutral where the rule set's label holds a
    name the law reserves for a decided list."""
    if tier is None:
        return ""
    for definition in rules.tiers:
        if definition.tier == tier:
            label = definition.label_zh
            if any(term in label for term in rules.publication.reserved_terms):
                return f"{tier} 类"
            return label
    return tier


def report_facts(
    *,
    firm: Mapping[str, Any],
    score: Mapping[str, Any],
    reasons: pl.DataFrame,
    history: pl.DataFrame,
    path: Mapping[str, Any] | None,
    cases: pl.DataFrame,
    listings: pl.DataFrame,
    rules: RuleSet,
    as_of: date,
    issuer: str,
) -> Facts:
    """The report's facts. `score` is the firm's `credit_scores` row of `as_of`; `reasons`
    its counting records that day (`score_reasons` columns); `history` its scores up to
    `as_of`; `path` its `tier_paths` row; `cases` its open objections and repairs
    (`case_id, kind, record_doc_no, filed_on`); `listings` its listings in force."""
    records = [
        {
            "doc_no": r["evidence_doc_no"],
            "evidence_type": r["evidence_type"],
            "severity": r["severity"],
            "category": r["category"],
            "valid_from": _day(r["valid_from"]),
            "valid_until": _day(r["valid_until"]),
            "points": _points(r["points"]),
            "veto": bool(r["veto"]),
        }
        for r in reasons.sort("evidence_doc_no", "valid_from", "points").iter_rows(named=True)
    ]
    tiers = rules.tier_names
    better = tiers[tiers.index(score["tier"]) - 1] if score["tier"] in tiers[1:] else None
    known = path or {}
    target = known.get("next_tier") or better
    reached = known.get("next_tier_on")
    next_tier = (
        None
        if target is None
        else {
            "tier": target,
            "min_score": next(str(t.min_score) for t in rules.tiers if t.tier == target),
            "on": _day(reached),
            "score": _points(known.get("next_tier_score")) if reached else None,
        }
    )
    return {
        "kind": KIND,
        "format": REPORT_FORMAT,
        "issuer": issuer,
        "as_of": as_of.isoformat(),
        "uscc": firm["uscc"],
        "name": firm["name"],
        "firm_type": firm["firm_type"],
        "district": firm.get("district"),
        "qualification": firm.get("qualification"),
        "rule_set_version": score["rule_set_version"],
        "score": _points(score["score"]),
        "tier": score["tier"],
        "risk_class": tier_label(rules, score["tier"]),
        "veto": bool(score["veto"]),
        "veto_reason": score.get("veto_reason") if score["veto"] else None,
        "veto_until": _day(score.get("veto_until")) if score["veto"] else None,
        "bonus_points": _points(score.get("bonus_points")),
        "deduction_points": _points(score.get("deduction_points")),
        "records": records,
        "history": [
            [_day(h["as_of"]), _points(h["score"]), h["tier"]]
            for h in history.sort("as_of").iter_rows(named=True)
        ],
        "next_tier": next_tier,
        "open_cases": [
            {
                "case_id": c["case_id"],
                "kind": c["kind"],
                "record_doc_no": c["record_doc_no"],
                "filed_on": _day(c["filed_on"]),
            }
            for c in cases.sort("filed_on", "case_id").iter_rows(named=True)
        ],
        "listings": [
            {
                "case_id": row["case_id"],
                "doc_no": row.get("decision_doc_no"),
                "listed_until": _day(row.get("listed_until")),
            }
            for row in listings.sort("case_id").iter_rows(named=True)
        ],
    }


def canonical_json(facts: Mapping[str, Any]) -> str:
    """The facts as one line of JSON: keys sorted, no spaces, Chinese as itself."""
    return json.dumps(facts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def verification_code(facts: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON: the code printed on the report and in its QR."""
    return hashlib.sha256(canonical_json(facts).encode("utf-8")).hexdigest()


def qr_payload(facts: Mapping[str, Any]) -> str:
    """What the QR code holds: who, as of when, and the code."""
    return f"{KIND}:{facts['uscc']}:{facts['as_of']}:{verification_code(facts)}"


def fact_differences(stated: Mapping[str, Any], recomputed: Mapping[str, Any]) -> list[str]:
    """The keys (dotted, list items by index) whose values differ, in order; empty when the
    two agree."""
    found: list[str] = []

    def walk(a: object, b: object, where: str) -> None:
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            for key in sorted(set(a) | set(b)):
                walk(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
        elif isinstance(a, Sequence) and isinstance(b, Sequence) and not isinstance(a, str):
            if isinstance(b, str) or len(a) != len(b):
                found.append(f"{where}（{len(a)} ≠ {len(b) if not isinstance(b, str) else b}）")
                return
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{where}[{i}]")
        elif a != b:
            found.append(f"{where}: {a!r} ≠ {b!r}")

    walk(stated, recomputed, "")
    return found


def normalised_text(text: str) -> str:
    """Page text with every run of white space removed: what two extractions of the same
    page agree on, whichever line breaks the extractor chose."""
    return "".join(text.split())
