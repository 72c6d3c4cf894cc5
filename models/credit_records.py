"""From clean source documents to credit records (docs §2).
("docs §N" below: section N of docs/credit-engine.md, the engine's specification.)

What belongs here: the mapping of each clean source table — penalty decisions, correction
notices, circulars, commendations, inspection outcomes — to `credit_records` rows (one per
scored fact segment) under a rule set: severities, points, windows, segments, veto records,
evidence and stable record ids. Vectorised polars only: it runs on millions of documents.

What does not: whether a record counts as of a date, the repeat multiplier and the score
(`scoring`), objections and repair (`record_status`), reading or storing tables (pipelines).

The points the spec left open (rule ids, segment windows, the overdue-corrections veto, veto
records' categories, unpriced levels) are fixed in docs §2, "Details fixed by
the derivation"; this module follows that list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from models.contracts import default_contracts
from models.credit_schema import CREDIT_RECORD_SCHEMA
from models.review import is_valid_doc_no
from models.row_checks import clean_schema
from models.rules import RuleSet

EVIDENCE_TYPES: dict[str, str] = {
    "penalty_decisions": "行政处罚决定书",
    "correction_notices": "责令改正通知书",
    "circulars": "通报",
    "commendations": "表彰",
    "inspection_outcomes": "检查记录",
}
"""The sources that yield records, in derivation order, with the evidence each one is."""

VETO_PREFIX = "一票否决："
"""Start of every `veto_reason`; the rest names the category or the behaviour."""

_COUNT_ZH = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九"}


def derive_credit_records(sources: Mapping[str, pl.DataFrame], rules: RuleSet) -> pl.DataFrame:
    """Every credit record (segment) the source documents yield under `rules`.

    `sources` maps a clean table's name to its frame; a missing or empty source contributes
    nothing, and a frame lacking optional or lineage columns is read as if they were null.
    The result has exactly `CREDIT_RECORD_SCHEMA`, sorted by (uscc, record_id, segment).
    """
    parts = [
        source_records(name, sources[name], rules) for name in EVIDENCE_TYPES if name in sources
    ]
    if not parts:
        return pl.DataFrame(schema=CREDIT_RECORD_SCHEMA)
    return in_record_order(pl.concat(parts, how="vertical")).collect()


def in_record_order(records: pl.LazyFrame) -> pl.LazyFrame:
    """Sorted by (uscc, record_id, segment). One string key sorts like (uscc, record_id):
    "\x00" is below every character of a USCC; it is markedly faster than a two-string-column
    sort on millions of wide rows."""
    firm_then_id = pl.concat_str("uscc", pl.lit("\x00"), "record_id")
    return records.sort(firm_then_id, "segment")


def source_records(source: str, frame: pl.DataFrame, rules: RuleSet) -> pl.LazyFrame:
    """The records of one source, unsorted; sources yield disjoint records (the record id
    starts with the source), so the pipeline derives and stores one source at a time and
    holds only that source's documents and records in memory."""
    builders: dict[str, Callable[[pl.LazyFrame, RuleSet], list[pl.LazyFrame]]] = {
        "penalty_decisions": _penalty_records,
        "correction_notices": _correction_records,
        "circulars": _circular_records,
        "commendations": _commendation_records,
        "inspection_outcomes": _inspection_records,
    }
    return pl.concat(builders[source](conform_source(frame, source), rules), how="vertical")


# --- one builder per source ------------------------------------------------------------------


