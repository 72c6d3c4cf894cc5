"""`renfang ui` / `make ui`: the Dagster UI, the dashboards and the Data Docs site, together.

What belongs here: starting the three local servers on 127.0.0.1 with the project's Dagster
instance and warehouse, printing their addresses, and stopping all of them on Ctrl-C. Each
runs in its own process group: `dagster dev` ignores SIGTERM alone, so the whole
group is stopped. What does not: the servers' content.

Ports (defaults, all overridable): Dagster UI 3000, dashboards 8501, Data Docs 3001. The Data
Docs server publishes `<reports>/gx_docs` only — never the round plans or exports beside it —
and its address is handed to the other two as `RENFANG_DOCS_URL` (check metadata and the
data-quality page link the reports over http). The dashboards run in viewer mode (no Deploy
button or developer menu), as `.streamlit/config.toml` also says.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipelines.resources import Warehouse
from warehouse.connection import PROJECT_ROOT

DASHBOARD = PROJECT_ROOT / "dashboards" / "streamlit_app.py"


def streamlit_command(port: int) -> list[str]:
    """The dashboards' server: headless, local only, no usage statistics, viewer mode."""
    return [
        str(Path(sys.executable).with_name("streamlit")), "run", str(DASHBOARD),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip


def serve(
    dagster_port: int, dashboard_port: int, docs_port: int, echo: Callable[[str], None]
) -> int:
    """Start the three servers and wait; Ctrl-C (or one of them exiting) stops them all."""
    docs = Warehouse().reports / "gx_docs"
    docs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RENFANG_DOCS_URL": f"http://127.0.0.1:{docs_port}"}
    dagster = Path(sys.executable).with_name("dagster")
    commands = {
        "Dagster UI": [str(dagster), "dev", "-m", "pipelines.definitions",
                       "-h", "127.0.0.1", "-p", str(dagster_port)],
        "dashboards": streamlit_command(dashboard_port),
        "Data Docs": [sys.executable, "-m", "http.server", str(docs_port),
                      "--bind", "127.0.0.1", "--directory", str(docs)],
    }  # fmt: skip
    processes = {
        name: subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL
        )
        for name, cmd in commands.items()
    }
    echo(f"Dagster UI:  http://127.0.0.1:{dagster_port}")
    echo(f"dashboards:  http://127.0.0.1:{dashboard_port}   (users: see README, 'Dashboards')")
    echo(f"Data Docs:   http://127.0.0.1:{docs_port}")
    echo("Ctrl-C stops all three.")
    # Ctrl-C and a plain `kill` both stop everything (a background shell ignores SIGINT).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stopped = {name for name, p in processes.items() if p.poll() is None}
        for process in processes.values():
            # The whole group, also when its leader has exited: `dagster dev` dying leaves
            # its webserver, daemon and code servers running in its group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    failed = [name for name, p in processes.items() if name not in stopped and p.returncode]
    for name in failed:
        echo(f"{name} exited with code {processes[name].returncode}")
    return 1 if failed else 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
