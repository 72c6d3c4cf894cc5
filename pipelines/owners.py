"""Owners on every asset: team names per asset group, from `pipelines/owners.yaml`.

What belongs here: loading and validating the owners file (every group named, Dagster's owner
format) and putting the owners on every asset definition. What does not: the assets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.yaml_data import load_yaml_mapping, validate_model

OWNERS_FILE = Path(__file__).with_name("owners.yaml")
OWNER = re.compile(r"^(team:[A-Za-z0-9_-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")
"""Dagster accepts `team:<name>` or an e-mail address."""


class OwnersError(ValueError):
    """The owners file is malformed or misses a group."""


class Owners(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    groups: dict[str, tuple[str, ...]] = Field(min_length=1)

    @field_validator("groups")
    @classmethod
    def _format(cls, groups: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for group, owners in groups.items():
            if not owners:
                raise ValueError(f"{group}: at least one owner")
            bad = [o for o in owners if not OWNER.match(o)]
            if bad:
                raise ValueError(f"{group}: {bad} are not `team:<name>` or an e-mail address")
        return groups


@cache
def load_owners(path: Path = OWNERS_FILE) -> Owners:
    text = path.read_text(encoding="utf-8")
    data = load_yaml_mapping(text, OwnersError, f"owners file {path}", "groups: {group: [...]}")
    return validate_model(Owners, data, OwnersError, f"owners file {path}")


def with_owners(
    assets: Sequence[dg.AssetsDefinition], owners: Owners | None = None
) -> list[dg.AssetsDefinition]:
    """Every asset with its group's owners; a group the file does not name is an error."""
    owners = owners or load_owners()

    def owned(spec: dg.AssetSpec) -> dg.AssetSpec:
        group = spec.group_name or "default"
        if group not in owners.groups:
            raise OwnersError(
                f"asset {spec.key.to_user_string()}: group {group!r} has no owner in "
                f"{OWNERS_FILE.name}; known groups: {sorted(owners.groups)}"
            )
        return spec.replace_attributes(owners=list(owners.groups[group]))

    return [asset.map_asset_specs(owned) for asset in assets]
