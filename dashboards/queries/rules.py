"""The rule set behind the scores shown: tier labels and thresholds as they were when scored.

Each score row names its `rule_set_version`, and the warehouse keeps every rule set that
scored (`rule_sets`); pages read labels and thresholds from there, never from the packaged
default, so a run with another rule file cannot make labels and scores disagree.
"""

from __future__ import annotations

from datetime import date

import duckdb

from models.rules import RuleSet, default_rule_set
from warehouse.connection import table_exists
from warehouse.credit import stored_rule_set


def rules_as_of(con: duckdb.DuckDBPyConnection, as_of: date | None) -> RuleSet:
    """The rule set of the scores as of `as_of` (the latest scores if None).

    A warehouse without scores (or written before rule sets were registered) shows the
    packaged default's labels: there is no stored score they could contradict.
    """
    if not table_exists(con, "credit_scores"):
        return default_rule_set()
    rows = con.execute(
        "SELECT rule_set_version FROM credit_scores "
        "WHERE as_of = coalesce(?::DATE, (SELECT max(as_of) FROM credit_scores)) LIMIT 1",
        [as_of],
    ).fetchall()
    stored = stored_rule_set(con, rows[0][0]) if rows else None
    return stored or default_rule_set()
