"""The objection clock: each 异议's deadline from the rule set in force when it was filed."""

from __future__ import annotations

from datetime import date

import polars as pl
import yaml

from models.objections import OBJECTION_DEADLINE_SCHEMA, objection_deadlines, open_objections
from models.rules import default_rule_set, parse_rule_set

U1 = "91310115MA1FL07778"


def _cases(*rows: tuple[str, str, date, date | None, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"case_id": c, "uscc": U1, "kind": k, "record_doc_no": "D", "filed_on": f,
          "decided_on": d, "decision": x, "note": None} for c, k, f, d, x in
         [(r[0], r[1], r[2], r[3], r[4]) for r in rows]]
    )  # fmt: skip


def test_deadlines_and_states_as_of_a_date():
    rules = default_rule_set()
    cases = _cases(
        ("Y1", "异议", date(2025, 3, 1), None, None),  # due 2025-03-21, still open on 03-10
        ("Y2", "异议", date(2025, 1, 2), None, None),  # due 01-22: overdue by 03-10
        ("Y3", "异议", date(2025, 1, 2), date(2025, 1, 20), "维持"),  # decided in time
        ("Y4", "异议", date(2025, 1, 2), date(2025, 2, 1), "撤销"),  # decided 10 days late
        ("Y5", "异议", date(2025, 3, 1), date(2025, 3, 15), "撤销"),  # decided after as-of
        ("R1", "信用修复", date(2025, 1, 2), None, None),  # a repair: no objection clock
    )
    found = objection_deadlines(cases, [(date(2021, 1, 1), rules)], date(2025, 3, 10))
    assert found.schema == OBJECTION_DEADLINE_SCHEMA
    rows = {r["case_id"]: r for r in found.to_dicts()}
    assert set(rows) == {"Y1", "Y2", "Y3", "Y4", "Y5"}
    assert (rows["Y1"]["deadline"], rows["Y1"]["state"]) == (date(2025, 3, 21), "open")
    assert (rows["Y2"]["state"], rows["Y2"]["days_overdue"]) == ("overdue", 47)
    assert rows["Y3"]["state"] == "decided"
    assert (rows["Y4"]["state"], rows["Y4"]["days_overdue"]) == ("decided_late", 10)
    assert (rows["Y5"]["state"], rows["Y5"]["decided_on"]) == ("open", None)
    assert open_objections(found)["case_id"].to_list() == ["Y2", "Y1", "Y5"]


def test_a_rule_set_counting_working_days_judges_the_objections_filed_under_it():
    data = yaml.safe_load(default_rule_set().canonical_json())
    data.update(version="wd", effective_from="2025-01-01")
    data["objection"] = {"decision_days": 5, "working_days": True, "blocks": []}
    working = parse_rule_set(yaml.safe_dump(data, allow_unicode=True))
    adopted = [(date(2021, 1, 1), default_rule_set()), (date(2025, 9, 1), working)]
    cases = _cases(
        ("Y1", "异议", date(2025, 8, 29), None, None),  # calendar: 20 days
        ("Y2", "异议", date(2025, 9, 30), None, None),  # 5 working days over the National Day
    )
    rows = {
        r["case_id"]: r for r in objection_deadlines(cases, adopted, date(2025, 10, 1)).to_dicts()
    }
    assert (rows["Y1"]["deadline"], rows["Y1"]["rule_set_version"]) == (
        date(2025, 9, 18), default_rule_set().version,
    )  # fmt: skip
    # 2025-10-01 … 08 are holidays, 09-28 and 10-11 make-up working days: 10-09, 10, 11, 13, 14
    assert (rows["Y2"]["deadline"], rows["Y2"]["rule_set_version"]) == (date(2025, 10, 14), "wd")
