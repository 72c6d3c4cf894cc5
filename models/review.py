"""The annual review (评议) of bad-record intake: timeliness and evidence.

The annual review (docs/rules.md#intake-timeliness-and-evidence) asks whether every
bad record was collected on time (within
7 working days of the decision, hard limit 20) and whether it is backed by its evidence, a
penalty decision, correction notice or circular with a proper document number (文号). This
module answers that question as a table, per source x authority x decision month, with
subtotals and a grand total, ready for an export with Chinese headers.

What belongs here: the shape test for document numbers, the report's aggregation and its
Chinese labels. The evidence rows are assembled here too (`review_evidence`), from the
clean tables and the raw rows quarantined for a missing document number. What does not:
reading them from the warehouse, writing the Excel file, and counting working days (see
`workdays`, the single place for that rule).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl

from models.contracts import Contracts
from models.row_checks import typed_rows
from models.workdays import working_days_between

SOURCES: tuple[str, ...] = ("penalty_decisions", "correction_notices", "circulars")
"""The three kinds of evidence a bad record can rest on, in report order."""

SOURCE_LABELS_ZH: dict[str, str] = {
    "penalty_decisions": "行政处罚决定书",
    "correction_notices": "责令改正通知书",
    "circulars": "通报批评",
}

ALL = "全部"
"""Key value of subtotal and total rows; it sorts after the rows it sums."""
UNKNOWN_MONTH = "未知"
"""Month of a record without a decision date: it still counts, it just cannot be dated."""
UNFILLED_AUTHORITY = "未填写"
"""Authority of a record whose issuing authority was left blank."""

INTAKE_TARGET_WD = 7
"""[S] A bad record should be collected within 7 working days of the decision (docs/rules.md)."""
INTAKE_LIMIT_WD = 20
"""[S] The hard limit for collecting it, in working days (docs/rules.md)."""

REVIEW_COLUMNS_ZH: dict[str, str] = {
    "source": "来源",
    "authority": "机关",
    "month": "月份",
    "records": "记录数",
    "with_valid_doc_no": "有合法文号",
    "valid_doc_no_share": "文号合规率",
    "delay_median_wd": "归集时长中位数（工作日）",
    "delay_max_wd": "归集时长最大值（工作日）",
    "over_7_wd": f"超{INTAKE_TARGET_WD}个工作日",
    "over_20_wd": f"超{INTAKE_LIMIT_WD}个工作日",
    "over_7_share": f"超{INTAKE_TARGET_WD}个工作日占比",
    "over_20_share": f"超{INTAKE_LIMIT_WD}个工作日占比",
    "missing_dates": "日期缺失",
}
"""Export headers, in the report's column order (the keys ARE the report's columns)."""

REVIEW_REPORT_SCHEMA = pl.Schema(
    {
        "source": pl.Utf8,
        "authority": pl.Utf8,
        "month": pl.Utf8,
        "records": pl.Int64,
        "with_valid_doc_no": pl.Int64,
        "valid_doc_no_share": pl.Float64,
        "delay_median_wd": pl.Float64,
        "delay_max_wd": pl.Int64,
        "over_7_wd": pl.Int64,
        "over_20_wd": pl.Int64,
        "over_7_share": pl.Float64,
        "over_20_share": pl.Float64,
        "missing_dates": pl.Int64,
    }
)
"""The types of `review_report`'s columns (the same keys, in the same order)."""

_KEYS = ["source", "authority", "month"]
_EVIDENCE_COLUMNS = ("source", "doc_no", "authority", "decided_on", "collected_on")
_DELAY = "_delay_wd"
_VALID = "_valid_doc_no"

# An official document number: issuer prefix (沪国动罚, 柳人防罚决字), the year in brackets,
# an optional 第, the serial number and 号. Brackets must pair up: NFKC upstream has already
# turned ［］（） into []() but leaves 〔〕 and 【】 alone, so all six forms arrive here. The year
# must look like one (19xx/20xx); `[0-9]` rather than `\d`, which would also match non-ASCII
# digits in the Rust regex engine.
_YEAR = r"(?:19|20)[0-9]{2}"
_BRACKETS = (("〔", "〕"), ("[", "]"), ("［", "］"), ("(", ")"), ("（", "）"), ("【", "】"))
_DOC_NO_PATTERN = (
    r"^\p{Han}[\p{Han}A-Za-z]*"
    + "(?:"
    + "|".join(re.escape(opening) + _YEAR + re.escape(closing) for opening, closing in _BRACKETS)
    + ")"
    + r"第?[0-9]+号$"
)