def _penalty_records(docs: pl.LazyFrame, rules: RuleSet) -> list[pl.LazyFrame]:
    """Severity by first match (L4 types or fine, L3 fine band, L2 criticism or small fine,
    else L1), plus a veto record for a veto category; a revoked decision yields nothing."""
    p = rules.penalties
    fine = pl.col("fine_amount").fill_null(0)
    rule = (
        pl.when(_has_any("penalty_types", p.l4_penalty_types))
        .then(pl.lit("penalty.l4_type"))
        .when(fine > p.l4_fine_above)
        .then(pl.lit("penalty.fine_above_50k"))
        .when(fine >= p.l3_fine_from)
        .then(pl.lit("penalty.fine_10k_50k"))
        .when(_has_any("penalty_types", p.l2_penalty_types) | (fine > 0))
        .then(pl.lit("penalty.criticism_or_small_fine"))
        .otherwise(pl.lit("penalty.minor"))
    )
    severity_of_rule = {
        "penalty.l4_type": "L4",
        "penalty.fine_above_50k": "L4",
        "penalty.fine_10k_50k": "L3",
        "penalty.criticism_or_small_fine": "L2",
        "penalty.minor": "L1",
    }
    kept = docs.filter(~pl.col("status").is_in(list(p.ignored_statuses)).fill_null(False))
    kept = kept.with_columns(
        _rule=rule,
        _from=pl.col("decided_on"),
        # A suspension longer than the window keeps counting until it ends (docs/rules.md [S]).
        _penalty_end=pl.col("effective_until").dt.offset_by("1d"),
    ).with_columns(_severity=pl.col("_rule").replace_strict(severity_of_rule))
    common = _document_columns("penalty_decisions", pl.col("doc_no"), rules)
    record = _records(
        kept,
        common,
        category=pl.col("violation_category"),
        severity=pl.col("_severity"),
        points=_severity_points(pl.col("_severity"), rules),
        rule=pl.col("_rule"),
        valid_until=pl.max_horizontal(
            _add_months(pl.col("_from"), _severity_months(pl.col("_severity"), rules)),
            pl.col("_penalty_end"),
        ),
    )
    vetoed = kept.filter(pl.col("violation_category").is_in(list(rules.veto.categories)))
    veto = _records(
        vetoed,
        common,
        record_id=_record_id("penalty_decisions", pl.col("doc_no"), suffix=":veto"),
        category=pl.col("violation_category"),
        points=pl.lit(0.0),
        rule=pl.lit("penalty.veto_category"),
        valid_until=pl.max_horizontal(
            _add_months(pl.col("_from"), rules.veto.months), pl.col("_penalty_end")
        ),
        veto=pl.lit(True),
        veto_reason=pl.lit(VETO_PREFIX) + pl.col("violation_category"),
    )
    return [record, veto]


def _correction_records(docs: pl.LazyFrame, rules: RuleSet) -> list[pl.LazyFrame]:
    """Segment 0: the order (L1) from issue; segment 1: failed (L3) from the day after the
    deadline when rectified late, never, or reviewed as failed; never rectified gets the
    refusal-extended window; enough never-rectified notices close together give a veto."""
    c = rules.corrections
    rectified = pl.col("rectified_on")
    never = rectified.is_null() | pl.col("review_result").is_in(
        list(c.never_rectified_review_results)
    ).fill_null(False)
    failed = (
        (rectified > pl.col("deadline")).fill_null(False)
        | never
        | pl.col("review_result").is_in(list(c.failed_review_results)).fill_null(False)
    )
    notices = docs.with_columns(
        _from=pl.col("issued_on"),
        # The review date is not recorded: a failure is dated at the deadline (docs §2).
        _failed_from=pl.when(failed).then(pl.col("deadline").dt.offset_by("1d")),
        _never=never,
    )
    common = _document_columns("correction_notices", pl.col("doc_no"), rules)
    on_time = rules.severities[c.on_time_severity]
    order = _records(
        notices,
        common,
        category=pl.col("problem_category"),
        severity=pl.lit(c.on_time_severity),
        points=pl.lit(on_time.points),
        rule=pl.lit("correction.order"),
        valid_until=_add_months(pl.col("_from"), on_time.months),
        segment_until=pl.col("_failed_from"),
    )
    failed_rows = notices.filter(pl.col("_failed_from").is_not_null())
    failed_months = rules.severities[c.failed_severity].months
    failure = _records(
        failed_rows,
        common,
        segment=pl.lit(1),
        category=pl.col("problem_category"),
        severity=pl.lit(c.failed_severity),
        points=pl.lit(rules.severities[c.failed_severity].points),
        rule=pl.when(pl.col("_never"))
        .then(pl.lit("correction.never_rectified"))
        .otherwise(pl.lit("correction.failed")),
        valid_until=_add_months(
            pl.col("_from"),
            pl.when(pl.col("_never"))
            .then(pl.lit(rules.refusal_months))
            .otherwise(pl.lit(failed_months)),
        ),
        segment_from=pl.col("_failed_from"),
    )
    return [order, failure, _overdue_veto(failed_rows.filter(pl.col("_never")), rules)]


