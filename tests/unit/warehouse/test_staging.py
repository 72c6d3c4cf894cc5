"""Write, audit, publish on real DuckDB files: the copy, the swap, and what refuses it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def _run(live: Path, run_id: str, value: str) -> Path:
    """One run: a copy, a write, the swap; returns the copy's path."""
    copy, made = staging.begin(live, run_id)
    assert made
    con = duckdb.connect(str(copy))
    con.execute("INSERT INTO firms SELECT ? || i FROM range(20000) t(i)", [value])
    con.close()
    staging.publish(live, copy, run_id)
    return copy


def test_the_replaced_state_is_kept_as_a_spare_and_the_next_copy_is_the_live_file(
    tmp_path: Path,
) -> None:
    live = tmp_path / "w.duckdb"
    make_live(live)
    _run(live, "run-1", "x")
    spare = staging.spare_path(live)
    assert spare.exists() and spare.stat().st_ino != live.stat().st_ino
    before = live.read_bytes()
    copy, _ = staging.begin(live, "run-2")
    assert not spare.exists(), "the spare became the run's copy"
    con = duckdb.connect(str(copy))  # the copy is the live state, plus the run's bookkeeping
    assert con.execute("SELECT count(*) FROM firms").fetchall() == [(20001,)]
    con.close()
    assert live.read_bytes() == before
    staging.discard(copy)


def test_a_spare_is_made_equal_to_the_live_file_whatever_it_held(tmp_path: Path) -> None:
    live = tmp_path / "w.duckdb"
    make_live(live)
    _run(live, "run-1", "x")
    spare = staging.spare_path(live)
    for content in (b"", b"junk" * 10, live.read_bytes() * 2, live.read_bytes()[:-4096]):
        spare.write_bytes(content)
        assert staging._refresh_spare(live, spare)
        assert spare.read_bytes() == live.read_bytes()


def test_the_spare_is_never_written_when_it_may_be_somebody_elses_file(tmp_path: Path) -> None:
    live = tmp_path / "w.duckdb"
    make_live(live)
    _run(live, "run-1", "x")
    spare = staging.spare_path(live)
    before = live.read_bytes()
    # a crash between the two renames of a publication: the spare is the live file itself
    spare.unlink()
    os.link(live, spare)
    assert not staging._refresh_spare(live, spare)
    copy, _ = staging.begin(live, "run-2")
    assert live.read_bytes() == before and copy.read_bytes()[:4096] == before[:4096]
    staging.discard(copy)
    # a planted symbolic link is not followed
    spare.unlink()
    target = tmp_path / "elsewhere.bin"
    target.write_bytes(b"not yours")
    spare.symlink_to(target)
    assert not staging._refresh_spare(live, spare)
    assert target.read_bytes() == b"not yours"
    spare.unlink()
    # a DuckDB reader (another process) still has the replaced state open
    shutil.copyfile(live, spare)
    con = duckdb.connect(str(spare))
    con.execute("INSERT INTO firms VALUES ('old')")
    con.close()
    old = spare.read_bytes()
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; con = duckdb.connect(sys.argv[1], read_only=True); "
         "print('open', flush=True); time.sleep(30)", str(spare)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        assert not staging._refresh_spare(live, spare)
        assert spare.read_bytes() == old
    finally:
        reader.kill()
        reader.wait()


def test_the_copy_of_a_run_not_published_becomes_the_spare_when_there_is_none(
    tmp_path: Path,
) -> None:
    live = tmp_path / "w.duckdb"
    make_live(live)
    copy, _ = staging.begin(live, "run-1")
    con = duckdb.connect(str(copy))  # the run wrote, then was refused
    con.execute("INSERT INTO firms VALUES ('refused')")
    con.close()
    staging.discard(copy)
    spare = staging.spare_path(live)
    assert not copy.exists() and spare.exists()
    again, _ = staging.begin(live, "run-2")  # the spare, made the live file again
    con = duckdb.connect(str(again), read_only=True)
    assert con.execute("SELECT uscc FROM firms").fetchall() == [("A",)]
    con.close()
    staging.discard(again)
    third, _ = staging.begin(live, "run-3")
    spare.write_bytes(b"a spare already")  # one spare at most: this copy is deleted
    staging.discard(third)
    assert not third.exists() and spare.read_bytes() == b"a spare already"
