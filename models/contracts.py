"""The landing/warehouse contract as typed, validated data.

What belongs here: the pydantic models of `contracts.yaml` (sources, columns, enums, rules),
loading and validating that file, and the pure helpers every consumer needs to read it the
same way (header normalisation, alias lookup). Ingestion, the Great Expectations suites, the
warehouse DDL and the tests all derive from these objects, so a column is declared once.

What does not: parsing values (see `normalise`), row validation (see `row_checks`), any I/O
beyond reading the packaged default file.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.yaml_data import load_yaml_mapping, packaged_text, validate_model

ColumnType = Literal[
    "text", "uscc", "date", "amount", "integer", "enum", "enum_list", "text_list", "bool"
]

SOURCE_ORDER: tuple[str, ...] = (
    "firms",
    "inspectors",
    "inspector_conflicts",
    "penalty_decisions",
    "correction_notices",
    "circulars",
    "inspection_outcomes",
    "commendations",
    "credit_cases",
)
"""Canonical source names (landing sub-folders and clean table names), in dependency order."""


class ContractError(ValueError):
    """A contract file is malformed; the message names the field and the problem."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Column(_Frozen):
    """One canonical column of a source table."""

    name: str
    type: ColumnType
    required: bool = False
    enum: str | None = None
    aliases: tuple[str, ...] = ()
    allow_future: bool = False
    max_length: int | None = None
    default: Literal["first_seen"] | None = None
    fallback: str | None = None
    """Another (text) column whose value, when it spells one of this enum's values, stands
    in for a blank cell here (e.g. the national layout's free-text 违法行为类型 for the
    violation category); a value that spells none leaves it blank, never quarantined."""

    @model_validator(mode="after")
    def _enum_only_for_enum_types(self) -> Column:
        if self.type in ("enum", "enum_list") and not self.enum:
            raise ValueError(f"column {self.name!r} of type {self.type} needs `enum:`")
        if self.type not in ("enum", "enum_list") and self.enum:
            raise ValueError(f"column {self.name!r} of type {self.type} cannot have `enum:`")
        if self.fallback and self.type != "enum":
            raise ValueError(f"column {self.name!r}: `fallback` is for enum columns only")
        return self


class Layout(_Frozen):
    """A known file layout of a source (e.g. the national 双公示 layout): a file whose header
    holds every `signature` header was read as this layout (the review report names it).
    Its headers are ordinary aliases of the source's columns."""

    name: str
    title_zh: str
    title_en: str
    signature: tuple[str, ...] = Field(min_length=1)


PROJECT_LAYOUT = Layout(
    name="project", title_zh="本项目格式", title_en="project layout", signature=("-",)
)
"""The layout of a file matching no declared layout: the project's own headers."""


class DateOrder(_Frozen):
    """`later` must not be before `earlier` when both are present (e.g. deadline ≥ issue date)."""

    earlier: str
    later: str


class Reference(_Frozen):
    """Referential integrity: `column` must exist as the key of `source`."""

    column: str
    source: str


class Source(_Frozen):
    """One landing source: its folder name, columns, key and row rules."""

    name: str
    title_zh: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    date_order: tuple[DateOrder, ...] = ()
    references: tuple[Reference, ...] = ()
    min_rows: int = Field(default=0, ge=0, description="fewer clean rows fail the quality gate")
    evidence_date: str | None = Field(
        default=None, description="decision/issue date of an evidence document (review report)"
    )
    layouts: tuple[Layout, ...] = ()

    def layout_of(self, headers: Sequence[str | None]) -> Layout:
        """The declared layout whose signature headers all appear in a header row, else the
        project's own."""
        present = {header_key(str(h)) for h in headers if h is not None}
        for layout in self.layouts:
            if all(header_key(h) in present for h in layout.signature):
                return layout
        return PROJECT_LAYOUT

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @model_validator(mode="after")
    def _names_are_consistent(self) -> Source:
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError(f"source {self.name!r} declares a column twice")
        for k in self.key:
            if k not in names:
                raise ValueError(f"source {self.name!r}: key column {k!r} is not declared")
            if not self.column(k).required:
                raise ValueError(f"source {self.name!r}: key column {k!r} must be required")
        spellings: dict[str, str] = {}
        for col in self.columns:
            for spelling in (col.name, *col.aliases):
                owner = spellings.setdefault(header_key(spelling), col.name)
                if owner != col.name:
                    raise ValueError(
                        f"source {self.name!r}: header {spelling!r} names both {owner!r} "
                        f"and {col.name!r}"
                    )
        for rule in self.date_order:
            for c in (rule.earlier, rule.later):
                if c not in names or self.column(c).type != "date":
                    raise ValueError(f"source {self.name!r}: date_order names {c!r}, not a date")
        if self.evidence_date and self.evidence_date not in names:
            raise ValueError(f"source {self.name!r}: evidence_date {self.evidence_date!r} unknown")
        for col in self.columns:
            if col.fallback and (col.fallback not in names or self.column(col.fallback).type
                                 != "text"):  # fmt: skip
                raise ValueError(
                    f"source {self.name!r}: column {col.name!r} falls back to "
                    f"{col.fallback!r}, not a text column of the source"
                )
        return self