def _overdue_veto(ignored: pl.LazyFrame, rules: RuleSet) -> pl.LazyFrame:
    """A veto for each never-rectified notice that is the n-th within the window of a firm.

    Notices are ordered per firm by failure date; the notice whose failure date falls within
    `overdue_window_months` of the (n−1)-th one before it completes the set. The veto runs from
    its failure date and is known only once all n notices had been collected.
    """
    n = rules.veto.overdue_corrections
    ordered = ignored.sort("uscc", "_failed_from", "doc_no").with_columns(
        _first_of_set=pl.col("_failed_from").shift(n - 1).over("uscc"),
        _set_collected=pl.col("collected_on").rolling_max(window_size=n).over("uscc"),
    )
    vetoes = ordered.filter(
        pl.col("_failed_from")
        < _add_months(pl.col("_first_of_set"), rules.veto.overdue_window_months)
    )
    count = _COUNT_ZH.get(n, str(n))
    return _records(
        vetoes,
        _document_columns("correction_notices", pl.col("doc_no"), rules),
        record_id=_record_id("correction_notices", pl.col("doc_no"), suffix=":veto"),
        points=pl.lit(0.0),
        rule=pl.lit("correction.overdue_twice_veto"),
        valid_from=pl.col("_failed_from"),
        valid_until=_add_months(pl.col("_failed_from"), rules.veto.months),
        collected_on=pl.col("_set_collected"),
        veto=pl.lit(True),
        veto_reason=pl.lit(f"{VETO_PREFIX}{count}次逾期未整改"),
    )


def _circular_records(docs: pl.LazyFrame, rules: RuleSet) -> list[pl.LazyFrame]:
    """批评 → the criticism severity; 表扬 → a bonus by level. One row per (doc_no, uscc)."""
    c = rules.circulars
    common = _document_columns("circulars", pl.col("doc_no"), rules)
    dated = docs.with_columns(_from=pl.col("issued_on"))
    severity = rules.severities[c.criticism_severity]
    criticism = _records(
        dated.filter(pl.col("kind") == c.criticism_kind),
        common,
        severity=pl.lit(c.criticism_severity),
        points=pl.lit(severity.points),
        rule=pl.lit("circular.criticism"),
        valid_until=_add_months(pl.col("_from"), severity.months),
    )
    praise = _bonus_records(
        dated.filter(pl.col("kind") == c.commendation_kind), "circular.commendation", common, rules
    )
    return [criticism, praise]


def _commendation_records(docs: pl.LazyFrame, rules: RuleSet) -> list[pl.LazyFrame]:
    """An award → a bonus by level."""
    common = _document_columns("commendations", pl.col("doc_no"), rules)
    dated = docs.with_columns(_from=pl.col("awarded_on"))
    return [_bonus_records(dated, "commendation", common, rules)]


def _inspection_records(docs: pl.LazyFrame, rules: RuleSet) -> list[pl.LazyFrame]:
    """Clean → bonus; not found → a bad record; refused → a veto. Other results yield nothing:
    the correction notice or penalty that follows carries the record."""
    i = rules.inspections
    dated = docs.with_columns(_from=pl.col("inspected_on"))
    common = _document_columns("inspection_outcomes", pl.col("inspection_id"), rules) | {
        "evidence_doc_no": pl.coalesce("followup_doc_no", "inspection_id"),
        # The inspection system itself recorded a clean result, a refusal or an absent firm:
        # the inspection id is the evidence, whatever shape a follow-up number has.
        "evidence_valid": pl.lit(True),
    }
    clean = rules.bonuses["clean_inspection"]
    not_found = rules.severities[i.not_found_severity]
    return [
        _records(
            dated.filter(pl.col("result") == i.clean_result),
            common,
            polarity=pl.lit("good"),
            points=pl.lit(clean.points),
            rule=pl.lit("inspection.clean"),
            valid_until=_add_months(pl.col("_from"), clean.months),
        ),
        _records(
            dated.filter(pl.col("result") == i.not_found_result),
            common,
            severity=pl.lit(i.not_found_severity),
            points=pl.lit(not_found.points),
            rule=pl.lit("inspection.not_found"),
            valid_until=_add_months(pl.col("_from"), not_found.months),
        ),
        _records(
            dated.filter(pl.col("result") == i.refused_result),
            common,
            points=pl.lit(0.0),
            rule=pl.lit("inspection.refused_veto"),
            valid_until=_add_months(pl.col("_from"), rules.veto.months),
            veto=pl.lit(True),
            veto_reason=pl.lit(f"{VETO_PREFIX}{i.refused_result}"),
        ),
    ]


