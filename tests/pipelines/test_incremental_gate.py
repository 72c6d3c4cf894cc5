"""The quality gate in incremental runs: GX sees only the rows written since the last pass.

A day's clean step marks the key groups it wrote (`warehouse.gate_state`); the gate of the
next validation gives GX only their rows, and judges row count and key uniqueness on the
whole table in DuckDB; a table no row was written to is judged on the whole table alone,
without GX. A property test holds the incremental verdict to a full validation's after
random acts (new files, withdrawals, rows copied or deleted behind the clean step's back).
Real GX, real DuckDB: the clean step is the one the main job's assets call
(`warehouse.ingestion.update_clean`, no Dagster: a run through Dagster costs seconds), the
gate is `gate_source`, which the `gx_suite` checks call; the last test runs the main job
itself and reads the scope from the checks' metadata.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from fixtures.landing import (
    FIRM_DESIGN,
    FIRM_EQUIPMENT,
    PENALTY_HEADER,
    PROCESSING_DATE,
    write_fixture_landing,
)
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from dashboards.queries.quality import Reports, gx_results
from models import quality_suite
from models.contracts import SOURCE_ORDER, Contracts, default_contracts
from models.rules import default_rule_set
from pipelines.definitions import build_defs, execute_main
from pipelines.quality.gx_gate import GateResult, expectations_for, gate_source
from pipelines.resources import Landing
from pipelines.resources import Warehouse as WarehouseResource
from warehouse import staging
from warehouse.archive import FileEvent, archive_root, record_event
from warehouse.connection import Warehouse
from warehouse.ingestion import receive, row_rules_of, update_clean
from warehouse.landing import LandingFolder
from warehouse.tables import ensure_bookkeeping

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

CONTRACTS = default_contracts()
RULES = default_rule_set()
TODAY = date.fromisoformat(PROCESSING_DATE)
WHOLE_TABLE = ["expect_table_row_count_to_be_between", "expect_column_values_to_be_unique"]
GATED = ("firms", "penalty_decisions", "circulars")
"""The sources these tests validate (every source is cleaned; a GX run costs ~0.4 s)."""


def penalties(*doc_nos: str) -> str:
    """A landing CSV of valid penalty decisions with these numbers (one firm, 2025)."""
    rows = [",".join(PENALTY_HEADER)]
    rows += [f"{doc},{FIRM_DESIGN},上海申防,2025-03-05,超越资质范围承接业务,罚款,15000,普通,"
             "上海市国防动员办公室,有效,2025-03-08" for doc in doc_nos]  # fmt: skip
    return "\n".join(rows) + "\n"


def circulars(*doc_nos: str) -> str:
    """A landing CSV of valid circulars with these numbers, each naming two firms."""
    rows = ["通报文号,统一社会信用代码,通报日期,通报类型,级别,通报机关"]
    rows += [f"{doc},{firm},2025-02-01,批评,市,上海市国防动员办公室"
             for doc in doc_nos for firm in (FIRM_DESIGN, FIRM_EQUIPMENT)]  # fmt: skip
    return "\n".join(rows) + "\n"


NEW_FILES = {"penalty_decisions": penalties, "circulars": circulars}


@dataclass
class World:
    """A warehouse fed from the fixture landing folder, one "run" at a time."""

    root: Path
    file: Path
    today: date = TODAY
    runs: int = 0

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(path=str(self.file), reports_dir=str(self.root / "reports"))

    @property
    def landing(self) -> LandingFolder:
        return LandingFolder(path=str(self.root / "landing"), today=self.today.isoformat())

    def add(self, source: str, name: str, *doc_nos: str) -> None:
        path = self.root / "landing" / source / name
        path.write_text(NEW_FILES[source](*doc_nos), encoding="utf-8")

    def clean(self, *, full: bool = False) -> None:
        """The raw and clean steps of a run, for every source, in one transaction."""
        with self.warehouse.transaction() as con:
            ensure_bookkeeping(con)
            for name in SOURCE_ORDER:
                source = CONTRACTS.source(name)
                receive(con, self.landing, source, CONTRACTS, archive_root(self.warehouse), None)
                rules = row_rules_of(con, source, RULES)
                update_clean(con, source, CONTRACTS, self.landing, rules, full=full)

    def gate(
        self, *names: str, full_run: bool = False, contracts: Contracts = CONTRACTS
    ) -> dict[str, GateResult]:
        """The gate of these sources (`GATED` by default), as the run's checks apply it."""
        self.runs += 1
        return {
            name: gate_source(self.warehouse, contracts.source(name), contracts,
                              as_of=self.today, run_id=f"run-{self.runs}", full_run=full_run)
            for name in names or GATED
        }  # fmt: skip

    def sql(self, statement: str, params: list | None = None) -> list[tuple]:
        with self.warehouse.transaction() as con:
            return con.execute(statement, params or []).fetchall()

    def rows(self, table: str) -> int:
        return self.sql(f'SELECT count(*) FROM "{table}"')[0][0]


