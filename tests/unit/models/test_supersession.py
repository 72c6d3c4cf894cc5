"""What a withdrawal or a new version of a file means for its rows, period by period."""

from __future__ import annotations

from datetime import date

import polars as pl

from models.contracts import default_contracts
from models.credit_records import conform_source
from models.supersession import assemble, boundaries, files_in_force

SOURCE = default_contracts().source("circulars")


def rows(*items: tuple[str, str, str]) -> pl.DataFrame:
    """(doc_no, summary, collected_on) circulars of one firm, every other column empty."""
    frame = pl.DataFrame(
        {
            "doc_no": [d for d, _, _ in items],
            "uscc": ["91310115MA1FL07778"] * len(items),
            "summary": [s for _, s, _ in items],
            "collected_on": [date.fromisoformat(c) for _, _, c in items],
        },
        schema={"doc_no": pl.Utf8, "uscc": pl.Utf8, "summary": pl.Utf8, "collected_on": pl.Date},
    )
    return conform_source(frame, "circulars").collect()


def test_unchanged_rows_continue_changed_ones_count_from_the_change() -> None:
    before = rows(("1号", "同", "2024-01-05"), ("2号", "旧", "2024-02-05"))
    after = rows(("1号", "同", "2024-01-05"), ("2号", "新", "2024-02-05"))
    current, retired = assemble([(None, before), (date(2025, 3, 1), after)], SOURCE)
    collected = dict(zip(current["doc_no"], current["collected_on"], strict=True))
    assert collected == {"1号": date(2024, 1, 5), "2号": date(2025, 3, 1)}
    assert retired.select("doc_no", "summary", "retired_on").rows() == [
        ("2号", "旧", date(2025, 3, 1))
    ]


def test_a_row_resolved_by_a_later_period_counts_from_that_day_only() -> None:
    nothing = rows()
    resolved = rows(("3号", "争议已解决", "2024-06-01"))
    current, retired = assemble([(None, nothing), (date(2025, 1, 10), resolved)], SOURCE)
    assert current["collected_on"].to_list() == [date(2025, 1, 10)]
    assert retired.is_empty()


def test_the_files_in_force_change_on_each_event_day() -> None:
    status = pl.DataFrame(
        {
            "file_sha256": ["old", "new", "other"],
            "retired_on": [date(2025, 3, 1), None, date(2025, 6, 1)],
            "superseding": [False, True, False],
            "first_seen_on": [date(2024, 1, 1), date(2025, 3, 1), date(2024, 1, 1)],
        }
    )
    assert boundaries(status, date(2025, 12, 31)) == [date(2025, 3, 1), date(2025, 6, 1)]
    assert files_in_force(status, date(2025, 2, 28)) == ["old", "other"]
    assert files_in_force(status, date(2025, 3, 1)) == ["new", "other"]
    assert files_in_force(status, date(2025, 6, 1)) == ["new"]