# --- shared pieces ---------------------------------------------------------------------------


def _bonus_records(
    docs: pl.LazyFrame, rule_prefix: str, common: dict[str, pl.Expr], rules: RuleSet
) -> pl.LazyFrame:
    """Good records priced by `level` (国家 … 协会); an unpriced level yields nothing."""
    levels = [level for level in rules.bonuses if level != "clean_inspection"]
    points = {level: rules.bonuses[level].points for level in levels}
    months = {level: rules.bonuses[level].months for level in levels}
    level = pl.col("level")
    return _records(
        docs.filter(level.is_in(levels)),
        common,
        polarity=pl.lit("good"),
        points=level.replace_strict(points, return_dtype=pl.Float64),
        rule=pl.lit(f"{rule_prefix}.") + level,
        valid_until=_add_months(pl.col("_from"), level.replace_strict(months)),
    )


def _document_columns(source: str, doc_key: pl.Expr, rules: RuleSet) -> dict[str, pl.Expr]:
    """The columns every record of a document shares (id, firm, evidence, collection, version)."""
    return {
        "record_id": _record_id(source, doc_key),
        "uscc": pl.col("uscc"),
        "source": pl.lit(source),
        "evidence_type": pl.lit(EVIDENCE_TYPES[source]),
        "evidence_doc_no": doc_key,
        "evidence_valid": is_valid_doc_no(doc_key),
        "collected_on": pl.col("collected_on"),
        "rule_set_version": pl.lit(rules.version),
    }


def _records(
    frame: pl.LazyFrame, document: Mapping[str, pl.Expr], **columns: pl.Expr
) -> pl.LazyFrame:
    """Select `CREDIT_RECORD_SCHEMA` from `frame`: `columns`, else the document's shared
    columns, else the defaults of a plain bad record (segment 0 from `valid_from` — the
    document date `_from` unless given —, open, no veto, no category, null severity)."""
    valid_from = columns.get("valid_from", pl.col("_from"))
    defaults: dict[str, pl.Expr] = {
        "retired_on": pl.lit(None, dtype=pl.Date),
        "segment": pl.lit(0),
        "polarity": pl.lit("bad"),
        "valid_from": valid_from,
        "segment_from": valid_from,
        "veto": pl.lit(False),
    }
    exprs = {**defaults, **document, **columns}
    return frame.select(
        exprs.get(name, pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in CREDIT_RECORD_SCHEMA.items()
    )


def _record_id(source: str, doc_key: pl.Expr, suffix: str = "") -> pl.Expr:
    """`<source>:<doc_no or inspection_id>:<uscc>[suffix]`: the same document gives the same id
    on every run, so statuses and score reasons keep pointing at it."""
    return pl.concat_str(
        [pl.lit(f"{source}:"), doc_key, pl.lit(":"), pl.col("uscc"), pl.lit(suffix)]
    )


def _add_months(day: pl.Expr, months: int | pl.Expr) -> pl.Expr:
    """Calendar months (2024-01-31 + 1 month = 2024-02-29), polars `offset_by` semantics."""
    if isinstance(months, int):
        return day.dt.offset_by(f"{months}mo")
    return day.dt.offset_by(pl.format("{}mo", months))


def _severity_points(severity: pl.Expr, rules: RuleSet) -> pl.Expr:
    points = {level: s.points for level, s in rules.severities.items()}
    return severity.replace_strict(points, return_dtype=pl.Float64)


def _severity_months(severity: pl.Expr, rules: RuleSet) -> pl.Expr:
    return severity.replace_strict({level: s.months for level, s in rules.severities.items()})


def _has_any(column: str, values: tuple[str, ...]) -> pl.Expr:
    """True when the list column holds any of `values` (a null or empty list holds none)."""
    return pl.col(column).list.eval(pl.element().is_in(list(values))).list.any().fill_null(False)


def conform_source(frame: pl.DataFrame, source: str) -> pl.LazyFrame:
    """The frame with every canonical column of clean table `source`, typed as there;
    columns it lacks (optional ones, lineage) are null, columns it adds are dropped.

    Lets the engine read a clean table from the warehouse and a ten-row test frame alike.
    """
    schema = clean_schema(default_contracts().source(source))
    present = set(frame.columns)
    return frame.lazy().select(
        (pl.col(name) if name in present else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )
