"""Open conflicts: what the record contradicts or names without a match, to be resolved.

What belongs here: listing, from the clean tables and the quarantine, every fact the centre
must resolve rather than let the product guess — a key restated with other content (the
established version stays in force, `row_checks`), a credit case naming a document the firm
does not have, an inspection outcome whose follow-up document or inspector names nothing
known. None of them is silently matched to nothing: each is a row here, shown in the run
summary and on the data-quality page, until a correction file or an explicit act removes
its cause.

What does not: the row checks themselves (`row_checks`), storage (`warehouse`).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

OPEN_CONFLICT_SCHEMA = pl.Schema(
    {
        "kind": pl.Utf8(),
        "source": pl.Utf8(),
        "key": pl.Utf8(),
        "uscc": pl.Utf8(),
        "detail": pl.Utf8(),
        "file": pl.Utf8(),
        "row_number": pl.Int64(),
    }
)

KINDS: dict[str, tuple[str, str]] = {
    "key_conflict": ("同一编号内容不一致", "the same key with different content"),
    "unknown_document": ("异议或修复所涉文书不存在", "a case names a document the firm lacks"),
    "unknown_followup": ("后续文书号无对应文书", "a follow-up document number matches nothing"),
    "unknown_inspector": ("检查人员编号不在名录中", "an inspector id is not in the roster"),
}
"""Each kind with its Chinese and English label."""

KEY_CONFLICT_CODES = ("duplicate_conflict", "conflicts_established", "unknown_inspector")


def open_conflicts(
    quarantine: pl.DataFrame,
    cases: pl.DataFrame,
    outcomes: pl.DataFrame,
    documents: Mapping[str, pl.DataFrame],
) -> pl.DataFrame:
    """Every open conflict (`OPEN_CONFLICT_SCHEMA`).

    `quarantine`: the quarantine table; `cases`: clean `credit_cases`; `outcomes`: clean
    `inspection_outcomes`; `documents`: clean penalty decisions, correction notices and
    circulars (each with `doc_no` and `uscc`).
    """
    held = quarantine.filter(pl.col("reason_code").is_in(KEY_CONFLICT_CODES)).select(
        kind=pl.when(pl.col("reason_code") == "unknown_inspector")
        .then(pl.lit("unknown_inspector"))
        .otherwise(pl.lit("key_conflict")),
        source="source",
        key="raw_value",
        uscc=pl.lit(None, dtype=pl.Utf8),
        detail=pl.concat_str([pl.col("reason"), pl.lit(" / "), pl.col("reason_en")]),
        file="file",
        row_number="row_number",
    )
    # anti joins only: a document number held twice matches as once held, so no `unique`
    # (at national scale it deduplicated ~3.8M numbers twice, most of this function's time)
    known = pl.concat(
        [frame.select("doc_no", "uscc") for frame in documents.values() if frame.height]
        or [pl.DataFrame(schema={"doc_no": pl.Utf8, "uscc": pl.Utf8})]
    )
    dangling_cases = cases.join(
        known, left_on=["record_doc_no", "uscc"], right_on=["doc_no", "uscc"], how="anti"
    ).select(
        kind=pl.lit("unknown_document"),
        source=pl.lit("credit_cases"),
        key="case_id",
        uscc="uscc",
        detail=pl.format("涉及文书号 {} / document {}", "record_doc_no", "record_doc_no"),
        file="source_file",
        row_number="source_row",
    )
    followups = outcomes.filter(pl.col("followup_doc_no").is_not_null())
    dangling_followups = followups.join(
        known.select("doc_no"), left_on="followup_doc_no", right_on="doc_no", how="anti"
    ).select(
        kind=pl.lit("unknown_followup"),
        source=pl.lit("inspection_outcomes"),
        key="inspection_id",
        uscc="uscc",
        detail=pl.format("后续文书号 {} / follow-up {}", "followup_doc_no", "followup_doc_no"),
        file="source_file",
        row_number="source_row",
    )
    parts = [held, dangling_cases, dangling_followups]
    return (
        pl.concat([p.cast(OPEN_CONFLICT_SCHEMA) for p in parts])
        .sort("kind", "source", "key", nulls_last=True)
        .select(list(OPEN_CONFLICT_SCHEMA))
    )
