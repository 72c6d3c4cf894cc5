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

from collections.abc import Collection, Iterator, Mapping

import polars as pl
from polars.io.plugins import register_io_source

from models.contracts import default_contracts
from models.credit_schema import CREDIT_RECORD_SCHEMA
from models.review import is_valid_doc_no
from models.row_checks import clean_schema
from models.rules import RuleSet, SameFactMatch

EVIDENCE_TYPES: dict[str, str] = {
    "penalty_decisions": "行政处罚决定书",
    "correction_notices": "责令改正通知书",
    "circulars": "通报",
    "commendations": "表彰",
    "inspection_outcomes": "检查记录",
}
"""The sources that yield records, in derivation order, with the evidence each one is."""

SAME_FACT_SOURCES = ("circulars", "correction_notices")
"""The sources whose documents may record a penalty decision's fact (one fact, one deduction):
their records are derived with the same firm's penalty decisions (`same_fact_as`)."""


def sources_to_derive(changed: Collection[str] | None) -> list[str]:
    """The record sources (in `EVIDENCE_TYPES` order) whose records of a firm may differ once
    these clean tables of the firm changed (None: any of them may have).

    A source's records rest on the firm's documents of that source, in force and retired,
    and — for `SAME_FACT_SOURCES` only — on its penalty decisions; the overdue-corrections
    vetoes are correction-notice records resting on its never-rectified notices
    (`overdue_vetoes`). So a changed table changes its own records, and a changed penalty
    decision those of the sources that may record its fact too; the cases and the directory
    change no record (they change statuses and scores)."""
    if changed is None:
        return list(EVIDENCE_TYPES)
    wanted = set(changed)
    if "penalty_decisions" in wanted:
        wanted.update(SAME_FACT_SOURCES)
    return [name for name in EVIDENCE_TYPES if name in wanted]


VETO_PREFIX = "一票否决："
"""Start of every `veto_reason`; the rest names the category or the behaviour."""

_COUNT_ZH = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九"}


def derive_credit_records(sources: Mapping[str, pl.DataFrame], rules: RuleSet) -> pl.DataFrame:
    """Every credit record (segment) the source documents yield under `rules`.

    `sources` maps a clean table's name to its frame; a missing or empty source contributes
    nothing, and a frame lacking optional or lineage columns is read as if they were null.
    The result has exactly `CREDIT_RECORD_SCHEMA`, sorted by (uscc, record_id, segment).
    """
    penalties = sources.get("penalty_decisions")
    parts = [
        source_records(name, sources[name], rules, penalties)
        for name in EVIDENCE_TYPES
        if name in sources
    ]
    if not parts:
        return pl.DataFrame(schema=CREDIT_RECORD_SCHEMA)
    records = pl.concat(parts, how="vertical").collect()
    return in_record_order(pl.concat([records, overdue_vetoes(records, rules)]).lazy()).collect()


def in_record_order(records: pl.LazyFrame) -> pl.LazyFrame:
    """Sorted by (uscc, record_id, segment). One string key sorts like (uscc, record_id):
    "\x00" is below every character of a USCC; it is markedly faster than a two-string-column
    sort on millions of wide rows."""
    firm_then_id = pl.concat_str("uscc", pl.lit("\x00"), "record_id")
    return records.sort(firm_then_id, "segment")


