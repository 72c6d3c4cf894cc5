"""`models.conflicts.open_conflicts`: a case or follow-up naming no known document is open,
one naming a known one is not — however many times the documents hold that number."""

import polars as pl

from models.conflicts import OPEN_CONFLICT_SCHEMA, open_conflicts

QUARANTINE = pl.DataFrame(
    {
        "reason_code": ["duplicate_conflict", "unknown_inspector", "bad_date"],
        "source": ["penalty_decisions", "inspection_outcomes", "circulars"],
        "raw_value": ["P-1", "I-9", "C-1"],
        "reason": ["同号异文", "检查员未知", "日期"],
        "reason_en": ["restated", "unknown inspector", "date"],
        "file": ["a.csv", "b.csv", "c.csv"],
        "row_number": [2, 3, 4],
    }
)
CASES = pl.DataFrame(
    {
        "case_id": ["K1", "K2", "K3", "K4"],
        "uscc": ["F1", "F1", "F2", "F2"],
        # K2 names F2's document for F1; K4 names no document at all
        "record_doc_no": ["P-1", "P-2", "P-2", None],
        "source_file": ["cases.csv"] * 4,
        "source_row": [2, 3, 4, 5],
    }
)
OUTCOMES = pl.DataFrame(
    {
        "inspection_id": ["I1", "I2", "I3"],
        "uscc": ["F1", "F2", "F2"],
        "followup_doc_no": ["C-1", "X-9", None],
        "source_file": ["outcomes.csv"] * 3,
        "source_row": [2, 3, 4],
    }
)


def _documents(copies: int) -> dict[str, pl.DataFrame]:
    """Each document `copies` times (a number restated in several files or sources)."""
    penalties = pl.DataFrame({"doc_no": ["P-1", "P-2"], "uscc": ["F1", "F2"]})
    circulars = pl.DataFrame({"doc_no": ["C-1"], "uscc": ["F1"]})
    return {
        "penalty_decisions": pl.concat([penalties] * copies),
        "correction_notices": pl.DataFrame(schema={"doc_no": pl.Utf8, "uscc": pl.Utf8}),
        "circulars": pl.concat([circulars] * copies),
    }


def test_cases_and_follow_ups_naming_nothing_known_are_open_once() -> None:
    found = open_conflicts(QUARANTINE, CASES, OUTCOMES, _documents(1))
    assert found.schema == OPEN_CONFLICT_SCHEMA
    assert found.select("kind", "key").rows() == [
        ("key_conflict", "P-1"),
        ("unknown_document", "K2"),
        ("unknown_document", "K4"),
        ("unknown_followup", "I2"),
        ("unknown_inspector", "I-9"),
    ]
    assert open_conflicts(QUARANTINE, CASES, OUTCOMES, _documents(3)).equals(found)
