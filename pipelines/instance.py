"""Where the Dagster instance lives for runs launched from this project.

What belongs here: choosing the `DAGSTER_HOME` that `renfang` commands and `make ui` share,
and keeping its `dagster.yaml` a copy of the project's. What does not: running anything.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from warehouse.connection import PROJECT_ROOT


def dagster_home() -> Path:
    """`$DAGSTER_HOME`, else `.dagster/` in the project, holding a copy of `dagster.yaml`.

    Runs launched by `renfang run` and by `make ui` share this instance, so every CLI run
    shows up in the UI with its logs, checks and metadata.
    """
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    template = PROJECT_ROOT / "dagster.yaml"
    if template.exists() and (not config.exists() or config.read_bytes() != template.read_bytes()):
        shutil.copyfile(template, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