def source_records(
    source: str,
    frame: pl.DataFrame | pl.LazyFrame,
    rules: RuleSet,
    penalties: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """The records of one source, unsorted; sources yield disjoint records (the record id
    starts with the source), so the pipeline derives and stores one source at a time and
    holds only that source's documents and records in memory.

    `penalties` (the penalty decisions of at least the same firms) let a circular or a
    correction notice find the decision whose fact it records (`same_fact_as`). The
    overdue-corrections veto is not made here: it rests on several notices, possibly of
    several files, and is derived from the records of all of them (`overdue_vetoes`)."""
    documents = conform_source(frame, source)
    match source:
        case "penalty_decisions":
            parts = _penalty_records(documents, rules)
        case "correction_notices":
            parts = _correction_records(documents, rules, _penalty_lookup(penalties, rules))
        case "circulars":
            parts = _circular_records(documents, rules, _penalty_lookup(penalties, rules))
        case "commendations":
            parts = _commendation_records(documents, rules)
        case _:
            parts = _inspection_records(documents, rules)
    return pl.concat(parts, how="vertical")


def source_columns(source: str, rules: RuleSet) -> list[str]:
    """The columns of clean table `source` that `source_records` reads under `rules` (with
    the penalty decisions a document may record the fact of), in the table's order.

    Asked of polars itself: the records are derived from an empty stand-in for the table
    that notes which columns the optimiser's projection asks it for — every expression of
    the plan, whatever the data — so a reader that fetches only these (the other columns
    would be read as null by `conform_source`) derives the same records as from whole rows,
    and no list is kept in step with the builders by hand.
    """
    schema = clean_schema(default_contracts().source(source))
    asked: set[str] = set()

    def stand_in(
        with_columns: list[str] | None, predicate: object, n_rows: object, batch_size: object
    ) -> Iterator[pl.DataFrame]:
        names = schema.names() if with_columns is None else with_columns
        asked.update(names)
        yield pl.DataFrame(schema=schema).select(names)

    penalties = pl.DataFrame(schema=clean_schema(default_contracts().source("penalty_decisions")))
    source_records(source, register_io_source(stand_in, schema=schema), rules, penalties).collect()
    return [name for name in schema.names() if name in asked]


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
    # 不予处罚 / 轻微违法免罚 (a decision holding nothing else) is a kind of its own: a record
    # only at the severity the rule set gives it (default none), never a veto.
    not_penalised = only_no_penalty(p.no_penalty_types)
    exempt = kept.filter(not_penalised)
    kept = kept.filter(~not_penalised)
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
        grounds=pl.concat_list(_record_id("penalty_decisions", pl.col("doc_no"))),
        grounds_needed=pl.lit(1),
    )
    parts = [record, veto]
    if p.no_penalty_severity is not None:
        level = rules.severities[p.no_penalty_severity]
        parts.append(
            _records(
                exempt.with_columns(_from=pl.col("decided_on")),
                common,
                category=pl.col("violation_category"),
                severity=pl.lit(p.no_penalty_severity),
                points=pl.lit(level.points),
                rule=pl.lit("penalty.not_penalised"),
                valid_until=_add_months(pl.col("_from"), level.months),
            )
        )
    return parts


def only_no_penalty(types: tuple[str, ...]) -> pl.Expr:
    """The decision's penalty types are all decisions not to penalise (and there is one)."""
    if not types:
        return pl.lit(False)
    listed = pl.col("penalty_types")
    return (
        (listed.list.len() > 0) & listed.list.eval(pl.element().is_in(list(types))).list.all()
    ).fill_null(False)


def _correction_records(
    docs: pl.LazyFrame, rules: RuleSet, penalties: pl.LazyFrame | None
) -> list[pl.LazyFrame]:
    """Segment 0: the order (L1) from issue; segment 1: failed (L3) from the day after the
    deadline when rectified late, never, or reviewed as failed; never rectified gets the
    refusal-extended window (the overdue-corrections veto: `overdue_vetoes`). An order that
    records the violation of a penalty decision is linked to it (`same_fact_as`): the order
    is that decision's fact; failing it later is a fact of its own."""
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
    match = rules.same_fact.correction_notices if rules.same_fact else None
    notices = _with_same_fact(notices, penalties, rules, match, pl.col("problem_category"))
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
        same_fact_as=pl.col("_same_fact_as"),
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
    return [order, failure]


NEVER_RECTIFIED = "correction.never_rectified"
OVERDUE_VETO = "correction.overdue_twice_veto"


