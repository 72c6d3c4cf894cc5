"""Value normalisers: regulators' spellings → one typed value, as vectorised polars expressions.

What belongs here: turning the raw text of one cell into its canonical typed value — NFKC
folding of full-width forms, control characters out of text (`clean_text`), trimming, USCC
case, the date forms of docs/contracts.md (ISO, slashes, dots, 年月日, compact, Excel
serials), amounts with units (元, 万元, thousands separators), enum synonyms and list
splitting. Every function takes and returns `pl.Expr`, so the same
code serves ten rows in a unit test and ten million rows in production.

What does not: deciding whether a row is acceptable (see `row_checks`), reading files.
Unparseable input becomes null here; `row_checks` compares with the raw text to report it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import polars as pl
from stdnum.cn import uscc as stdnum_uscc

EXCEL_EPOCH = date(1899, 12, 30)
"""Day 0 of Excel's 1900 date system (the 1900 leap-year bug makes it the 30th, not the 31st)."""

EXCEL_SERIAL_RANGE = (20_000, 80_000)
"""Bare numbers in this range in a date column are Excel serials (1954-10-03 … 2119-01-10).
Anything else made only of digits must be a compact date (20240305) or is invalid."""

LIST_SEPARATORS = r"[、，,；;/|\s]+"
"""Separators regulators use between several values in one cell (处罚种类, 执法领域, 人员编号)."""
LIST_ITEM = r"[^、，,；;/|\s]+"
"""One value of a multi-value cell: a run of anything but `LIST_SEPARATORS`."""

BREAK_CHARS = r"\t\n\x0b\x0c\r\x{85}\x{2028}\x{2029}"
"""Line breaks and tabs (CR, LF, TAB, VT, FF, NEL, LS, PS), as a polars (Rust) regex class body."""
INVISIBLE_CHARS = (
    r"\x00-\x08\x0e-\x1f\x7f\x{80}-\x{84}\x{86}-\x{9f}"  # other C0/C1 controls (NUL …)
    r"\x{200e}\x{200f}\x{61c}\x{202a}-\x{202e}\x{2066}-\x{2069}"  # bidi marks, overrides, isolates
)
"""Characters that are never text: control characters and bidirectional overrides, which
reorder what a reader sees (`\u202e` makes `gpj.exe` look like `exe.jpg`)."""
CONTROL_PATTERN = f"[{BREAK_CHARS}{INVISIBLE_CHARS}]"
"""Any character `clean_text` rewrites (what the ingestion log counts, per file)."""

_BREAKS_PY = re.compile(r"[ ]*[\t\n\x0b\x0c\r\x85\u2028\u2029][\t\n\x0b\x0c\r\x85\u2028\u2029 ]*")
_INVISIBLE_PY = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]"
)

_TRUE = ("是", "y", "yes", "true", "1", "在岗", "有效", "t")
_FALSE = ("否", "n", "no", "false", "0", "不在岗", "离岗", "无效", "f")


def clean_text(expr: pl.Expr) -> pl.Expr:
    """NFKC-fold (full-width → half-width), make it one line of visible text, trim; empty
    or whitespace-only becomes null.

    Names and free text are one line everywhere they go (calendars, CSV, spreadsheets, the
    dashboards): a run of line breaks and tabs (with the spaces around it) becomes one space,
    and NUL, other control characters and bidirectional overrides are removed. Nothing is
    quarantined for it — a firm's name with a stray line break is still its name — but every
    cell changed is counted in the ingestion log (`cells_cleaned`).
    """
    folded = _unless_plain(expr, _fold_text, lambda cell: cell.str.strip_chars())
    # `replace` evaluates `folded` once; `when(folded …).then(folded)` cleaned every cell twice
    return folded.replace("", None)


def _fold_text(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.normalize("NFKC")
        .str.replace_all(f"[ ]*[{BREAK_CHARS}][{BREAK_CHARS} ]*", " ")
        .str.replace_all(f"[{INVISIBLE_CHARS}]", "")
        .str.strip_chars()
    )