@pytest.fixture(scope="module")
def first_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture folder received, cleaned and validated once (whole: nothing passed yet)."""
    root = tmp_path_factory.mktemp("first_day")
    write_fixture_landing(root / "landing")
    world = World(root, root / "warehouse.duckdb")
    world.clean()
    first = world.gate()
    assert all(g.success and g.mode == "full" for g in first.values())
    assert first["penalty_decisions"].reason == "never_passed"
    return root


@pytest.fixture
def world(first_day: Path, tmp_path: Path) -> World:
    """A copy of the first day's landing folder, archive and warehouse, for one test."""
    root = tmp_path / "world"
    shutil.copytree(first_day, root, ignore=shutil.ignore_patterns("reports"))
    return World(root, root / "warehouse.duckdb")


def forbid_gx(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, importing GX (or any of its modules, imported before or not) fails."""
    for name in [n for n in sys.modules if n.split(".")[0] == "great_expectations"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "great_expectations", None)


def withdraw(world: World, relative: str) -> None:
    """`renfang withdraw` of a received file, as the command records it."""
    [(source, sha)] = world.sql(
        "SELECT source, sha256 FROM landing_files WHERE file = ? "
        "ORDER BY first_seen_at DESC LIMIT 1",
        [relative],
    )
    event = FileEvent(source, sha, "withdrawn", world.today,
                      datetime.now(UTC).replace(tzinfo=None), "test", "报送有误")  # fmt: skip
    with world.warehouse.transaction() as con:
        record_event(con, event)


def failure(gate: GateResult, kind: str):
    [found] = [f for f in gate.failures if f.expectation_type == kind]
    return found


def test_an_incremental_day_validates_only_the_rows_it_wrote(world: World):
    before = world.rows("penalty_decisions")
    world.today += timedelta(days=1)  # the date moving forward keeps what passed valid
    world.add("penalty_decisions", "day2.csv", "新1号", "新2号", "新3号")
    world.clean()
    gates = world.gate()

    gate = gates["penalty_decisions"]
    assert gate.success
    assert (gate.mode, gate.reason) == ("incremental", "changed_rows")
    assert (gate.rows_validated, gate.row_count) == (3, before + 3)
    untouched = gates["firms"]
    assert (untouched.mode, untouched.rows_validated) == ("incremental", 0)
    assert untouched.row_count == world.rows("firms")
    assert untouched.reason == "no_new_rows"  # GX not run: nothing to give it

    result = json.loads(gate.result_path.read_text(encoding="utf-8"))
    assert result["meta"]["validation_scope"] == {
        "mode": "incremental",
        "reason": "changed_rows",
        "rows_validated": 3,
        "table_rows": before + 3,
    }
    # GX saw the three rows; row count and key uniqueness were judged on the whole table
    items = result["results"]
    kinds = [i["expectation_config"]["type"] for i in items]
    suite = expectations_for(CONTRACTS.source("penalty_decisions"), CONTRACTS, world.today)
    assert kinds == [e.expectation_type for e in suite]  # the whole suite, in its order
    assert result["statistics"]["evaluated_expectations"] == len(suite)
    whole = [i for i in items if i["meta"].get("whole_table")]
    assert [i["expectation_config"]["type"] for i in whole] == WHOLE_TABLE
    assert whole[0]["result"]["observed_value"] == before + 3
    assert whole[1]["result"]["element_count"] == before + 3
    not_null = next(i for i in items if i["expectation_config"]["type"].endswith("not_be_null"))
    assert not_null["result"]["element_count"] == 3

    page = gate.docs_page.read_text(encoding="utf-8")
    assert f"增量校验：共 {before + 3} 行，校验其中 3 行" in page
    assert f"incremental: 3 of {before + 3} rows validated" in page
    assert "whole table (counted in DuckDB)" in page and "changed rows" in page

    again = world.gate("penalty_decisions")["penalty_decisions"]  # the marks were cleared
    assert (again.mode, again.rows_validated, again.success) == ("incremental", 0, True)


def test_a_bad_value_in_a_changed_row_fails_the_incremental_gate(world: World):
    world.add("penalty_decisions", "day2.csv", "新1号", "新2号")
    world.clean()
    # a defect the row checks let through (a bug, say) in one of the rows the day wrote
    world.sql("UPDATE penalty_decisions SET procedure = '口头' WHERE doc_no = '新2号'")

    gate = world.gate("penalty_decisions")["penalty_decisions"]

    assert not gate.success
    assert (gate.mode, gate.rows_validated) == ("incremental", 2)
    bad = failure(gate, "expect_column_values_to_be_in_set")
    assert (bad.columns, bad.unexpected_count) == (("procedure",), 1)
    assert bad.offending_keys == ({"doc_no": "新2号"},)


@pytest.mark.parametrize("source", ["penalty_decisions", "circulars"])
def test_a_key_shared_by_an_old_and_a_new_row_fails_uniqueness_on_the_whole_table(
    world: World, source: str
):
    key = CONTRACTS.source(source).key
    [old] = world.sql(f'SELECT {", ".join(key)} FROM "{source}" ORDER BY ALL LIMIT 1')
    world.add(source, "day2.csv", "新1号")
    world.clean()
    # one new row takes the key of an old one: its own key group is gone from the table, so
    # GX's batch holds only the other new rows — uniqueness is judged on the whole table
    [new] = world.sql(f"SELECT {', '.join(key)} FROM \"{source}\" WHERE doc_no = '新1号' LIMIT 1")
    assignments = ", ".join(f"{k} = ?" for k in key)
    matches = " AND ".join(f"{k} = ?" for k in key)
    world.sql(f'UPDATE "{source}" SET {assignments} WHERE {matches}', [*old, *new])

    gate = world.gate(source)[source]

    assert not gate.success and gate.mode == "incremental"
    assert gate.rows_validated == (0 if source == "penalty_decisions" else 1)
    kind = "expect_column_values_to_be_unique" if len(key) == 1 else (
        "expect_compound_columns_to_be_unique")  # fmt: skip
    duplicate = failure(gate, kind)
    assert duplicate.unexpected_count == 2
    assert duplicate.offending_keys == (dict(zip(key, old, strict=True)),)
    result = json.loads(gate.result_path.read_text(encoding="utf-8"))
    [judged] = [i for i in result["results"] if i["expectation_config"]["type"] == kind]
    assert judged["meta"] == {"whole_table": True} and not judged["success"]


def test_a_table_no_row_was_written_to_is_checked_on_the_whole_table_without_gx(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    world.today += timedelta(days=1)
    world.add("penalty_decisions", "day2.csv", "新1号")  # another source's new rows
    world.clean()
    forbid_gx(monkeypatch)

    gates = world.gate("firms", "circulars")

    for name, gate in gates.items():
        assert gate.success, gate.failures
        assert (gate.mode, gate.reason, gate.rows_validated) == ("incremental", "no_new_rows", 0)
        assert gate.row_count == world.rows(name) > 0
    circulars = gates["circulars"]
    suite = quality_suite.suite(CONTRACTS.source("circulars"), CONTRACTS, world.today)
    assert [(o.expectation_type, o.columns) for o in circulars.outcomes] == [
        (s.type, s.columns) for s in suite
    ]
    result = json.loads(circulars.result_path.read_text(encoding="utf-8"))
    rows = world.rows("circulars")
    assert result["meta"]["validation_scope"] == {
        "mode": "incremental",
        "reason": "no_new_rows",
        "rows_validated": 0,
        "table_rows": rows,
    }
    assert result["success"] is True
    assert result["statistics"]["evaluated_expectations"] == len(suite)
    assert result["statistics"]["successful_expectations"] == len(suite)
    items = result["results"]
    assert [i["expectation_config"] for i in items] == [s.configuration() for s in suite]
    judged = [i["expectation_config"]["type"] for i in items if i["meta"] == {"whole_table": True}]
    assert judged == [quality_suite.COLUMNS, quality_suite.ROW_COUNT, quality_suite.COMPOUND_UNIQUE]
    assert all(i["meta"] == {"unchanged": True} for i in items if not i["meta"].get("whole_table"))
    assert items[1]["result"] == {"observed_value": rows}

    page = circulars.docs_page.read_text(encoding="utf-8")
    assert f"增量校验：共 {rows} 行，无新增行，整表检查通过" in page
    assert f"incremental: {rows} rows, no new rows, whole-table checks passed" in page
    assert "未运行 Great Expectations" in page and "no new rows: not run" in page
    # the data-quality page reads it like any other validation
    shown = gx_results(None, Reports(folder=world.root / "reports")).filter(source="circulars")
    assert shown.select("success", "evaluated", "passed").row(0) == (True, len(suite), len(suite))

    again = world.gate("circulars")["circulars"]
    assert (again.success, again.reason) == (True, "no_new_rows")


def test_a_withdrawal_that_empties_the_directory_fails_the_gate_without_new_rows(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """Withdrawn files delete rows without writing any: the gate has no rows for GX, but the
    firm directory's row count (at least one row, says the contract) is judged all the same,
    and its failure blocks as GX's would: nothing is recorded as passed."""
    assert CONTRACTS.source("firms").min_rows == 1
    passed_on = world.sql("SELECT processing_date FROM derivation_state WHERE step = 'gate:firms'")
    world.today += timedelta(days=1)
    for relative in ("firms/名录.csv", "firms/补充.xlsx"):
        withdraw(world, relative)
    world.clean()
    assert world.rows("firms") == 0
    forbid_gx(monkeypatch)

    gate = world.gate("firms")["firms"]

    assert not gate.success
    assert (gate.mode, gate.reason, gate.rows_validated, gate.row_count) == (
        "incremental", "no_new_rows", 0, 0)  # fmt: skip
    [count] = gate.failures
    assert (count.expectation_type, count.detail) == (quality_suite.ROW_COUNT, "observed: 0")
    page = gate.docs_page.read_text(encoding="utf-8")
    assert "无新增行，整表检查未通过" in page and "whole-table checks failed" in page
    # no pass recorded: the table's last pass is still the day before's
    assert (
        world.sql("SELECT processing_date FROM derivation_state WHERE step = 'gate:firms'")
        == passed_on
        != [(world.today,)]
    )
    assert not world.gate("firms")["firms"].success


@pytest.mark.parametrize("source", ["circulars", "inspector_conflicts"])
def test_a_duplicate_key_no_write_marked_fails_the_gate_without_new_rows(
    world: World, monkeypatch: pytest.MonkeyPatch, source: str
):
    """A duplicate made by hand or by a bug (no writer marked it) in a table nothing was
    written to: key uniqueness is judged on the whole table, GX or not."""
    world.gate(source)  # once whole (inspector_conflicts was never validated)
    key = CONTRACTS.source(source).key
    columns = ", ".join(key)
    if source == "circulars":  # two rows of one circular: the second takes the first's firm
        [(doc_no, first), (_, second)] = world.sql(
            "SELECT doc_no, uscc FROM circulars ORDER BY doc_no, uscc LIMIT 2")  # fmt: skip
        world.sql("UPDATE circulars SET uscc = ? WHERE uscc = ? AND doc_no = ?",
                  [first, second, doc_no])  # fmt: skip
    else:  # a row copied (the key holds a date: its JSON is text)
        world.sql(f"INSERT INTO {source} SELECT * FROM {source}")
    [duplicate] = world.sql(f"SELECT {columns} FROM {source} GROUP BY ALL HAVING count(*) > 1")
    forbid_gx(monkeypatch)

    gate = world.gate(source)[source]

    assert not gate.success and gate.reason == "no_new_rows"
    [found] = gate.failures
    kind = quality_suite.UNIQUE if len(key) == 1 else quality_suite.COMPOUND_UNIQUE
    assert (found.expectation_type, found.unexpected_count) == (kind, 2)
    assert found.offending_keys == (dict(zip(key, duplicate, strict=True)),)
    result = json.loads(gate.result_path.read_text(encoding="utf-8"))
    [judged] = [i for i in result["results"] if i["expectation_config"]["type"] == kind]
    shown = {
        k: v.isoformat() if isinstance(v, date) else v for k, v in found.offending_keys[0].items()
    }
    assert judged["result"]["partial_unexpected_index_list"] == [shown]


def test_a_contract_column_dropped_without_a_rebuild_fails_the_gate_without_new_rows(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    world.sql("ALTER TABLE firms DROP COLUMN district")
    forbid_gx(monkeypatch)

    gate = world.gate("firms")["firms"]

    assert not gate.success and gate.reason == "no_new_rows"
    [columns] = gate.failures
    assert columns.expectation_type == quality_suite.COLUMNS
    assert columns.detail is not None and '"missing": ["district"]' in columns.detail


# --- the incremental verdict is the full validation's, whatever happened -----------------------

RECEIVED = ("firms/名录.csv", "firms/补充.xlsx", "penalty_decisions/处罚_gbk.csv",
            "penalty_decisions/处罚补充.xlsx", "circulars/通报.csv")  # fmt: skip
"""The fixture's files of the gated sources that have accepted rows."""

ACT = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(sorted(NEW_FILES)), st.integers(1, 3)),
    st.tuples(st.just("withdraw"), st.sampled_from(RECEIVED), st.just(0)),
    st.tuples(st.just("withdraw_added"), st.just(""), st.just(0)),
    st.tuples(st.just("duplicate"), st.sampled_from(GATED), st.just(0)),
    st.tuples(st.just("delete"), st.sampled_from(GATED), st.just(0)),
    st.tuples(st.just("advance"), st.just(""), st.sampled_from([0, 1, 40])),
)
"""What can happen between two validations: a day's new documents, a received file (or one
added since) withdrawn, the date moving on, and — written by no clean step, so marked for
no validation — a row copied (a bug) or rows deleted (a restore gone wrong)."""


