"""How the dashboards show values: words for codes, the formats people expect, and the
movers counted by tier. Pure helpers of `dashboards.ui`, called outside a Streamlit session
(the language is then Chinese)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from dashboards.ui import EMPTY, audit_detail, formatted, tier_moves, without_codes
from models.rules import default_rule_set

pytestmark = pytest.mark.filterwarnings("ignore")  # no ScriptRunContext outside a session


def test_codes_dates_rates_flags_and_empty_cells() -> None:
    frame = pl.DataFrame(
        {
            "firm_type": ["design", "testing"],
            "status": ["active", None],
            "rule": ["penalty.fine_10k_50k", "commendation.区"],
            "as_of": [date(2025, 10, 23), None],
            "logged_at": [datetime(2025, 10, 23, 8, 30), None],
            "valid_doc_no_share": [0.9982, 0.03],
            "finding_rate": [0.25, None],
            "score": [72.0, 80.5],
            "veto": [True, False],
            "reason_code": ["duplicate_conflict", "missing_required"],
        }
    )
    shown, config = formatted(frame)
    rows = shown.to_dicts()
    assert (
        rows[0]["单位类型"] == "人防工程设计单位" and rows[1]["单位类型"] == "人防防护设备检测机构"
    )
    assert [r["状态"] for r in rows] == ["有效", EMPTY]  # "None" never shows
    assert [r["计分规则"] for r in rows] == ["行政处罚：较大罚款", "表彰奖励（区级）"]
    assert [r["评价日期"] for r in rows] == ["2025-10-23", EMPTY]  # not "2025-10-23 00:00:00"
    assert rows[0]["记录时间"] == "2025-10-23 08:30"
    assert [r["文号合规率"] for r in rows] == pytest.approx([99.82, 3.0])  # shown as 99.8%
    assert config["文号合规率"]["type_config"]["format"] == "%.1f%%"
    assert [r["问题发现率"] for r in rows] == ["25.0%", EMPTY]  # a column with a gap is text
    assert config["信用得分"]["type_config"]["format"] == "%.1f"
    assert [r["一票否决"] for r in rows] == ["是", "否"]
    assert [r["原因类别"] for r in rows] == ["同号内容冲突", "必填项为空"]


def test_two_columns_with_one_label_are_told_apart() -> None:
    shown, _ = formatted(pl.DataFrame({"name": ["甲"], "firm_name": ["乙"]}))
    assert len(set(shown.columns)) == 2 and shown.columns[0] == "单位名称"


def test_movers_are_counted_by_tier_not_by_score() -> None:
    movers = pl.DataFrame(
        {
            "from_tier": ["D", "B", "C", "A"],
            "to_tier": ["C", "C", "B", "B"],
            "from_score": [44.0, 66.0, 60.0, 86.0],
            "to_score": [40.0, 64.0, 66.0, 84.0],  # D → C by a repair, yet a lower score
        }
    )
    assert tier_moves(movers, default_rule_set()) == (2, 2)


def test_stored_messages_lose_the_codes_they_quote() -> None:
    assert without_codes("表彰日期(awarded_on)：日期晚于处理当日") == "表彰日期：日期晚于处理当日"
    assert without_codes("早于下达日期(issued_on)") == "早于下达日期"


def test_an_audit_entry_reads_as_sentences_with_labels_flags_and_counted_lists() -> None:
    detail = {
        "as_of": "2026-06-30",
        "since": None,
        "counts": {"public": 3, "expired": 1, "withdrawal_late": 0},
        "changes": {"published": [f"沪国动罚〔2025〕{n}号" for n in range(1, 8)]},
        "accepted_changes": False,
        "changed_rows": {"penalty_decisions": 3},
        "what": "penalty_feed",
        "step": "notice",
    }
    shown = audit_detail(detail)
    assert shown.startswith("评价日期：2026-06-30；")
    assert "上次公示截至" not in shown  # empty values are left out
    assert "条数：公示中 3，公示期满已下线 1，逾期撤回 0" in shown
    assert "新公示 沪国动罚〔2025〕1号、" in shown and "等 7 项" in shown
    assert "沪国动罚〔2025〕6号" not in shown
    assert "已确认超限变更：否" in shown and "变更行数：行政处罚决定书 3" in shown
    assert "内容：行政处罚信息公示" in shown and "步骤：已告知" in shown
    assert audit_detail({}) == "—"
