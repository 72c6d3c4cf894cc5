"""The annual review (评议) report: document-number shape, intake delay, totals.

Expected numbers are worked out by hand below from the 2024 calendar around the Spring Festival:

    Feb  1 Thu W | 2 Fri W | 3 Sat - | 4 Sun W (调休) | 5-9 Mon-Fri W
    Feb 10-17 off (Spring Festival, incl. the weekends) | 18 Sun W (调休) | 19-23 Mon-Fri W
    Feb 24-25 weekend | Feb 26 - Mar 1 Mon-Fri W | Mar 2-3 weekend | Mar 4-8 Mon-Fri W
    Mar 9-10 weekend | Mar 11-12 Mon-Tue W

A delay counts the working days after the decision up to and including collection.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from models.review import (
    REVIEW_COLUMNS_ZH,
    SOURCE_LABELS_ZH,
    SOURCES,
    is_valid_doc_no,
    review_report,
)
from models.workdays import working_day_calendar

CALENDAR = working_day_calendar(date(2024, 1, 1), date(2024, 12, 31))

EVIDENCE_SCHEMA = {
    "source": pl.String,
    "doc_no": pl.String,
    "authority": pl.String,
    "decided_on": pl.Date,
    "collected_on": pl.Date,
}

SH = "上海市国防动员办公室"
PD = "浦东新区民防办"
MF = "上海市民防办公室"

# fmt: off
EVIDENCE = pl.DataFrame(
    [
        # 1. (Fri 02-02, Sun 02-04]: 02-04 (调休) = 1.
        ("penalty_decisions", "沪国动罚〔2024〕12号", SH, date(2024, 2, 2), date(2024, 2, 4)),
        # 2. (Thu 02-08, Mon 02-19]: 02-09, 02-18, 02-19 = 3 (11 calendar days, within 7 WD).
        ("penalty_decisions", "沪国动罚〔2024〕13号", SH, date(2024, 2, 8), date(2024, 2, 19)),
        # 3. (Fri 02-02, Tue 02-20]: 02-04..09 (6) + 02-18..20 (3) = 9 > 7. Two-digit year.
        ("penalty_decisions", "沪国动罚〔24〕14号", SH, date(2024, 2, 2), date(2024, 2, 20)),
        # 4. (Thu 02-01, Fri 03-08]: 02-02 (1) + 02-04..09 (6) + 02-18..23 (6)
        #    + 02-26..03-01 (5) + 03-04..08 (5) = 23 > 20. Quarantined: no doc_no.
        ("penalty_decisions", None, SH, date(2024, 2, 1), date(2024, 3, 8)),
        # 5. (Fri 03-01, Tue 03-12]: 03-04..08 (5) + 03-11..12 (2) = 7: on the limit, not over.
        ("penalty_decisions", "沪国动罚〔2024〕30号", SH, date(2024, 3, 1), date(2024, 3, 12)),
        # 6. No decision date, no authority: month 未知, authority 未填写, delay missing.
        ("penalty_decisions", "浦民防罚〔2024〕1号", None, None, date(2024, 3, 5)),
        # 7. (Thu 02-01, Tue 03-05]: as row 4 up to 03-01 = 18, + 03-04, 03-05 = 20: not over 20.
        ("correction_notices", "浦民防责改字〔2024〕2号", PD, date(2024, 2, 1), date(2024, 3, 5)),
        # 8. (Mon 02-05, Mon 03-04]: 02-06..09 (4) + 02-18..23 (6) + 02-26..03-01 (5)
        #    + 03-04 (1) = 16.
        ("correction_notices", "浦民防责改字〔2024〕3号", PD, date(2024, 2, 5), date(2024, 3, 4)),
        # 9. (Thu 02-01, Wed 03-06]: row 7's 20 + 03-06 = 21 > 20.
        ("circulars", "沪民防〔2024〕第57号", MF, date(2024, 2, 1), date(2024, 3, 6)),
        # 10. Not collected yet: delay missing. Empty doc_no is not a valid one.
        ("circulars", "", MF, date(2024, 2, 7), None),
    ],
    schema=EVIDENCE_SCHEMA,
    orient="row",
)

EXPECTED = pl.DataFrame(
    [
        # source, authority, month, records, valid, valid share, median, max,
        # >7, >20, >7 share, >20 share, missing dates
        # Rows 1-4: delays 1, 3, 9, 23 -> median (3 + 9) / 2; valid doc_no in rows 1, 2.
        ("penalty_decisions", SH, "2024-02", 4, 2, 2 / 4, 6.0, 23, 2, 1, 2 / 4, 1 / 4, 0),
        # Row 5.
        ("penalty_decisions", SH, "2024-03", 1, 1, 1.0, 7.0, 7, 0, 0, 0.0, 0.0, 0),
        # Rows 1-5: delays 1, 3, 7, 9, 23; valid in rows 1, 2, 5.
        ("penalty_decisions", SH, "全部", 5, 3, 3 / 5, 7.0, 23, 2, 1, 2 / 5, 1 / 5, 0),
        # Row 6: nothing measurable, so no median and no shares.
        ("penalty_decisions", "未填写", "未知", 1, 1, 1.0, None, None, 0, 0, None, None, 1),
        ("penalty_decisions", "未填写", "全部", 1, 1, 1.0, None, None, 0, 0, None, None, 1),
        # Rows 1-6: 5 measurable delays as for rows 1-5.
        ("penalty_decisions", "全部", "全部", 6, 4, 4 / 6, 7.0, 23, 2, 1, 2 / 5, 1 / 5, 1),
        # Rows 7-8: delays 20, 16.
        ("correction_notices", PD, "2024-02", 2, 2, 1.0, 18.0, 20, 2, 0, 1.0, 0.0, 0),
        ("correction_notices", PD, "全部", 2, 2, 1.0, 18.0, 20, 2, 0, 1.0, 0.0, 0),
        ("correction_notices", "全部", "全部", 2, 2, 1.0, 18.0, 20, 2, 0, 1.0, 0.0, 0),
        # Rows 9-10: one measurable delay, 21.
        ("circulars", MF, "2024-02", 2, 1, 1 / 2, 21.0, 21, 1, 1, 1.0, 1.0, 1),
        ("circulars", MF, "全部", 2, 1, 1 / 2, 21.0, 21, 1, 1, 1.0, 1.0, 1),
        ("circulars", "全部", "全部", 2, 1, 1 / 2, 21.0, 21, 1, 1, 1.0, 1.0, 1),
        # All 10: delays 1, 3, 7, 9, 16, 20, 21, 23 -> median (9 + 16) / 2; >7: 9, 16, 20, 21,
        # 23; >20: 21, 23; valid doc_no in rows 1, 2, 5, 6, 7, 8, 9.
        ("全部", "全部", "全部", 10, 7, 7 / 10, 12.5, 23, 5, 2, 5 / 8, 2 / 8, 2),
    ],
    schema={
        "source": pl.String,
        "authority": pl.String,
        "month": pl.String,
        "records": pl.Int64,
        "with_valid_doc_no": pl.Int64,
        "valid_doc_no_share": pl.Float64,
        "delay_median_wd": pl.Float64,
        "delay_max_wd": pl.Int64,
        "over_7_wd": pl.Int64,
        "over_20_wd": pl.Int64,
        "over_7_share": pl.Float64,
        "over_20_share": pl.Float64,
        "missing_dates": pl.Int64,
    },
    orient="row",
)
# fmt: on


def test_review_report_golden_case() -> None:
    assert_frame_equal(review_report(EVIDENCE, CALENDAR), EXPECTED)


def test_review_report_does_not_depend_on_input_order() -> None:
    shuffled = EVIDENCE.sample(fraction=1.0, shuffle=True, seed=7)
    assert_frame_equal(review_report(shuffled, CALENDAR), EXPECTED)


def test_review_report_empty_evidence_still_has_a_grand_total() -> None:
    report = review_report(pl.DataFrame(schema=EVIDENCE_SCHEMA), CALENDAR)
    assert report.rows() == [
        ("全部", "全部", "全部", 0, 0, None, None, None, 0, 0, None, None, 0),
    ]


def test_review_report_blank_authority_is_unfilled() -> None:
    evidence = pl.DataFrame(
        [("circulars", "沪民防〔2024〕第57号", "", date(2024, 3, 1), date(2024, 3, 4))],
        schema=EVIDENCE_SCHEMA,
        orient="row",
    )
    report = review_report(evidence, CALENDAR)
    assert report.get_column("authority").to_list() == ["未填写", "未填写", "全部", "全部"]


def test_review_report_rejects_unknown_source() -> None:
    evidence = EVIDENCE.with_columns(pl.lit("commendations").alias("source"))
    with pytest.raises(ValueError, match="commendations"):
        review_report(evidence, CALENDAR)


def test_review_report_rejects_calendar_not_covering_dates() -> None:
    short = working_day_calendar(date(2024, 1, 1), date(2024, 3, 10))  # 03-12 is outside
    with pytest.raises(ValueError, match="does not cover collected_on"):
        review_report(EVIDENCE, short)


def test_review_report_rejects_missing_columns() -> None:
    with pytest.raises(ValueError, match="collected_on"):
        review_report(EVIDENCE.drop("collected_on"), CALENDAR)


def test_chinese_labels_cover_the_report() -> None:
    assert list(REVIEW_COLUMNS_ZH) == EXPECTED.columns
    assert len(set(REVIEW_COLUMNS_ZH.values())) == len(REVIEW_COLUMNS_ZH)
    assert tuple(SOURCE_LABELS_ZH) == SOURCES
    assert SOURCE_LABELS_ZH["penalty_decisions"] == "行政处罚决定书"


# --- document numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc_no",
    [
        "沪国动罚〔2024〕12号",
        "柳人防罚决字[2020]第1号",
        "青国动〔2023〕13号",
        "浦民防责改字〔2023〕12号",
        "沪民防改〔2023〕第57号",
        # Every bracket form, full-width ones included (NFKC may or may not have run on them).
        "沪国动罚[2024]12号",
        "沪国动罚［2024］12号",
        "沪国动罚(2024)12号",
        "沪国动罚（2024）12号",
        "沪国动罚【2024】12号",
    ],
)
def test_valid_doc_no_accepts(doc_no: str) -> None:
    assert _check(doc_no) is True


@pytest.mark.parametrize(
    "doc_no",
    [
        None,
        "",
        "   ",
        "12号",
        "罚字2024-12",
        "沪国动罚〔24〕12号",  # two-digit year
        "沪国动罚〔2024〕号",  # no serial number
        "沪国动罚〔2024〕12",  # no 号
        "〔2024〕12号",  # no issuer
        "沪国动罚〔2024]12号",  # brackets that do not pair up
        "沪国动罚2024第12号",  # no brackets
        "沪国动罚〔2024〕12号附件",  # trailing text
    ],
)
def test_valid_doc_no_rejects(doc_no: str | None) -> None:
    assert _check(doc_no) is False


def _check(doc_no: str | None) -> bool | None:
    frame = pl.DataFrame({"doc_no": [doc_no]}, schema={"doc_no": pl.String})
    return frame.select(is_valid_doc_no(pl.col("doc_no"))).item()
