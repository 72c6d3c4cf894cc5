"""Row validation and de-duplication: raw rows in, clean rows + quarantine + counts out.

What belongs here: applying the contract to the raw rows of one source — typing every column
with `normalise`, finding every problem of every row (required, checksum, dates, amounts,
enums, lengths, date order, references to the firm directory), collapsing identical duplicate
keys and quarantining conflicting ones, and the per-file conservation counts
(read = accepted + quarantined + collapsed). Pure polars: no files, no warehouse.

What does not: reading files or detecting encodings (warehouse.landing), storing results
(pipelines), the quality gate (Great Expectations, on the clean table afterwards).

Raw input (one row per data row of a landing file; all canonical columns as text):
`source_file`, `source_row` (1-based spreadsheet row, null for a whole-file entry),
`file_first_seen` (datetime the file's content first arrived), `read_problem` / `read_detail`
(a reason code and detail found while reading: on every row of a file rejected whole, or on
one row, e.g. a row with more cells than the header), `raw_row` (JSON of the row as
received), then the source's canonical columns (missing ones null).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import polars as pl

from models import normalise
from models.contracts import Column, Contracts, Source
from models.reasons import REASONS

LINEAGE_COLUMNS = ("source_file", "source_row", "duplicate_count", "file_sha256")
FILE_COLUMN = "(file)"
"""`column` of a quarantine row rejected for a problem of its whole file."""
RAW_META_COLUMNS = (
    "source_file",
    "source_row",
    "file_sha256",
    "file_first_seen",
    "read_problem",
    "read_detail",
    "raw_row",
)

QUARANTINE_SCHEMA = pl.Schema(
    {
        "source": pl.Utf8(),
        "file": pl.Utf8(),
        "row_number": pl.Int64(),
        "column": pl.Utf8(),
        "raw_value": pl.Utf8(),
        "reason_code": pl.Utf8(),
        "reason": pl.Utf8(),
        "reason_en": pl.Utf8(),
        "problems": pl.Utf8(),
        "raw_row": pl.Utf8(),
        "ingested_at": pl.Datetime("us"),
    }
)
"""One row per rejected input row: its first problem spelled out, all problems as JSON."""

FILE_COUNT_SCHEMA = pl.Schema(
    {
        "source_file": pl.Utf8,
        "rows_read": pl.Int64,
        "rows_accepted": pl.Int64,
        "rows_quarantined": pl.Int64,
        "rows_collapsed": pl.Int64,
        "cells_cleaned": pl.Int64,
    }
)
"""Per file: read = accepted + quarantined + collapsed; `cells_cleaned` counts the cells whose
control characters or line breaks `normalise.clean_text` rewrote (docs/contracts.md)."""

_PROBLEM = pl.Struct(
    {"column": pl.Utf8, "code": pl.Utf8, "value": pl.Utf8, "note_zh": pl.Utf8, "note_en": pl.Utf8}
)


@dataclass(frozen=True)
class RowRule:
    """A cross-field rule from outside the contract (e.g. the rule set's statutory fine
    limits, `models.penalty_checks`): where `when` holds on the typed row, the row is
    quarantined with `code` against `column`, its raw value and the notes."""

    when: pl.Expr
    column: str
    code: str
    note_zh: str | pl.Expr = ""
    note_en: str | pl.Expr = ""


@dataclass(frozen=True)
class CleanResult:
    """What one source's raw rows became."""

    accepted: pl.DataFrame
    quarantine: pl.DataFrame
    count: Callable[[], pl.DataFrame] = field(repr=False)
    """Makes `file_counts`: counted only when asked — the warehouse counts from its stored
    tables instead (a regex over every cell of every row: ~0.3 s a slice of 500,000 rows)."""

    @cached_property
    def file_counts(self) -> pl.DataFrame:
        """Per file: read = accepted + quarantined + collapsed (`FILE_COUNT_SCHEMA`)."""
        return self.count()