def overdue_vetoes(records: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """The overdue-corrections veto (docs §2): a veto record for each never-rectified
    notice that has at least n − 1 other never-rectified notices of the firm failing before
    it (by failure date, then number) within `overdue_window_months`.

    `records` are credit records of any sources, current and retired (a set may span files);
    only evidenced `correction.never_rectified` segments take part, and a notice's other
    versions (same number, another file) are never counted as another notice. The veto
    rests on the whole set (`grounds`: every such notice in the window and the completing
    one; `grounds_needed` = n): it holds only while n of them stand, so revoking, correcting
    or withdrawing one lifts it from that day unless others still make up the set, and a
    dispute on one suspends it (`models.grounds`). It runs from the completing notice's
    failure date and is known once n of its notices had been collected.
    """
    n = rules.veto.overdue_corrections
    notices = records.filter(
        (pl.col("rule") == NEVER_RECTIFIED) & pl.col("evidence_valid").fill_null(False)
    ).select(
        "record_id",
        "uscc",
        "evidence_doc_no",
        "evidence_valid",
        "collected_on",
        "retired_on",
        "rule_set_version",
        failed=pl.col("segment_from"),
    )
    if notices.is_empty():
        return pl.DataFrame(schema=CREDIT_RECORD_SCHEMA)
    ordered = notices.sort("uscc", "failed", "evidence_doc_no", "record_id").with_row_index("i")
    window = rules.veto.overdue_window_months
    pairs = (
        ordered.join(ordered, on="uscc", suffix="_e")
        .filter(
            (pl.col("i_e") < pl.col("i"))
            & (pl.col("evidence_doc_no_e") != pl.col("evidence_doc_no"))
            & (pl.col("failed") < _add_months(pl.col("failed_e"), window))
        )
        .group_by("i")
        .agg(
            earlier=pl.col("record_id_e"),
            earlier_collected=pl.col("collected_on_e").sort(),
        )
    )
    sets = (
        ordered.join(pairs, on="i", how="left")
        .with_columns(pl.col("earlier").fill_null([]))
        .filter(pl.col("earlier").list.len() >= n - 1)
    ).with_columns(
        _set_collected=pl.max_horizontal(
            "collected_on",
            pl.col("earlier_collected").list.get(n - 2, null_on_oob=True)
            if n > 1
            else pl.col("collected_on"),
        ),
        # a retired notice's veto keeps the notice's file suffix (`…:veto@<hash>`)
        _veto_id=pl.col("record_id").str.replace(r"^([^@]*)(@.*)?$", "${1}:veto${2}"),
    )
    count = _COUNT_ZH.get(n, str(n))
    return (
        sets.lazy()
        .select(
            record_id="_veto_id",
            segment=pl.lit(0),
            uscc="uscc",
            source=pl.lit("correction_notices"),
            evidence_type=pl.lit(EVIDENCE_TYPES["correction_notices"]),
            evidence_doc_no="evidence_doc_no",
            evidence_valid="evidence_valid",
            polarity=pl.lit("bad"),
            points=pl.lit(0.0),
            rule=pl.lit(OVERDUE_VETO),
            valid_from="failed",
            valid_until=_add_months(pl.col("failed"), rules.veto.months),
            segment_from="failed",
            collected_on="_set_collected",
            veto=pl.lit(True),
            veto_reason=pl.lit(f"{VETO_PREFIX}{count}次逾期未整改"),
            rule_set_version="rule_set_version",
            retired_on="retired_on",
            grounds=pl.concat_list("earlier", pl.concat_list("record_id")).list.sort(),
            grounds_needed=pl.lit(n),
        )
        .select(
            (pl.col(c) if c in _VETO_COLUMNS else pl.lit(None)).cast(t).alias(c)
            for c, t in CREDIT_RECORD_SCHEMA.items()
        )
        .collect()
    )


_VETO_COLUMNS = frozenset(
    {
        "record_id", "segment", "uscc", "source", "evidence_type", "evidence_doc_no",
        "evidence_valid", "polarity", "points", "rule", "valid_from", "valid_until",
        "segment_from", "collected_on", "veto", "veto_reason", "rule_set_version",
        "retired_on", "grounds", "grounds_needed",
    }
)  # fmt: skip


PENALTY_LOOKUP = ("doc_no", "uscc", "decided_on", "penalty_types", "violation_category", "status")
"""The penalty-decision columns a circular or correction notice is matched against."""


def _penalty_lookup(penalties: pl.DataFrame | None, rules: RuleSet) -> pl.LazyFrame | None:
    """Penalty decisions a document can record the fact of: not ignored (revoked) and not
    decisions not to penalise."""
    if penalties is None or rules.same_fact is None:
        return None
    p = rules.penalties
    docs = conform_source(penalties, "penalty_decisions").select(PENALTY_LOOKUP)
    return docs.filter(
        ~pl.col("status").is_in(list(p.ignored_statuses)).fill_null(False)
        & ~only_no_penalty(p.no_penalty_types)
    )


def _with_same_fact(
    docs: pl.LazyFrame,
    penalties: pl.LazyFrame | None,
    rules: RuleSet,
    match: SameFactMatch | None,
    category: pl.Expr,
) -> pl.LazyFrame:
    """`docs` with `_same_fact_as`: the record id of the penalty decision whose fact the
    document records — the decision it cites (`penalty_doc_no`, same firm), else, when the
    rule set's match applies, the latest matching decision (same firm, dated on or before
    the document within `within_days`, holding one of the penalty types, same category)."""
    none = docs.with_columns(_same_fact_as=pl.lit(None, dtype=pl.Utf8))
    if penalties is None or rules.same_fact is None:
        return none
    keyed = docs.with_row_index("_doc_row").with_columns(_category=category)
    found: list[pl.LazyFrame] = []
    if rules.same_fact.by_citation:
        found.append(
            keyed.join(
                penalties.select("uscc", penalty_doc_no="doc_no"),
                on=["uscc", "penalty_doc_no"],
            ).select("_doc_row", _penalty_doc=pl.col("penalty_doc_no"), _rank=pl.lit(0))
        )
    if match is not None:
        matched = keyed.filter(pl.col("penalty_doc_no").is_null()).join(
            penalties.select(
                "uscc",
                _penalty_doc="doc_no",
                _decided="decided_on",
                _types="penalty_types",
                _penalty_category="violation_category",
            ),
            on="uscc",
        )
        wanted = (pl.col("_from") >= pl.col("_decided")) & (
            pl.col("_from") <= pl.col("_decided").dt.offset_by(f"{match.within_days}d")
        )
        if match.penalty_types:
            wanted &= (
                pl.col("_types")
                .list.eval(pl.element().is_in(list(match.penalty_types)))
                .list.any()
                .fill_null(False)
            )
        if match.same_category:
            wanted &= (pl.col("_category") == pl.col("_penalty_category")).fill_null(False)
        found.append(
            matched.filter(wanted)
            .sort("_decided", "_penalty_doc", descending=[True, False])
            .group_by("_doc_row", maintain_order=True)
            .first()
            .select("_doc_row", "_penalty_doc", _rank=pl.lit(1))
        )
    if not found:
        return none
    best = (
        pl.concat(found).sort("_doc_row", "_rank").group_by("_doc_row", maintain_order=True).first()
    )
    return (
        keyed.join(best, on="_doc_row", how="left")
        .with_columns(
            _same_fact_as=pl.when(pl.col("_penalty_doc").is_not_null()).then(
                _record_id("penalty_decisions", pl.col("_penalty_doc"))
            )
        )
        .drop("_doc_row", "_category", "_penalty_doc", "_rank")
    )


def _circular_records(
    docs: pl.LazyFrame, rules: RuleSet, penalties: pl.LazyFrame | None
) -> list[pl.LazyFrame]:
    """批评 → the criticism severity; 表扬 → a bonus by level. One row per (doc_no, uscc).
    A criticism that announces a penalty decision's 通报批评 is linked to it
    (`same_fact_as`): one fact, one deduction."""
    c = rules.circulars
    common = _document_columns("circulars", pl.col("doc_no"), rules)
    dated = docs.with_columns(_from=pl.col("issued_on"))
    severity = rules.severities[c.criticism_severity]
    match = rules.same_fact.circulars if rules.same_fact else None
    criticisms = _with_same_fact(
        dated.filter(pl.col("kind") == c.criticism_kind), penalties, rules, match, pl.lit(None)
    )
    criticism = _records(
        criticisms,
        common,
        severity=pl.lit(c.criticism_severity),
        points=pl.lit(severity.points),
        rule=pl.lit("circular.criticism"),
        valid_until=_add_months(pl.col("_from"), severity.months),
        same_fact_as=pl.col("_same_fact_as"),
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
            grounds=pl.concat_list(_record_id("inspection_outcomes", pl.col("inspection_id"))),
            grounds_needed=pl.lit(1),
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


def conform_source(frame: pl.DataFrame | pl.LazyFrame, source: str) -> pl.LazyFrame:
    """The frame with every canonical column of clean table `source`, typed as there;
    columns it lacks (optional ones, lineage) are null, columns it adds are dropped.

    Lets the engine read a clean table from the warehouse and a ten-row test frame alike.
    """
    schema = clean_schema(default_contracts().source(source))
    present = set(frame.collect_schema().names())
    return frame.lazy().select(
        (pl.col(name) if name in present else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )
