"""The plan file of a round (JSON) and its verification by a third party (一公开).

What belongs here: turning a `RoundPlan` into the plan document — parameters, seed, algorithm
version, office, the canonical inputs with their SHA-256, the working-day calendar used (its
source, the years supplied or estimated, their notes, the first inspection day), each class's
inclusion probability, and every output (strata, draws, classes, schedule with teams) — as
deterministic bytes; and re-running a round from a plan document (optionally with input files
obtained elsewhere) to say IDENTICAL or list the differences, for plans of this algorithm
(`draw-2`) and of the previous one (`draw-1`, re-run by `draw1`). What does not: where the
file is written, the warehouse, the XLSX/CSV exports.

Determinism: the bytes depend only on the plan's content (no creation time, no library
version, keys in a fixed order, `ensure_ascii=False`, one space indent, final newline), so
the same inputs and seed give a byte-identical plan, and verification can compare bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from json.encoder import encode_basestring
from typing import Any

import polars as pl
from pydantic import BaseModel, ValidationError

from models.sampling.canonical import (
    INPUT_SCHEMAS,
    INPUT_SCHEMAS_V1,
    CanonicalInputError,
    RoundInputs,
    canonical_text,
    read_canonical,
    sha256_text,
)
from models.sampling.draw import ALGORITHM_VERSION, DrawError
from models.sampling.draw1 import PLAN_FORMAT_V1, plan_document_v1, records
from models.sampling.draw1 import VERSION as DRAW1
from models.sampling.params import RoundParams
from models.sampling.round import RoundPlan, draw_round

PLAN_FORMAT = "renfang-round-plan/2"
FORMATS = {ALGORITHM_VERSION: PLAN_FORMAT, DRAW1: PLAN_FORMAT_V1}
"""The plan format each algorithm version writes; `verify_plan` re-runs both."""
_MAX_LISTED = 10  # differences listed per section; the count says how many more


def working_days(params: RoundParams) -> list[date]:
    """The working days of the round's window (the calendar of `models.sampling.calendar`)."""
    from models.sampling.calendar import working_days as calendar_days

    return list(calendar_days(params.window_start, params.window_end, params.calendar).days)


def plan_document(plan: RoundPlan) -> dict[str, Any]:
    """The plan as a JSON-ready mapping (see the module docstring for what it holds)."""
    return _document(plan, records)


def _document(plan: RoundPlan, rows: Callable[[pl.DataFrame], Any]) -> dict[str, Any]:
    """`plan_document`, its tables turned into rows by `rows` (`records`, or `_Rows` to be
    written by `_dump` without building a dict per row)."""
    params = plan.params
    calendar = plan.calendar
    return {
        "format": PLAN_FORMAT,
        "round_id": params.round_id,
        "seed": params.seed,
        "algorithm_version": plan.algorithm_version,
        "office": {
            "office": params.office,
            "code": params.office_code,
            "name": params.office_label,
        },
        "parameters": params.model_dump(mode="json"),
        "calendar": {
            "source": calendar.source,
            "supplied_years": list(calendar.supplied_years),
            "estimated_years": list(calendar.estimated_years),
            "notes": calendar.notes,
            "first_inspection_day": plan.first_day.isoformat(),
            "working_days": [d.isoformat() for d in calendar.days],
        },
        "tiers": rows(plan.tiers),
        "inputs": {
            name: {
                "sha256": plan.input_hashes[name],
                "rows": getattr(plan.inputs, name).height,
                "csv": plan.input_texts[name],
            }
            for name in INPUT_SCHEMAS
        },
        "outputs": _outputs(plan, rows),
    }


def plan_bytes(plan: RoundPlan) -> bytes:
    return _dump(_document(plan, _Rows))


def _dump(document: dict[str, Any]) -> bytes:
    """`json.dumps(document, ensure_ascii=False, indent=1)` and a final newline, as UTF-8
    (tables given as `_Rows` written as their `records`)."""
    text = _fast_text(document)
    if text is None:
        text = json.dumps(_as_records(document), ensure_ascii=False, indent=1)
    return (text + "\n").encode("utf-8")


@dataclass(frozen=True)
class _Rows:
    """A table in a document being written: `records(frame)`, written column by column."""

    frame: pl.DataFrame


def _as_records(value: Any) -> Any:
    """The document with every `_Rows` as its `records`."""
    if isinstance(value, _Rows):
        return records(value.frame)
    if type(value) is dict:
        return {k: _as_records(v) for k, v in value.items()}
    if type(value) is list:
        return [_as_records(v) for v in value]
    return value


class _UnsupportedError(Exception):
    """A value `_indented` leaves to `json`."""


