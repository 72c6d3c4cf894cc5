"""The ingestion graph on a fixture landing folder: counts, quarantine, idempotence, safety.

The main job runs once on the fixture for the module (`first`): the tests that read what it
wrote share that run, those that run again work on a copy of its folder (landing folder,
warehouse, archive and reports), so each test's outcome is independent of the others'.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from fixtures.landing import (
    EXPECTED_COUNTS,
    EXPECTED_QUARANTINE,
    PROCESSING_DATE,
    write_fixture_landing,
)

import pipelines.assets.ingestion as ingestion
from models.contracts import SOURCE_ORDER
from pipelines.definitions import build_defs, execute_main
from pipelines.resources import Landing, Warehouse
from warehouse.connection import query

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def run_main(landing: Path, warehouse: Path) -> dg.ExecuteInProcessResult:
    defs = build_defs(
        warehouse=Warehouse(path=str(warehouse), reports_dir=str(warehouse.parent / "reports")),
        landing=Landing(path=str(landing), today=PROCESSING_DATE),
    )
    return execute_main(defs)


def read(warehouse: Path, sql: str) -> pl.DataFrame:
    with Warehouse(path=str(warehouse)).connect(read_only=True) as con:
        return query(con, sql)


@dataclass(frozen=True)
class FirstRun:
    """The main job's first run on the fixture landing folder: its folder and result."""

    root: Path
    result: dg.ExecuteInProcessResult

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    """The main job run once on the fixture landing folder; read it, never write it."""
    root = tmp_path_factory.mktemp("first_run")
    landing = write_fixture_landing(root / "landing")
    return FirstRun(root, run_main(landing, root / "warehouse.duckdb"))


@pytest.fixture
def after_first(first: FirstRun, tmp_path: Path) -> Path:
    """A private copy of the first run's folder (landing folder, warehouse, archive, reports;
    file times kept, as the landing scan compares them) for a test that runs again."""
    root = tmp_path / "after_first"
    shutil.copytree(first.root, root)
    return root


def test_counts_are_conserved_and_match_the_fixture(first: FirstRun):
    assert first.result.success
    warehouse_path = first.warehouse
    log = read(
        warehouse_path,
        "SELECT source, sum(rows_read) r, sum(rows_accepted) a, sum(rows_quarantined) q, "
        "sum(rows_collapsed) c FROM ingestion_log GROUP BY source",
    )
    got = {row[0]: tuple(int(v) for v in row[1:]) for row in log.iter_rows()}
    for source, expected in EXPECTED_COUNTS.items():
        assert got.get(source, (0, 0, 0, 0)) == expected, source
    for source in SOURCE_ORDER:  # every clean table exists, even for an absent folder
        table = read(warehouse_path, f'SELECT count(*) n FROM "{source}"')
        assert table["n"][0] == EXPECTED_COUNTS[source][1]


def test_every_defect_lands_in_quarantine_with_its_reason(first: FirstRun):
    q = read(
        first.warehouse,
        "SELECT source, file, row_number, reason_code, reason, raw_row FROM quarantine",
    )
    got = {
        (r["source"], r["file"], r["row_number"], r["reason_code"]) for r in q.iter_rows(named=True)
    }
    assert got == EXPECTED_QUARANTINE
    assert q["reason"].str.contains("：").all()  # Chinese, column named first
    assert q.filter(pl.col("row_number").is_not_null())["raw_row"].str.starts_with("{").all()


def test_all_quality_checks_pass_and_every_asset_materializes(first: FirstRun):
    result = first.result
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"firms", "penalty_decisions", "review_report", "raw_circulars"} <= materialized


def test_clean_values_are_normalised(first: FirstRun):
    warehouse_path = first.warehouse
    firms = read(
        warehouse_path, "SELECT uscc, firm_type, established_on::VARCHAR d FROM firms ORDER BY uscc"
    )
    assert "91310104MA1CD2777T" in firms["uscc"].to_list()  # full-width input
    assert "91310101MA1AB1777K" in firms["uscc"].to_list()  # lower-case input
    assert set(firms["firm_type"]) == {
        "design",
        "supervision",
        "protective_equipment",
        "drawing_review",
        "testing",
    }
    assert "2009-07-06" in firms["d"].to_list()  # Excel serial 40000
    fine = read(
        warehouse_path,
        "SELECT fine_amount, duplicate_count, collected_on::VARCHAR c "
        "FROM penalty_decisions WHERE doc_no = '沪国动罚〔2024〕1号'",
    )
    assert fine.row(0) == (15000.0, 2, "2024-03-08")


def test_rerun_on_the_same_files_changes_nothing(after_first: Path):
    fixture_landing, warehouse_path = after_first / "landing", after_first / "warehouse.duckdb"
    tables = [
        *SOURCE_ORDER,
        "quarantine",
        "review_report",
        "landing_files",
        *(f"raw_{s}" for s in SOURCE_ORDER),
    ]
    before = {t: read(warehouse_path, f'SELECT * FROM "{t}"') for t in tables}
    run_main(fixture_landing, warehouse_path)
    for t in tables:
        after = read(warehouse_path, f'SELECT * FROM "{t}"')
        assert after.sort(after.columns).equals(before[t].sort(before[t].columns)), t
    runs = read(warehouse_path, "SELECT count(DISTINCT run_id) n FROM ingestion_log")
    assert runs["n"][0] == 2  # the log keeps both runs


def test_a_failed_write_leaves_the_previous_tables(after_first: Path, monkeypatch):
    fixture_landing, warehouse_path = after_first / "landing", after_first / "warehouse.duckdb"
    before = read(warehouse_path, "SELECT * FROM penalty_decisions")
    q_before = read(warehouse_path, "SELECT count(*) n FROM quarantine")["n"][0]
    (fixture_landing / "penalty_decisions" / "缺列.csv").unlink()  # the data changes...

    def crash(con, name, frame, schema):  # ...and the run dies after the table was replaced
        raise OSError("disk full while appending the ingestion log")

    monkeypatch.setattr(ingestion, "append", crash)
    result = run_main(fixture_landing, warehouse_path)
    assert not result.success
    after = read(warehouse_path, "SELECT * FROM penalty_decisions")
    assert after.equals(before)
    assert read(warehouse_path, "SELECT count(*) n FROM quarantine")["n"][0] == q_before


def test_an_empty_firm_directory_blocks_everything_downstream(fixture_landing, warehouse_path):
    firms = fixture_landing / "firms"
    for f in firms.iterdir():
        f.unlink()
    (firms / "空.csv").write_text(
        "统一社会信用代码,单位名称,单位类型\n91310107MA1EF37773,坏,设计\n"
    )
    result = run_main(fixture_landing, warehouse_path)
    failed = {
        e.asset_key.to_user_string() for e in result.get_asset_check_evaluations() if not e.passed
    }
    assert "firms" in failed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "firms" in materialized  # the table itself is written (empty, with its quarantine)
    assert not {"penalty_decisions", "circulars", "review_report"} & materialized