class Contracts(_Frozen):
    """The whole contract: enums and every source, keyed by source name."""

    version: int
    min_date: date
    max_text_length: int = 2000
    enums: dict[str, dict[str, tuple[str, ...]]]
    sources: dict[str, Source]

    def source(self, name: str) -> Source:
        return self.sources[name]

    def enum_values(self, enum: str) -> tuple[str, ...]:
        """The canonical values of an enum, in declaration order."""
        return tuple(self.enums[enum])

    def enum_lookup(self, enum: str) -> dict[str, str]:
        """Every accepted spelling (canonical or synonym, as a header_key) → canonical value."""
        lookup: dict[str, str] = {}
        for canonical, synonyms in self.enums[enum].items():
            for spelling in (canonical, *synonyms):
                lookup[header_key(spelling)] = canonical
        return lookup

    def header_lookup(self, source: str) -> dict[str, str]:
        """Every accepted header (canonical name or alias, as a header_key) → canonical column."""
        lookup: dict[str, str] = {}
        for col in self.sources[source].columns:
            for spelling in (col.name, *col.aliases):
                lookup[header_key(spelling)] = col.name
        return lookup

    def max_length(self, column: Column) -> int:
        return column.max_length or self.max_text_length

    def layout_title(self, source: str, name: str | None, lang: str = "zh") -> str:
        """How the review report names a file's layout (`Source.layout_of`)."""
        found = next((x for x in self.sources[source].layouts if x.name == name), None)
        layout = found or PROJECT_LAYOUT
        if name is None:
            return "（未记录）" if lang == "zh" else "(not recorded)"
        return layout.title_zh if lang == "zh" else layout.title_en

    @model_validator(mode="after")
    def _cross_references(self) -> Contracts:
        for name, src in self.sources.items():
            if src.name != name:
                raise ValueError(f"sources.{name}: name is {src.name!r}")
            for col in src.columns:
                if col.enum and col.enum not in self.enums:
                    raise ValueError(f"sources.{name}.{col.name}: unknown enum {col.enum!r}")
            for ref in src.references:
                if ref.source not in self.sources:
                    raise ValueError(f"sources.{name}: reference to unknown source {ref.source!r}")
                if ref.column not in src.column_names:
                    raise ValueError(f"sources.{name}: reference column {ref.column!r} unknown")
        unknown = set(self.sources) - set(SOURCE_ORDER)
        if unknown:
            raise ValueError(f"unknown sources {sorted(unknown)}; known: {list(SOURCE_ORDER)}")
        for enum, values in self.enums.items():
            seen: dict[str, str] = {}
            for canonical, synonyms in values.items():
                for spelling in (canonical, *synonyms):
                    key = header_key(spelling)
                    if key in seen and seen[key] != canonical:
                        raise ValueError(
                            f"enums.{enum}: {spelling!r} means both {seen[key]!r} and {canonical!r}"
                        )
                    seen[key] = canonical
        return self


def header_key(text: str) -> str:
    """Normalise a header or enum spelling for matching.

    NFKC folds full-width forms (（元） → (元)), then spaces, required-field stars and
    case are dropped, so `罚款金额（元）`, ` 罚款金额(元)* ` and `FINE_AMOUNT` compare equal
    to their declared spelling.
    """
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "*＊").lower()


def parse_contracts(text: str) -> Contracts:
    """Parse and validate contract YAML; errors name the offending field."""
    data = load_yaml_mapping(text, ContractError, "contract", "`version`, `enums`, `sources`")
    for name, src in (data.get("sources") or {}).items():
        if isinstance(src, dict):
            src.setdefault("name", name)
    for enum in (data.get("enums") or {}).values():
        if isinstance(enum, dict):
            for canonical, synonyms in enum.items():
                enum[canonical] = tuple(synonyms or ())
    return validate_model(Contracts, data, ContractError, "contract")


@cache
def default_contracts() -> Contracts:
    """The contract shipped with the package (`models/contracts.yaml`)."""
    text = packaged_text("contracts.yaml")
    return parse_contracts(text)
