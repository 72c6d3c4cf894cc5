"""The rule set as data: the shipped default loads, its lookups read it as docs/rules.md says, and a
malformed rule set fails with a message that names the offending field."""

from __future__ import annotations

from importlib import resources
from typing import Any

import polars as pl
import pytest
import yaml

from models.rules import RuleSetError, default_rule_set, parse_rule_set


def _default_data() -> dict[str, Any]:
    text = resources.files("models").joinpath("rulesets", "default.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True)


# --- the shipped rule set --------------------------------------------------------------------


def test_default_rule_set_holds_the_design_numbers() -> None:
    rules = default_rule_set()
    assert rules.version == "default-2026.1"
    assert (rules.score.base, rules.score.bonus_cap) == (70, 30)
    assert rules.tier_names == ("A", "B", "C", "D")
    assert [t.min_score for t in rules.tiers] == [85, 65, 45, 0]
    assert {k: (s.points, s.months) for k, s in rules.severities.items()} == {
        "L1": (2, 6),
        "L2": (5, 12),
        "L3": (10, 24),
        "L4": (20, 36),
    }
    assert rules.veto_tier == "D"
    assert rules.refusal_months == 36  # 24 × 1.5
    assert default_rule_set() is rules  # cached


@pytest.mark.parametrize(
    ("score", "tier"),
    [(100.0, "A"), (85.0, "A"), (84.99, "B"), (70.0, "B"), (65.0, "B"), (64.99, "C"),
     (45.0, "C"), (44.99, "D"), (0.0, "D"), (None, None)],
)  # fmt: skip
def test_tier_of_a_score_is_the_first_threshold_reached(score: float | None, tier: str) -> None:
    rules = default_rule_set()
    frame = pl.DataFrame({"score": [score]}, schema={"score": pl.Float64})
    got = frame.select(rules.tier_expr(pl.col("score"))).item()
    assert got == tier


@pytest.mark.parametrize(("tier", "rank"), [("A", 0), ("B", 1), ("C", 2), ("D", 3)])
def test_tier_rank_is_zero_for_the_best(tier: str, rank: int) -> None:
    rules = default_rule_set()
    assert rules.tier_rank(tier) == rank
    assert pl.select(rules.tier_rank_expr(pl.lit(tier))).item() == rank


@pytest.mark.parametrize(
    ("severity", "category", "veto", "months"),
    [
        ("L1", "监理未履行职责", False, 3),
        ("L3", None, False, 3),
        ("L4", None, False, 12),
        (None, "拒绝阻碍监督检查", True, 12),  # a veto record
        ("L2", "发生重大质量安全事故", False, 12),  # a safety category
        ("L3", "生产销售不合格防护设备", False, 12),
        (None, None, None, 3),  # a null veto flag is no veto
    ],
)
def test_repair_minimum_period(
    severity: str | None, category: str | None, veto: bool | None, months: int
) -> None:
    frame = pl.DataFrame(
        {"severity": [severity], "category": [category], "veto": [veto]},
        schema={"severity": pl.Utf8, "category": pl.Utf8, "veto": pl.Boolean},
    )
    expr = default_rule_set().repair_min_months(
        pl.col("severity"), pl.col("category"), pl.col("veto")
    )
    assert frame.select(expr).item() == months


@pytest.mark.parametrize(
    ("months", "extension", "expected"),
    [(24, 0.5, 36), (30, 0.25, 38), (30, 0.1, 33), (24, 0.0, 24)],
)
def test_refusal_window_is_whole_months_rounded_half_up(
    months: int, extension: float, expected: int
) -> None:
    data = _default_data()
    data["severities"]["L3"]["months"] = months
    data["corrections"]["refusal_extension"] = extension
    assert parse_rule_set(_dump(data)).refusal_months == expected


def test_never_rectified_review_results_default_when_absent() -> None:
    data = _default_data()
    del data["corrections"]["never_rectified_review_results"]
    assert parse_rule_set(_dump(data)).corrections.never_rectified_review_results == ("逾期未改",)


def test_rule_set_is_frozen() -> None:
    rules = default_rule_set()
    with pytest.raises(ValueError, match="frozen"):
        rules.score.base = 60  # type: ignore[misc]  # the frozen model must refuse this write


# --- malformed rule sets name their field ----------------------------------------------------


def _set(path: str, value: Any) -> dict[str, Any]:
    """The default data with `path` (dot-separated, list indexes as numbers) set to `value`;
    the value `...` deletes the field."""
    data = _default_data()
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    key_or_index: Any = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key_or_index]
    else:
        node[key_or_index] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("tiers.1.min_score", 90, "tiers.1.min_score: 90.0 must be below tiers.0.min_score"),
        ("tiers.2.min_score", 65, "tiers.2.min_score"),
        ("tiers.3.min_score", 10, "tiers.3.min_score: 10.0 is above score.min"),
        ("tiers.2.tier", "A", "tiers.2.tier: duplicate tier 'A'"),
        ("tiers", [], "tiers: Tuple should have at least 1 item"),
        ("veto_tier", "E", "veto_tier: 'E' is not one of the tiers"),
        ("severities.L5", {"label_zh": "x", "points": 1, "months": 1}, "severities.L5: unknown"),
        ("severities.L3", ..., "severities.L3: missing"),
        ("severities.L1.months", 0, "severities.L1.months: Input should be greater than 0"),
        ("severities.L2.points", -5, "severities.L2.points"),
        ("corrections.on_time_severity", "L9", "corrections.on_time_severity: unknown severity"),
        ("corrections.failed_severity", "L0", "corrections.failed_severity: unknown severity"),
        ("circulars.criticism_severity", "L7", "circulars.criticism_severity: unknown"),
        ("inspections.not_found_severity", "X", "inspections.not_found_severity: unknown"),
        ("repair.severe_severities", ["L4", "L8"], "repair.severe_severities: unknown severity"),
        ("bonuses.协会", ..., "bonuses.协会: missing"),
        ("bonuses.clean_inspection", ..., "bonuses.clean_inspection: missing"),
        ("bonuses.区.months", -1, "bonuses.区.months"),
        ("repeat.multiplier", 0.9, "repeat.multiplier: Input should be greater than or equal to 1"),
        ("repeat.window_months", 0, "repeat.window_months"),
        ("veto.months", 0, "veto.months"),
        ("repair.min_months", 0, "repair.min_months"),
        ("penalties.l3_fine_from", 60000, "penalties.l3_fine_from: 60000.0 is above"),
        ("score.min", 100, "score: min (100.0) must be below max (100.0)"),
        ("score.colour", "red", "score.colour: Extra inputs are not permitted"),
        ("version", ..., "version: Field required"),
        ("effective_from", "soon", "effective_from"),
        # issue 14's sections
        ("objection.blocks", ["veto", "scores"], "objection: blocks.1: 'scores' is not one of"),
        ("publication.audiences.public.tiers", ["A", "E"],
         "publication.audiences.public.tiers.1: 'E' is not one of the tiers"),
        ("publication.audiences.public.fields", ["address"],
         "publication.audiences.public: fields.0: 'address' is not one of"),
        ("publication.audiences.public.lists", ["blacklist"], "lists.0: 'blacklist' is not one of"),
        ("publication.audiences.association", ..., "publication: audiences.association: missing"),
        ("penalties.fine_limits.0.categories", [],
         "penalties.fine_limits.1: only one limit may leave `categories` empty"),
        ("penalties.no_penalty_severity", "L7", "penalties.no_penalty_severity: unknown severity"),
        ("disclosure.period_months.L2", ..., "disclosure.period_months.L2: missing"),
        ("same_fact.circulars.within_days", -1, "same_fact.circulars.within_days"),
    ],
)  # fmt: skip
def test_malformed_rule_set_names_its_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(RuleSetError) as caught:
        parse_rule_set(_dump(_set(path, value)))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: [unclosed", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        ("", "mapping"),
    ],
)
def test_unreadable_rule_set(text: str, message: str) -> None:
    with pytest.raises(RuleSetError, match=message):
        parse_rule_set(text)


