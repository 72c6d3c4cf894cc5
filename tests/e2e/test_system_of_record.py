"""The warehouse as the system of record, end to end through the real `renfang` command.

Each test works on its own copy of one warehouse built from the fixture landing folder
(`renfang run`, real Dagster instance, real DuckDB file) and checks one promise: a bad
landing folder, a removed file or a what-if changes no official table; a withdrawal changes
scores from its date only; a later file cannot undo an established firm; an adopted rule set
leaves earlier dates alone; bad options exit 2 without a traceback; an old warehouse opens
with its record intact, and a backup restores to identical tables.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from fixtures.cli import renfang, run_fixture
from fixtures.hashes import table_hashes as content_hashes
from fixtures.landing import FIRM_DESIGN, PENALTY_HEADER, write_fixture_landing
from fixtures.shared import built_once

from warehouse.connection import PROJECT_ROOT
from warehouse.firm_cases import FILES_FOLDER
from warehouse.listing import DOCUMENTS as LISTING_DOCUMENTS
from warehouse.staging import SCHEMA_VERSION

pytestmark = pytest.mark.slow

RECORD_OF_RUNS = {"ingestion_log", "landing_scan", "landing_paths", "warehouse_state",
                  "table_writes", "row_writes"}  # fmt: skip
"""Tables that record that a run happened (when, what the folder held, which statements
wrote a clean table), not what is true."""
VOLATILE_COLUMNS = {"created_at", "trained_at", "logged_at", "first_used_at", "plan_file",
                    "artefact_file"}  # fmt: skip
FIXTURE_V1 = Path(__file__).parent.parent / "fixtures" / "warehouse_v1.duckdb.gz"


def table_hashes(
    warehouse: Path, *, official_only: bool = True, runs_apart: bool = False
) -> dict[str, str]:
    """Table → SHA-256 of its sorted rows (volatile columns left out; with `official_only`,
    the records of runs too: what the runs did and how far each derivation step has read,
    `warehouse.incremental`'s watermarks; with `runs_apart`, also which run wrote a row, to
    compare warehouses that separate runs built)."""
    from warehouse.incremental import STATE_TABLES

    skip = RECORD_OF_RUNS | set(STATE_TABLES) if official_only else set()
    volatile = VOLATILE_COLUMNS | ({"run_id", "recorded_at"} if runs_apart else set())
    return content_hashes(warehouse, skip=skip, volatile=volatile)


def scores(warehouse: Path) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame = pl.from_arrow(
            con.sql(
                "SELECT uscc, as_of, score, tier, rule_set_version FROM credit_scores"
            ).to_arrow_table()
        )
        assert isinstance(frame, pl.DataFrame)
        return frame.sort("uscc", "as_of")
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One warehouse from the fixture landing (the template every test copies; `renfang run`
    once per test run, shared with the other modules that start from it)."""
    return built_once(tmp_path_factory, "fixture_run", run_fixture)