def _fast_text(document: dict[str, Any]) -> str | None:
    """The text of `json.dumps(document, ensure_ascii=False, indent=1)`, written here instead
    of by `json` — with an indent `json` encodes through its pure-Python generator, and a
    national plan holds ~500k values (~0.5 s each time a plan is written or verified); its
    tables (`_Rows`) are rendered with polars column expressions. None when the document
    holds what this walk does not cover (a non-string key, NaN, a float column): `json` then
    writes it. A property test holds both to `json`'s text."""
    try:
        return _indented(document)
    except _UnsupportedError:
        return None


def _indented(document: object) -> str:
    """The text of `json.dumps(document, ensure_ascii=False, indent=1)` for documents of
    dicts with string keys, lists, strings, ints, finite floats, booleans and None, and
    `_Rows` tables of text, whole numbers, flags, dates and lists of text."""
    parts: list[str] = []
    add = parts.append

    def scalar(value: object) -> str:
        if type(value) is str:
            return encode_basestring(value)
        if type(value) is int:
            return int.__repr__(value)
        if type(value) is float and math.isfinite(value):
            return float.__repr__(value)
        if value is None:
            return "null"
        if value is True or value is False:
            return "true" if value else "false"
        raise _UnsupportedError

    def nested(value: dict[str, Any] | list[Any], pad: str) -> None:
        is_dict = type(value) is dict
        if not value:
            add("{}" if is_dict else "[]")
            return
        inner = pad + " "
        separator = "\n" + inner
        add("{" if is_dict else "[")
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            add(separator)
            separator = ",\n" + inner
            if is_dict:
                if type(key) is not str:
                    raise _UnsupportedError
                add(encode_basestring(key))
                add(": ")
            if type(item) is dict or type(item) is list:
                nested(item, inner)
            elif type(item) is _Rows:
                text = _rows_text(item.frame, inner)
                if text is None:  # a table with floats …: row by row
                    nested(records(item.frame), inner)
                else:
                    add(text)
            else:
                add(scalar(item))
        add("\n" + pad + ("}" if is_dict else "]"))

    if isinstance(document, dict | list) and type(document) in (dict, list):
        nested(document, "")
    else:
        add(scalar(document))
    return "".join(parts)


_JSON_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _json_text(values: pl.Expr, escape: bool = True) -> pl.Expr:
    """JSON strings as `json` writes them with `ensure_ascii=False`: quote and backslash
    escaped, control characters as \\b \\f \\n \\r \\t or \\u00xx, the rest as is
    (`escape=False`: the caller knows there is none of these)."""
    if escape:
        values = values.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
            '"', '\\"', literal=True
        )
        for code in range(0x20):
            char = chr(code)
            values = values.str.replace_all(
                char, _JSON_ESCAPES.get(char, f"\\u{code:04x}"), literal=True
            )
    return pl.lit('"') + values + pl.lit('"')


def _needs_escape(values: pl.Series) -> bool:
    return bool(values.str.contains('[\x00-\x1f\\\\"]').any())


def _rows_text(frame: pl.DataFrame, pad: str) -> str | None:
    """`records(frame)` as `_indented` writes a list at indentation `pad`; None for a table
    with other columns than text, whole numbers, flags, dates and lists of text."""
    if frame.is_empty():
        return "[]"
    row_pad, field_pad = pad + " ", pad + "  "
    fields = []
    for n, (name, dtype) in enumerate(frame.schema.items()):
        column = pl.col(name)
        if dtype == pl.Utf8:
            text = _json_text(column, _needs_escape(frame.get_column(name)))
        elif dtype == pl.Date:
            text = _json_text(column.dt.strftime("%Y-%m-%d"), escape=False)
        elif dtype.is_integer():
            text = column.cast(pl.Utf8)
        elif dtype == pl.Boolean:
            text = column.replace_strict({True: "true", False: "false"}, return_dtype=pl.Utf8)
        elif dtype == pl.List(pl.Utf8):
            escape = _needs_escape(frame.get_column(name).explode())
            items = column.list.eval(_json_text(pl.element(), escape).fill_null("null"))
            inner = items.list.join(",\n" + field_pad + " ")
            text = (
                pl.when(column.list.len() == 0)
                .then(pl.lit("[]"))
                .otherwise("[\n" + field_pad + " " + inner + "\n" + field_pad + "]")
            )
        elif dtype == pl.Null:
            text = pl.lit(None, pl.Utf8)
        else:
            return None  # a float (`repr`), a datetime …
        head = ("{\n" if n == 0 else ",\n") + field_pad + encode_basestring(name) + ": "
        fields += [pl.lit(head), text.fill_null("null")]
    row = pl.concat_str([*fields, pl.lit("\n" + row_pad + "}")])
    body = str(frame.select(row.str.join(",\n" + row_pad)).item())
    return "[\n" + row_pad + body + "\n" + pad + "]"