def act(world: World, number: int, kind: str, what: str, n: int) -> None:
    if kind == "add":
        world.add(what, f"p{number}.csv", *[f"新{number}-{i}号" for i in range(n)])
    elif kind == "withdraw":
        withdraw(world, what)
    elif kind == "withdraw_added":
        added = world.sql("SELECT file FROM landing_files WHERE file LIKE '%/p%.csv' ORDER BY ALL")
        if added:
            withdraw(world, added[-1][0])
    elif kind == "duplicate":
        world.sql(f'INSERT INTO "{what}" SELECT * FROM "{what}" LIMIT 1')
    elif kind == "delete":
        world.sql(f'DELETE FROM "{what}" WHERE rowid % 2 = 0')
    elif kind == "advance":
        world.today += timedelta(days=n)
    world.clean()


@pytest.mark.slow
@settings(
    max_examples=2,  # and the explicit examples
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each try is seconds
)
@given(acts=st.lists(ACT, min_size=1, max_size=3))
# the firm directory withdrawn: no row written (the gates have nothing for GX), but at least
# one firm is required
@example(acts=[("withdraw", "firms/名录.csv", 0), ("withdraw", "firms/补充.xlsx", 0)])
# a key copied in a table nothing is written to, then a day's documents of another source,
# rows of the directory lost, the date moving on
@example(acts=[("duplicate", "circulars", 0), ("add", "penalty_decisions", 2),
               ("delete", "firms", 0), ("advance", "", 1)])  # fmt: skip