PLAIN_CHARS = r"\x20-\x7e\x{3001}\x{3002}\x{3008}-\x{3011}\x{3014}-\x{301b}\x{4e00}-\x{9fff}"
"""Characters NFKC leaves as they are, that never compose with a neighbour and that
`clean_text` never rewrites: printable ASCII, the CJK unified ideographs, and the marks and
brackets of regulators' documents (、。〈〉《》「」『』【】〔〕〖〗〘〙〚〛); full-width forms,
the ideographic space and every control character are outside. tests/unit/models/
test_normalise.py checks each of them against NFKC itself."""

_NOT_PLAIN = f"[^{PLAIN_CHARS}]"


def _unless_plain(
    expr: pl.Expr,
    fold: Callable[[pl.Expr], pl.Expr],
    plain: Callable[[pl.Expr], pl.Expr],
) -> pl.Expr:
    """`fold` of each text cell, computed only for the cells holding a character outside
    `PLAIN_CHARS`; the others take `plain`, which gives the same for them.

    Why: NFKC folding costs more than anything else in cleaning a cell (~0.3–0.5 s a
    million cells, most of a national ingestion's text columns: identifiers, USCCs, lists of
    inspector numbers), yet most cells are plain ASCII or CJK text it returns unchanged. A
    scan for a character outside the plain set costs a tenth of that."""

    def apply(values: pl.Series) -> pl.Series:
        if values.dtype != pl.String:  # as `fold` alone would (its error included)
            return _select(values, fold)
        if values.len() < DISTINCT_MIN_ROWS:  # compiling the scan's regex (~0.2 ms) would
            return _select(values, fold)  # cost more than it saves on a few cells
        # mostly odd cells (prose with full-width punctuation): folded whole, unscanned;
        # judged on a sample, as `per_distinct` judges (it decides speed only)
        sample = values.head(DISTINCT_SAMPLE).drop_nulls()
        if 2 * sample.str.contains(_NOT_PLAIN).sum() > sample.len():
            return _select(values, fold)
        odd = values.str.contains(_NOT_PLAIN).arg_true()  # a null cell is never odd
        out = _select(values, plain)
        if odd.len():  # polars copies a shared buffer before `scatter` writes: the input
            # column stays as it was (tests/unit/models/test_normalise.py)
            out = out.scatter(odd, _select(values.gather(odd), fold))
        return out

    return expr.map_batches(apply, return_dtype=pl.String, is_elementwise=True)


