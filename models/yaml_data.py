"""Configuration as validated data: YAML text → a pydantic model, or one clear error.

What belongs here: the one way the contract, the rule set (and later round parameters) are
read, so every configuration file fails the same way — the field path and the problem, e.g.
`invalid rule set: tiers.1.min_score: …`. What does not: the models themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError


def load_yaml_mapping(text: str, error: type[Exception], what: str, shape: str) -> dict[str, Any]:
    """Parse YAML that must be a mapping; `error(...)` names `what` and the expected `shape`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{what} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise error(f"{what} must be a mapping ({shape})")
    return data


M = TypeVar("M", bound=BaseModel)


def validate_model(
    model: type[M], data: dict[str, Any], error: Callable[[str], Exception], what: str
) -> M:
    """Validate `data`; on failure raise `error` listing every `field.path: problem`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(f"invalid {what}: {describe(exc)}") from exc


def describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{path}: {message}" if path else message)
    return "; ".join(problems)


def packaged_text(*parts: str) -> str:
    """A data file shipped inside the `models` package (e.g. `"rulesets", "default.yaml"`),
    read the same way wherever the package is installed."""
    return resources.files("models").joinpath(*parts).read_text(encoding="utf-8")