def test_official_rule_sets_score_each_date_with_the_one_in_force() -> None:
    from datetime import date

    from models.rules import OfficialRules, check_identity

    first = default_rule_set()
    second = first.model_copy(update={"version": "next"})
    official = OfficialRules(((date(2021, 1, 1), first), (date(2026, 1, 1), second)))
    groups = official.partition([date(2020, 12, 31), date(2025, 12, 31), date(2026, 1, 31)])
    assert [(r.version, days) for r, days in groups] == [
        (first.version, [date(2025, 12, 31)]),
        ("next", [date(2026, 1, 31)]),
    ]
    assert official.for_date(date(2020, 1, 1)) is None
    check_identity(first, {first.version: first.content_sha256})
    with pytest.raises(RuleSetError, match="registered with content"):
        check_identity(first, {first.version: "0" * 64})


def test_the_default_labels_are_risk_classes_and_nothing_is_published_under_a_reserved_name():
    rules = default_rule_set()
    assert [t.label_zh for t in rules.tiers] == [
        "信用风险低",
        "信用风险一般",
        "信用风险较高",
        "信用风险高",
    ]
    assert [rules.public_label(t) for t in rules.tier_names] == [t.label_zh for t in rules.tiers]
    assert rules.blocks("veto") and rules.blocks("listing") and rules.blocks("publication")
    assert rules.publication.audiences["public"].tiers == ("A",)
    assert rules.penalties.fine_limit("未按规定设计防空地下室").max == 100_000  # type: ignore[union-attr]  # a limit exists for it
    assert rules.penalties.fine_limit(None).max == 50_000  # type: ignore[union-attr]  # the catch-all


def test_a_rule_set_written_before_these_sections_keeps_its_meaning():
    data = _default_data()
    for key in ("same_fact", "disclosure", "listing", "publication"):
        del data[key]
    for key in ("no_penalty_types", "no_penalty_severity", "fine_limits"):
        del data["penalties"][key]
    del data["objection"]["blocks"]
    old = parse_rule_set(_dump(data))
    assert old.same_fact is None and not old.objection.blocks
    assert old.penalties.fine_limits == () and old.penalties.no_penalty_types == ()
