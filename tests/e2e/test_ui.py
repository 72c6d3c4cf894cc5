"""`make ui` serves the asset graph with its blocking checks and Data Docs links.

Starts the real Dagster webserver on the project's code location against an instance in which
`renfang run` has just run, and asks its GraphQL API what a user would see.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.connection import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    root = tmp_path_factory.mktemp("ui")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(root / "home"),
        "RENFANG_WAREHOUSE": str(root / "warehouse.duckdb"),
        "RENFANG_TODAY": "2026-06-30",
    }
    bin_dir = Path(sys.executable).parent
    run = subprocess.run(
        [str(bin_dir / "renfang"), "run"], env=env, cwd=PROJECT_ROOT, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    port = _free_port()
    server = subprocess.Popen(
        [str(bin_dir / "dagster-webserver"), "-m", "pipelines.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # the webserver ignores SIGTERM alone; stop its whole group
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the Dagster webserver did not answer within 90 s")
        yield port
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)


def test_the_asset_graph_shows_every_layer_with_blocking_checks(ui: int):
    nodes = _graphql(
        ui,
        "{ assetNodes { assetKey { path } groupName "
        "assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }",
    )["assetNodes"]
    groups = {n["assetKey"]["path"][0]: n["groupName"] for n in nodes}
    assert groups["raw_firms"] == "raw"
    assert groups["penalty_decisions"] == "clean"
    assert groups["review_report"] == "publish"
    checks = {
        (n["assetKey"]["path"][0], c["name"]): c["blocking"]
        for n in nodes
        for c in n["assetChecksOrError"].get("checks", [])
    }
    assert checks[("firms", "gx_suite")] is True
    assert checks[("penalty_decisions", "rows_conserved")] is True


def test_the_latest_gx_check_links_its_data_docs(ui: int):
    executions = _graphql(
        ui,
        '{ assetCheckExecutions(assetKey: {path: ["firms"]}, checkName: "gx_suite", limit: 1) '
        "{ status evaluation { success "
        "metadataEntries { label ... on UrlMetadataEntry { url } } } } }",
    )["assetCheckExecutions"]
    assert executions and executions[0]["evaluation"]["success"] is True
    links = [e["url"] for e in executions[0]["evaluation"]["metadataEntries"] if e.get("url")]
    # http through the docs server (`renfang ui --docs-port`), never file:// (browsers refuse)
    assert links and links[0].startswith("http://127.0.0.1:3001/validations/")
    entries = executions[0]["evaluation"]["metadataEntries"]
    assert any(e["label"] == "data_docs_file" for e in entries)
