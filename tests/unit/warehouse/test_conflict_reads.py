"""`warehouse.conflicts.conflict_inputs` reads only the cases and follow-ups no document
matches: the open conflicts from those reads equal the ones from every row of every table."""

from __future__ import annotations

import duckdb
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from models.conflicts import open_conflicts
from warehouse.catalogue import schema_of
from warehouse.conflicts import DOCUMENT_SOURCES, conflict_inputs
from warehouse.connection import query
from warehouse.tables import ensure_tables, insert

DOCS = st.sampled_from(["D1", "D2", "D3", "D4", None])
FIRMS = st.sampled_from(["F1", "F2", None])


def _frame(name: str, columns: dict[str, list[object]], n: int) -> pl.DataFrame:
    schema = schema_of(name)
    data = {c: columns.get(c, [None] * n) for c in schema}
    return pl.DataFrame(data, schema=schema)


@settings(max_examples=60, deadline=None)
@given(
    cases=st.lists(st.tuples(DOCS, FIRMS), max_size=6),
    followups=st.lists(st.tuples(DOCS, FIRMS), max_size=6),
    documents=st.lists(st.tuples(st.sampled_from(DOCUMENT_SOURCES), DOCS, FIRMS), max_size=8),
)
def test_the_conflicts_from_the_narrow_reads_equal_those_from_every_row(
    cases: list[tuple[str | None, str | None]],
    followups: list[tuple[str | None, str | None]],
    documents: list[tuple[str, str | None, str | None]],
) -> None:
    con = duckdb.connect()
    ensure_tables(con, ["quarantine", "credit_cases", "inspection_outcomes", *DOCUMENT_SOURCES])
    rows = {
        "credit_cases": {
            "case_id": [f"K{i}" for i in range(len(cases))],
            "record_doc_no": [d for d, _ in cases],
            "uscc": [u for _, u in cases],
            "source_file": ["cases.csv"] * len(cases),
            "source_row": list(range(len(cases))),
        },
        "inspection_outcomes": {
            "inspection_id": [f"I{i}" for i in range(len(followups))],
            "followup_doc_no": [d for d, _ in followups],
            "uscc": [u for _, u in followups],
            "source_file": ["outcomes.csv"] * len(followups),
            "source_row": list(range(len(followups))),
        },
    }
    for name in DOCUMENT_SOURCES:
        held = [(d, u) for s, d, u in documents if s == name]
        rows[name] = {"doc_no": [d for d, _ in held], "uscc": [u for _, u in held]}
    for name, columns in rows.items():
        n = len(next(iter(columns.values())))
        insert(con, name, _frame(name, columns, n), schema_of(name))
    everything = open_conflicts(
        query(con, "SELECT * FROM quarantine"),
        query(con, "SELECT * FROM credit_cases"),
        query(con, "SELECT * FROM inspection_outcomes"),
        {n: query(con, f'SELECT * FROM "{n}"') for n in DOCUMENT_SOURCES},
    )
    assert open_conflicts(*conflict_inputs(con)).equals(everything)
    con.close()