def test_the_incremental_gate_gives_the_full_validations_verdict(
    first_day: Path, tmp_path_factory: pytest.TempPathFactory, acts: list
):
    """After each act the gate validates the warehouse as a run's checks do — GX on the rows
    written since the last pass, or on none (`validate_unchanged`) — and a copy whole, every
    row to GX: whether each table passed and which expectations failed must be the same."""
    root = tmp_path_factory.mktemp("acts")
    shutil.copytree(first_day, root / "world", ignore=shutil.ignore_patterns("reports"))
    world = World(root / "world", root / "world" / "warehouse.duckdb")
    for number, (kind, what, n) in enumerate(acts):
        act(world, number, kind, what, n)
        shutil.copy(world.file, root / "whole.duckdb")
        copy = Warehouse(path=str(root / "whole.duckdb"), reports_dir=str(root / "whole"))
        whole = {name: gate_source(copy, CONTRACTS.source(name), CONTRACTS, as_of=world.today,
                                   run_id=f"whole-{number}", full_run=True)
                 for name in GATED}  # fmt: skip
        for name, gate in world.gate().items():
            assert verdict(gate) == verdict(whole[name]), (
                f"after {acts[: number + 1]}: {name} ({gate.mode}, {gate.reason})"
            )


def verdict(gate: GateResult) -> tuple[bool, set[tuple[str, tuple[str, ...]]]]:
    """Whether a table passed, and which expectations failed."""
    return gate.success, {(f.expectation_type, f.columns) for f in gate.failures}


