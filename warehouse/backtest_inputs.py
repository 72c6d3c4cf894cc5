"""Reading a backtest's inputs from files: any jurisdiction's inspection export, or ours.

What belongs here: turning `renfang backtest` files into a `models.risk.history.History`.
An inspection file is read either *generically* — a CSV with an entity id, a date, a problem
flag (or a score and a threshold) and optionally inspectors, column names given by options —
or, when those columns are absent, as the project's own `inspection_outcomes` export through
the landing contract (Chinese headers, GBK, XLSX …). Firm files likewise (generic: an id, an
opening date, every other column categorical). Penalty files are read through the contract
and turned into credit records and point-in-time credit scores and tiers by the rule set.
What does not: features, models, metrics (models.risk).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from models.contracts import Contracts, default_contracts
from models.engine import no_cases, score_documents
from models.normalise import clean_text, parse_bool, parse_date, split_list
from models.periods import month_ends, scoring_dates
from models.risk.config import RiskConfig
from models.risk.history import (
    ENTITY_SCHEMA,
    OUTCOME_SCHEMA,
    History,
    entities_from_clean,
    outcomes_from_clean,
    records_from_credit,
    scores_from_credit,
)
from models.risk.model import snapshot_dates
from models.row_checks import clean_source
from models.rules import RuleSet
from warehouse.credit import RECORD_SOURCES
from warehouse.ingestion import clean_folder
from warehouse.landing import LandingLocation, decode_text, scan_file


class BacktestInputError(ValueError):
    """An input file cannot be used; the message names the file and what is missing."""


@dataclass(frozen=True)
class InspectionColumns:
    """Column names of a generic inspection export (the `renfang backtest` options)."""

    entity: str = "entity_id"
    date: str = "inspected_on"
    problem: str = "problem"
    score: str | None = None
    problem_below: float | None = None
    inspector: str | None = "inspector_id"
    where: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FirmColumns:
    entity: str = "entity_id"
    opened: str = "opened_on"


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given; folders stand for every .csv/.xlsx under them (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".xlsx") and p.is_file()
            )
        elif path.is_file():
            files.append(path)
        else:
            raise BacktestInputError(f"{path}: no such file or folder")
    return files


def _generic_csv(path: Path) -> pl.DataFrame | None:
    if path.suffix.lower() != ".csv":
        return None
    text, _ = decode_text(path.read_bytes())
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def _contract_frame(path: Path, source: str, contracts: Contracts, today: date) -> pl.DataFrame:
    scanned = scan_file(path, path.parent, contracts.source(source), contracts)
    if scanned.status != "ok":
        raise BacktestInputError(
            f"{path}: not a usable {source} file ({scanned.problem}: {scanned.detail})"
        )
    return clean_source(scanned.rows, contracts.source(source), contracts, today=today).accepted


def read_outcomes(
    paths: Sequence[Path], columns: InspectionColumns, config: RiskConfig, contracts: Contracts
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(outcomes, the contract-format inspections among them — for credit records)."""
    outcomes, contract_rows = [], []
    for path in expand_paths(paths):
        frame = _generic_csv(path)
        if frame is not None and {columns.entity, columns.date} <= set(frame.columns):
            outcomes.append(_generic_outcomes(path, frame, columns))
            continue
        try:
            clean = _contract_frame(path, "inspection_outcomes", contracts, date.today())
        except BacktestInputError as exc:
            found = f"; its columns: {frame.columns}" if frame is not None else ""
            raise BacktestInputError(
                f"{path}: neither the columns {columns.entity!r} and {columns.date!r} (set "
                f"them with --id-col, --date-col) nor an inspection_outcomes export{found}"
            ) from exc
        contract_rows.append(clean)
        outcomes.append(outcomes_from_clean(clean, config.problem_results))
    if not outcomes:
        raise BacktestInputError("no inspection file given")
    clean_all = pl.concat(contract_rows, how="vertical") if contract_rows else pl.DataFrame()
    return pl.concat(outcomes, how="vertical").sort("entity_id", "inspected_on"), clean_all


def _generic_outcomes(path: Path, frame: pl.DataFrame, columns: InspectionColumns) -> pl.DataFrame:
    for column, value in columns.where:
        if column not in frame.columns:
            raise BacktestInputError(f"{path}: --where column {column!r} not in {frame.columns}")
        frame = frame.filter(pl.col(column) == value)
    if columns.score:
        if columns.score not in frame.columns or columns.problem_below is None:
            raise BacktestInputError(
                f"{path}: --score-col {columns.score!r} needs that column and --problem-below"
            )
        score = clean_text(pl.col(columns.score)).cast(pl.Float64, strict=False)
        problem = score < columns.problem_below
    elif columns.problem in frame.columns:
        score = pl.lit(None, dtype=pl.Float64)
        problem = parse_bool(pl.col(columns.problem))
    else:
        raise BacktestInputError(
            f"{path}: no problem column {columns.problem!r} (--problem-col) and no "
            "--score-col/--problem-below"
        )
    inspectors = (
        split_list(pl.col(columns.inspector))
        if columns.inspector and columns.inspector in frame.columns
        else pl.lit([], dtype=pl.List(pl.Utf8))
    )
    out = frame.select(
        entity_id=clean_text(pl.col(columns.entity)),
        inspected_on=parse_date(pl.col(columns.date)),
        problem=problem,
        inspectors=inspectors,
        score=score,
    ).with_columns(known_on=pl.col("inspected_on"))
    bad = out.filter(
        pl.col("entity_id").is_null()
        | pl.col("inspected_on").is_null()
        | pl.col("problem").is_null()
    )
    if bad.height:
        raise BacktestInputError(
            f"{path}: {bad.height} row(s) without a readable entity id, date or problem flag"
        )
    return out.select(list(OUTCOME_SCHEMA)).cast(OUTCOME_SCHEMA)