def _outputs(plan: RoundPlan, rows: Callable[[pl.DataFrame], Any]) -> dict[str, Any]:
    teams = plan.assignments.group_by("uscc").agg(pl.col("inspector_id").sort().alias("team"))
    schedule = (
        plan.schedule.select("uscc", "inspection_date", "district")
        .join(teams, on="uscc", how="left")
        .sort("inspection_date", "uscc")
    )
    strata = plan.strata.with_columns(
        expected=pl.col("stratum").replace_strict(plan.expected, return_dtype=pl.Float64)
    )
    return {
        "strata": rows(strata),
        "draws": rows(plan.draws.drop("round_id")),
        "classes": rows(class_reasons(plan.inputs.firms)),
        "schedule": rows(schedule),
    }


def class_reasons(firms: pl.DataFrame) -> pl.DataFrame:
    """The firms whose supervision class is not their industry credit tier, with the outside
    evaluations that made it (the plan says why a firm is drawn at another class's ratio)."""
    if "credit_tier" not in firms.columns:
        return pl.DataFrame(schema={"uscc": pl.Utf8})
    return (
        firms.filter(
            pl.col("credit_tier").is_not_null() & (pl.col("tier") != pl.col("credit_tier"))
        )
        .select("uscc", "credit_tier", "public_grade", "rectification_result", "tier")
        .sort("uscc")
    )


class PlanFileError(ValueError):
    """The file is not a plan this verifier can read (format, version, missing parts)."""


class _PlanHeader(BaseModel):
    format: str
    round_id: str
    seed: int
    algorithm_version: str


@dataclass(frozen=True)
class Verification:
    """IDENTICAL when `differences` is empty; `plan_sha256` is the SHA-256 of the file."""

    plan_sha256: str
    recomputed_sha256: str | None
    differences: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.differences


def rerun_plan(parameters: dict[str, Any], texts: dict[str, str]) -> bytes | None:
    """The plan file `verify_plan` re-draws for a file whose `parameters` and embedded inputs
    (`texts`: input name → canonical CSV) are these — computed before the file exists (the
    round's check re-draws while the step draws: `pipelines.plan_check`) and handed to
    `verify_plan` as `rerun`. None when the re-run fails or is not one `_fast_text` writes:
    the file is then verified in full."""
    try:
        params = RoundParams.model_validate(parameters)
        text = _fast_text(_document(draw_round(RoundInputs.from_texts(texts), params), _Rows))
    except (CanonicalInputError, DrawError, ValueError):
        return None
    return None if text is None else (text + "\n").encode("utf-8")


def verify_plan(
    data: bytes, replacements: dict[str, str] | None = None, *, rerun: bytes | None = None
) -> Verification:
    """Re-run the round a plan file describes and compare, byte for byte and then by part.

    `replacements` maps an input name (`firms`, `inspectors`, `conflicts`, `previous`) to CSV
    text obtained elsewhere (e.g. the published list); it is used instead of the embedded copy,
    and its hash is checked against the one the plan records. Every difference is one line,
    naming the part (inputs.firms, outputs.draws, …) and, for rows, the firm.

    `rerun`: `rerun_plan` of some parameters and inputs, computed ahead. A file of exactly
    those bytes holds exactly those parameters and inputs, and re-drawn from them it gives
    those bytes again: IDENTICAL, the verdict the re-run below reaches, without drawing a
    second time. Any other file is re-run from its own content as always.
    """
    file_hash = _sha256_bytes(data)
    if rerun is not None and not replacements and data == rerun:
        return Verification(file_hash, file_hash, [])
    document = _parse(data)
    params = _params(document)
    version = document["algorithm_version"]
    schemas = INPUT_SCHEMAS if version == ALGORITHM_VERSION else INPUT_SCHEMAS_V1
    differences: list[str] = []
    texts: dict[str, str] = {}
    for name in schemas:
        recorded = document["inputs"][name]
        source = "the embedded copy"
        text = recorded["csv"]
        if replacements and name in replacements:
            source = "the given file"
            try:
                text = canonical_text(
                    name, read_canonical(name, replacements[name], schemas), schemas
                )
            except CanonicalInputError as exc:
                raise PlanFileError(f"inputs.{name}: {exc}") from exc
        actual = sha256_text(text)
        if actual != recorded["sha256"]:
            differences.append(
                f"inputs.{name}: {source} hashes to {actual}, the plan records "
                f"{recorded['sha256']} / 输入 {name} 的哈希与计划记录不一致"
            )
        texts[name] = text
    try:
        if version == ALGORITHM_VERSION:
            redrawn = _document(draw_round(RoundInputs.from_texts(texts), params), _Rows)
            text = _fast_text(redrawn)
            if text is not None and (text + "\n").encode("utf-8") == data:
                # the same bytes: the same document, part for part (what is compared below)
                return Verification(file_hash, file_hash, differences)
            recomputed = _as_records(redrawn)
        else:
            recomputed = plan_document_v1(texts, params)
    except (CanonicalInputError, DrawError, ValueError) as exc:
        differences.append(f"re-run failed: {exc}")
        return Verification(file_hash, None, differences)
    keys = ["round_id", "seed", "algorithm_version", "parameters", "calendar"]
    if version == ALGORITHM_VERSION:
        keys[3:3] = ["office"]
        keys.append("tiers")
    for key in keys:
        if document.get(key) != recomputed[key]:
            differences.append(
                f"{key}: the plan says {document.get(key)!r}, the re-run gives {recomputed[key]!r}"
            )
    parts = [("strata", "stratum"), ("draws", "uscc"), ("schedule", "uscc")]
    if version == ALGORITHM_VERSION:
        parts.insert(2, ("classes", "uscc"))
    for part, key in parts:
        differences += _row_differences(
            part, key, document["outputs"].get(part, []), recomputed["outputs"][part]
        )
    recomputed_bytes = _dump(recomputed)
    if not differences and recomputed_bytes != data:
        differences.append(
            "file: same content but different bytes (re-formatted or edited outside the "
            "parts compared) / 内容一致但文件字节不同"
        )
    return Verification(file_hash, _sha256_bytes(recomputed_bytes), differences)