def is_valid_doc_no(expr: pl.Expr) -> pl.Expr:
    """True when `expr` has the shape of an official document number, e.g. 沪国动罚〔2024〕12号.

    Never null: a missing number is simply not a valid one, which is what the review counts.
    Only the shape is checked; whether the document exists is the regulator's business.
    """
    return expr.str.contains(_DOC_NO_PATTERN).fill_null(False)


def evidence_columns(name: str, contracts: Contracts) -> list[str]:
    """The columns of a source's clean table the review reads (`review_evidence`): a
    national year holds millions of rows, and the review needs five of their columns."""
    source = contracts.source(name)
    kind = ["kind"] if name == "circulars" else []
    return ["doc_no", "authority", source.evidence_date or "", "collected_on", *kind]


def review_evidence(
    accepted: Mapping[str, pl.DataFrame],
    unevidenced: Mapping[str, pl.DataFrame],
    contracts: Contracts,
) -> pl.DataFrame:
    """The review's input: one row per bad-record document as received.

    `accepted` holds the clean tables of the three sources (at least `evidence_columns`);
    `unevidenced` their raw rows that were quarantined for lacking a document number — they
    are exactly what the review is meant to catch, so they count (as records without a valid
    number). Only 批评 circulars are bad records; commendations are not reviewed.
    """
    frames = []
    for name in SOURCES:
        source = contracts.source(name)
        date_column = source.evidence_date or ""
        parts = [accepted[name]]
        if name in unevidenced:
            parts.append(typed_rows(unevidenced[name], source, contracts))
        for part in parts:
            rows = part.filter(pl.col("kind") == "批评") if name == "circulars" else part
            frames.append(
                rows.select(
                    source=pl.lit(name),
                    doc_no=pl.col("doc_no"),
                    authority=pl.col("authority"),
                    decided_on=pl.col(date_column),
                    collected_on=pl.col("collected_on"),
                )
            )
    return pl.concat(frames, how="vertical")


