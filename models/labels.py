"""The label catalogue: every code a person may see, as Chinese first and English, as data.

What belongs here: loading and validating `models/labels.yaml` — firm types, inspection
results, coded values by kind (statuses, rules, reason codes, tables, scorers, features …),
English for stored Chinese terms, column headers with their number formats, widget words and
the default issuer — and looking a label up in either language. Used by the dashboards, the
workbooks and the CLI summaries alike. What does not: tier and severity labels (the rule set's
version owns them), user-interface sentences (dashboards.i18n), formatting cells (callers).

A lookup never hides a code: an unknown code comes back as itself, so a missing label shows
up (and the dashboards' browser walk fails on it) instead of silently disappearing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache, cached_property
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.contracts import Source
from models.yaml_data import load_yaml_mapping, packaged_text, validate_model

Language = Literal["zh", "en"]
ColumnFormat = Literal["text", "score", "points", "rate", "count", "number", "date", "datetime"]

FIRM_TYPES = "firm_types"
RESULTS = "inspection_results"
_TEMPLATE = re.compile(r"\{(\w+)\}")
PLACEHOLDER_KINDS = {"source": "table"}
"""A template placeholder whose value is a code of another kind (`raw_{source}`)."""


class LabelError(ValueError):
    """The labels file is malformed."""


class Label(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    zh_short: str | None = None
    en_short: str | None = None

    def __call__(self, lang: Language) -> str:
        return self.zh if lang == "zh" else self.en

    def short(self, lang: Language) -> str:
        """The label for a chart axis or a narrow column (the full one if none is given)."""
        short = self.zh_short if lang == "zh" else self.en_short
        return short or self(lang)


class ColumnLabel(Label):
    format: ColumnFormat = "text"


class Labels(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    issuer: Label
    firm_types: dict[str, Label]
    inspection_results: dict[str, Label]
    codes: dict[str, dict[str, Label]]
    terms: dict[str, str]
    column_codes: dict[str, str]
    columns: dict[str, ColumnLabel]
    widgets: dict[str, Label]

    @model_validator(mode="after")
    def _consistent(self) -> Labels:
        kinds = {FIRM_TYPES, RESULTS, *self.codes}
        unknown = sorted(set(self.column_codes.values()) - kinds)
        if unknown:
            raise ValueError(f"column_codes: unknown code kind(s) {unknown}; known {sorted(kinds)}")
        for kind, entries in self.kinds.items():
            for lang in ("zh", "en"):
                shorts = [label.short(lang) for label in entries.values()]
                twice = sorted({s for s in shorts if shorts.count(s) > 1})
                if twice:
                    raise ValueError(f"{kind}: the {lang} labels {twice} are not distinct")
        return self

    @cached_property
    def kinds(self) -> dict[str, dict[str, Label]]:
        """Every code kind: the firm types, the results and each section of `codes`."""
        return {FIRM_TYPES: self.firm_types, RESULTS: self.inspection_results, **self.codes}

    @cached_property
    def _templates(self) -> dict[str, list[tuple[re.Pattern[str], Label]]]:
        found: dict[str, list[tuple[re.Pattern[str], Label]]] = {}
        for kind, entries in self.kinds.items():
            for key, label in entries.items():
                if _TEMPLATE.search(key):
                    pattern = re.escape(key).replace(r"\{", "{").replace(r"\}", "}")
                    regex = _TEMPLATE.sub(lambda m: f"(?P<{m[1]}>.+?)", pattern)
                    found.setdefault(kind, []).append((re.compile(f"^{regex}$"), label))
        return found

    # --- lookups -------------------------------------------------------------------------

    def code(self, kind: str, value: str, lang: Language = "zh", *, short: bool = False) -> str:
        """The label of a coded value of `kind` (e.g. `rule`, `record_status`); an unknown
        value is returned as itself."""
        label = self.kinds.get(kind, {}).get(value)
        if label is not None:
            return label.short(lang) if short else label(lang)
        for regex, template in self._templates.get(kind, []):
            match = regex.match(value)
            if match:
                text = template.short(lang) if short else template(lang)
                parts = {k: self._part(k, v, lang) for k, v in match.groupdict().items()}
                return text.format(**parts)
        return self.term(value, lang)

    def _part(self, name: str, value: str, lang: Language) -> str:
        """A template's placeholder is itself a coded value: `{level}` a level, `{source}`
        a table."""
        kind = PLACEHOLDER_KINDS.get(name, name)
        return self.code(kind, value, lang) if kind in self.kinds else value

    def code_map(
        self, kind: str, values: list[str], lang: Language = "zh", *, short: bool = False
    ) -> dict[str, str]:
        """`{value: label}` for the given values (templates resolved), for `replace`."""
        return {v: self.code(kind, v, lang, short=short) for v in values}

    def firm_type(self, code: str, lang: Language = "zh", *, short: bool = False) -> str:
        """The label of a firm type; an unknown code is shown as itself, never hidden."""
        return self.code(FIRM_TYPES, code, lang, short=short)

    def firm_type_map(self, lang: Language = "zh", *, short: bool = False) -> dict[str, str]:
        return {
            code: (lb.short(lang) if short else lb(lang)) for code, lb in self.firm_types.items()
        }

    def result_map(self, lang: Language = "zh") -> dict[str, str]:
        return {code: label(lang) for code, label in self.inspection_results.items()}

    def term(self, text: str, lang: Language = "zh") -> str:
        """A stored Chinese term as shown: itself in Chinese, its English in English."""
        return self.terms.get(text, text) if lang == "en" else text

    def column(self, name: str, lang: Language = "zh") -> str:
        """A column's header (an unknown column keeps its name)."""
        label = self.columns.get(name)
        return label(lang) if label else name

    def headers(self, names: list[str], lang: Language = "zh") -> dict[str, str]:
        return {name: self.column(name, lang) for name in names}

    def source_column(self, source: Source, name: str, lang: Language = "zh") -> str:
        """How users know a landing column: in Chinese its first Chinese header in the
        contract, in English the catalogue's header or the canonical name in words."""
        if lang == "zh" and name in source.column_names:
            zh = next((a for a in source.column(name).aliases if not a.isascii()), None)
            if zh:
                return zh
        label = self.columns.get(name)
        if label is not None:
            return label(lang)
        return name.replace("_", " ").capitalize() if lang == "en" else name

    def column_format(self, name: str) -> ColumnFormat:
        label = self.columns.get(name)
        return label.format if label else "text"

    def codes_of(self, column: str, overrides: Mapping[str, str] | None = None) -> str | None:
        """The code kind a column holds (`overrides` first, then `column_codes`)."""
        if overrides and column in overrides:
            return overrides[column]
        return self.column_codes.get(column)

    def widget(self, key: str, lang: Language = "zh") -> str:
        return self.widgets[key](lang)

    def labelled(
        self,
        frame: pl.DataFrame,
        lang: Language = "zh",
        codes: Mapping[str, str] | None = None,
        *,
        short: bool = False,
    ) -> pl.DataFrame:
        """`frame` with every coded column as labels (the kind from `codes`, else from
        `column_codes`), booleans as 是/否 (Yes/No) and, in English, stored Chinese terms in
        English. Column names are kept; other types are untouched."""
        yes, no = self.code("boolean", "true", lang), self.code("boolean", "false", lang)
        exprs: list[pl.Expr] = []
        for name, dtype in frame.schema.items():
            if dtype == pl.Boolean:
                flag = pl.col(name)
                exprs.append(
                    pl.when(flag).then(pl.lit(yes)).when(~flag).then(pl.lit(no)).alias(name)
                )
                continue
            if dtype != pl.Utf8:
                continue
            kind = self.codes_of(name, codes)
            values = [v for v in frame.get_column(name).unique().to_list() if v is not None]
            if kind is not None:
                mapping = self.code_map(kind, values, lang, short=short)
            elif lang == "en":
                mapping = {v: self.terms[v] for v in values if v in self.terms}
            else:
                continue
            if mapping:
                exprs.append(pl.col(name).replace(mapping))
        return frame.with_columns(exprs) if exprs else frame


@cache
def default_labels() -> Labels:
    text = packaged_text("labels.yaml")
    data = load_yaml_mapping(text, LabelError, "labels", "issuer, firm_types, codes, columns …")
    return validate_model(Labels, data, LabelError, "labels")


def display_width(text: str) -> int:
    """Columns a text takes in a fixed-width grid: CJK (wide and full-width) characters
    take two, as in a spreadsheet cell or a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `width` display columns (CJK counted double)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill
