"""The rounds' feedback: reported outcomes joined back to what the rounds drew, and each
round's public list (公示) written again when what it shows changed.

What belongs here: reading the outcomes that name a drawn round — and only those: a national
warehouse holds millions of outcomes, nearly all of past inspections outside any round —
replacing `round_outcomes` and `round_results` (`models.sampling.feedback`), and writing each
round's public list (`warehouse.round_exports`) unless the files there are already what it
would write. Shared by the Dagster asset and the tests. What does not: the rules of the
feedback (models), the layout of the files (`warehouse.round_exports`).

When a public list is written: what it shows is hashed — the CSV bytes it would write (every
row: firm, type, district, office, departments, result, inspection date; a draft's banner),
the workbook's title and issuer, the label catalogue and `PUBLIC_LIST_VERSION` — and kept in
`derivation_state` (step `public:<round_id>`) with the SHA-256 of the two files as written
(of a workbook's parts but its creation time: the state does not depend on when it ran).
A round's files are written again when that hash differs (an outcome reported, a firm
renamed, the round published …), when either file is missing or no longer hashes to what
was written (deleted, edited, or written by a run that was not published), and on a full
rebuild.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version
from pathlib import Path

import duckdb
import polars as pl

from models.labels import default_labels
from models.sampling.feedback import (
    ROUND_OUTCOME_SCHEMA,
    ROUND_RESULT_SCHEMA,
    round_outcomes,
    round_results,
    unplanned_outcomes,
)
from warehouse.connection import query
from warehouse.exports import issuer
from warehouse.incremental import read_step, write_step
from warehouse.paths import PathOutsideRootError
from warehouse.round_exports import (
    PublicList,
    public_list,
    public_rows,
    round_folder,
    write_public_list,
)
from warehouse.sampling import ensure_round_tables
from warehouse.tables import replace_table

PUBLIC_LIST_VERSION = "public-list-1"
"""Bumped when the code changes how a public list is written: every list is written again."""


@dataclass(frozen=True)
class Feedback:
    """`round_outcomes` and `round_results` as replaced, and how many outcomes name a round
    for a firm it did not draw."""

    per_firm: pl.DataFrame
    summary: pl.DataFrame
    unplanned: int


def update_feedback(con: duckdb.DuckDBPyConnection, clean_result: str) -> Feedback:
    """Replace `round_outcomes` and `round_results` from the draws, the schedule and the
    outcomes naming a drawn round (every other outcome is left out of both the per-firm rows
    and the unplanned count, so reading only these gives the same tables)."""
    ensure_round_tables(con)
    draws = query(con, "SELECT * FROM sampling_draws")
    schedule = query(con, "SELECT round_id, uscc, inspection_date FROM sampling_assignments")
    outcomes = query(
        con,
        "SELECT round_id, uscc, inspection_id, inspected_on, result, problem_count, "
        "collected_on FROM inspection_outcomes "
        "WHERE round_id IN (SELECT DISTINCT round_id FROM sampling_draws)",
    )
    per_firm = round_outcomes(draws, schedule, outcomes, clean_result)
    summary = round_results(per_firm)
    replace_table(con, "round_outcomes", per_firm, ROUND_OUTCOME_SCHEMA)
    replace_table(con, "round_results", summary, ROUND_RESULT_SCHEMA)
    return Feedback(per_firm, summary, unplanned_outcomes(draws, outcomes).height)


@dataclass
class PublicLists:
    """What `write_public_lists` did: files written, rounds whose files were already
    current, rounds without a public list (id, why)."""

    written: list[Path] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def write_public_lists(
    con: duckdb.DuckDBPyConnection,
    reports: Path,
    per_firm: pl.DataFrame,
    *,
    rewrite: bool = False,
) -> PublicLists:
    """The public list of every round whose folder exists, written when what it shows
    changed or its files are not what was written (module docstring); `rewrite`: always."""
    rounds = query(con, "SELECT round_id, status, parameters FROM sampling_rounds")
    firms = query(
        con,
        "SELECT uscc, name, firm_type, district FROM firms "
        "WHERE uscc IN (SELECT uscc FROM sampling_draws)",
    )
    facts = {r: (status, public_facts(parameters)) for r, status, parameters in rounds.iter_rows()}
    labels = default_labels()
    setting = [
        PUBLIC_LIST_VERSION,
        version("xlsxwriter"),  # the writer, without importing it where no list is written
        issuer(labels),
        labels.model_dump_json(),
    ]
    done = PublicLists()
    for (round_id,), rows in per_firm.partition_by("round_id", as_dict=True).items():
        try:
            folder = round_folder(reports, str(round_id))
        except (ValueError, PathOutsideRootError) as exc:  # stored before ids were checked
            done.skipped.append((str(round_id), str(exc)))
            continue
        if not folder.exists():
            continue
        status, (published_on, office, departments) = facts[str(round_id)]
        public = public_list(
            public_rows(rows, firms, office, departments),
            reports,
            str(round_id),
            status,
            published_on,
        )
        shown = _shown(public, setting)
        step = f"public:{round_id}"
        state = read_step(con, step)
        if not rewrite and state is not None and state.fingerprint == _state(shown, public):
            done.current.append(str(round_id))
            continue
        done.written += write_public_list(public)
        write_step(con, step, seq=0, processing_date=None, fingerprint=_state(shown, public))
    return done


def public_facts(parameters: str) -> tuple[date | None, str, tuple[str, ...]]:
    """(published_on, the office's name, partner departments) from a round's parameters."""
    saved = json.loads(parameters)
    published = saved.get("published_on")
    office = saved.get("office_name") or saved.get("office") or "市级"
    label = "市级（全市）" if office == "市级" else office
    departments = tuple(saved.get("partner_departments") or ())
    return (date.fromisoformat(published) if published else None), label, departments


def _shown(public: PublicList, setting: list[str]) -> str:
    """The hash of everything the two files show (module docstring): the CSV bytes, the
    workbook's title, and `setting` (the code's version, the issuer, the label catalogue)."""
    parts = [*(text.encode() for text in (*setting, public.book.title)), public.csv]
    return hashlib.sha256(b"\x00".join(parts)).hexdigest()


def _state(shown: str, public: PublicList) -> str | None:
    """`shown` and the digests of the files now at the list's paths; None if one is missing
    or unreadable (it is never equal to a stored state)."""
    digests = []
    for path in (public.xlsx_path, public.csv_path):
        try:
            digests.append(_digest(path))
        except (OSError, zipfile.BadZipFile):
            return None
    return " ".join([shown, *digests])


def _digest(path: Path) -> str:
    """SHA-256 of a file — of a workbook, of every part but its creation time
    (`docProps/core.xml`), so that the state is the same whichever run wrote the file."""
    if path.suffix != ".xlsx":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if name != "docProps/core.xml":
                digest.update(name.encode() + b"\x00" + book.read(name) + b"\x00")
    return digest.hexdigest()
