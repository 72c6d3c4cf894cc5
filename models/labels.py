"""Bilingual labels for the glossary's codes (firm types, inspection results), as data.

What belongs here: loading and validating `models/labels.yaml` and looking a label up in
Chinese or English. What does not: tier labels (they belong to the rule set's version) or
user-interface strings (dashboards.i18n).
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict

from models.yaml_data import load_yaml_mapping, packaged_text, validate_model

Language = Literal["zh", "en"]


class LabelError(ValueError):
    """The labels file is malformed."""


class Label(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: str
    en: str

    def __call__(self, lang: Language) -> str:
        return self.zh if lang == "zh" else self.en


class Labels(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    firm_types: dict[str, Label]
    inspection_results: dict[str, Label]

    def firm_type(self, code: str, lang: Language = "zh") -> str:
        """The label of a firm type; an unknown code is shown as itself, never hidden."""
        label = self.firm_types.get(code)
        return label(lang) if label else code

    def firm_type_map(self, lang: Language = "zh") -> dict[str, str]:
        return {code: label(lang) for code, label in self.firm_types.items()}

    def result_map(self, lang: Language = "zh") -> dict[str, str]:
        return {code: label(lang) for code, label in self.inspection_results.items()}


@cache
def default_labels() -> Labels:
    text = packaged_text("labels.yaml")
    data = load_yaml_mapping(text, LabelError, "labels", "firm_types, inspection_results")
    return validate_model(Labels, data, LabelError, "labels")
