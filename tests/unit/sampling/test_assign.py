"""Inspector eligibility and assignment (docs/sampling.md#inspector-assignment)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import polars as pl
import pytest
from fixtures.sampling import eligible_pairs
from hypothesis import given, settings
from hypothesis import strategies as st

from models.sampling.assign import AssignmentInfeasibleError, assign_inspectors

START, END = date(2026, 3, 1), date(2026, 3, 31)
TYPES = ["design", "protective_equipment", "testing"]


def _inspectors(rows: list[tuple[str, date | None, list[str], bool | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "inspector_id": pl.Utf8,
            "certificate_valid_until": pl.Date,
            "fields": pl.List(pl.Utf8),
            "active": pl.Boolean,
        },
        orient="row",
    )


def _conflicts(rows: list[tuple[str, str, date, date | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "inspector_id": pl.Utf8,
            "uscc": pl.Utf8,
            "valid_from": pl.Date,
            "valid_until": pl.Date,
        },
        orient="row",
    )


def _firms(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"uscc": pl.Utf8, "firm_type": pl.Utf8}, orient="row")


def _pairs(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"uscc": pl.Utf8, "inspector_id": pl.Utf8}, orient="row")


def _as_set(frame: pl.DataFrame) -> set[tuple[str, str]]:
    return set(frame.select("uscc", "inspector_id").iter_rows())


# --- eligibility --------------------------------------------------------------------------

FIRMS = _firms([("F1", "design"), ("F2", "protective_equipment")])
LONG = date(2027, 12, 31)
INSPECTORS = _inspectors(
    [
        ("ok", LONG, ["design", "protective_equipment"], True),
        ("expired", date(2025, 12, 31), ["design"], True),
        ("expires_in_window", date(2026, 3, 15), ["design"], True),
        ("expires_last_day", END, ["design"], True),
        ("no_expiry", None, ["design"], True),
        ("inactive", LONG, ["design"], False),
        ("active_null", LONG, ["design"], None),
        ("wrong_field", LONG, ["testing"], True),
        ("recused", LONG, ["design"], True),
        ("recusal_expired", LONG, ["design"], True),
        ("recusal_later", LONG, ["design"], True),
        ("recusal_ends_first_day", LONG, ["design"], True),
        ("recusal_starts_last_day", LONG, ["design"], True),
        ("previous", LONG, ["design"], True),
    ]
)
CONFLICTS = _conflicts(
    [
        ("recused", "F1", date(2024, 1, 1), None),
        ("recused", "F2", date(2024, 1, 1), None),  # not eligible for F2 anyway (field)
        ("recusal_expired", "F1", date(2023, 1, 1), date(2026, 2, 28)),
        ("recusal_later", "F1", date(2026, 4, 1), None),
        ("recusal_ends_first_day", "F1", date(2025, 1, 1), START),
        ("recusal_starts_last_day", "F1", END, None),
        ("ok", "F2", date(2023, 1, 1), date(2024, 1, 1)),  # expired: ok stays eligible for F2
    ]
)
PREVIOUS = _pairs([("F1", "previous"), ("F2", "ok")])
ALWAYS = {("F1", "ok"), ("F1", "expires_last_day"), ("F1", "recusal_expired")}
ALWAYS |= {("F1", "recusal_later")}


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        (False, ALWAYS | {("F1", "previous"), ("F2", "ok")}),
        (True, ALWAYS),
    ],
)
def test_eligible_pairs_by_hand(rotation: bool, expected: set[tuple[str, str]]) -> None:
    pairs = eligible_pairs(
        FIRMS,
        INSPECTORS,
        CONFLICTS,
        PREVIOUS,
        window_start=START,
        window_end=END,
        rotation=rotation,
    )
    assert _as_set(pairs) == expected
    assert pairs.columns == ["uscc", "inspector_id"]
    assert pairs.equals(pairs.sort("uscc", "inspector_id"))


def test_eligible_pairs_without_previous_round() -> None:
    pairs = eligible_pairs(
        FIRMS, INSPECTORS, CONFLICTS, None, window_start=START, window_end=END, rotation=True
    )
    assert _as_set(pairs) == ALWAYS | {("F1", "previous"), ("F2", "ok")}


# --- assignment ---------------------------------------------------------------------------


def _check_rules(
    firms: pl.DataFrame, pairs: pl.DataFrame, assigned: pl.DataFrame, per_firm: int, cap: int
) -> None:
    """Every assignment rule of docs/sampling.md that the assignment is responsible for."""
    rows = list(assigned.iter_rows())
    assert len(rows) == len(set(rows)), "an inspector twice on one firm"
    assert set(rows) <= _as_set(pairs), "an ineligible pair"
    per = Counter(uscc for uscc, _ in rows)
    assert per == dict.fromkeys(firms["uscc"].to_list(), per_firm)
    load = Counter(inspector for _, inspector in rows)
    assert max(load.values(), default=0) <= cap
    assert assigned.equals(assigned.sort("uscc", "inspector_id"))


def test_small_feasible_case_satisfies_every_rule() -> None:
    firms = _firms([("F1", "design"), ("F2", "design"), ("F3", "testing"), ("F4", "testing")])
    inspectors = _inspectors(
        [
            ("A", LONG, ["design"], True),
            ("B", LONG, ["design", "testing"], True),
            ("C", LONG, ["testing"], True),
            ("D", LONG, ["design", "testing"], True),
            ("E", date(2026, 3, 2), ["design", "testing"], True),  # expires in the window
        ]
    )
    conflicts = _conflicts([("A", "F1", date(2025, 1, 1), None)])
    previous = _pairs([("F3", "C")])
    pairs = eligible_pairs(
        firms, inspectors, conflicts, previous, window_start=START, window_end=END, rotation=True
    )
    # Eligible — F1: B, D (A recused, E expires); F2: A, B, D; F3: B, D (C rotated out);
    # F4: B, C, D. With cap 3, B and D serve F1 and F3 and one of F2, F4 each.
    result = assign_inspectors(
        firms, pairs, inspectors_per_firm=2, max_firms_per_inspector=3, rng=np.random.default_rng(7)
    )
    _check_rules(firms, pairs, result.assignments, 2, 3)
    got = _as_set(result.assignments)
    fixed = {("F1", "B"), ("F1", "D"), ("F2", "A"), ("F3", "B"), ("F3", "D"), ("F4", "C")}
    assert got in (fixed | {("F2", "B"), ("F4", "D")}, fixed | {("F2", "D"), ("F4", "B")})


def test_repeated_pair_never_gives_the_same_inspector_twice() -> None:
    firms = _firms([("F1", "design")])
    pairs = _pairs([("F1", "A"), ("F1", "A"), ("F1", "B")])
    result = assign_inspectors(
        firms, pairs, inspectors_per_firm=2, max_firms_per_inspector=5, rng=np.random.default_rng(0)
    )
    assert _as_set(result.assignments) == {("F1", "A"), ("F1", "B")}
    with pytest.raises(AssignmentInfeasibleError):
        assign_inspectors(
            firms,
            _pairs([("F1", "A"), ("F1", "A")]),
            inspectors_per_firm=2,
            max_firms_per_inspector=5,
            rng=np.random.default_rng(0),
        )


def test_no_firms_gives_an_empty_assignment() -> None:
    result = assign_inspectors(
        _firms([]),
        _pairs([]),
        inspectors_per_firm=2,
        max_firms_per_inspector=1,
        rng=np.random.default_rng(0),
    )
    assert result.assignments.is_empty()
    assert result.assignments.columns == ["uscc", "inspector_id"]


def test_infeasible_by_cap_names_the_stratum_and_shortfall() -> None:
    firms = _firms([(f"P{i:02d}", "protective_equipment") for i in range(14)])
    pairs = _pairs([(f"P{i:02d}", f"I{j}") for i in range(14) for j in range(9)])
    with pytest.raises(AssignmentInfeasibleError) as caught:
        assign_inspectors(
            firms,
            pairs,
            inspectors_per_firm=2,
            max_firms_per_inspector=2,
            rng=np.random.default_rng(0),
        )
    assert str(caught.value) == (
        "检查人员分配无解（规则不放宽） / inspector assignment infeasible (no rule relaxed):\n"
        "防护设备 (protective_equipment): 14 家单位需 28 个检查名额，"
        "合格检查人员 9 名 × 每人上限 2 = 18 / "
        "14 firms need 28 inspector slots, 9 eligible inspectors × cap 2 = 18"
    )
    assert caught.value.shortfalls == [
        {
            "kind": "firm_type",
            "cap": 2,
            "firm_type": "protective_equipment",
            "firms": 14,
            "inspectors": 9,
            "slots_available": 18,
            "slots_needed": 28,
        }
    ]


def test_firm_with_one_eligible_inspector_is_named() -> None:
    firms = _firms([("F1", "design"), ("F2", "design"), ("T1", "testing")])
    pairs = _pairs([("F1", "A"), ("F1", "B"), ("F2", "A"), ("F2", "B"), ("T1", "C")])
    with pytest.raises(AssignmentInfeasibleError) as caught:
        assign_inspectors(
            firms,
            pairs,
            inspectors_per_firm=2,
            max_firms_per_inspector=5,
            rng=np.random.default_rng(0),
        )
    message = str(caught.value)
    assert "检测 (testing): 1 家单位需 2 个检查名额" in message
    assert "1 firms with fewer than 2 eligible inspectors" in message
    assert "  T1 检测 (testing): 仅 1 名 / only 1" in message
    assert "design" not in message
    assert {"kind": "firm", "needed": 2, "uscc": "T1", "firm_type": "testing", "inspectors": 1} in (
        caught.value.shortfalls
    )


def test_firm_with_no_eligible_inspector_is_named() -> None:
    # The stratum as a whole has room (4 inspectors × min(cap 3, 2 firms) = 8 ≥ 6 slots), so
    # only the firm is named.
    firms = _firms([("F1", "design"), ("F2", "design"), ("Z9", "design")])
    pairs = _pairs([(f, i) for f in ("F1", "F2") for i in "ABCD"])
    with pytest.raises(AssignmentInfeasibleError) as caught:
        assign_inspectors(
            firms,
            pairs,
            inspectors_per_firm=2,
            max_firms_per_inspector=3,
            rng=np.random.default_rng(0),
        )
    assert "  Z9 设计 (design): 仅 0 名 / only 0" in str(caught.value)
    assert [s["kind"] for s in caught.value.shortfalls] == ["firm"]


def test_shared_inspectors_running_out_are_named_as_a_group() -> None:
    # Each type alone fits, each firm has 2 eligible inspectors, but D1, D2, T1 all need the
    # same two inspectors (cap 2): 6 slots, 4 available — found from the minimum cut.
    firms = _firms([("D1", "design"), ("D2", "design"), ("T1", "testing"), ("T2", "testing")])
    pairs = _pairs([(f, i) for f in ("D1", "D2", "T1") for i in "AB"] + [("T2", "C"), ("T2", "E")])
    with pytest.raises(AssignmentInfeasibleError) as caught:
        assign_inspectors(
            firms,
            pairs,
            inspectors_per_firm=2,
            max_firms_per_inspector=2,
            rng=np.random.default_rng(0),
        )
    (group,) = caught.value.shortfalls
    assert group["kind"] == "group"
    assert group["uscc"] == ["D1", "D2", "T1"]
    assert (group["slots_needed"], group["inspectors"], group["slots_available"]) == (6, 2, 4)
    assert "3 firms sharing inspectors need 6 inspector slots" in str(caught.value)


def _random_case(seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    gen = np.random.default_rng(seed)
    firms = _firms([(f"F{i:03d}", TYPES[i % 3]) for i in range(60)])
    pairs = _pairs(
        [(f"F{i:03d}", f"I{j:02d}") for i in range(60) for j in range(30) if gen.random() < 0.3]
    )
    return firms, pairs


def test_same_seed_same_assignment_different_seed_usually_different() -> None:
    firms, pairs = _random_case(1)

    def run(seed: int) -> pl.DataFrame:
        return assign_inspectors(
            firms,
            pairs,
            inspectors_per_firm=2,
            max_firms_per_inspector=6,
            rng=np.random.default_rng(seed),
        ).assignments

    first = run(11)
    assert first.equals(run(11))
    assert first.equals(
        assign_inspectors(
            firms.reverse(),
            pairs.sample(fraction=1.0, shuffle=True, seed=3),
            inspectors_per_firm=2,
            max_firms_per_inspector=6,
            rng=np.random.default_rng(11),
        ).assignments
    ), "input row order must not matter, only the seed"
    others = [run(seed) for seed in range(12, 22)]
    assert sum(not first.equals(other) for other in others) >= 8


# --- property: assignment satisfies every rule, or no assignment exists --------------------


def _independent_max_flow(
    firms: list[str], pairs: set[tuple[str, str]], per_firm: int, cap: int
) -> int:
    """Plain Ford–Fulkerson (DFS augmenting paths) on dict capacities, written independently."""
    inspectors = sorted({i for _, i in pairs})
    capacity: dict[str, dict[str, int]] = {"s": {}, "t": {}}
    for f in firms:
        capacity["s"][f"f:{f}"] = per_firm
        capacity.setdefault(f"f:{f}", {})
    for f, i in pairs:
        capacity.setdefault(f"f:{f}", {})[f"i:{i}"] = 1
    for i in inspectors:
        capacity.setdefault(f"i:{i}", {})["t"] = cap
    for u in list(capacity):
        for v in list(capacity[u]):
            capacity.setdefault(v, {}).setdefault(u, 0)

    def augment(u: str, seen: set[str]) -> bool:
        if u == "t":
            return True
        seen.add(u)
        for v, c in capacity[u].items():
            if c > 0 and v not in seen and augment(v, seen):
                capacity[u][v] -= 1
                capacity[v][u] += 1
                return True
        return False

    flow = 0
    while augment("s", set()):
        flow += 1
    return flow


@st.composite
def directories(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    n_firms = draw(st.integers(0, 7))
    n_inspectors = draw(st.integers(0, 9))
    firms = _firms([(f"F{i}", draw(st.sampled_from(TYPES))) for i in range(n_firms)])
    fields = [
        draw(st.sets(st.sampled_from(TYPES), min_size=1, max_size=3)) for _ in range(n_inspectors)
    ]
    inspectors = _inspectors(
        [
            (
                f"I{j}",
                draw(
                    st.sampled_from([LONG, LONG, LONG, None, date(2026, 2, 1), date(2026, 3, 20)])
                ),
                sorted(fields[j]),
                draw(st.sampled_from([True] * 6 + [False, None])),
            )
            for j in range(n_inspectors)
        ]
    )
    all_pairs = [(f"I{j}", f"F{i}") for i in range(n_firms) for j in range(n_inspectors)]
    recused = draw(st.lists(st.sampled_from(all_pairs), max_size=6)) if all_pairs else []
    conflicts = _conflicts(
        [
            (
                i,
                f,
                draw(st.sampled_from([date(2025, 1, 1), date(2026, 3, 10), date(2026, 5, 1)])),
                draw(st.sampled_from([None, date(2026, 1, 1), date(2026, 3, 5)])),
            )
            for i, f in recused
        ]
    ).filter(pl.col("valid_until").is_null() | (pl.col("valid_until") >= pl.col("valid_from")))
    previous = _pairs(
        [
            (f, i)
            for i, f in (
                draw(st.lists(st.sampled_from(all_pairs), max_size=4)) if all_pairs else []
            )
        ]
    )
    rotation = draw(st.booleans())
    pairs = eligible_pairs(
        firms,
        inspectors,
        conflicts,
        previous,
        window_start=START,
        window_end=END,
        rotation=rotation,
    )
    # Independent restatement of eligibility, row by row.
    expected = set()
    for uscc, firm_type in firms.iter_rows():
        for inspector_id, valid_until, field_list, active in inspectors.iter_rows():
            if not active or valid_until is None or valid_until < END:
                continue
            if firm_type not in field_list:
                continue
            if any(
                ci == inspector_id and cu == uscc and vf <= END and (vu is None or vu >= START)
                for ci, cu, vf, vu in conflicts.iter_rows()
            ):
                continue
            if rotation and (uscc, inspector_id) in set(previous.iter_rows()):
                continue
            expected.add((uscc, inspector_id))
    assert _as_set(pairs) == expected
    per_firm = draw(st.sampled_from([1, 2, 2, 3]))
    cap = draw(st.integers(1, 3))
    return firms, pairs, per_firm, cap


@settings(max_examples=400, deadline=None)
@given(case=directories(), seed=st.integers(0, 2**32 - 1))
def test_assignment_satisfies_every_rule_or_is_proven_infeasible(
    case: tuple[pl.DataFrame, pl.DataFrame, int, int], seed: int
) -> None:
    firms, pairs, per_firm, cap = case
    try:
        result = assign_inspectors(
            firms,
            pairs,
            inspectors_per_firm=per_firm,
            max_firms_per_inspector=cap,
            rng=np.random.default_rng(seed),
        )
    except AssignmentInfeasibleError as error:
        best = _independent_max_flow(firms["uscc"].to_list(), _as_set(pairs), per_firm, cap)
        assert best < per_firm * firms.height
        assert error.shortfalls, "a failure always names a shortfall"
        for s in error.shortfalls:
            if s["kind"] == "firm":
                assert s["inspectors"] < per_firm
            else:
                assert s["slots_needed"] > s["slots_available"]
    else:
        _check_rules(firms, pairs, result.assignments, per_firm, cap)


@settings(max_examples=40, deadline=None)
@given(
    n_firms=st.integers(1, 40),
    n_inspectors=st.integers(1, 25),
    seed=st.integers(0, 2**32 - 1),
    candidates=st.sampled_from([None, 2, 4]),
)
def test_coded_pairs_assign_as_their_text(
    n_firms: int, n_inspectors: int, seed: int, candidates: int | None
) -> None:
    """The round hands the assignment its pairs as codes (`eligible_codes`): the same
    assignment, or the same failure, as the same pairs as text (`eligible_pairs`)."""
    from models.sampling.assign import eligible_codes

    rng = np.random.default_rng(seed)
    firms = pl.DataFrame(
        {"uscc": [f"F{i:03d}" for i in rng.permutation(n_firms)],
         "firm_type": [TYPES[i % 3] for i in range(n_firms)]}
    )  # fmt: skip
    inspectors = _inspectors(
        [(f"I{i:02d}", END, list(rng.choice(TYPES, 2, replace=False)), True)
         for i in range(n_inspectors)]
    )  # fmt: skip
    conflicts = _conflicts([(f"I{i % n_inspectors:02d}", f"F{i:03d}", START, None)
                            for i in range(0, n_firms, 3)])  # fmt: skip
    window = {"window_start": START, "window_end": END, "rotation": False}
    results = []
    for build in (eligible_codes, eligible_pairs):
        pairs = build(firms, inspectors, conflicts, None, candidates=candidates,
                      rng=np.random.default_rng(seed), **window)  # fmt: skip
        assign = {"inspectors_per_firm": 2, "max_firms_per_inspector": 3}
        try:
            plan = assign_inspectors(firms, pairs, rng=np.random.default_rng(seed + 1), **assign)
            results.append(plan.assignments)
        except AssignmentInfeasibleError as error:
            results.append((str(error), error.shortfalls))
    coded, text = results
    if isinstance(text, pl.DataFrame):
        assert isinstance(coded, pl.DataFrame) and coded.equals(text)
    else:
        assert coded == text
