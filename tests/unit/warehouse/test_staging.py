"""Write, audit, publish on real DuckDB files: the copy, the swap, and what refuses it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse import audit, staging


def make_live(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE firms AS SELECT 'A' AS uscc")
    con.close()


def test_a_published_copy_replaces_the_live_file_and_bumps_its_generation(tmp_path: Path) -> None:
    live = tmp_path / "w.duckdb"
    make_live(live)
    copy, made = staging.begin(live, "run-1")
    assert made and staging.begin(live, "run-1") == (copy, False)
    con = duckdb.connect(str(copy))
    con.execute("INSERT INTO firms VALUES ('B')")
    con.close()
    before = live.read_bytes()
    assert staging.update_in_progress(live)
    assert live.read_bytes() == before, "readers see the old file until the swap"
    assert staging.publish(live, copy, "run-1") == 1
    assert not staging.update_in_progress(live)
    con = duckdb.connect(str(live), read_only=True)
    assert con.execute("SELECT count(*) FROM firms").fetchall() == [(2,)]
    assert staging.read_state(con).published_run_id == "run-1"
    con.close()


def test_a_copy_is_refused_when_the_live_file_changed_meanwhile(tmp_path: Path) -> None:
    live = tmp_path / "w.duckdb"
    make_live(live)
    copy, _ = staging.begin(live, "run-1")
    con = duckdb.connect(str(live))  # an act on the live file during the run
    con.execute("BEGIN TRANSACTION")
    staging.bump_generation(con)
    con.execute("COMMIT")
    con.close()
    with pytest.raises(staging.StagingError, match="changed during the run"):
        staging.publish(live, copy, "run-1")


def test_the_audit_chain_detects_an_edited_entry(tmp_path: Path) -> None:
    log = tmp_path / "w.audit.jsonl"
    audit.append(log, "run_started", {"n": 1}, actor="tester")
    audit.append(log, "withdrawal", {"file": "a.csv"}, actor="tester")
    audit.append(log, "run_published", {"n": 2}, actor="tester")
    assert audit.verify_chain(log) == audit.ChainCheck(3, True, None)
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("a.csv", "b.csv")
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert audit.verify_chain(log) == audit.ChainCheck(3, False, 3)
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.append(log, "delete_everything", {})