def _select(values: pl.Series, parse: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    return values.to_frame("_v").select(parse(pl.col("_v"))).to_series().alias(values.name)


DISTINCT_MIN_ROWS = 1_000
DISTINCT_SAMPLE = 10_000
"""Below `DISTINCT_MIN_ROWS` cells, `per_distinct` and `clean_text`'s plain-cell shortcut
parse a column directly; above it, each judges on its first `DISTINCT_SAMPLE` values whether
its extra pass pays (mostly distinct values, mostly full-width prose: it would not)."""


def per_distinct(values: pl.Series, parse: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """`parse` (any normaliser of this module) applied once per distinct value of `values`
    and mapped back onto every row: the same series as applying it to every row, because
    every normaliser is a function of the one cell.

    Why: regulators' columns repeat their values — a national year of ten million
    inspections holds ~2,000 distinct dates, a few hundred fines and a dozen results — and
    the regexes, NFKC folding and date parsing cost microseconds a cell. Parsing the
    distinct values and joining them back costs two hashes a row. A column whose values are
    mostly distinct (document numbers, names) is parsed directly.
    """
    sample = values.head(DISTINCT_SAMPLE)
    # judged on a sample (it decides speed only); a few rows are parsed directly too
    if values.len() < DISTINCT_MIN_ROWS or 2 * sample.n_unique() > sample.len():
        return _select(values, parse)
    frame = values.to_frame("_value")
    distinct = frame.unique()
    parsed = distinct.with_columns(parse(pl.col("_value")).alias("_parsed"))
    joined = frame.join(parsed, on="_value", how="left", nulls_equal=True, maintain_order="left")
    return joined.get_column("_parsed").alias(values.name)


def is_given(expr: pl.Expr) -> pl.Expr:
    """Whether a raw cell holds a value: text that `clean_text` does not empty."""
    return clean_text(expr).is_not_null()


def plain_text(value: str) -> str:
    """`clean_text`'s rule for one Python string (without NFKC): one line, no control or
    bidi characters. Writers apply it to what they did not ingest themselves."""
    return _INVISIBLE_PY.sub("", _BREAKS_PY.sub(" ", value)).strip()


def has_control_characters(expr: pl.Expr) -> pl.Expr:
    """Whether a raw cell holds anything `clean_text` rewrites (null → False)."""
    return expr.str.contains(CONTROL_PATTERN).fill_null(value=False)


def matching_key(expr: pl.Expr) -> pl.Expr:
    """The same folding as `contracts.header_key`: NFKC, no whitespace or stars, lower case."""
    return expr.str.normalize("NFKC").str.replace_all(r"[\s*＊]", "").str.to_lowercase()


def normalise_uscc(expr: pl.Expr) -> pl.Expr:
    """USCC as compared: NFKC, every space and hyphen removed, upper case (docs/contracts.md)."""
    nfkc = _unless_plain(expr, lambda cell: cell.str.normalize("NFKC"), lambda cell: cell)
    folded = nfkc.str.replace_all(r"[\s\-]", "").str.to_uppercase()
    return folded.replace("", None)


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""GB 32100-2015's characters (no I, O, S, V, Z) and the check weights of the first 17."""


def uscc_is_valid(values: pl.Series) -> pl.Series:
    """GB 32100-2015 check of normalised USCCs; python-stdnum stays the authority.

    A code in the plain form (18 ASCII digits or capitals) — nearly every code — is checked
    by the same rule as `stdnum.cn.uscc.is_valid`, vectorised: calling stdnum per distinct
    code cost ~50 µs each, 40 s for a national directory cited by eight sources. Any other
    code (odd dashes, letters outside ASCII, …) goes to stdnum itself, whose cleaning rules
    decide it; the test suite holds the two to the same verdicts.
    """
    distinct = values.drop_nulls().unique().to_frame("code")
    plain = pl.col("code").str.contains(r"^[0-9A-Z]{18}$")
    judged = distinct.with_columns(
        valid=pl.when(plain).then(_plain_uscc_is_valid(pl.col("code"))).otherwise(None)
    )
    odd = judged.filter(pl.col("valid").is_null())["code"].to_list()
    verdicts = pl.DataFrame(
        {"code": odd, "valid": [bool(stdnum_uscc.is_valid(code)) for code in odd]},
        schema={"code": pl.Utf8, "valid": pl.Boolean},
    )
    judged = pl.concat([judged.filter(pl.col("valid").is_not_null()), verdicts])
    return values.replace_strict(
        judged["code"], judged["valid"], default=False, return_dtype=pl.Boolean
    )


def _plain_uscc_is_valid(code: pl.Expr) -> pl.Expr:
    """stdnum's rule on a plain code: 8 digits, 10 characters of the alphabet, and the
    check character `alphabet[(31 - Σ value × weight) mod 31]` of the first 17."""
    shape = code.str.contains(f"^[0-9]{{8}}[{USCC_ALPHABET}]{{10}}$")
    value = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
    total = pl.sum_horizontal(
        code.str.slice(i, 1).replace_strict(value, default=0, return_dtype=pl.Int64) * weight
        for i, weight in enumerate(USCC_WEIGHTS)
    )
    check = (31 - total % 31) % 31
    expected = check.replace_strict(dict(enumerate(USCC_ALPHABET)), return_dtype=pl.Utf8)
    return shape & (code.str.slice(17, 1) == expected)


def parse_date(expr: pl.Expr) -> pl.Expr:
    """Parse every accepted date form (docs/contracts.md) into `pl.Date`; impossible dates → null.

    Accepted: 2024-03-05 · 2024/3/5 · 2024.3.5 · 2024年3月5日 · 20240305 · an Excel serial
    (45356) · any of these followed by a time (`2024-03-05 00:00:00`, `2024-03-05T08:00`).
    `2024年13月45日` and `2023-02-30` are null, never rolled over into another date.
    """
    text = clean_text(expr)
    serial = text.str.extract(r"^(\d{5})(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    from_serial = (
        pl.when(serial.is_between(*EXCEL_SERIAL_RANGE))
        .then(pl.lit(EXCEL_EPOCH) + pl.duration(days=serial))
        .otherwise(None)
    )
    compact = text.str.extract(r"^(\d{8})$", 1).str.strptime(pl.Date, "%Y%m%d", strict=False)
    parts = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT].*)?$"
    year = text.str.extract(parts, 1)
    month = text.str.extract(parts, 2).str.zfill(2)
    day = text.str.extract(parts, 3).str.zfill(2)
    separated = pl.concat_str([year, month, day], separator="-").str.strptime(
        pl.Date, "%Y-%m-%d", strict=False
    )
    return pl.coalesce(separated, compact, from_serial.cast(pl.Date))


