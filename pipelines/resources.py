"""Dagster resources: thin `ConfigurableResource` wrappers around the `warehouse` layer.

What belongs here: the resources assets receive — the warehouse, the landing folder and the
rule set — whose fields default to environment variables read at *run* time (never at
import). Their behaviour lives in Dagster-free mixins (`warehouse.connection`,
`warehouse.landing`) so the dashboards, benchmarks and CLI open the same files the same way.
What does not: any business rule, table schema or SQL.
"""

from __future__ import annotations

import os

import dagster as dg

from models.rules import RuleSet, load_rule_set
from warehouse.connection import WarehouseLocation
from warehouse.landing import LandingLocation


class Warehouse(dg.ConfigurableResource, WarehouseLocation):
    """The DuckDB warehouse file (one writer at a time; readers use short read-only sessions).

    `path` defaults to `$RENFANG_WAREHOUSE`, else `data/warehouse.duckdb`. Reports and GX Data
    Docs are written next to it (`reports/`, `gx_docs/`) unless `reports_dir` is set
    (`$RENFANG_REPORTS`). `memory_limit` (`$RENFANG_DUCKDB_MEMORY`, e.g. `4GB`) caps DuckDB's
    memory per connection; beyond it DuckDB spills to disk.
    """

    path: str | None = None
    reports_dir: str | None = None
    memory_limit: str | None = None


class Landing(dg.ConfigurableResource, LandingLocation):
    """The landing folder: one sub-folder per source (firms/, penalty_decisions/, ...).

    `path` defaults to `$RENFANG_LANDING`, else the bundled sample `data/sample/landing`.
    `today` (YYYY-MM-DD, default `$RENFANG_TODAY`, else the real date) is the processing date
    that bounds "no future dates"; fixing it makes a run reproducible on another day.
    """

    path: str | None = None
    today: str | None = None


class Rules(dg.ConfigurableResource):
    """The credit rule set: a YAML file (`path`, default `$RENFANG_RULES`), else the packaged
    default (`models/rulesets/default.yaml`). Loaded and validated at run time, so a bad file
    fails the run with a message naming the field."""

    path: str | None = None

    def load(self) -> RuleSet:
        return load_rule_set(self.path or os.environ.get("RENFANG_RULES"))