def clean_schema(source: Source) -> pl.Schema:
    """The typed schema of a clean table: canonical columns in order, then lineage."""
    types: dict[str, pl.DataType] = {
        "text": pl.Utf8(),
        "uscc": pl.Utf8(),
        "enum": pl.Utf8(),
        "date": pl.Date(),
        "amount": pl.Float64(),
        "integer": pl.Int64(),
        "bool": pl.Boolean(),
        "enum_list": pl.List(pl.Utf8),
        "text_list": pl.List(pl.Utf8),
    }
    schema = {c.name: types[c.type] for c in source.columns}
    schema |= {
        "source_file": pl.Utf8(),
        "source_row": pl.Int64(),
        "duplicate_count": pl.Int64(),
        "file_sha256": pl.Utf8(),
    }
    return pl.Schema(schema)


def column_label(source: Source, name: str) -> str:
    """How users know a column: its first Chinese header, with the canonical name."""
    col = source.column(name)
    zh = next((a for a in col.aliases if not a.isascii()), None)
    return f"{zh}({name})" if zh else name


def clean_source(
    raw: pl.DataFrame,
    source: Source,
    contracts: Contracts,
    *,
    today: date,
    known_keys: Mapping[str, pl.Series] | None = None,
    rules: Sequence[RowRule] = (),
) -> CleanResult:
    """Type, check and de-duplicate one source's raw rows.

    `known_keys` maps a referenced source name (e.g. `firms`) to the series of its keys, for
    the contract's `references`; a reference whose source is absent from the mapping is not
    checked (the caller decides, e.g. the firm directory does not reference itself).
    `rules` are cross-field rules from outside the contract (`RowRule`).
    `today` bounds "no future dates" and is a parameter so that runs are reproducible.
    """
    raw = _with_all_columns(raw, source)
    typed = typed_rows(raw, source, contracts)
    bad, problems = _problems(raw, typed, source, contracts, today, known_keys or {}, rules)
    rejected = typed.filter(bad).with_columns(_problems=problems)
    passing = typed.filter(~bad)
    kept, conflicts, collapsed = _deduplicate(passing, source)

    quarantine = pl.concat(
        [_quarantine_rows(rejected, source), _quarantine_rows(conflicts, source)],
        how="vertical",
    ).sort("file", "row_number", nulls_last=True)
    schema = clean_schema(source)
    accepted = kept.select(list(schema)).cast(schema)  # in file and row order (`_deduplicate`)
    return CleanResult(
        accepted=accepted,
        quarantine=quarantine,
        count=lambda: _file_counts(raw, accepted, quarantine, collapsed, source),
    )


