"""Seeded simulation of Shanghai's civil-air-defence industry: the CLEAN source tables.

What belongs here: `generate`, a pure function of (seed, size, period, intensity) returning
one polars frame per contract source — canonical column names, types and enum values (firm
types as glossary codes, every other enum as its Chinese term), contract column order, rows in
date order. The simulation itself lives in `generator.world` (firms, inspectors,
inspections) and `generator.documents` (what the regulators issue). A hidden per-firm
`latent_risk` and per-inspector `strictness` drive every record, so history carries signal:
riskier firms are inspected more, fail more, get heavier penalties and rectify later, and the
risk persists with yearly noise, so the future is predictable from the past.

Everything is vectorised over records (numpy `Generator(PCG64(seed))`, `np.repeat`, polars
expressions); loops run only over small fixed sets (firm types, document kinds).

What does not: file formats, header spellings, value formatting and defects
(`generator.landing`, `generator.layout`, `generator.defects`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from generator import documents, world
from models.contracts import SOURCE_ORDER, default_contracts

_ORDER: dict[str, str] = {
    "firms": "listed_on",
    "inspectors": "inspector_id",
    "inspector_conflicts": "valid_from",
    "penalty_decisions": "decided_on",
    "correction_notices": "issued_on",
    "circulars": "issued_on",
    "inspection_outcomes": "inspected_on",
    "commendations": "awarded_on",
    "credit_cases": "filed_on",
}
_HIDDEN = ("latent_risk", "strictness")
NOT_GENERATED: dict[str, tuple[str, ...]] = {
    "penalty_decisions": (
        "violation_type", "penalty_content", "confiscated_amount", "publication_until",
        "data_source",
    ),
    "correction_notices": ("penalty_doc_no",),
    "circulars": ("penalty_doc_no",),
}  # fmt: skip
"""Optional contract columns the generator does not make (the national layout's extra
fields, the decision a circular or notice cites): the bundled sample stays as it was."""


def _finish(source: str, frame: pl.DataFrame, firms: pl.DataFrame) -> pl.DataFrame:
    """Attach the firm's USCC and name, keep the contract's columns (plus hidden latents)."""
    if "_firm" in frame.columns:
        firm = frame["_firm"].to_numpy()
        frame = frame.with_columns(
            uscc=firms["uscc"].gather(firm), firm_name=firms["name"].gather(firm)
        )
    hidden = [c for c in _HIDDEN if c in frame.columns]
    # the contract's columns the generator makes (optional ones it does not make, such as the
    # national layout's extra fields, stay out of the files, which keeps the sample stable)
    columns = [c for c in default_contracts().source(source).column_names if c in frame.columns]
    frame = frame.select(*columns, *hidden)
    # A stable sort on one date: same-day rows keep their (deterministic) generation order.
    key = frame[_ORDER[source]]
    return frame[np.argsort(key.to_physical().to_numpy(), kind="stable")]


def _link_followups(
    inspections: pl.DataFrame, notices: pl.DataFrame, penalties: pl.DataFrame
) -> pl.DataFrame:
    """`followup_doc_no`: the correction notice or penalty decision an inspection led to."""
    followups = pl.concat(
        [f.select("_inspection", followup_doc_no="doc_no") for f in (notices, penalties)]
    ).drop_nulls("_inspection")
    return inspections.join(
        followups,
        left_on="inspection_id",
        right_on="_inspection",
        how="left",
        maintain_order="left",
    )


def generate(
    seed: int, firms: int = 400, years: int = 5, start_year: int = 2021, intensity: float = 1.0
) -> dict[str, pl.DataFrame]:
    """One clean frame per contract source, a pure function of the arguments.

    `intensity` scales every per-firm record rate (inspections, notices, penalties, circulars,
    commendations; objections and repairs follow the records), so rows grow linearly: with
    firms=100,000 and years=5, intensity 1 gives ≈ 0.72M source rows (≈ 1.5 s) and
    intensity 16.6 ≈ 10.0M (≈ 18 s, 4 GB peak on a 2-core machine). Firms carry a hidden
    `latent_risk`, inspectors a hidden `strictness`.
    """
    if firms < 1 or years < 1 or intensity < 0:
        raise ValueError("need firms ≥ 1, years ≥ 1 and intensity ≥ 0")
    rng = np.random.Generator(np.random.PCG64(seed))
    directory, state = world.build_firms(rng, firms, start_year, years, intensity)
    staff = world.build_inspectors(rng, state, firms)
    recusals = world.recusals(rng, state, staff, directory)
    inspections = world.run_inspections(state, staff)
    notices = documents.issue_notices(state, inspections)
    penalties = documents.decide_penalties(state, inspections, notices)
    frames = {
        "firms": directory,
        "inspectors": staff.frame,
        "inspector_conflicts": recusals,
        "penalty_decisions": penalties,
        "correction_notices": notices,
        "circulars": documents.publish_circulars(state, penalties),
        "inspection_outcomes": _link_followups(inspections, notices, penalties),
        "commendations": documents.award_commendations(state),
        "credit_cases": documents.file_credit_cases(state, penalties, notices),
    }
    return {name: _finish(name, frames[name], directory) for name in SOURCE_ORDER}