def _full_run(world: World) -> Contracts:
    world.clean(full=True)
    return CONTRACTS


def _suite_changed(world: World) -> Contracts:
    world.clean()
    return CONTRACTS.model_copy(update={"max_text_length": CONTRACTS.max_text_length - 1})


def _date_moved_back(world: World) -> Contracts:
    world.today -= timedelta(days=1)
    world.clean()
    return CONTRACTS


def _table_rebuilt(world: World) -> Contracts:
    world.clean(full=True)  # e.g. the contract changed: the clean step rebuilds every table
    return CONTRACTS


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        (_full_run, "full_run"),
        (_suite_changed, "suite_changed"),
        (_date_moved_back, "date_moved_back"),
        (_table_rebuilt, "table_rebuilt"),
    ],
    ids=["--full", "suite changed", "date moved back", "table rebuilt"],
)
def test_a_full_run_a_changed_suite_or_a_rebuilt_table_validates_everything(
    world: World, run, reason: str
):
    world.add("penalty_decisions", "day2.csv", "新1号")
    contracts = run(world)

    gates = world.gate(full_run=reason == "full_run", contracts=contracts)

    for name in ("penalty_decisions", "firms"):
        gate = gates[name]
        assert gate.success
        assert (gate.mode, gate.reason) == ("full", reason)
        assert gate.rows_validated == gate.row_count == world.rows(name) > 0
        result = json.loads(gate.result_path.read_text(encoding="utf-8"))
        assert not [i for i in result["results"] if i["meta"].get("whole_table")]  # all GX's
    assert "全量校验" in gates["firms"].docs_page.read_text(encoding="utf-8")
    # and it counts as a pass: the next validation with that suite is incremental
    after = world.gate("penalty_decisions", contracts=contracts)["penalty_decisions"]
    assert (after.mode, after.rows_validated) == ("incremental", 0)