def typed_rows(
    raw: pl.DataFrame,
    source: Source,
    contracts: Contracts,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Raw text rows → typed canonical columns (unparseable → null), defaults filled; only
    the canonical `columns` when named (the raw index types its key and dates, not the rest).

    Each column is parsed once per distinct value (`normalise.per_distinct`): dates,
    amounts and enums repeat across millions of rows."""
    raw = _with_all_columns(raw, source)
    wanted = [c for c in source.columns if columns is None or c.name in columns]
    typed = raw.select(*RAW_META_COLUMNS).with_columns(
        _typed_column(raw, c, contracts) for c in wanted
    )
    # one chunk per column: the parsed columns come whole, the raw ones in DuckDB's batches,
    # and polars 2.1 can panic filtering a frame whose columns are chunked differently
    return _fill_defaults(typed.rechunk(), wanted)


def _typed_column(raw: pl.DataFrame, col: Column, contracts: Contracts) -> pl.Series:
    """The typed value; a blank enum with a `fallback` takes the other column's text when
    it spells an allowed value (no problem is reported for the fallback: it is free text)."""
    parsed = normalise.per_distinct(raw[col.name], lambda e: _parse(col, contracts, e))
    if not col.fallback:
        return parsed
    lookup = contracts.enum_lookup(col.enum or "")
    fallback = normalise.per_distinct(raw[col.fallback], lambda e: normalise.map_enum(e, lookup))
    both = pl.DataFrame([parsed.alias("_parsed"), fallback.alias("_fallback")])
    return both.select(pl.coalesce("_parsed", "_fallback").alias(col.name)).to_series()


def _with_all_columns(raw: pl.DataFrame, source: Source) -> pl.DataFrame:
    missing = [c for c in (*RAW_META_COLUMNS, *source.column_names) if c not in raw.columns]
    filler: dict[str, pl.DataType] = {
        "source_row": pl.Int64(),
        "file_first_seen": pl.Datetime("us"),
    }
    return raw.with_columns(pl.lit(None, dtype=filler.get(c, pl.Utf8)).alias(c) for c in missing)


def _parse(col: Column, contracts: Contracts, expr: pl.Expr) -> pl.Expr:
    match col.type:
        case "text":
            return normalise.clean_text(expr)
        case "uscc":
            return normalise.normalise_uscc(expr)
        case "date":
            return normalise.parse_date(expr)
        case "amount":
            return normalise.parse_amount(expr)
        case "integer":
            return normalise.parse_integer(expr)
        case "bool":
            return normalise.parse_bool(expr)
        case "enum":
            return normalise.map_enum(expr, contracts.enum_lookup(col.enum or ""))
        case "enum_list":
            return normalise.map_enum_list(expr, contracts.enum_lookup(col.enum or ""))
        case "text_list":
            return normalise.split_list(expr)


def _fill_defaults(typed: pl.DataFrame, columns: Sequence[Column]) -> pl.DataFrame:
    """`collected_on` absent → the day the file's content first arrived (docs/contracts.md).

    The first-seen day, not the run day: re-running next month must not change the table.
    """
    fills = [
        pl.col(c.name).fill_null(pl.col("file_first_seen").dt.date())
        for c in columns
        if c.default == "first_seen"
    ]
    return typed.with_columns(fills) if fills else typed


def _as_expr(value: str | pl.Expr) -> pl.Expr:
    """A literal text as an expression; an expression as it is."""
    return pl.lit(value) if isinstance(value, str) else value


def _problem(
    when: pl.Expr,
    column: str,
    code: str | pl.Expr,
    value: pl.Expr,
    note_zh: str | pl.Expr = "",
    note_en: str | pl.Expr = "",
) -> tuple[pl.Expr, pl.Expr]:
    """(`when`, the problem struct where `when` holds, else null — nulls are dropped)."""
    fields = pl.struct(
        column=pl.lit(column),
        value=value.cast(pl.Utf8),
        code=_as_expr(code),
        note_zh=_as_expr(note_zh),
        note_en=_as_expr(note_en),
    )
    struct = pl.when(when).then(fields).otherwise(pl.lit(None, dtype=_PROBLEM))
    return when, struct


def _column_problems(col: Column, contracts: Contracts, today: date) -> list[tuple[pl.Expr, str]]:
    """(condition, code) pairs for one column, evaluated on a frame holding raw `_raw_<name>`
    text and the typed value `<name>`; order = priority of the reported reason."""
    val = pl.col(col.name)
    given = pl.col(f"_given_{col.name}")
    checks: list[tuple[pl.Expr, str]] = []
    if col.required:
        if col.type in ("enum_list", "text_list"):  # `、` alone is given text but no item
            checks.append((~given | (val.list.len() == 0), "missing_required"))
        else:
            checks.append((~given, "missing_required"))
    match col.type:
        case "uscc":
            checks.append((given & ~pl.col(f"_valid_{col.name}"), "invalid_uscc"))
        case "date":
            checks.append((given & val.is_null(), "invalid_date"))
            # `given`: a default we filled in (collected_on = first-seen day) is not input
            checks.append((given & (val < pl.lit(contracts.min_date)), "date_too_early"))
            if not col.allow_future:
                checks.append((given & (val > pl.lit(today)), "future_date"))
        case "amount" | "integer":
            checks.append((given & val.is_null(), "invalid_number"))
            checks.append((val < 0, "negative_amount"))
        case "enum" | "bool":
            checks.append((given & val.is_null(), "invalid_enum"))
        case "enum_list":
            checks.append(
                (given & val.list.eval(pl.element().is_null()).list.any(), "invalid_enum")
            )
        case "text":
            checks.append((val.str.len_chars() > contracts.max_length(col), "value_too_long"))
        case "text_list":
            pass
    return checks


def _given(raw: pl.DataFrame, typed: pl.DataFrame, col: Column) -> pl.Series | pl.Expr:
    """`_given_<name>`: whether the raw cell holds a value (`normalise.is_given`). A text
    column's typed value is its cleaned text, null exactly when nothing was given, so it
    answers without cleaning (mostly distinct) names and numbers a second time."""
    name = f"_given_{col.name}"
    if col.type in ("text", "text_list") and not col.fallback and not col.default:
        return pl.col(col.name).is_not_null().alias(name)
    return normalise.per_distinct(raw[col.name], normalise.is_given).alias(name)


def _problems(
    raw: pl.DataFrame,
    typed: pl.DataFrame,
    source: Source,
    contracts: Contracts,
    today: date,
    known_keys: Mapping[str, pl.Series],
    rules: Sequence[RowRule] = (),
) -> tuple[pl.Series, pl.Series]:
    """Which rows have a problem, and every problem of each of them (in row order), as a
    list of structs — for those rows only: mapping the lists back onto every row (a join
    and a sort) only to filter them out again cost ~0.1 s a slice of 500,000 rows."""
    frame = typed.with_columns(
        raw.select(pl.col(c).alias(f"_raw_{c}") for c in source.column_names)
    )
    valid_cols = {}
    for col in source.columns:
        if col.type == "uscc":
            valid_cols[f"_valid_{col.name}"] = normalise.uscc_is_valid(frame[col.name])
    # one chunk per column: polars 2.1 can panic filtering a frame whose columns are
    # chunked differently (the raw rows arrive in DuckDB's batches, parsed ones whole)
    frame = frame.with_columns(
        *(_given(raw, typed, col) for col in source.columns), **valid_cols
    ).rechunk()

    detail = pl.col("read_detail").fill_null("")
    exprs: list[tuple[pl.Expr, pl.Expr]] = [
        _problem(
            pl.col("read_problem").is_not_null(),
            FILE_COLUMN,
            pl.col("read_problem"),
            pl.col("read_detail"),
            note_zh=pl.concat_str(pl.lit("："), detail),
            note_en=pl.concat_str(pl.lit(": "), detail),
        )
    ]
    for col in source.columns:
        for cond, code in _column_problems(col, contracts, today):
            exprs.append(_problem(cond, col.name, code, pl.col(f"_raw_{col.name}")))
    for rule in source.date_order:
        value = pl.format(
            "{}={}; {}={}",
            pl.lit(rule.earlier),
            pl.col(f"_raw_{rule.earlier}"),
            pl.lit(rule.later),
            pl.col(f"_raw_{rule.later}"),
        )
        out_of_order = pl.col(rule.later) < pl.col(rule.earlier)
        if source.column(rule.later).default:
            # a collection date we filled in (the first-seen day) is not input to judge
            out_of_order &= pl.col(f"_given_{rule.later}")
        exprs.append(
            _problem(
                out_of_order,
                rule.later,
                "date_order",
                value,
                note_zh=f"：早于{column_label(source, rule.earlier)}",
                note_en=f": before {rule.earlier}",
            )
        )
    for extra in rules:
        exprs.append(
            _problem(
                extra.when,
                extra.column,
                extra.code,
                pl.col(f"_raw_{extra.column}"),
                note_zh=extra.note_zh,
                note_en=extra.note_en,
            )
        )
    for ref in source.references:
        keys = known_keys.get(ref.source)
        if keys is None:
            continue
        code = "unknown_firm" if ref.source == "firms" else "unknown_inspector"
        known = pl.col(ref.column).is_in(keys.implode())
        exprs.append(
            _problem(
                pl.col(ref.column).is_not_null() & ~known, ref.column, code, pl.col(ref.column)
            )
        )
    # Problem structs are built only for rows with a problem: building ~30 (mostly null)
    # structs for every row cost ~60 µs a row, 30 s for a national year of inspections.
    frame = frame.with_columns(_bad=pl.any_horizontal(cond.fill_null(False) for cond, _ in exprs))
    # Only the read problem is reported for rows the reader already rejected: their cells
    # were never mapped reliably, so cell problems would be noise.
    whole_file = pl.col("read_problem").is_not_null()
    listed = pl.concat_list(struct for _, struct in exprs).list.drop_nulls()
    problems = frame.filter("_bad").select(
        pl.when(whole_file).then(listed.list.head(1)).otherwise(listed).alias("_problems")
    )
    return frame.get_column("_bad"), problems.to_series()


def _deduplicate(
    passing: pl.DataFrame, source: Source
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Identical keys collapse into one row with a count; conflicting keys are rejected,
    except that an established version stays.

    Identity ignores `collected_on` (the same decision sent twice, the second time without
    a collection date, is still the same decision) and keeps the earliest collection date.
    When a key's versions conflict and exactly one of them arrived strictly earlier than
    every other (its file was first seen before theirs), that version is established: it
    stays in force and only the later ones are rejected (`conflicts_established`) — a new
    file can never silently undo an accepted fact. Versions that arrived together are all
    rejected (`duplicate_conflict`): none of them is established.
    Returns (kept rows in file and row order, conflicting rows with a problem list, collapsed
    rows' files).
    """
    key = list(source.key)
    content = [c for c in source.column_names if c != "collected_on"]
    # A key met once (nearly every key) is kept as it is: the version hashes and the list
    # of locations below cost microseconds a row and only matter where a key repeats.
    ordered = passing.sort("source_file", "source_row").with_columns(
        _copies=pl.len().over(key).cast(pl.Int64)
    )
    alone = ordered.filter(pl.col("_copies") == 1).rename({"_copies": "duplicate_count"})
    ordered = ordered.filter(pl.col("_copies") > 1).drop("_copies")
    seen = pl.col("file_first_seen")
    versions = ordered.with_columns(
        _version=pl.struct(content).hash(),
        _versions=pl.struct(content).n_unique().over(key),
    ).with_columns(
        _version_seen=seen.min().over([*key, "_version"]),
    )
    earliest = pl.col("_version_seen").min().over(key)
    versions = versions.with_columns(
        _established=(pl.col("_versions") > 1)
        & (pl.col("_version_seen") == earliest)
        & (pl.col("_version").filter(pl.col("_version_seen") == earliest).n_unique().over(key) == 1)
        & earliest.is_not_null(),
    ).with_columns(
        _has_established=pl.col("_established").any().over(key),
        _copies=pl.len().over(key),
        _locations=pl.format("{}#{}", "source_file", "source_row").implode().over(key),
        _established_at=pl.format("{}#{}", "source_file", "source_row")
        .filter(pl.col("_established"))
        .first()
        .over(key),
    )
    conflict_rows = versions.filter((pl.col("_versions") > 1) & ~pl.col("_established"))
    key_text = pl.concat_str([pl.col(k).cast(pl.Utf8) for k in key], separator=" / ")
    established = pl.col("_has_established")
    conflicts = conflict_rows.with_columns(
        _problems=pl.concat_list(
            pl.struct(
                column=pl.lit(", ".join(key)),
                code=pl.when(established)
                .then(pl.lit("conflicts_established"))
                .otherwise(pl.lit("duplicate_conflict")),
                value=key_text,
                note_zh=pl.when(established)
                .then(pl.format("（已确认版本见 {}）", pl.col("_established_at")))
                .otherwise(
                    pl.format(
                        "（{}个版本，见 {}）",
                        pl.col("_versions"),
                        pl.col("_locations").list.join("、"),
                    )
                ),
                note_en=pl.when(established)
                .then(pl.format(" (established version: {})", pl.col("_established_at")))
                .otherwise(
                    pl.format(
                        " ({} versions: {})",
                        pl.col("_versions"),
                        pl.col("_locations").list.join(", "),
                    )
                ),
            )
        )
    )
    helpers = [
        "_version", "_versions", "_version_seen", "_established", "_has_established",
        "_copies", "_locations", "_established_at",
    ]  # fmt: skip
    conflicts = conflicts.drop(helpers)
    singles = versions.filter((pl.col("_versions") == 1) | pl.col("_established")).with_columns(
        _copies=pl.len().over(key)
    )
    collected = [c for c in source.column_names if c == "collected_on"]
    repeated = (
        singles.with_columns(
            duplicate_count=pl.col("_copies").cast(pl.Int64),
            **{c: pl.col(c).min().over(key) for c in collected},
        )
        .unique(subset=key, keep="first", maintain_order=True)
        .drop(helpers)
    )
    kept = pl.concat([alone, repeated.select(alone.columns)]).sort("source_file", "source_row")
    first = singles.with_columns(_rank=pl.int_range(pl.len()).over(key))
    collapsed = first.filter(pl.col("_rank") > 0).select("source_file")
    return kept, conflicts, collapsed


def _quarantine_rows(rows: pl.DataFrame, source: Source) -> pl.DataFrame:
    """Spell out each rejected row's first problem; keep all of them as JSON."""
    if rows.is_empty():
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    codes_zh = {code: r.zh for code, r in REASONS.items()}
    codes_en = {code: r.en for code, r in REASONS.items()}
    labels = {c: column_label(source, c) for c in source.column_names} | {FILE_COLUMN: "整个文件"}
    first = pl.col("_problems").list.first()
    column = first.struct.field("column")
    code = first.struct.field("code")
    label = column.replace_strict(labels, default=column, return_dtype=pl.Utf8)
    reason_zh = pl.concat_str(
        [
            label,
            pl.lit("："),
            code.replace_strict(codes_zh, default=code),
            first.struct.field("note_zh"),
        ]
    )
    reason_en = pl.concat_str(
        [
            column,
            pl.lit(": "),
            code.replace_strict(codes_en, default=code),
            first.struct.field("note_en"),
        ]
    )
    problems_json = pl.col("_problems").list.eval(pl.element().struct.json_encode()).list.join(",")
    return rows.select(
        source=pl.lit(source.name),
        file=pl.col("source_file"),
        row_number=pl.col("source_row").cast(pl.Int64),
        column=column,
        raw_value=first.struct.field("value"),
        reason_code=code,
        reason=reason_zh,
        reason_en=reason_en,
        problems=pl.format("[{}]", problems_json),
        raw_row=pl.col("raw_row"),
        ingested_at=pl.col("file_first_seen").cast(pl.Datetime("us")),
    )


def _file_counts(
    raw: pl.DataFrame,
    accepted: pl.DataFrame,
    quarantine: pl.DataFrame,
    collapsed: pl.DataFrame,
    source: Source,
) -> pl.DataFrame:
    """Per file: read = accepted + quarantined + collapsed (the conservation the log records),
    and the cells whose control characters were cleaned."""
    cleaned = pl.sum_horizontal(
        normalise.has_control_characters(pl.col(c)).cast(pl.Int64) for c in source.column_names
    )
    read = raw.group_by("source_file").agg(rows_read=pl.len(), cells_cleaned=cleaned.sum())
    parts = [
        (accepted.select("source_file"), "rows_accepted"),
        (quarantine.select(pl.col("file").alias("source_file")), "rows_quarantined"),
        (collapsed, "rows_collapsed"),
    ]
    out = read
    for frame, name in parts:
        counts = frame.group_by("source_file").agg(pl.len().alias(name))
        out = out.join(counts, on="source_file", how="left")
    return (
        out.with_columns(pl.exclude("source_file").fill_null(0).cast(pl.Int64))
        .select(list(FILE_COUNT_SCHEMA))
        .sort("source_file")
    )
