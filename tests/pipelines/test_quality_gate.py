"""The GX suite is a BLOCKING check: a bad clean table stops every downstream asset."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from fixtures.landing import PROCESSING_DATE

from models.contracts import default_contracts
from pipelines.quality.gx_gate import gx_asset_checks
from pipelines.resources import Landing, Warehouse

USCC_A = "91350200776049653A"
USCC_B = "91440101MA5CJQ4N59"

FIRMS_DDL = """
CREATE OR REPLACE TABLE firms (
    uscc VARCHAR, name VARCHAR, firm_type VARCHAR, district VARCHAR, qualification VARCHAR,
    established_on DATE, listed_on DATE, status VARCHAR, legal_rep VARCHAR, address VARCHAR,
    contact VARCHAR, phone VARCHAR, source_file VARCHAR, source_row INTEGER,
    duplicate_count INTEGER
)
"""


def firms_graph(uscc_column: list[str]) -> list[dg.AssetsDefinition]:
    """A stand-in `firms` asset writing the given firms, and an asset that depends on it."""

    @dg.asset(name="firms")
    def firms(warehouse: Warehouse) -> None:
        rows = [(uscc, f"单位{i}", "design", i + 2) for i, uscc in enumerate(uscc_column)]
        with warehouse.transaction() as con:
            con.execute(FIRMS_DDL)
            for row in rows:
                con.execute(
                    "INSERT INTO firms (uscc, name, firm_type, source_file, source_row, "
                    "duplicate_count) VALUES (?, ?, ?, 'firms.csv', ?, 1)",
                    list(row),
                )

    @dg.asset(deps=[firms])
    def downstream() -> None:
        """Stands for credit_records: must never read a firm directory that failed the gate."""

    return [firms, downstream]


def materialize(tmp_path: Path, uscc_column: list[str]) -> dg.ExecuteInProcessResult:
    firms_checks = [
        check
        for check in gx_asset_checks(default_contracts())
        if dg.AssetKey("firms") in {key.asset_key for key in check.check_keys}
    ]
    warehouse = Warehouse(
        path=str(tmp_path / "warehouse.duckdb"), reports_dir=str(tmp_path / "reports")
    )
    return dg.materialize(
        [*firms_graph(uscc_column), *firms_checks],
        resources={"warehouse": warehouse, "landing": Landing(today=PROCESSING_DATE)},
        raise_on_error=False,
    )


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_a_valid_firm_directory_lets_downstream_run(tmp_path: Path):
    result = materialize(tmp_path, [USCC_A, USCC_B])
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.metadata["row_count"].value == 2
    assert evaluation.metadata["failed_expectations"].value == 0
    assert materialized(result) == {"firms", "downstream"}


@pytest.mark.parametrize(
    ("uscc_column", "failed", "offending"),
    [
        ([USCC_A, USCC_A], "expect_column_values_to_be_unique", f"uscc={USCC_A}"),
        ([], "expect_table_row_count_to_be_between", "observed: 0"),
    ],
    ids=["duplicate uscc", "empty directory"],
)
def test_a_failed_suite_blocks_downstream(
    tmp_path: Path, uscc_column: list[str], failed: str, offending: str
):
    result = materialize(tmp_path, uscc_column)

    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed) == ("gx_suite", False)
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["failed_expectations"].value == 1
    failures = evaluation.metadata["failures"].value
    assert failed in failures and offending in failures

    # Dagster 1.13 fails the check's step and never starts the downstream one (no skip event).
    assert result.get_failed_step_keys() == {"firms_gx_suite"}
    assert result.is_node_untouched("downstream")
    assert materialized(result) == {"firms"}

    # the link opens over http through the docs server (`renfang ui`), not as a file:// URL
    url = evaluation.metadata["data_docs"].value
    assert url == f"http://127.0.0.1:3001/validations/{result.run_id}/firms.html"
    docs_page = Path(evaluation.metadata["data_docs_file"].value)
    assert docs_page.is_file() and docs_page.is_relative_to(tmp_path / "reports" / "gx_docs")
    assert (tmp_path / "reports" / "gx_docs" / "index.html").is_file()
    saved = tmp_path / "reports" / "gx_results" / result.run_id / "firms.json"
    assert evaluation.metadata["validation_result"].value == str(saved)
    assert saved.is_file()


@pytest.mark.parametrize(
    ("uscc_column", "failed", "offending"),
    [
        ([USCC_A, USCC_A], "expect_column_values_to_be_unique", f"uscc={USCC_A}"),
        ([], "expect_table_row_count_to_be_between", "observed: 0"),
    ],
    ids=["duplicate uscc", "empty directory"],
)
def test_a_whole_table_failure_without_new_rows_blocks_downstream(
    tmp_path: Path, uscc_column: list[str], failed: str, offending: str
):
    """After a pass, the table changes without a row marked for the gate (rows deleted, as a
    withdrawal does; a key duplicated by a bug): GX has no rows to check and does not run,
    and the whole-table checks made in DuckDB block all the same."""
    assert materialize(tmp_path, [USCC_A, USCC_B]).success

    result = materialize(tmp_path, uscc_column)

    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.passed, evaluation.metadata["rows_validated"].value) == (False, 0)
    assert "无新增行，整表检查未通过" in evaluation.metadata["validation_scope"].value
    assert "no new rows, whole-table checks failed" in evaluation.metadata["validation_scope"].value
    failures = evaluation.metadata["failures"].value
    assert failed in failures and offending in failures
    assert result.get_failed_step_keys() == {"firms_gx_suite"}
    assert result.is_node_untouched("downstream")
    assert materialized(result) == {"firms"}