def test_the_rows_of_a_failed_gate_are_validated_by_the_next_run(world: World):
    world.add("penalty_decisions", "day2.csv", "新1号", "新2号")
    world.clean()
    world.sql("UPDATE penalty_decisions SET procedure = '口头' WHERE doc_no = '新2号'")
    assert not world.gate("penalty_decisions")["penalty_decisions"].success
    world.sql("UPDATE penalty_decisions SET procedure = '普通' WHERE doc_no = '新2号'")  # fixed

    world.add("penalty_decisions", "day3.csv", "新3号")
    world.clean()
    gate = world.gate("penalty_decisions")["penalty_decisions"]

    assert gate.success and gate.mode == "incremental"
    assert gate.rows_validated == 3  # day 3's row and the two the failed validation left
    assert world.gate("penalty_decisions")["penalty_decisions"].rows_validated == 0


def test_a_staged_run_thrown_away_after_its_gate_failed_leaves_its_rows_to_the_next(
    world: World,
):
    """A staged run writes a copy of the warehouse; when its gate fails the copy is thrown
    away — marks and all — and the live derivation state did not move, so the next run
    writes, marks and validates the same key groups again."""
    live = world.file
    world.add("penalty_decisions", "day2.csv", "新1号", "新2号")
    copy, _ = staging.begin(live, "failing-run")
    world.file = copy
    world.clean()
    world.sql("UPDATE penalty_decisions SET procedure = '口头' WHERE doc_no = '新2号'")
    assert not world.gate("penalty_decisions")["penalty_decisions"].success
    staging.discard(copy)

    world.file = live
    world.add("penalty_decisions", "day3.csv", "新3号")
    world.clean()
    gate = world.gate("penalty_decisions")["penalty_decisions"]

    assert gate.success and (gate.mode, gate.rows_validated) == ("incremental", 3)


