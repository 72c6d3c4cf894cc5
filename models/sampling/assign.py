"""Inspector assignment for a double-random round (docs/sampling.md#inspector-assignment).

What belongs here: which (firm, inspector) pairs the rules allow — certificate valid through the
whole window, fields covering the firm's type, no recusal in force, rotation against the previous
round — and choosing, at random but reproducibly, the configured number of distinct eligible
inspectors for every drawn firm within the per-inspector cap, solved as a max-flow problem. When
no assignment satisfies every rule, the failure names the strata (firm types) and the firms short
of inspectors; a rule is never relaxed. What does not: drawing the firms (`draw`), round
parameters (`params`), scheduling dates, publication or any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from scipy.sparse import csr_array
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from models.contracts import default_contracts

ASSIGNMENT_SCHEMA = pl.Schema({"uscc": pl.Utf8, "inspector_id": pl.Utf8})
_MAX_LISTED_FIRMS = 10  # the message stays readable; `.shortfalls` keeps every firm


class AssignmentInfeasibleError(ValueError):
    """No assignment satisfies every rule; `.shortfalls` says where the inspectors run out.

    Each shortfall is a dict with a `kind`: `firm_type` (a stratum needs more slots than its
    eligible inspectors can give), `firm` (a firm has fewer eligible inspectors than it needs) or
    `group` (a set of firms, found from the minimum cut, whose shared inspectors cannot cover
    them — reported only when neither of the first two explains the failure).
    """

    def __init__(self, message: str, shortfalls: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.shortfalls = shortfalls


@dataclass(frozen=True)
class Assignment:
    """The inspectors of each drawn firm: one row per (uscc, inspector_id), sorted."""

    assignments: pl.DataFrame


def qualified_types(inspectors: pl.DataFrame, window_end: date) -> pl.DataFrame:
    """(inspector_id, firm_type) for every active inspector whose certificate is valid through
    the window's last day (a null expiry or a null `active` proves nothing, so they are not)."""
    return (
        inspectors.filter(
            pl.col("active").fill_null(False)
            & (pl.col("certificate_valid_until") >= window_end).fill_null(False)
        )
        .select("inspector_id", firm_type="fields")
        .explode("firm_type")
        .drop_nulls("firm_type")
        .unique()
    )


@dataclass(frozen=True)
class CodedPairs:
    """(firm, inspector) pairs as codes: `firm` ranks among `firm_ids`, `inspector` among
    `inspector_ids` (both sorted), the pairs unique and sorted by (firm, inspector) — so by
    (uscc, inspector_id) too."""

    firm: np.ndarray
    inspector: np.ndarray
    firm_ids: pl.Series
    inspector_ids: pl.Series

    @property
    def height(self) -> int:
        """The number of pairs (the rows of `frame`)."""
        return int(self.firm.size)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "uscc": self.firm_ids.gather(self.firm),
                "inspector_id": self.inspector_ids.gather(self.inspector),
            },
            schema=ASSIGNMENT_SCHEMA,
        )