def read_entities(
    paths: Sequence[Path], columns: FirmColumns, outcomes: pl.DataFrame, contracts: Contracts
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """(entities, the contract-format firm directory if that is what the files were).
    Without entity files, the entities are the inspected ids (no attributes)."""
    files = expand_paths(paths)
    if not files:
        ids = outcomes["entity_id"].unique().sort()
        return ids.to_frame().with_columns(opened_on=pl.lit(None, dtype=pl.Date)), None
    generic, directory = [], []
    for path in files:
        frame = _generic_csv(path)
        if frame is not None and columns.entity in frame.columns:
            generic.append(_generic_entities(frame, columns))
        else:
            directory.append(_contract_frame(path, "firms", contracts, date.today()))
    firms = pl.concat(directory, how="vertical") if directory else None
    parts = [*generic, *([entities_from_clean(firms)] if firms is not None else [])]
    entities = pl.concat(parts, how="diagonal_relaxed")
    return entities.unique("entity_id", keep="first", maintain_order=True), firms


def _generic_entities(frame: pl.DataFrame, columns: FirmColumns) -> pl.DataFrame:
    categorical = [c for c in frame.columns if c not in (columns.entity, columns.opened)]
    opened = (
        parse_date(pl.col(columns.opened))
        if columns.opened in frame.columns
        else pl.lit(None, dtype=pl.Date)
    )
    return frame.select(
        entity_id=clean_text(pl.col(columns.entity)),
        opened_on=opened,
        **{c: clean_text(pl.col(c)) for c in categorical},
    ).cast(ENTITY_SCHEMA)


def read_history(
    inspections: Sequence[Path],
    *,
    firms: Sequence[Path],
    penalties: Sequence[Path],
    inspection_columns: InspectionColumns,
    firm_columns: FirmColumns,
    config: RiskConfig,
    rules: RuleSet,
    cutoff: date,
    horizon_days: int,
) -> History:
    """Everything a backtest needs; with penalty files (the contract's format), also credit
    records and point-in-time credit scores at every month end and training snapshot."""
    contracts = default_contracts()
    outcomes, clean_inspections = read_outcomes(inspections, inspection_columns, config, contracts)
    entities, directory = read_entities(firms, firm_columns, outcomes, contracts)
    if not penalties:
        return History(outcomes=outcomes, entities=entities)
    decisions = pl.concat(
        [
            _contract_frame(p, "penalty_decisions", contracts, date.today())
            for p in expand_paths(penalties)
        ],
        how="vertical",
    )
    sources = {"penalty_decisions": decisions}
    if not clean_inspections.is_empty():
        sources["inspection_outcomes"] = clean_inspections
    ids = directory if directory is not None else entities.select(uscc="entity_id")
    partial = History(outcomes=outcomes, entities=entities)
    first, last = outcomes["inspected_on"].min(), outcomes["inspected_on"].max()
    assert isinstance(first, date) and isinstance(last, date)  # read_outcomes: never empty
    dates = sorted(
        {*month_ends(first, last), *snapshot_dates(partial, cutoff, horizon_days, config), cutoff}
    )
    # no case register among the files: objections and repairs are absent, not ignored
    result = score_documents(sources, no_cases(), ids, rules, dates)
    return History(
        outcomes=outcomes,
        entities=entities,
        records=records_from_credit(result.records),
        scores=scores_from_credit(result.scores),
    )


def history_from_landing(
    landing: LandingLocation, config: RiskConfig, rules: RuleSet, contracts: Contracts
) -> History:
    """The history the model asset group reads from the warehouse, built from a landing
    folder alone: every source cleaned as a first run would, records, statuses (from the
    folder's credit cases) and scores at every as-of date a run stores."""
    clean = clean_folder(landing, contracts)
    dates = scoring_dates(rules.effective_from, landing.processing_date)
    sources = {name: clean[name] for name in RECORD_SOURCES}
    firms = clean["firms"].select("uscc", "name", "firm_type", "district", "status")
    result = score_documents(sources, clean["credit_cases"], firms, rules, dates)
    return History(
        outcomes=outcomes_from_clean(clean["inspection_outcomes"], config.problem_results),
        entities=entities_from_clean(clean["firms"]),
        records=records_from_credit(result.records),
        scores=scores_from_credit(result.scores),
    )