def parse_amount(expr: pl.Expr) -> pl.Expr:
    """Yuan as Float64: `15000`, `15,000元`, `￥15000`, `1.5万元`, `人民币3万元整`; else null.

    Negative numbers parse (so the row checks can say "negative fine" instead of "unreadable").
    """
    text = clean_text(expr)
    bare = text.str.replace_all(r"[,\s]|人民币|元|整|¥|￥|RMB|CNY", "")
    wan = bare.str.ends_with("万")
    number = bare.str.strip_suffix("万").cast(pl.Float64, strict=False)
    # "nan" and "inf" cast to floats; they are unreadable amounts, not numbers
    finite = pl.when(number.is_finite()).then(number).otherwise(None)
    # 2.8万 is 28,000 yuan, not 28000.000000000004: amounts in 万 are rounded to the fen
    # (a float product would tip a fine over a threshold or a statutory maximum)
    return pl.when(wan).then((finite * 10_000).round(2)).otherwise(finite)


def parse_integer(expr: pl.Expr) -> pl.Expr:
    """Whole numbers (`3`, `3.0`, `３个`); fractional or unreadable input becomes null."""
    number = clean_text(expr).str.replace_all(r"[,\s]|个|项|处", "").cast(pl.Float64, strict=False)
    whole = number.is_finite() & (number == number.floor()) & (number.abs() < 2**53)
    # cast after the filter, non-strict: polars evaluates both branches of a when/then
    return pl.when(whole).then(number).otherwise(None).cast(pl.Int64, strict=False)


def map_enum(expr: pl.Expr, lookup: dict[str, str]) -> pl.Expr:
    """Map any accepted spelling (see `Contracts.enum_lookup`) to its canonical value, else null."""
    return matching_key(clean_text(expr)).replace_strict(lookup, default=None, return_dtype=pl.Utf8)


def split_list(expr: pl.Expr) -> pl.Expr:
    """Split a multi-value cell on 、，,；;/| or spaces into a list without empty items."""
    # the runs between separators, found in one pass (a split left empty items to filter
    # out of every list); a cell of separators alone is an empty list, a blank one null
    return clean_text(expr).str.extract_all(LIST_ITEM)


def map_enum_list(expr: pl.Expr, lookup: dict[str, str]) -> pl.Expr:
    """Split and map each item; an unknown item becomes a null element (reported by row checks)."""
    return split_list(expr).list.eval(
        matching_key(pl.element()).replace_strict(lookup, default=None, return_dtype=pl.Utf8)
    )


def parse_bool(expr: pl.Expr) -> pl.Expr:
    """是/否, Y/N, true/false, 1/0 (and 在岗/离岗) → Boolean; anything else → null."""
    lookup = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
    return matching_key(clean_text(expr)).replace_strict(
        lookup, default=None, return_dtype=pl.Boolean
    )