def _parse(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanFileError(f"not a plan file (JSON): {exc}") from exc
    if not isinstance(document, dict) or document.get("format") not in FORMATS.values():
        raise PlanFileError(
            f"not a plan file: expected format {' or '.join(repr(f) for f in FORMATS.values())}"
        )
    try:
        header = _PlanHeader.model_validate({k: document.get(k) for k in _PlanHeader.model_fields})
    except ValidationError as exc:
        raise PlanFileError(f"not a complete plan file: {exc}") from exc
    if FORMATS.get(header.algorithm_version) != header.format:
        raise PlanFileError(
            f"the plan was drawn with algorithm {header.algorithm_version!r}; this verifier "
            f"re-runs {' and '.join(repr(v) for v in FORMATS)} (use the release that made the "
            "plan) / 计划所用算法版本本版本无法复算，请使用生成该计划的版本"
        )
    schemas = INPUT_SCHEMAS if header.algorithm_version == ALGORITHM_VERSION else INPUT_SCHEMAS_V1
    for name in schemas:
        entry = document.get("inputs", {}).get(name)
        if not isinstance(entry, dict) or not {"sha256", "csv"} <= entry.keys():
            raise PlanFileError(f"inputs.{name}: missing from the plan (needs sha256 and csv)")
    if not isinstance(document.get("outputs"), dict):
        raise PlanFileError("outputs: missing from the plan")
    return document


def _params(document: dict[str, Any]) -> RoundParams:
    try:
        return RoundParams.model_validate(document.get("parameters"))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise PlanFileError(f"parameters: {exc}") from exc


def _row_differences(
    part: str, key: str, recorded: list[dict[str, Any]], recomputed: list[dict[str, Any]]
) -> list[str]:
    if recorded == recomputed:
        return []
    before = {row.get(key): row for row in recorded if isinstance(row, dict)}
    after = {row[key]: row for row in recomputed}
    lines: list[str] = []
    for k in sorted(before.keys() - after.keys(), key=str):
        lines.append(f"outputs.{part}: {k} is in the plan but not in the re-run / 计划有而复算无")
    for k in sorted(after.keys() - before.keys(), key=str):
        lines.append(f"outputs.{part}: {k} is in the re-run but not in the plan / 复算有而计划无")
    for k in sorted(before.keys() & after.keys(), key=str):
        changed = {
            c: (before[k].get(c), after[k][c]) for c in after[k] if before[k].get(c) != after[k][c]
        }
        for column, (was, now) in sorted(changed.items()):
            lines.append(
                f"outputs.{part}: {k}.{column} is {was!r} in the plan, {now!r} in the re-run"
            )
    if not lines:  # same rows, different order
        lines.append(f"outputs.{part}: same rows in a different order / 顺序不同")
    if len(lines) > _MAX_LISTED:
        lines = [*lines[:_MAX_LISTED], f"outputs.{part}: … and {len(lines) - _MAX_LISTED} more"]
    return lines


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