def review_report(evidence: pl.DataFrame, calendar: pl.DataFrame) -> pl.DataFrame:
    """Intake timeliness and evidence per (source, authority, decision month), with totals.

    `evidence` holds one row per bad-record source document as received, accepted rows AND
    rows quarantined for a missing document number (they are exactly what the review must
    see): `source`, `doc_no`, `authority`, `decided_on`, `collected_on`. `calendar` comes from
    `workdays.working_day_calendar` and must cover every date in `evidence`.

    Rows: one per (source, authority, month) with month = decision month `YYYY-MM` (未知 when
    undated), then per source and authority over all months (month 全部), per source (authority
    and month 全部), and one grand total (all three 全部); each subtotal sorts after its rows.

    The delay is `workdays.working_days_between(decided_on, collected_on)`: working days after
    the decision up to and including collection. `missing_dates` counts rows where it cannot be
    computed (either date null); the median, maximum and the over-7 / over-20 shares are taken
    over the other rows, so undated records neither pass nor fail the deadline, they are
    reported on their own. `valid_doc_no_share` is over all records. A negative delay
    (collected before decided, a data error) is a measured delay here and so never counts as
    late; finding those rows is a data-quality check's job, not the review's.
    """
    _check_evidence(evidence, calendar)
    authority = pl.col("authority").cast(pl.String)
    rows = working_days_between(
        evidence.lazy()
        .select(_EVIDENCE_COLUMNS)
        .with_columns(pl.col("decided_on", "collected_on").cast(pl.Date)),
        "decided_on",
        "collected_on",
        _DELAY,
        calendar,
    ).select(
        pl.col("source").cast(pl.String),
        pl.when(authority.str.strip_chars().fill_null("") == "")
        .then(pl.lit(UNFILLED_AUTHORITY))
        .otherwise(authority)
        .alias("authority"),
        pl.col("decided_on").dt.strftime("%Y-%m").fill_null(UNKNOWN_MONTH).alias("month"),
        is_valid_doc_no(pl.col("doc_no")).alias(_VALID),
        pl.col(_DELAY),
    )
    # Subtotals are the same aggregation on the rows with their finer keys overwritten by 全部,
    # so every level is computed by one group_by and cannot drift from the others. The keys
    # are grouped as categories (a national year's 3.5M records × 3 levels: 1.7 s → 0.6 s
    # as text) and are text again in the report.
    keyed = rows.with_columns(pl.col(_KEYS).cast(pl.Categorical))
    every = pl.lit(ALL, dtype=pl.Categorical)
    by_group = (
        pl.concat(
            [
                keyed,
                keyed.with_columns(month=every),
                keyed.with_columns(authority=every, month=every),
            ]
        )
        .group_by(_KEYS)
        .agg(_counts())
        .with_columns(pl.col(_KEYS).cast(pl.String))
    )
    # The grand total is a plain select, so an empty evidence table still yields its 0 row.
    grand_total = rows.select(
        pl.lit(ALL).alias("source"),
        pl.lit(ALL).alias("authority"),
        pl.lit(ALL).alias("month"),
        *_counts(),
    )
    measured = pl.col("records") - pl.col("missing_dates")
    return (
        pl.concat([by_group, grand_total])
        .with_columns(
            valid_doc_no_share=_share(pl.col("with_valid_doc_no"), pl.col("records")),
            over_7_share=_share(pl.col("over_7_wd"), measured),
            over_20_share=_share(pl.col("over_20_wd"), measured),
        )
        .select(list(REVIEW_COLUMNS_ZH))
        .sort(
            pl.col("source").replace_strict(
                {source: rank for rank, source in enumerate((*SOURCES, ALL))},
                return_dtype=pl.Int8,
            ),
            pl.col("authority") == ALL,
            pl.col("authority") == UNFILLED_AUTHORITY,
            "authority",
            pl.col("month") == ALL,
            pl.col("month") == UNKNOWN_MONTH,
            "month",
        )
        .collect()
    )


def _counts() -> list[pl.Expr]:
    """The additive part of the report, aggregated identically at every level."""
    delay = pl.col(_DELAY)
    return [
        pl.len().cast(pl.Int64).alias("records"),
        pl.col(_VALID).sum().cast(pl.Int64).alias("with_valid_doc_no"),
        delay.median().cast(pl.Float64).alias("delay_median_wd"),
        delay.max().cast(pl.Int64).alias("delay_max_wd"),
        (delay > INTAKE_TARGET_WD).sum().cast(pl.Int64).alias("over_7_wd"),
        (delay > INTAKE_LIMIT_WD).sum().cast(pl.Int64).alias("over_20_wd"),
        delay.is_null().sum().cast(pl.Int64).alias("missing_dates"),
    ]


def _share(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """part / whole, null rather than NaN when there is nothing to divide by."""
    return pl.when(whole > 0).then(part / whole)


def _check_evidence(evidence: pl.DataFrame, calendar: pl.DataFrame) -> None:
    """Fail loudly on input that would otherwise produce a quietly wrong report.

    A date outside the calendar would turn into a null delay and be reported as a missing
    date, blaming the data for the caller's too-short calendar; an unknown source would be a
    row the review has no label for.
    """
    missing = [column for column in _EVIDENCE_COLUMNS if column not in evidence.columns]
    if missing:
        raise ValueError(f"evidence lacks columns {missing}")
    unknown = evidence.filter(~pl.col("source").cast(pl.String).is_in(SOURCES).fill_null(False))
    if not unknown.is_empty():
        found = sorted(set(unknown.get_column("source").cast(pl.String).to_list()), key=str)
        raise ValueError(f"evidence has unknown sources {found}; expected one of {SOURCES}")
    days = calendar.get_column("day").implode()
    for column in ("decided_on", "collected_on"):
        date = pl.col(column).cast(pl.Date)
        outside = evidence.filter(date.is_not_null() & ~date.is_in(days)).get_column(column)
        if not outside.is_empty():
            raise ValueError(  # !s: the stubs' scalar type includes bytes; these are dates
                f"calendar does not cover {column} {outside.min()!s}..{outside.max()!s}; "
                "build it over the evidence's whole date range"
            )
