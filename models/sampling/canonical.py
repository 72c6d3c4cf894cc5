"""A round's published inputs as canonical CSV text, and their SHA-256 (docs/sampling.md).

What belongs here: the one serialisation of each input of the draw — the eligible firm list
(with each firm's class and the evaluations behind it), the round's inspector roster, the
recusal list, the previous round's teams, the risk scores and the other published rounds'
bookings (`INPUT_SCHEMAS`; `INPUT_SCHEMAS_V1` for plans of `draw-1`) — that the plan embeds,
the exports publish byte for byte, and the input hashes are computed over; and reading that
text back into typed frames. A round is always computed from inputs that went through this
text (`RoundInputs.canonical`), so the warehouse run and a third party's re-run from the
published files see exactly the same values. What does not: choosing which firms are eligible
(`eligibility`), the draw itself, any file I/O.

The serialisation, so anyone can recompute a hash with `sha256sum`:

* the header is the input's columns (`INPUT_COLUMNS`), then one line per row; lines end with
  `\\n`, the text is UTF-8 without a BOM;
* values: text stripped of surrounding white space; dates `YYYY-MM-DD`; numbers rounded to
  6 decimals in polars' shortest round-trip form (`0.25`, `0.123457`); booleans `true` /
  `false`; a list (an inspector's fields) sorted, without duplicates or empty items, joined
  with `、`; a null (and an empty text) is empty;
* a value holding `,`, `"` or a line break is quoted as in RFC 4180;
* rows are distinct and sorted by their serialised values, column by column in header order
  (byte order of UTF-8) — the result never depends on the order rows came in.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import polars as pl

LIST_SEPARATOR = "、"  # the list separator of the landing files (docs/contracts.md)

INPUT_SCHEMAS_V1: dict[str, pl.Schema] = {
    "firms": pl.Schema(
        {"uscc": pl.Utf8, "firm_type": pl.Utf8, "tier": pl.Utf8, "district": pl.Utf8}
    ),
    "inspectors": pl.Schema(
        {
            "inspector_id": pl.Utf8(),
            "fields": pl.List(pl.Utf8),
            "certificate_valid_until": pl.Date(),
            "active": pl.Boolean(),
        }
    ),
    "conflicts": pl.Schema(
        {"inspector_id": pl.Utf8, "uscc": pl.Utf8, "valid_from": pl.Date, "valid_until": pl.Date}
    ),
    "previous": pl.Schema({"uscc": pl.Utf8, "inspector_id": pl.Utf8}),
    "risk": pl.Schema({"uscc": pl.Utf8, "probability": pl.Float64}),
}
"""The inputs of algorithm `draw-1` (plans made before `draw-2`), kept so they still verify."""

INPUT_SCHEMAS: dict[str, pl.Schema] = {
    "firms": pl.Schema(
        {
            "uscc": pl.Utf8,
            "firm_type": pl.Utf8,
            "tier": pl.Utf8,
            "district": pl.Utf8,
            "credit_tier": pl.Utf8,
            "public_grade": pl.Utf8,
            "rectification_result": pl.Utf8,
        }
    ),
    "inspectors": pl.Schema(
        {
            "inspector_id": pl.Utf8(),
            "fields": pl.List(pl.Utf8),
            "certificate_valid_until": pl.Date(),
            "active": pl.Boolean(),
            "department": pl.Utf8(),
        }
    ),
    "conflicts": INPUT_SCHEMAS_V1["conflicts"],
    "previous": INPUT_SCHEMAS_V1["previous"],
    "risk": INPUT_SCHEMAS_V1["risk"],
    "bookings": pl.Schema({"inspector_id": pl.Utf8, "day": pl.Date, "booked": pl.Int64}),
}
"""The inputs of a draw and their columns (algorithm `draw-2`):

* `firms` — the eligible pool; `tier` is the firm's supervision class (监管类别), the letter
  whose ratio it is drawn at: its industry credit tier (`credit_tier`) combined with the
  outside evaluations when given (`public_grade`, the public credit composite grade;
  `rectification_result`, the industry rectification result; `models.sampling.supervision`);