def eligible_codes(
    firms: pl.DataFrame,
    inspectors: pl.DataFrame,
    conflicts: pl.DataFrame,
    previous: pl.DataFrame | None,
    *,
    window_start: date,
    window_end: date,
    rotation: bool,
    candidates: int | None = None,
    rng: np.random.Generator | None = None,
) -> CodedPairs:
    """Every (uscc, inspector_id) the rules allow for a round inspected in the window — or,
    with `candidates` K and `rng`, a random sample of them: for each firm whose type has more
    than K qualified inspectors, 2K draws with replacement among them (duplicates dropped),
    then the same exclusions. A national roster makes the full set ~10⁸ pairs; a sample is
    enough for the assignment almost always, and `round.assign_teams` falls back to the full
    set before declaring a round infeasible.

    `firms` needs uscc, firm_type; `inspectors` inspector_id, certificate_valid_until, fields
    (list of firm_type codes), active; `conflicts` inspector_id, uscc, valid_from, valid_until;
    `previous` (uscc, inspector_id) the previous round's assignments. The inspection date is not
    known yet when inspectors are assigned, so every date rule must hold for the whole window:
    the certificate must still be valid on its last day (a null expiry proves nothing, so it is
    not valid), and a recusal in force on any day of it excludes the pair. A null `active` is
    not active. Rotation (docs/sampling.md, [P]) drops the firm's inspectors of the previous round.
    """
    qualified = qualified_types(inspectors, window_end).sort("inspector_id")
    in_force = conflicts.filter(
        (pl.col("valid_from") <= window_end)
        & (pl.col("valid_until").is_null() | (pl.col("valid_until") >= window_start))
    )
    excluded = [in_force]
    if rotation and previous is not None:
        excluded.append(previous)
    # Pairs run into the millions at national scale: they are built and filtered as one
    # integer per pair (firm code × inspectors + inspector code, the codes ranks of the sorted
    # ids, so sorting the keys sorts the pairs by id) and turned back into text once, at the
    # end.
    firm_codes = firms.select("uscc", "firm_type").unique("uscc", keep="first").sort("uscc")
    if firm_codes.is_empty() or qualified.is_empty():
        none = np.zeros(0, np.int64)
        return CodedPairs(none, none, pl.Series([], dtype=pl.Utf8), pl.Series([], dtype=pl.Utf8))
    firm_ids = firm_codes.get_column("uscc")
    inspector_ids = qualified.get_column("inspector_id").unique().sort()
    width = len(inspector_ids)
    firm_codes = firm_codes.with_columns(f=pl.int_range(pl.len(), dtype=pl.Int64))
    typed = qualified.select("firm_type", i=_codes(pl.col("inspector_id"), inspector_ids))
    if candidates is None:
        keys = (
            firm_codes.join(typed, on="firm_type", how="inner")
            .select(pl.col("f") * width + pl.col("i"))
            .to_series()
            .to_numpy()
        )
    else:
        if rng is None:
            raise ValueError("sampling candidates needs an rng")
        keys = _sampled_pairs(firm_codes, typed, candidates, rng, width)
    # Firms and (inspector, type) rows are unique, so the join yields each pair once; the
    # sample may draw one twice: sorted, the repeats dropped either way.
    keys = np.sort(keys)
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys
    for frame in excluded:
        coded = frame.select(
            (
                _codes(pl.col("uscc"), firm_ids) * width
                + _codes(pl.col("inspector_id"), inspector_ids)
            ).alias("key")
        ).drop_nulls()
        keys = keys[~_among(keys, np.sort(coded.get_column("key").to_numpy()))]
    return CodedPairs(keys // width, keys % width, firm_ids, inspector_ids)


def _among(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Whether each of `keys` is one of `sorted_keys` (by binary search: `np.isin` sorts
    both, and the pairs are the millions)."""
    if sorted_keys.size == 0:
        return np.zeros(keys.size, bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    found: np.ndarray = sorted_keys[at] == keys
    return found


def _sampled_pairs(
    firms: pl.DataFrame,
    typed: pl.DataFrame,
    candidates: int,
    rng: np.random.Generator,
    width: int,
) -> np.ndarray:
    """The keys (f × `width` + i) of all qualified inspectors of a type with at most
    `candidates` of them, else 2 × `candidates` draws with replacement per firm (a pair may
    come twice). Types in sorted order, firms in code order, so the draws depend only on the
    inputs and the stream."""
    parts = [np.zeros(0, np.int64)]
    for firm_type in sorted(firms.get_column("firm_type").unique().to_list()):
        f = firms.filter(pl.col("firm_type") == firm_type).get_column("f").to_numpy()
        pool = np.sort(typed.filter(pl.col("firm_type") == firm_type).get_column("i").to_numpy())
        if pool.size == 0:
            continue
        f = f.astype(np.int64) * width
        pool = pool.astype(np.int64)
        if pool.size <= candidates:
            parts.append((f[:, None] + pool[None, :]).ravel())
        else:
            draws = rng.integers(0, pool.size, size=(f.size, 2 * candidates))
            parts.append((f[:, None] + pool[draws]).ravel())
    return np.concatenate(parts)


def type_capacity_shortfalls(
    firms: pl.DataFrame,
    inspectors: pl.DataFrame,
    *,
    window_end: date,
    inspectors_per_firm: int,
    max_firms_per_inspector: int,
) -> None:
    """Raise when a firm type needs more inspector slots than all its qualified inspectors
    could give even before recusals and rotation — a round that no sampling can save, found
    from counts alone (no pairs), so a national round fails fast and clearly."""
    qualified = (
        qualified_types(inspectors, window_end).group_by("firm_type").agg(inspectors=pl.len())
    )
    per_type = (
        firms.group_by("firm_type")
        .agg(firms=pl.len())
        .join(qualified, on="firm_type", how="left")
        .with_columns(pl.col("inspectors").fill_null(0).cast(pl.Int64))
        .with_columns(
            slots_needed=pl.col("firms") * inspectors_per_firm,
            slots_available=pl.col("inspectors")
            * pl.min_horizontal(pl.col("firms"), pl.lit(max_firms_per_inspector)),
        )
        .filter(pl.col("slots_needed") > pl.col("slots_available"))
        .sort("firm_type")
    )
    shortfalls = [
        {"kind": "firm_type", "cap": max_firms_per_inspector, **row}
        for row in per_type.iter_rows(named=True)
    ]
    if shortfalls:
        raise AssignmentInfeasibleError(_message(shortfalls, inspectors_per_firm), shortfalls)


def _codes(ids: pl.Expr, categories: pl.Series) -> pl.Expr:
    """Rank of each id among the sorted `categories` (null when absent): an integer join key."""
    return ids.cast(pl.Enum(categories.to_list()), strict=False).to_physical().cast(pl.Int64)


def assign_inspectors(
    firms: pl.DataFrame,
    pairs: pl.DataFrame | CodedPairs,
    *,
    inspectors_per_firm: int,
    max_firms_per_inspector: int,
    rng: np.random.Generator,
    inspector_caps: dict[str, int] | None = None,
    departments: dict[str, str] | None = None,
    required_departments: tuple[str, ...] = (),
) -> Assignment:
    """Give every firm `inspectors_per_firm` distinct eligible inspectors, none above the cap.

    `firms` needs uscc, firm_type (the firm type names the stratum in a failure); `pairs` is
    `eligible_codes(...)` (or its `frame()`). The network is source → firm (capacity
    inspectors_per_firm) → inspector (capacity 1 per eligible pair, so a firm's inspectors
    are distinct) → sink (capacity max_firms_per_inspector); an assignment exists iff the
    maximum flow saturates every firm, so a failure here is a proof that no assignment
    satisfies the rules, not a greedy dead end.

    Randomness: firms and inspectors are put in canonical (sorted) order, then permuted with
    `rng` before their node numbers are given; the node order decides which augmenting paths
    the solver finds. The result is a random feasible assignment, not a uniform draw over all
    feasible ones — uniform sampling of b-matchings is a hard counting problem — which is
    acceptable because every inspector's chances are symmetric in expectation over seeds and
    the same inputs and seed always give the same assignment, so anyone can re-run it.

    `inspector_caps` lowers an inspector's cap below `max_firms_per_inspector` (the free
    slots the window leaves after the other rounds' bookings). With `required_departments`
    (a joint round: the organiser's own department `""` and the partners), every firm's team
    includes at least one inspector of each (`departments`: inspector_id → department, `""`
    for the organiser's): `assign_joint` solves that network instead.
    """
    if required_departments:
        return assign_joint(
            firms,
            pairs.frame() if isinstance(pairs, CodedPairs) else pairs,
            inspectors_per_firm=inspectors_per_firm,
            max_firms_per_inspector=max_firms_per_inspector,
            rng=rng,
            inspector_caps=inspector_caps or {},
            departments=departments or {},
            required=required_departments,
        )
    if inspectors_per_firm < 1 or max_firms_per_inspector < 1:
        raise ValueError("inspectors_per_firm and max_firms_per_inspector must be at least 1")
    firm_ids = firms.get_column("uscc").unique().sort()
    if firm_ids.is_empty():
        return Assignment(pl.DataFrame(schema=ASSIGNMENT_SCHEMA))
    arc_f, inspector_ids, arc_i = _arcs(firm_ids, pairs)
    n_firms, n_inspectors = len(firm_ids), len(inspector_ids)

    # Node numbers: 0 source, 1..F firms, F+1..F+I inspectors, F+I+1 sink.
    firm_perm = 1 + rng.permutation(n_firms)
    inspector_perm = 1 + n_firms + rng.permutation(n_inspectors)
    firm_node = pl.DataFrame(
        {"uscc": firm_ids, "firm_node": firm_perm},
        schema={"uscc": pl.Utf8, "firm_node": pl.Int64},
    )
    inspector_node = pl.DataFrame(
        {"inspector_id": inspector_ids, "inspector_node": inspector_perm},
        schema={"inspector_id": pl.Utf8, "inspector_node": pl.Int64},
    )
    arc_firm = firm_perm[arc_f]
    arc_inspector = inspector_perm[arc_i]
    sink = n_firms + n_inspectors + 1
    firm_nodes = np.arange(1, n_firms + 1)
    inspector_nodes = np.arange(n_firms + 1, sink)
    rows = np.concatenate([np.zeros(n_firms, np.int64), arc_firm, inspector_nodes])
    cols = np.concatenate([firm_nodes, arc_inspector, np.full(n_inspectors, sink, np.int64)])
    sink_caps = (
        np.array(
            [
                min(max_firms_per_inspector, inspector_caps.get(i, max_firms_per_inspector))
                for i in inspector_ids.to_list()
            ],
            np.int32,
        )
        if inspector_caps
        else np.full(n_inspectors, max_firms_per_inspector, np.int32)
    )
    caps = np.concatenate(
        [
            np.full(n_firms, inspectors_per_firm, np.int32),
            np.ones(len(arc_firm), np.int32),
            sink_caps,
        ]
    )
    capacity = csr_array((caps, (rows, cols)), shape=(sink + 1, sink + 1))
    capacity.sort_indices()  # the solver walks arcs in storage order: make it the node order
    # Building the CSR sums a repeated pair into capacity 2, which could give a firm the same
    # inspector twice; firm rows hold only firm → inspector arcs, so reset them all to 1.
    capacity.data[capacity.indptr[1] : capacity.indptr[n_firms + 1]] = 1
    result = maximum_flow(capacity, 0, sink, method="dinic")
    if result.flow_value < inspectors_per_firm * n_firms:
        residual = (capacity - result.flow).tocsr()
        residual.data = (residual.data > 0).astype(np.int32)
        residual.eliminate_zeros()
        reached = breadth_first_order(residual, 0, directed=True, return_predecessors=False)
        cut_nodes = reached[(reached >= 1) & (reached <= n_firms)]
        cut_firms = firm_node.filter(pl.col("firm_node").is_in(cut_nodes.tolist()))["uscc"]
        edges = pl.DataFrame(
            {"uscc": firm_ids.gather(arc_f), "inspector_id": inspector_ids.gather(arc_i)}
        )
        raise _infeasible(
            firms, edges.unique(), inspectors_per_firm, max_firms_per_inspector, cut_firms
        )

    flow = result.flow.tocoo()
    used = (flow.row >= 1) & (flow.row <= n_firms) & (flow.col > n_firms) & (flow.data > 0)
    chosen = pl.DataFrame(
        {
            "firm_node": flow.row[used].astype(np.int64),
            "inspector_node": flow.col[used].astype(np.int64),
        }
    )
    assignments = (
        chosen.join(firm_node, on="firm_node")
        .join(inspector_node, on="inspector_node")
        .select("uscc", "inspector_id")
        .sort("uscc", "inspector_id")
    )
    return Assignment(assignments)


def _arcs(
    firm_ids: pl.Series, pairs: pl.DataFrame | CodedPairs
) -> tuple[np.ndarray, pl.Series, np.ndarray]:
    """The pairs' arcs as codes, in the pairs' order: (firm ranks among `firm_ids`, the
    inspectors of some pair, sorted, and each arc's inspector rank among them); a pair of a
    firm not in `firm_ids` is left out. Coded pairs of these very firms are used as they are
    (a national round's ~1.5M pairs are not turned into text and back)."""
    if isinstance(pairs, CodedPairs) and pairs.firm_ids.equals(firm_ids):
        used = np.flatnonzero(np.bincount(pairs.inspector, minlength=len(pairs.inspector_ids)))
        rank = np.zeros(len(pairs.inspector_ids), np.int64)
        rank[used] = np.arange(used.size)
        return pairs.firm, pairs.inspector_ids.gather(used), rank[pairs.inspector]
    frame = pairs.frame() if isinstance(pairs, CodedPairs) else pairs
    coded = frame.select("inspector_id", f=_codes(pl.col("uscc"), firm_ids)).drop_nulls("f")
    inspector_ids = coded.get_column("inspector_id").unique().sort()
    ranks = coded.select(_codes(pl.col("inspector_id"), inspector_ids)).to_series().to_numpy()
    return coded.get_column("f").to_numpy(), inspector_ids, ranks


def _type_label(firm_type: str) -> str:
    """`防护设备 (protective_equipment)`: the contract's first Chinese name, then the code."""
    names = default_contracts().enums["firm_type"].get(firm_type, ())
    return f"{names[0]} ({firm_type})" if names else firm_type


def _group_counts(edges: pl.DataFrame, cap: int) -> pl.DataFrame:
    """Per group: inspectors eligible for any of its firms, and the slots they can give it.

    An inspector gives a group of firms at most min(cap, its eligible firms in the group) slots
    (Hall's condition for this flow network); `edges` carries a `group` column.
    """
    return (
        edges.group_by("group", "inspector_id")
        .agg(pl.len().alias("firms"))
        .group_by("group")
        .agg(
            pl.len().alias("inspectors"),
            pl.col("firms").clip(upper_bound=cap).sum().alias("slots_available"),
        )
    )


def _infeasible(
    firms: pl.DataFrame,
    edges: pl.DataFrame,
    per_firm: int,
    cap: int,
    cut_firms: pl.Series,
) -> AssignmentInfeasibleError:
    """The error for an infeasible round, with the shortfalls counted from the eligible pairs.

    Counted, not guessed: per firm type (slots needed vs what its eligible inspectors can give),
    per firm (fewer eligible inspectors than needed), and — only if neither shows a shortfall,
    e.g. when inspectors shared between types run out — the firms on the source side of the
    minimum cut, which always form a group that cannot be covered.
    """
    firm_types = firms.select("uscc", "firm_type").unique("uscc").sort("uscc")
    typed_edges = edges.join(firm_types, on="uscc").with_columns(group=pl.col("firm_type"))
    per_type = (
        firm_types.group_by("firm_type")
        .agg(pl.len().alias("firms"))
        .join(_group_counts(typed_edges, cap), left_on="firm_type", right_on="group", how="left")
        .with_columns(
            pl.col("inspectors", "slots_available").fill_null(0),
            slots_needed=pl.col("firms") * per_firm,
        )
        .filter(pl.col("slots_needed") > pl.col("slots_available"))
        .sort("firm_type")
    )
    shortfalls: list[dict[str, Any]] = [
        {"kind": "firm_type", "cap": cap, **row} for row in per_type.iter_rows(named=True)
    ]
    short_firms = (
        firm_types.join(
            edges.group_by("uscc").agg(pl.len().alias("inspectors")), on="uscc", how="left"
        )
        .with_columns(pl.col("inspectors").fill_null(0))
        .filter(pl.col("inspectors") < per_firm)
        .sort("inspectors", "uscc")
    )
    shortfalls += [
        {"kind": "firm", "needed": per_firm, **row} for row in short_firms.iter_rows(named=True)
    ]
    if not shortfalls:
        group = firm_types.filter(pl.col("uscc").is_in(cut_firms.implode()))
        counts = _group_counts(
            edges.filter(pl.col("uscc").is_in(group["uscc"].implode())).with_columns(group=0), cap
        )
        shortfalls.append(
            {
                "kind": "group",
                "firms": group.height,
                "firm_types": group["firm_type"].unique().sort().to_list(),
                "uscc": group["uscc"].to_list(),
                "slots_needed": group.height * per_firm,
                "inspectors": int(counts["inspectors"].sum()),
                "slots_available": int(counts["slots_available"].sum()),
                "cap": cap,
            }
        )
    return AssignmentInfeasibleError(_message(shortfalls, per_firm), shortfalls)


def _slots_text(s: dict[str, Any]) -> tuple[str, str]:
    """'9 名 × 上限 2 = 18' / '9 eligible inspectors × cap 2 = 18', noting unusable capacity."""
    full = s["inspectors"] * s["cap"]
    zh = f"合格检查人员 {s['inspectors']} 名 × 每人上限 {s['cap']} = {full}"
    en = f"{s['inspectors']} eligible inspectors × cap {s['cap']} = {full}"
    if s["slots_available"] < full:  # some inspectors are eligible for fewer firms than the cap
        zh += f"，其中可用仅 {s['slots_available']}"
        en += f", of which only {s['slots_available']} usable"
    return zh, en


def _message(shortfalls: list[dict[str, Any]], per_firm: int) -> str:
    """Chinese first, English after, one line per shortfall; at most ten firms listed."""
    lines = ["检查人员分配无解（规则不放宽） / inspector assignment infeasible (no rule relaxed):"]
    for s in shortfalls:
        if s["kind"] == "firm_type":
            zh, en = _slots_text(s)
            lines.append(
                f"{_type_label(s['firm_type'])}: {s['firms']} 家单位需 {s['slots_needed']} 个"
                f"检查名额，{zh} / {s['firms']} firms need {s['slots_needed']} inspector"
                f" slots, {en}"
            )
        elif s["kind"] == "group":
            zh, en = _slots_text(s)
            listed = "、".join(s["uscc"][:_MAX_LISTED_FIRMS])
            types = ", ".join(_type_label(t) for t in s["firm_types"])
            lines.append(
                f"{types}: 共用检查人员的 {s['firms']} 家单位需 {s['slots_needed']} 个检查名额，"
                f"{zh} / {s['firms']} firms sharing inspectors need {s['slots_needed']}"
                f" inspector slots, {en}: {listed}"
            )
    firms = [s for s in shortfalls if s["kind"] == "firm"]
    if firms:
        lines.append(
            f"合格检查人员少于 {per_firm} 名的单位 {len(firms)} 家 / {len(firms)} firms with"
            f" fewer than {per_firm} eligible inspectors:"
        )
        lines += [
            f"  {s['uscc']} {_type_label(s['firm_type'])}: 仅 {s['inspectors']} 名"
            f" / only {s['inspectors']}"
            for s in firms[:_MAX_LISTED_FIRMS]
        ]
        if len(firms) > _MAX_LISTED_FIRMS:
            more = len(firms) - _MAX_LISTED_FIRMS
            lines.append(f"  …另有 {more} 家 / … and {more} more")
    return "\n".join(lines)


def department_label(department: str, language: str = "zh") -> str:
    """`""` (the organiser's own department) as words; any other as written."""
    if department:
        return department
    return "组织单位本部门" if language == "zh" else "the organising department"


def assign_joint(
    firms: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    inspectors_per_firm: int,
    max_firms_per_inspector: int,
    rng: np.random.Generator,
    inspector_caps: dict[str, int],
    departments: dict[str, str],
    required: tuple[str, ...],
) -> Assignment:
    """A joint round's assignment (联合抽查): every team holds one inspector of each required
    department at least, and `inspectors_per_firm` distinct inspectors in all.

    The network is source → firm (capacity inspectors_per_firm) → one slot node per required
    department (capacity 1) and one free slot node (capacity inspectors_per_firm − number of
    departments) → a node per eligible (firm, inspector) pair (capacity 1, so a firm never
    gets the same inspector twice) → inspector (capacity its cap) → sink; department slots
    reach only that department's inspectors, the free slot any. The firm's outgoing
    capacities add up to its team size, so a flow saturating every firm fills every
    department slot: a failure is again a proof that no assignment satisfies the rules.
    Randomised like `assign_inspectors` (firm and inspector node order from `rng`).
    """
    if inspectors_per_firm < len(required):
        raise AssignmentInfeasibleError(
            f"inspectors_per_firm: 每组 {inspectors_per_firm} 人，少于联合抽查的部门数 "
            f"{len(required)} / teams of {inspectors_per_firm} cannot hold one inspector of "
            f"each of {len(required)} departments",
            [{"kind": "team_size", "needed": len(required)}],
        )
    firm_ids = firms.get_column("uscc").unique().sort()
    if firm_ids.is_empty():
        return Assignment(pl.DataFrame(schema=ASSIGNMENT_SCHEMA))
    edges = (
        pairs.filter(pl.col("uscc").is_in(firm_ids.implode()))
        .with_columns(
            department=pl.col("inspector_id").replace_strict(
                departments, default="", return_dtype=pl.Utf8
            )
        )
        .filter(pl.col("department").is_in(list(required)))
        .unique(["uscc", "inspector_id"])
        .sort("uscc", "inspector_id")
    )
    _department_shortfalls(firms, edges, required, inspectors_per_firm)
    inspector_ids = edges.get_column("inspector_id").unique().sort()
    n_firms, n_inspectors = len(firm_ids), len(inspector_ids)
    firm_perm = rng.permutation(n_firms)
    inspector_perm = rng.permutation(n_inspectors)
    firm_index = dict(zip(firm_ids.to_list(), firm_perm.tolist(), strict=True))
    inspector_index = dict(zip(inspector_ids.to_list(), inspector_perm.tolist(), strict=True))
    free = inspectors_per_firm - len(required)
    slots = len(required) + (1 if free else 0)
    # Node numbers: 0 source; firms; inspectors; sink; then slot nodes; then pair nodes.
    first_inspector = 1 + n_firms
    sink = first_inspector + n_inspectors
    first_slot = sink + 1
    first_pair = first_slot + n_firms * slots
    rows: list[int] = []
    cols: list[int] = []
    caps: list[int] = []

    def arc(a: int, b: int, c: int) -> None:
        rows.append(a)
        cols.append(b)
        caps.append(c)

    for f in range(n_firms):
        arc(0, 1 + f, inspectors_per_firm)
        for s_index in range(len(required)):
            arc(1 + f, first_slot + f * slots + s_index, 1)
        if free:
            arc(1 + f, first_slot + f * slots + len(required), free)
    for inspector in inspector_ids.to_list():
        cap = min(max_firms_per_inspector, inspector_caps.get(inspector, max_firms_per_inspector))
        arc(first_inspector + inspector_index[inspector], sink, cap)
    pair_rows = edges.select("uscc", "inspector_id", "department").rows()
    slot_of = {d: k for k, d in enumerate(required)}
    for p, (uscc, inspector, department) in enumerate(pair_rows):
        f = firm_index[uscc]
        node = first_pair + p
        arc(first_slot + f * slots + slot_of[department], node, 1)
        if free:
            arc(first_slot + f * slots + len(required), node, 1)
        arc(node, first_inspector + inspector_index[inspector], 1)
    size = first_pair + len(pair_rows)
    capacity = csr_array(
        (np.array(caps, np.int32), (np.array(rows), np.array(cols))), shape=(size, size)
    )
    capacity.sort_indices()
    result = maximum_flow(capacity, 0, sink, method="dinic")
    if result.flow_value < inspectors_per_firm * n_firms:
        shortfalls = [
            {
                "kind": "joint",
                "firms": n_firms,
                "slots_needed": inspectors_per_firm * n_firms,
                "slots_found": int(result.flow_value),
                "departments": list(required),
            }
        ]
        message = (
            "检查人员分配无解（规则不放宽） / inspector assignment infeasible (no rule "
            f"relaxed):\n联合抽查：{n_firms} 家单位需 {inspectors_per_firm * n_firms} 个检查名额"
            f"（每组含 {'、'.join(department_label(d) for d in required)} 各至少 1 人），"
            f"最多可排 {int(result.flow_value)} / joint round: {n_firms} firms need "
            f"{inspectors_per_firm * n_firms} inspector slots with one inspector of each "
            f"department per team; at most {int(result.flow_value)} can be filled"
        )
        raise AssignmentInfeasibleError(message, shortfalls)
    flow = result.flow.tocoo()
    pair_to_inspector = (flow.row >= first_pair) & (flow.data > 0)
    chosen = sorted(
        (pair_rows[int(r) - first_pair][0], pair_rows[int(r) - first_pair][1])
        for r in flow.row[pair_to_inspector]
    )
    return Assignment(pl.DataFrame(chosen, schema=ASSIGNMENT_SCHEMA, orient="row"))


def _department_shortfalls(
    firms: pl.DataFrame, edges: pl.DataFrame, required: tuple[str, ...], per_firm: int
) -> None:
    """Raise when a firm has no eligible inspector of a required department, or fewer
    eligible inspectors than its team size (counted, before any solving)."""
    counts = edges.group_by("uscc", "department").len()
    short: list[dict[str, Any]] = []
    for uscc, firm_type in firms.select("uscc", "firm_type").unique("uscc").sort("uscc").rows():
        have = dict(counts.filter(pl.col("uscc") == uscc).select("department", "len").rows())
        missing = [d for d in required if not have.get(d)]
        if missing:
            short.append({"kind": "department", "uscc": uscc, "firm_type": firm_type,
                          "departments": missing})  # fmt: skip
        elif sum(have.values()) < per_firm:
            short.append({"kind": "firm", "uscc": uscc, "firm_type": firm_type,
                          "needed": per_firm, "inspectors": sum(have.values())})  # fmt: skip
    if not short:
        return
    lines = ["检查人员分配无解（规则不放宽） / inspector assignment infeasible (no rule relaxed):"]
    for s in short[:_MAX_LISTED_FIRMS]:
        if s["kind"] == "department":
            zh = "、".join(department_label(d) for d in s["departments"])
            en = ", ".join(department_label(d, "en") for d in s["departments"])
            lines.append(
                f"  {s['uscc']} {_type_label(s['firm_type'])}: 无合格的 {zh} 检查人员 / no "
                f"eligible inspector of {en}"
            )
        else:
            lines.append(
                f"  {s['uscc']} {_type_label(s['firm_type'])}: 仅 {s['inspectors']} 名合格检查人员"
                f" / only {s['inspectors']} eligible inspectors"
            )
    lines += _more(len(short))
    raise AssignmentInfeasibleError("\n".join(lines), short)


def _more(listed: int) -> list[str]:
    """The line that says how many firms were left out of a message (none when all fit)."""
    more = listed - _MAX_LISTED_FIRMS
    return [f"  …另有 {more} 家 / … and {more} more"] if more > 0 else []
