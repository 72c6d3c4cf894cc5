"""`credit_records` derived in parts (one source's documents of one slice of firms at a time)
stores the same records as one pass over every source — the pure `derive_credit_records`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from fixtures.landing import PROCESSING_DATE

import pipelines.assets.credit as credit
import warehouse.credit as credit_store
from models.credit_records import derive_credit_records
from models.rules import default_rule_set
from pipelines.definitions import build_defs, execute_main
from pipelines.resources import Landing, Rules, Warehouse
from warehouse.connection import query
from warehouse.credit import read_sources

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

KEY = ["uscc", "record_id", "segment"]


def test_records_in_many_slices_equal_one_pass(
    fixture_landing: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = Warehouse(path=str(warehouse_path), reports_dir=str(warehouse_path.parent / "r"))
    landing = Landing(path=str(fixture_landing), today=PROCESSING_DATE)
    assert execute_main(build_defs(warehouse=warehouse, landing=landing)).success
    with warehouse.connect(read_only=True) as con:
        whole = derive_credit_records(read_sources(con), default_rule_set())
        one_pass = query(con, "SELECT * FROM credit_records")
    assert one_pass.sort(KEY).equals(whole.sort(KEY))

    monkeypatch.setattr(credit_store, "DOCUMENTS_PER_PART", 1)  # as many slices as documents
    result = dg.materialize(
        [credit.credit_records], resources={"warehouse": warehouse, "rules": Rules()}
    )
    assert result.success
    sliced = warehouse.read_table("credit_records")
    assert sliced.height == whole.height >= 5
    assert sliced.sort(KEY).equals(whole.sort(KEY))
    # Each part is stored sorted; the parts follow the sources' order.
    sources = sliced.get_column("source")
    assert sources.unique(maintain_order=True).to_list() == [
        s for s in credit_store.RECORD_SOURCES if s in set(sources)
    ]
    assert sliced.select(pl.col("source").rle_id()).n_unique() == sources.n_unique()
