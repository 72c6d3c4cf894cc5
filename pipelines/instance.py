"""Where the Dagster instance lives for runs launched from this project.

What belongs here: choosing the `DAGSTER_HOME` that `renfang` commands and `make ui` share,
and keeping its `dagster.yaml` a copy of the project's. What does not: running anything.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from warehouse.connection import PROJECT_ROOT, Warehouse


def dagster_home(warehouse: Path | None = None) -> Path:
    """`$DAGSTER_HOME`, else the instance beside the warehouse (`<name>.dagster/` next to
    `<name>.duckdb`), holding a copy of `dagster.yaml`.

    One instance per warehouse: the runs, materializations and row counts the Dagster UI
    shows are those of the warehouse the dashboards read — a benchmark's or a test's
    warehouse keeps its own. Runs launched by `renfang run` and by `make ui` on the same
    warehouse share it, so every CLI run shows up in the UI.
    """
    live = warehouse or Warehouse().live_file
    default = live.with_name(f"{live.stem}.dagster")
    home = Path(os.environ.get("DAGSTER_HOME") or default)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    template = PROJECT_ROOT / "dagster.yaml"
    if template.exists() and (not config.exists() or config.read_bytes() != template.read_bytes()):
        shutil.copyfile(template, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