@pytest.fixture
def copy(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built warehouse, its archive, audit log and landing folder."""
    for name in ("warehouse.duckdb", "warehouse.audit.jsonl"):
        shutil.copy(built / name, tmp_path / name)
    for name in ("archive", "landing"):
        shutil.copytree(built / name, tmp_path / name)
    return tmp_path


def test_an_incremental_run_leaves_the_tables_a_full_rebuild_would(copy: Path) -> None:
    """A day's new file, then a withdrawal, each through `renfang run` (incremental: only
    the firms they touch are derived again) and, on a copy of the same warehouse,
    `renfang run --full`: every table is the same (tests/pipelines/test_incremental.py
    checks the property on random sequences, without Dagster)."""
    full = copy.parent / f"{copy.name}-full"
    (copy / "landing" / "penalty_decisions" / "当日.csv").write_text(
        ",".join(PENALTY_HEADER) + "\n"
        f"沪国动罚〔2025〕88号,{FIRM_DESIGN},上海申防,2025-11-03,超越资质范围承接业务,罚款,"
        "2万元,普通,上海市国防动员办公室,有效,2025-11-05\n",
        encoding="utf-8",
    )
    supplement = copy / "landing" / "penalty_decisions" / "处罚补充.xlsx"
    for act in ("file", "withdrawal"):
        if act == "withdrawal":
            renfang("withdraw", str(supplement), "--reason", "测试", "--on", "2025-06-01",
                    root=copy)  # fmt: skip
        shutil.rmtree(full, ignore_errors=True)
        shutil.copytree(copy, full)
        done = renfang("run", "--landing", str(copy / "landing"), root=copy)
        rebuilt = renfang("run", "--full", "--landing", str(full / "landing"), root=full)
        assert "incremental" in done.stdout and "full rebuild" in rebuilt.stdout
        incremental = table_hashes(copy / "warehouse.duckdb", runs_apart=True)
        assert incremental == table_hashes(full / "warehouse.duckdb", runs_apart=True), act
        assert "not trained yet" in done.stdout  # the daily run leaves the model to its job
        # the first run of this copy draws the draft anew (the copy has no reports folder);
        # the second keeps it and says so
        kept = "草案沿用 2025-12-31 所抽" in done.stdout
        assert kept == (act == "withdrawal"), done.stdout[-1500:]


def test_a_missing_empty_or_garbled_landing_folder_changes_no_live_table(copy: Path) -> None:
    before = table_hashes(copy / "warehouse.duckdb")
    file_before = hashlib.sha256((copy / "warehouse.duckdb").read_bytes()).hexdigest()
    missing = renfang("run", "--landing", str(copy / "nowhere"), root=copy, check=False)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "--landing" in missing.stderr and "不存在" in missing.stderr
    not_a_folder = copy / "file.txt"
    not_a_folder.write_text("x")
    refused = renfang("run", "--landing", str(not_a_folder), root=copy, check=False)
    assert refused.returncode == 2
    empty = copy / "empty"
    empty.mkdir()
    refused = renfang("run", "--landing", str(empty), root=copy, check=False)
    assert refused.returncode == 2 and "source folders" in refused.stderr
    assert hashlib.sha256((copy / "warehouse.duckdb").read_bytes()).hexdigest() == file_before

    garbled = copy / "garbled"
    for source in ("firms", "penalty_decisions"):
        (garbled / source).mkdir(parents=True)
        (garbled / source / "乱码.csv").write_bytes(os.urandom(4096))
    renfang("run", "--landing", str(garbled), root=copy)  # rebuilt from the archive
    after = table_hashes(copy / "warehouse.duckdb")
    # the garbage is received (archived, logged, its rows quarantined): nothing else moves
    # (and the clean step's note of the files it has seen)
    received = {"landing_files", "raw_firms", "raw_penalty_decisions", "quarantine",
                "derived_files"}  # fmt: skip
    assert {k: v for k, v in after.items() if k not in received} == {
        k: v for k, v in before.items() if k not in received
    }


def test_a_file_removed_from_the_landing_folder_changes_no_table(copy: Path) -> None:
    before = table_hashes(copy / "warehouse.duckdb")
    penalties = sorted((copy / "landing" / "penalty_decisions").iterdir())
    for path in penalties:
        path.unlink()
    renfang("run", "--landing", str(copy / "landing"), root=copy)
    assert table_hashes(copy / "warehouse.duckdb") == before


def test_a_withdrawal_changes_scores_from_its_date_and_none_before(copy: Path) -> None:
    before = scores(copy / "warehouse.duckdb")
    target = copy / "landing" / "penalty_decisions" / "处罚_gbk.csv"
    done = renfang("withdraw", str(target), "--reason", "文号有误", "--on", "2025-06-01", root=copy)
    assert "2025-06-01" in done.stdout
    renfang("run", "--landing", str(copy / "landing"), root=copy)
    after = scores(copy / "warehouse.duckdb")
    cut = date(2025, 6, 1)
    assert before.filter(pl.col("as_of") < cut).equals(after.filter(pl.col("as_of") < cut))
    late_before = before.filter(pl.col("as_of") >= cut)
    late_after = after.filter(pl.col("as_of") >= cut)
    assert not late_before.equals(late_after), "the withdrawn decisions stopped counting"
    audit = (copy / "warehouse.audit.jsonl").read_text(encoding="utf-8")
    assert '"withdrawal"' in audit and "文号有误" in audit


def test_a_scenario_changes_no_official_table_and_a_reused_version_is_refused(
    copy: Path,
) -> None:
    before = table_hashes(copy / "warehouse.duckdb")
    rules = (PROJECT_ROOT / "models" / "rulesets" / "default.yaml").read_text(encoding="utf-8")
    harsher = rules.replace("points: 2, months: 6", "points: 9, months: 6")
    renamed = "\n".join(
        'version: "what-if-1"' if line.startswith("version:") else line
        for line in harsher.splitlines()
    )
    (copy / "what_if.yaml").write_text(renamed, encoding="utf-8")
    (copy / "same_version.yaml").write_text(harsher, encoding="utf-8")
    done = renfang("score", "--as-of", "2025-06-30", "--rules", str(copy / "what_if.yaml"),
                   "--scenario", "试算1", root=copy)  # fmt: skip
    assert "试算1" in done.stdout
    after = table_hashes(copy / "warehouse.duckdb")
    assert {k: v for k, v in after.items() if k != "scenario_scores"} == before
    refused = renfang("score", "--as-of", "2025-06-30", "--rules",
                      str(copy / "same_version.yaml"), "--scenario", "x", root=copy,
                      check=False)  # fmt: skip
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "registered with content" in refused.stderr
    official = renfang("score", "--as-of", "2025-06-30", "--rules",
                       str(copy / "what_if.yaml"), root=copy, check=False)  # fmt: skip
    assert official.returncode == 2 and "scenario" in official.stderr


def test_adopting_a_rule_set_from_a_date_leaves_every_earlier_score(copy: Path) -> None:
    before = scores(copy / "warehouse.duckdb")
    rules = (PROJECT_ROOT / "models" / "rulesets" / "default.yaml").read_text(encoding="utf-8")
    stricter = "\n".join(
        'version: "stricter-2025.2"' if line.startswith("version:") else line
        for line in rules.replace("points: 5, months: 12", "points: 8, months: 12").splitlines()
    )
    (copy / "stricter.yaml").write_text(stricter, encoding="utf-8")
    renfang("rules", "adopt", str(copy / "stricter.yaml"), "--from", "2025-01-01",
            "--reason", "沪国动〔2025〕1号", root=copy)  # fmt: skip
    renfang("run", "--landing", str(copy / "landing"), root=copy)
    after = scores(copy / "warehouse.duckdb")
    cut = date(2025, 1, 1)
    assert before.filter(pl.col("as_of") < cut).equals(after.filter(pl.col("as_of") < cut))
    late = after.filter(pl.col("as_of") >= cut)
    assert set(late["rule_set_version"]) == {"stricter-2025.2"}


def test_a_later_file_cannot_take_an_established_firm_off_the_record(copy: Path) -> None:
    before = scores(copy / "warehouse.duckdb").filter(pl.col("uscc") == FIRM_DESIGN)
    assert before.height
    (copy / "landing" / "firms" / "新增.csv").write_text(
        f"统一社会信用代码,单位名称,单位类型,所属区\n{FIRM_DESIGN},某某冒名公司,设计,浦东新区\n",
        encoding="utf-8",
    )
    done = renfang("run", "--landing", str(copy / "landing"), root=copy)
    after = scores(copy / "warehouse.duckdb").filter(pl.col("uscc") == FIRM_DESIGN)
    assert after.equals(before)
    con = duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True)
    name = con.execute("SELECT name FROM firms WHERE uscc = ?", [FIRM_DESIGN]).fetchall()
    conflicts = con.execute(
        "SELECT kind, key FROM open_conflicts WHERE source = 'firms'"
    ).fetchall()
    con.close()
    assert name == [("上海申防人防工程设计有限公司",)]
    assert ("key_conflict", FIRM_DESIGN) in conflicts
    assert "open conflicts" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("score", "--as-of", "2024-13-01"),
        ("run", "--today", "2024-13-01"),
        ("score", "--as-of", "1999-01-01"),
        ("withdraw", "deadbeefdeadbeef", "--reason", "x", "--on", "2025-02-30"),
        ("rules", "adopt", "missing.yaml", "--from", "2025-01-01", "--reason", "x"),
    ],
    ids=[
        "impossible as-of",
        "impossible today",
        "before the first rule set",
        "bad --on",
        "missing rule file",
    ],
)
def test_bad_options_exit_2_without_a_traceback(copy: Path, args: tuple[str, ...]) -> None:
    done = renfang(*args, root=copy, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_an_old_warehouse_opens_with_its_record_intact(tmp_path: Path) -> None:
    """A warehouse written before the archive existed (kept as a fixture): the upgrade keeps
    every received document, score and published round, and the next run works on it."""
    old = tmp_path / "warehouse.duckdb"
    old.write_bytes(gzip.decompress(FIXTURE_V1.read_bytes()))
    kept = ("firms", "penalty_decisions", "credit_scores", "sampling_rounds", "sampling_draws",
            "sampling_assignments", "landing_files")  # fmt: skip
    before = {k: v for k, v in table_hashes(old).items() if k in kept}
    landing = write_fixture_landing(tmp_path / "landing")
    renfang("withdraw", "deadbeefdeadbeef", "--reason", "x", root=tmp_path, check=False)
    after_upgrade = table_hashes(old)
    for name in ("firms", "penalty_decisions", "credit_scores", "sampling_rounds",
                 "sampling_draws", "sampling_assignments"):  # fmt: skip
        assert after_upgrade[name] == before[name], name
    assert list(tmp_path.glob("warehouse.duckdb.v1-*.bak")), "the upgrade kept a backup"
    renfang("run", "--landing", str(landing), root=tmp_path)
    con = duckdb.connect(str(old), read_only=True)
    rounds = con.execute("SELECT round_id, status FROM sampling_rounds").fetchall()
    version = con.execute("SELECT schema_version FROM warehouse_state").fetchall()
    roster = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'raw_inspectors'"
    ).fetchall()
    facts = con.execute("SELECT round_id FROM sampling_round_facts").fetchall()
    con.close()
    assert ("2026Q1", "published") in rounds
    assert version == [(SCHEMA_VERSION,)]
    assert ("department",) in roster  # v4 → v5: a joint round's roster column
    assert ("2026Q1",) not in facts  # a round stored before keeps its rows; the page says 市级


def test_a_backup_restores_to_identical_tables(copy: Path) -> None:
    """Tables, and the record's folders that are not in the warehouse file: a listing's
    documents and the attachments a firm filed with its case."""
    document = copy / "reports" / LISTING_DOCUMENTS / "SX2025-001" / "人防信用告〔2025〕1号.txt"
    attachment = copy / FILES_FOLDER / "WS2026-0001" / "1.pdf"
    for path, text in ((document, "告知书"), (attachment, "%PDF-1.7 材料")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    before = table_hashes(copy / "warehouse.duckdb", official_only=False)
    renfang("backup", str(copy / "backup"), root=copy)
    renfang("withdraw", str(copy / "landing" / "firms" / "名录.csv"), "--reason", "测试",
            root=copy)  # fmt: skip
    document.unlink()
    attachment.unlink()
    assert table_hashes(copy / "warehouse.duckdb", official_only=False) != before
    renfang("restore", str(copy / "backup"), root=copy)
    assert table_hashes(copy / "warehouse.duckdb", official_only=False) == before
    assert document.read_text(encoding="utf-8") == "告知书"
    assert attachment.read_text(encoding="utf-8") == "%PDF-1.7 材料"
    (copy / "backup" / "warehouse.duckdb").write_bytes(b"tampered")
    refused = renfang("restore", str(copy / "backup"), root=copy, check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_the_sensor_requests_no_run_when_nothing_changed_since_the_last_run(copy: Path) -> None:
    """The first tick after a completed run (an empty cursor, as after `make ui` starts)
    sees every landing file already received, unchanged, and requests nothing."""
    import dagster as dg

    from pipelines.automation import LANDING_SENSOR
    from pipelines.definitions import build_defs
    from pipelines.resources import Landing, Warehouse

    landing = Landing(path=str(copy / "landing"))
    warehouse = Warehouse(path=str(copy / "warehouse.duckdb"))
    sensor = build_defs(warehouse=warehouse, landing=landing).resolve_sensor_def(LANDING_SENSOR)
    resources = {"landing": landing, "warehouse": warehouse}
    first = sensor(dg.build_sensor_context(cursor=None, resources=resources))
    assert not first.run_requests and first.cursor
    (copy / "landing" / "commendations").mkdir(exist_ok=True)
    (copy / "landing" / "commendations" / "新增.csv").write_text("表彰文号,统一社会信用代码\n")
    changed = sensor(dg.build_sensor_context(cursor=first.cursor, resources=resources))
    assert len(changed.run_requests) == 1
