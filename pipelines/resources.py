"""Dagster resources: thin `ConfigurableResource` wrappers around the `warehouse` layer.

What belongs here: the resources assets receive — the warehouse, the landing folder and the
rule set — whose fields default to environment variables read at *run* time (never at
import). Their behaviour lives in Dagster-free mixins (`warehouse.connection`,
`warehouse.landing`) so the dashboards, benchmarks and CLI open the same files the same way.
What does not: any business rule, table schema or SQL.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from models.rules import RuleSet, load_rule_set
from warehouse import audit, connection, migrations, staging
from warehouse.connection import WarehouseLocation
from warehouse.landing import LandingLocation


class Warehouse(dg.ConfigurableResource, WarehouseLocation):
    """The DuckDB warehouse file (one writer at a time; readers use short read-only sessions).

    `path` defaults to `$RENFANG_WAREHOUSE`, else `data/warehouse.duckdb`. Reports and GX Data
    Docs are written next to it (`reports/`, `gx_docs/`) unless `reports_dir` is set
    (`$RENFANG_REPORTS`). `memory_limit` (`$RENFANG_DUCKDB_MEMORY`, e.g. `4GB`; 2 GB by
    default) caps DuckDB's memory per connection; beyond it DuckDB spills to disk.
    """

    path: str | None = None
    reports_dir: str | None = None
    memory_limit: str | None = None
    staged: bool = False
    """Write, audit, publish: the run writes a staging copy of the live file, which the
    `published_warehouse` asset makes live only after every step and blocking check passed
    (`warehouse.staging`). The jobs of `pipelines.definitions.defs` and `renfang` commands
    run staged; False writes the live file step by step (tests of single assets)."""
    accept_changes: str | None = None
    """A reason to publish although the guards found established firms removed or a large
    share of a table changed (`warehouse.guards`); recorded in the audit log."""

    _staging: Path | None = PrivateAttr(default=None)
    _run_id: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not self.staged or not context.run_id:
            return
        self._run_id = context.run_id
        migrations.upgrade(self.live_file, self.audit_log)
        self._staging, made = staging.begin(self.live_file, context.run_id)
        connection.hold(self._staging, self.memory_limit)  # released by the swap or the run's end
        if made:
            audit.append(
                self.audit_log,
                "run_started",
                {"warehouse": str(self.live_file), "staging": self._staging.name},
                run_id=context.run_id,
            )

    @property
    def file(self) -> Path:
        """The run's staging copy while it exists; the live file once it was published."""
        if self._staging is None:
            return self.live_file
        if self._staging.exists():
            return self._staging
        if staging.published_marker(self._staging).exists():
            return self.live_file
        raise staging.StagingError(
            f"运行 {self._run_id} 的暂存副本已不存在 / the staging copy {self._staging} is gone"
        )

    @property
    def staging_file(self) -> Path | None:
        return self._staging

    @property
    def run_id(self) -> str | None:
        return self._run_id


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

    @property
    def explicit(self) -> bool:
        """Whether a rule file was named (then it must be official to score officially)."""
        return bool(self.path or os.environ.get("RENFANG_RULES"))