* `inspectors` — the roster the round may draw from (already limited to the organising
  office's inspectors and the partner departments), `department` blank for the organiser's
  own department;
* `conflicts`, `previous` — recusals and the previous round's teams;
* `risk` — empty unless the round orders dates by risk (probabilities to 6 decimals, the
  precision the ordering uses);
* `bookings` — inspections already booked per inspector and day by the other published
  rounds (one calendar): the schedule counts them against the daily cap.

No names, units or recusal reasons: the published inputs carry only what the algorithm reads,
so they hold no personal data beyond ids."""

OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "firms": ("credit_tier", "public_grade", "rectification_result"),
    "inspectors": ("department",),
}
"""Columns a caller may leave out (they are then empty): evaluations not given, a roster
without departments."""

INPUT_COLUMNS: dict[str, tuple[str, ...]] = {k: tuple(s.names()) for k, s in INPUT_SCHEMAS.items()}


class CanonicalInputError(ValueError):
    """An input cannot be serialised or read back (missing column, unreadable value)."""


def canonical_text(
    name: str, frame: pl.DataFrame, schemas: dict[str, pl.Schema] = INPUT_SCHEMAS
) -> str:
    """The canonical CSV text of input `name` (module docstring); extra columns are ignored,
    absent optional columns (`OPTIONAL_COLUMNS`) are empty."""
    schema = schemas[name]
    columns = tuple(schema.names())
    optional = OPTIONAL_COLUMNS.get(name, ())
    missing = [c for c in columns if c not in frame.columns and c not in optional]
    if missing:
        raise CanonicalInputError(f"{name}: missing column(s) {missing}; needs {list(columns)}")
    frame = frame.with_columns(
        pl.lit(None, dtype=schema[c]).alias(c) for c in columns if c not in frame.columns
    )
    cells = frame.select(_as_text(c, schema[c]) for c in columns).unique().sort(list(columns))
    lines = cells.select(pl.concat_str([_quoted(c) for c in columns], separator=",")).to_series()
    body = lines.str.join("\n").item() + "\n" if lines.len() else ""  # no null: every cell is text
    return ",".join(columns) + "\n" + body


def read_canonical(
    name: str, text: str, schemas: dict[str, pl.Schema] = INPUT_SCHEMAS
) -> pl.DataFrame:
    """Typed frame (`schemas[name]`) from canonical CSV text, or from any CSV with the
    same header (a published file re-saved by a spreadsheet is read the same way)."""
    schema = schemas[name]
    columns = tuple(schema.names())
    try:
        raw = pl.read_csv(io.StringIO(text), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise CanonicalInputError(f"{name}: not a readable CSV ({exc})") from exc
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise CanonicalInputError(f"{name}: missing column(s) {missing}; needs {list(columns)}")
    for column in (c for c in columns if schema[c] == pl.Boolean):
        odd = raw.filter(
            ~pl.col(column).str.strip_chars().str.to_lowercase().is_in(["", *_BOOLEANS])
        )
        if odd.height:
            value = odd.get_column(column)[0]
            raise CanonicalInputError(f"{name}.{column}: {value!r} is not true or false")
    try:
        return raw.select(_from_text(c, schema[c]) for c in columns)
    except pl.exceptions.PolarsError as exc:
        raise CanonicalInputError(f"{name}: unreadable value ({exc})") from exc


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RoundInputs:
    """Everything a draw reads besides its parameters; frames follow `INPUT_SCHEMAS`.

    `firms` is the eligible pool (eligibility already applied, tiers as of the round's
    tier_as_of); `previous` is the previous round's (firm, inspector) pairs for rotation;
    `risk` the risk model's probability per firm, used only when the round orders by risk.
    """

    firms: pl.DataFrame
    inspectors: pl.DataFrame
    conflicts: pl.DataFrame
    previous: pl.DataFrame
    risk: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=INPUT_SCHEMAS["risk"]))
    bookings: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=INPUT_SCHEMAS["bookings"])
    )

    def texts(self, schemas: dict[str, pl.Schema] = INPUT_SCHEMAS) -> dict[str, str]:
        return {name: canonical_text(name, getattr(self, name), schemas) for name in schemas}

    @classmethod
    def from_texts(
        cls, texts: dict[str, str], schemas: dict[str, pl.Schema] = INPUT_SCHEMAS
    ) -> RoundInputs:
        return cls(**{name: read_canonical(name, texts[name], schemas) for name in schemas})


_BOOLEANS = {"true": True, "false": False}


def _as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    expr = pl.col(column)
    if dtype == pl.Date:
        expr = expr.cast(pl.Date).dt.strftime("%Y-%m-%d")
    elif dtype == pl.Boolean:
        expr = pl.when(expr.cast(pl.Boolean)).then(pl.lit("true")).otherwise(pl.lit("false"))
        expr = pl.when(pl.col(column).is_null()).then(pl.lit(None)).otherwise(expr)
    elif dtype == pl.Float64:
        expr = expr.cast(pl.Float64).round(6).cast(pl.Utf8)
    elif isinstance(dtype, pl.List):
        # Joined and split again, so an element holding the separator cannot survive as one.
        expr = (
            expr.cast(pl.List(pl.Utf8))
            .list.join(LIST_SEPARATOR)
            .str.split(LIST_SEPARATOR)
            .list.eval(pl.element().str.strip_chars())
            .list.eval(pl.element().filter(pl.element().str.len_bytes() > 0))
            .list.unique()
            .list.sort()
            .list.join(LIST_SEPARATOR)
        )
    else:
        expr = expr.cast(pl.Utf8).str.strip_chars()
    return expr.fill_null("").alias(column)


def _quoted(column: str) -> pl.Expr:
    value = pl.col(column)
    needs_quotes = value.str.contains('[,"\n\r]')
    return (
        pl.when(needs_quotes)
        .then(pl.lit('"') + value.str.replace_all('"', '""', literal=True) + pl.lit('"'))
        .otherwise(value)
    )


def _from_text(column: str, dtype: pl.DataType) -> pl.Expr:
    value = pl.col(column).str.strip_chars()
    value = pl.when(value.str.len_bytes() > 0).then(value)
    if dtype == pl.Date:
        return value.str.to_date("%Y-%m-%d", strict=True).alias(column)
    if dtype == pl.Float64:
        return value.cast(pl.Float64, strict=True).alias(column)
    if dtype == pl.Int64:
        return value.cast(pl.Int64, strict=True).alias(column)
    if dtype == pl.Boolean:
        return value.str.to_lowercase().replace_strict(_BOOLEANS, default=None).alias(column)
    if isinstance(dtype, pl.List):
        return value.str.split(LIST_SEPARATOR).fill_null([]).alias(column)
    return value.alias(column)
