"""Every committed Dagster instance file is valid against Dagster's own instance schema and
keeps the rules the warehouse depends on: one DuckDB writer at a time, telemetry off, and a
killed run is never resumed in the middle of a write."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config_schema

from warehouse.connection import PROJECT_ROOT

INSTANCE_FILES = [
    PROJECT_ROOT / "dagster.yaml",
    *sorted((PROJECT_ROOT / "deploy").glob("dagster.*.yaml")),
]


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda p: p.name)
def test_instance_file_is_valid_and_keeps_one_writer(path: Path) -> None:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = validate_config(dagster_instance_config_schema(), config)
    assert result.success, [e.message for e in result.errors]
    assert config["telemetry"] == {"enabled": False}
    assert config["concurrency"]["pools"] == {"granularity": "op", "default_limit": 1}
    assert config["run_monitoring"]["enabled"] is True
    if path.parent.name == "deploy":
        assert config["run_monitoring"]["max_resume_run_attempts"] == 0


def test_there_are_production_variants() -> None:
    names = {p.name for p in INSTANCE_FILES}
    assert {"dagster.postgres.yaml", "dagster.k8s.yaml", "dagster.celery.yaml"} <= names
    workspace = yaml.safe_load((PROJECT_ROOT / "deploy" / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "pipelines.definitions"


DEPLOY = PROJECT_ROOT / "deploy"


def test_the_server_recipe_listens_on_localhost_behind_an_authenticated_proxy() -> None:
    """Only the proxy listens beyond 127.0.0.1; the Dagster UI behind it needs a login; the
    dashboards never run with the demo users and count failures per real client address."""
    recipe = {p.name: p.read_text(encoding="utf-8") for p in DEPLOY.iterdir() if p.is_file()}
    assert not any(re.search(r"(?<![\d.])0\.0\.0\.0(?![\d/])", t) for t in recipe.values())
    units = {name: text for name, text in recipe.items() if name.endswith(".service")}
    starts = {name: line for name, text in units.items() for line in text.splitlines()
              if line.startswith("ExecStart=")}  # fmt: skip
    assert "-h 127.0.0.1" in starts["renfang-webserver.service"]
    assert "--server.address 127.0.0.1" in starts["renfang-dashboards.service"]
    assert "RENFANG_TRUST_PROXY=1" in units["renfang-dashboards.service"]
    assert all("RENFANG_DEMO_USERS" not in line for text in units.values()
               for line in text.splitlines() if not line.startswith("#"))  # fmt: skip
    proxy = recipe["nginx-renfang.conf"]
    dagster = proxy[proxy.index("location /dagster/") :].split("}")[0]
    assert "auth_basic_user_file" in dagster and "deny all;" in dagster
    assert "proxy_pass http://127.0.0.1:3000" in dagster
    assert proxy.count("proxy_set_header X-Forwarded-For $remote_addr;") == 2  # set, not appended
    assert "RENFANG_USERS=" in recipe["renfang.env.example"]


def test_renfang_ui_refuses_to_start_without_users_or_the_demo_flag(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    monkeypatch.delenv("RENFANG_USERS", raising=False)
    monkeypatch.delenv("RENFANG_DEMO_USERS", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    refused = CliRunner().invoke(app, ["ui"])
    assert refused.exit_code == 2
    zh, en = refused.output.strip().split(" / ", 1)  # one line: Chinese, then English
    assert "未设置 RENFANG_USERS" in zh and "RENFANG_USERS is not set" in en
    assert not (tmp_path / "home").exists()  # refused before anything started
    broken = tmp_path / "users.yaml"
    broken.write_text("credentials: {usernames: {u: {name: U, password: x, roles: [public]}}}\n")
    monkeypatch.setenv("RENFANG_USERS", str(broken))
    invalid = CliRunner().invoke(app, ["ui"])
    assert invalid.exit_code == 2 and "password" in invalid.output