@pytest.mark.slow
def test_the_main_job_says_which_rows_each_gate_validated(fixture_landing: Path, tmp_path: Path):
    file = tmp_path / "warehouse.duckdb"
    defs = build_defs(
        warehouse=WarehouseResource(
            path=str(file), reports_dir=str(tmp_path / "reports"), staged=True
        ),
        landing=Landing(path=str(fixture_landing), today=PROCESSING_DATE),
    )

    def scopes(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
        assert result.success
        return {
            e.asset_key.to_user_string(): {k: v.value for k, v in e.metadata.items()}
            for e in result.get_asset_check_evaluations()
            if e.check_name == "gx_suite"
        }

    first = scopes(execute_main(defs))
    assert {m["validation_mode"] for m in first.values()} == {"full"}

    (fixture_landing / "penalty_decisions" / "day2.csv").write_text(
        penalties("沪国动罚〔2025〕9号"), encoding="utf-8"
    )
    second = scopes(execute_main(defs))
    penalty = second["penalty_decisions"]
    assert (penalty["validation_mode"], penalty["rows_validated"]) == ("incremental", 1)
    assert penalty["row_count"] == first["penalty_decisions"]["row_count"] + 1
    assert penalty["validation_scope"] == (
        f"增量校验：共 {penalty['row_count']} 行，校验其中 1 行（上次通过校验后写入的行） / "
        f"incremental: 1 of {penalty['row_count']} rows validated (rows written since the "
        "last pass)"
    )
    assert (second["firms"]["validation_mode"], second["firms"]["rows_validated"]) == (
        "incremental",
        0,
    )

    third = scopes(execute_main(defs, full=True))
    assert {m["validation_mode"] for m in third.values()} == {"full"}
    assert all("full rebuild run" in m["validation_scope"] for m in third.values())
    assert third["penalty_decisions"]["rows_validated"] == penalty["row_count"]
