"""Rounds a centre runs all year, on the bundled sample (a real warehouse, the real jobs): every
class drawn at its ratio (200 seeds), a quarter spread over its working days, overlapping
published rounds sharing one calendar, district offices drawing their own firms with their own
inspectors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from models.rules import default_rule_set
from models.sampling.draw import draw_firms
from models.sampling.params import resolve_round_params
from pipelines.definitions import ROUND_JOB, build_defs, execute_main
from pipelines.resources import Landing, Warehouse
from warehouse.connection import DEFAULT_LANDING, query
from warehouse.sampling import gather_round

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]

TODAY = "2026-06-30"


class Sample:
    def __init__(self, root: Path) -> None:
        self.warehouse = Warehouse(path=str(root / "warehouse.duckdb"), reports_dir=str(root))
        self.defs = build_defs(
            warehouse=self.warehouse, landing=Landing(path=str(DEFAULT_LANDING), today=TODAY)
        )
        self.reports = root

    def publish(self, round_id: str, seed: int, overrides: str | None = None):
        config = {"round_id": round_id, "seed": seed, "publish": True, "overrides": overrides}
        with dg.DagsterInstance.ephemeral() as instance:
            return self.defs.resolve_job_def(ROUND_JOB).execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config={"ops": {"sampling_round": {"config": config}}},
            )

    def read(self, sql: str, params: list | None = None) -> pl.DataFrame:
        with self.warehouse.connect(read_only=True) as con:
            return query(con, sql, params)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    s = Sample(tmp_path_factory.mktemp("sample_rounds"))
    with dg.DagsterInstance.ephemeral() as instance:
        assert execute_main(s.defs, instance=instance).success
    return s


def test_a_quarter_is_spread_over_its_working_days(sample: Sample) -> None:
    """The draft of 2026Q3 (three months): at least half the working days hold an
    inspection and no day holds more than twice the average."""
    row = sample.read("SELECT plan_file FROM sampling_rounds WHERE round_id = '2026Q3'")
    plan = json.loads(Path(row.item()).read_bytes())
    working = plan["calendar"]["working_days"]
    per_day = Counter(s["inspection_date"] for s in plan["outputs"]["schedule"])
    average = sum(per_day.values()) / len(per_day)
    assert len(per_day) >= len(working) / 2, (len(per_day), len(working))
    assert max(per_day.values()) <= 2 * average, per_day.most_common(3)
    assert min(per_day) >= plan["calendar"]["first_inspection_day"] >= "2026-07-07"


def test_over_200_seeds_the_a_class_is_drawn_at_its_ratio(sample: Sample) -> None:
    """On the sample's real pool (5 A firms among ~380), the A class's mean drawn share over
    200 seeds is within one point of its 3 % ratio — the old rule gave it 20–60 %."""
    params = resolve_round_params(pl.Series([TODAY]).str.to_date()[0], round_id="2026Q3")
    with sample.warehouse.connect(read_only=True) as con:
        pool = gather_round(con, params, default_rule_set()).inputs.firms
    a_firms = pool.filter(pl.col("tier") == "A").height
    assert a_firms >= 3
    shares = {t: [] for t in "ABCD"}
    sizes = dict(pool.group_by("tier").len().iter_rows())
    for seed in range(200):
        draws = draw_firms(pool, params.with_overrides(seed=seed)).draws
        drawn = dict(draws.filter(~pl.col("is_control")).group_by("tier").len().iter_rows())
        for tier, size in sizes.items():
            shares[tier].append(drawn.get(tier, 0) / size)
    mean = {t: sum(v) / len(v) for t, v in shares.items() if v}
    assert abs(mean["A"] - params.ratios["A"]) <= 0.01, mean
    assert mean["A"] < mean["B"] < mean["C"] < mean["D"], mean


def test_overlapping_published_rounds_share_one_calendar(sample: Sample) -> None:
    """2026Q4-全市 and then 2026-11-全市 (inside it): no inspector is ever above the daily cap
    across both rounds, and no firm is drawn in both."""
    assert sample.publish("2026Q4-全市", 41).success
    assert sample.publish("2026-11-全市", 42).success
    both = sample.read(
        "SELECT round_id, uscc, inspector_id, inspection_date FROM sampling_assignments "
        "WHERE round_id IN ('2026Q4-全市', '2026-11-全市')"
    )
    firms = both.unique(["round_id", "uscc"])
    assert firms.get_column("uscc").is_duplicated().sum() == 0  # nobody drawn twice
    assert firms.get_column("round_id").n_unique() == 2
    per_day = both.group_by("inspector_id", "inspection_date").agg(
        pl.col("uscc").n_unique().alias("firms"), pl.col("round_id").n_unique().alias("rounds")
    )
    assert per_day.get_column("firms").max() <= 3  # daily_cap_per_team
    excluded = sample.read(
        "SELECT excluded_by_reason FROM sampling_round_facts WHERE round_id = '2026-11-全市'"
    )
    assert (
        json.loads(excluded.item())["overlapping_round"]
        == firms.filter(pl.col("round_id") == "2026Q4-全市").height
    )


def test_district_rounds_draw_their_own_firms_and_inspectors(sample: Sample) -> None:
    """Two district offices' rounds in the same weeks: each draws only its district's firms
    and its own inspectors (Pudong alone, over the firm types its roster covers; Minhang with
    the city's inspectors allowed), the plan names the office, and no inspector-day goes
    beyond the cap across every round."""
    # A district's own roster covers only some firm types, so its own-inspectors round covers
    # those: Pudong (7 inspectors) alone; Minhang (4) with the city's inspectors allowed. (The
    # test does not rely on another test's rounds having taken firms first.)
    fields = sample.read(
        "SELECT DISTINCT unnest(fields) AS t FROM inspectors WHERE district = '浦东新区' ORDER BY t"
    ).get_column("t")
    # two inspectors per type cannot also rotate: a small office's round turns rotation off
    pudong = f"{{office: '310115', rotation: false, scope: {{firm_types: [{', '.join(fields)}]}}}}"
    assert sample.publish("2026-12-浦东", 52, pudong).success
    assert sample.publish("2026-12-闵行", 51, "{office: 闵行, allow_city_inspectors: true}").success
    inspectors = sample.read("SELECT inspector_id, district FROM inspectors")
    districts = dict(inspectors.iter_rows())
    for round_id, district, allowed in (
        ("2026-12-浦东", "浦东新区", {"浦东新区"}),
        ("2026-12-闵行", "闵行区", {"闵行区", "市级"}),
    ):
        rows = sample.read(
            "SELECT a.uscc, a.inspector_id, f.district FROM sampling_assignments a "
            "JOIN firms f USING (uscc) WHERE a.round_id = ?",
            [round_id],
        )
        assert rows.height and set(rows.get_column("district")) == {district}, round_id
        used = {districts[i] for i in rows.get_column("inspector_id")}
        assert used <= allowed, (round_id, used)
        plan = json.loads(
            Path(
                sample.read(
                    "SELECT plan_file FROM sampling_rounds WHERE round_id = ?", [round_id]
                ).item()
            ).read_bytes()
        )
        assert plan["office"]["name"] == district
        assert plan["office"]["code"] == {"闵行区": "310112", "浦东新区": "310115"}[district]
    offices = sample.read(
        "SELECT round_id, office, office_code FROM sampling_round_facts ORDER BY round_id"
    )
    assert ("2026-12-浦东", "浦东新区", "310115") in offices.rows()
    published = sample.read(
        "SELECT a.inspector_id, a.inspection_date, count(DISTINCT a.uscc) n "
        "FROM sampling_assignments a JOIN sampling_rounds r USING (round_id) "
        "WHERE r.status = 'published' GROUP BY ALL"
    )
    assert published.get_column("n").max() <= 3
