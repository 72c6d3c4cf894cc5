"""The simulated population: contract shape, validity, consistency and signal."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest
from stdnum.cn import uscc as stdnum_uscc

from generator import generate, vocabulary
from generator.population import NOT_GENERATED
from generator.uscc import check_index, make_usccs
from models.contracts import SOURCE_ORDER, default_contracts

CONTRACT = default_contracts()
TYPES = {
    "text": pl.Utf8,
    "uscc": pl.Utf8,
    "enum": pl.Utf8,
    "date": pl.Date,
    "amount": pl.Float64,
    "integer": pl.Int64,
    "bool": pl.Boolean,
    "enum_list": pl.List(pl.Utf8),
    "text_list": pl.List(pl.Utf8),
}
HIDDEN = {"firms": ["latent_risk"], "inspectors": ["strictness"]}
START, END = pl.date(2021, 1, 1), pl.date(2025, 12, 31)


def test_same_seed_same_frames_other_seed_other_frames(population):
    again = generate(7)
    other = generate(8)
    for name in SOURCE_ORDER:
        assert population[name].equals(again[name]), name
    assert not population["penalty_decisions"].equals(other["penalty_decisions"])


@pytest.mark.parametrize("name", SOURCE_ORDER)
def test_columns_and_types_follow_the_contract(population, name):
    source = CONTRACT.source(name)
    frame = population[name]
    made = [c for c in source.column_names if c not in NOT_GENERATED.get(name, ())]
    assert frame.columns == [*made, *HIDDEN.get(name, [])]
    for col in source.columns:
        if col.name not in made:
            continue
        assert frame.schema[col.name] == TYPES[col.type], col.name
        if col.required:
            assert frame[col.name].null_count() == 0, col.name


@pytest.mark.parametrize("name", SOURCE_ORDER)
def test_enum_values_are_canonical(population, name):
    for col in CONTRACT.source(name).columns:
        if col.enum is None:
            continue
        values = population[name][col.name]
        if col.type == "enum_list":
            values = values.explode()
        assert set(values.drop_nulls()) <= set(CONTRACT.enum_values(col.enum)), col.name


@pytest.mark.parametrize("name", SOURCE_ORDER)
def test_keys_are_unique(population, name):
    key = list(CONTRACT.source(name).key)
    assert not population[name].select(key).is_duplicated().any()


def test_every_uscc_is_valid_unique_and_in_its_district(population):
    firms = population["firms"]
    assert all(stdnum_uscc.is_valid(code) for code in firms["uscc"])
    assert firms["uscc"].n_unique() == len(firms)
    codes = {d.name: d.code for d in vocabulary.DISTRICTS}
    assert all(u[2:8] == codes[d] for u, d in firms.select("uscc", "district").iter_rows())
    assert firms["uscc"].str.starts_with("91").all()


def test_vectorised_check_character_agrees_with_stdnum():
    rng = np.random.default_rng(0)
    is_new = rng.random(500) < 0.5
    numbers = np.where(is_new, rng.integers(0, 31**6, 500), rng.integers(0, 10**8, 500))
    codes = make_usccs(np.full(500, 310115), numbers, is_new)
    assert all(stdnum_uscc.calc_check_digit(c[:17]) == c[17] for c in codes)
    body = np.zeros((1, 17), dtype=np.int64)
    assert check_index(body)[0] == 0


def test_directory_covers_types_and_districts(population):
    firms = population["firms"]
    assert len(firms) == 400
    assert firms["name"].n_unique() == len(firms)
    shares = firms["firm_type"].value_counts(normalize=True)
    share = dict(zip(shares["firm_type"], shares["proportion"], strict=True))
    assert set(share) == set(vocabulary.FIRM_TYPES)
    assert share["design"] + share["supervision"] + share["protective_equipment"] > 0.8
    assert firms["district"].n_unique() == len(vocabulary.DISTRICTS)
    assert firms.filter(pl.col("status") != "正常").height > 0
    assert firms.filter(pl.col("established_on") > pl.col("listed_on")).is_empty()


def test_inspectors_and_their_assignments(population):
    inspectors = population["inspectors"]
    assert len(inspectors) == max(20, round(400 / 7))
    assert inspectors["inspector_id"].str.contains(r"^SH-INS-\d{4}$").all()
    assert inspectors["certificate_no"].str.contains(r"^沪执法31\d{6}$").all()
    assert inspectors["fields"].list.len().is_between(1, 3).all()
    assert inspectors.filter(pl.col("certificate_valid_until") < END).height > 0

    firms = population["firms"].select("uscc", "firm_type")
    pairs = (
        population["inspection_outcomes"]
        .select("inspection_id", "uscc", "inspected_on", "inspector_ids")
        .explode("inspector_ids")
        .rename({"inspector_ids": "inspector_id"})
        .join(inspectors, on="inspector_id")
        .join(firms, on="uscc")
    )
    per_inspection = pairs.group_by("inspection_id").agg(pl.col("inspector_id").n_unique())
    assert (per_inspection["inspector_id"] == 2).all()
    assert (pairs["certificate_valid_until"] >= pairs["inspected_on"]).all()
    covered = pairs.select(pl.col("fields").list.contains(pl.col("firm_type"))).to_series()
    assert covered.mean() > 0.99
    recused = population["inspector_conflicts"].select("inspector_id", "uscc")
    assert pairs.join(recused, on=["inspector_id", "uscc"]).is_empty()


def test_fines_stay_within_the_civil_air_defence_law_bands(population):
    p = population["penalty_decisions"]
    fined = pl.col("penalty_types").list.contains("罚款")
    assert p.filter(fined & pl.col("fine_amount").is_null()).is_empty()
    assert p.filter(~fined & pl.col("fine_amount").is_not_null()).is_empty()
    art49 = p.filter(fined & pl.col("legal_basis").str.contains("第四十九条"))
    assert art49["fine_amount"].is_between(10_000, 50_000).all()
    art48 = p.filter(fined & pl.col("legal_basis").str.contains("第四十八条"))
    assert art48["fine_amount"].is_between(10_000, 100_000).all()
    local = p.filter(fined & pl.col("legal_basis").str.contains("上海市民防条例"))
    assert local.height > 0 and (local["fine_amount"] < 10_000).all()
    assert p.filter(pl.col("procedure") == "简易")["fine_amount"].fill_null(0).max() <= 3_000
    severe = pl.col("penalty_types").list.set_intersection(
        ["降低资质等级", "暂扣许可证件", "责令停产停业"]
    )
    assert (p.filter(severe.list.len() > 0)["effective_until"].is_not_null()).all()
    assert p.filter(severe.list.len() == 0)["effective_until"].is_null().all()
    veto = p["violation_category"].is_in(list(vocabulary.VETO_CATEGORIES)).mean()
    assert 0 < veto < 0.25


def test_document_numbers_use_real_styles(population):
    penalty = r"^(.{1,2}国动罚〔\d{4}〕\d+号|.{1,2}民防罚决字\[\d{4}\]第\d+号)$"
    doc = population["penalty_decisions"]["doc_no"]
    assert doc.str.contains(penalty).all()
    assert doc.str.contains(r"罚决字\[").any()
    notice = r"^(沪民防改〔\d{4}〕第\d+号|.民防责改字〔\d{4}〕\d+号)$"
    assert population["correction_notices"]["doc_no"].str.contains(notice).all()
    inspection = population["inspection_outcomes"]
    assert inspection["inspection_id"].str.contains(r"^JC-\d{4}Q[1-4]-\d{6}$").all()
    assert (inspection["inspection_id"].str.slice(3, 6) == inspection["round_id"]).all()
    assert population["credit_cases"]["case_id"].str.contains(r"^XY-\d{4}-\d{4}$").all()
    circulars = population["circulars"].group_by("doc_no").len()
    assert circulars["len"].max() > 1  # some circulars name several firms


@pytest.mark.parametrize(
    ("name", "date"),
    [
        ("penalty_decisions", "decided_on"),
        ("correction_notices", "issued_on"),
        ("circulars", "issued_on"),
        ("inspection_outcomes", "inspected_on"),
        ("commendations", "awarded_on"),
        ("credit_cases", "filed_on"),
    ],
)
def test_records_fall_in_the_period_and_are_collected_after(population, name, date):
    frame = population[name]
    assert frame[date].is_between(pl.select(START).item(), pl.select(END).item()).all()
    if "collected_on" in frame.columns:
        assert (frame["collected_on"] >= frame[date]).all()


def test_collection_delays_mostly_meet_the_seven_day_target(population):
    p = population["penalty_decisions"]
    working = pl.Series(np.busday_count(p["decided_on"].to_numpy(), p["collected_on"].to_numpy()))
    assert (working <= 7).mean() > 0.75
    assert (working > 20).any()
    assert working.max() <= 41


def test_correction_notices_are_internally_consistent(population):
    n = population["correction_notices"]
    days = (n["deadline"] - n["issued_on"]).dt.total_days()
    assert days.is_in([15, 20, 30, 45, 60]).all()
    overdue = n.filter(pl.col("review_result") == "逾期未改")
    assert overdue["rectified_on"].is_null().all() and overdue.height > 0
    on_time = n.filter(pl.col("rectified_on") <= pl.col("deadline"))
    assert on_time["review_result"].is_in(["合格", "不合格"]).all()
    assert n.filter(pl.col("rectified_on") < pl.col("issued_on")).is_empty()


def test_references_resolve(population):
    firms = population["firms"]["uscc"]
    for name in SOURCE_ORDER[2:]:
        assert population[name]["uscc"].is_in(firms.implode()).all(), name
    docs = pl.concat(
        [population["penalty_decisions"]["doc_no"], population["correction_notices"]["doc_no"]]
    )
    followups = population["inspection_outcomes"]["followup_doc_no"].drop_nulls()
    assert followups.len() > 0 and followups.is_in(docs.implode()).all()
    assert population["credit_cases"]["record_doc_no"].is_in(docs.implode()).all()
    ids = population["inspectors"]["inspector_id"]
    assert population["inspection_outcomes"]["inspector_ids"].explode().is_in(ids.implode()).all()
    assert population["inspector_conflicts"]["inspector_id"].is_in(ids.implode()).all()


def test_followups_match_inspection_results(population):
    i = population["inspection_outcomes"]
    with_doc = i.filter(pl.col("followup_doc_no").is_not_null())
    assert with_doc["result"].is_in(["发现问题", "立案查处", "拒绝检查"]).all()
    assert i.filter(pl.col("result") == "未发现问题")["problem_count"].eq(0).all()
    found = i.filter(pl.col("result").is_in(["发现问题", "立案查处"]))
    assert (found["problem_count"] >= 1).all()


def test_credit_cases_follow_their_deadlines(population):
    cases = population["credit_cases"]
    record_dates = pl.concat(
        [
            population["penalty_decisions"].select("doc_no", day="decided_on"),
            population["correction_notices"].select("doc_no", day="issued_on"),
        ]
    )
    joined = cases.join(record_dates, left_on="record_doc_no", right_on="doc_no")
    objections = joined.filter(pl.col("kind") == "异议")
    assert ((objections["filed_on"] - objections["day"]).dt.total_days() <= 30).all()
    decided = objections.filter(pl.col("decided_on").is_not_null())
    assert ((decided["decided_on"] - decided["filed_on"]).dt.total_days() <= 20).all()
    repairs = joined.filter(pl.col("kind") == "信用修复")
    early = repairs.filter((pl.col("filed_on") - pl.col("day")).dt.total_days() < 90)
    assert early.height > 0
    assert early["decision"].drop_nulls().eq("不予修复").all()
    assert set(cases["decision"].drop_nulls()) >= {"维持", "准予修复", "不予修复"}


def _quartile_stats(population: dict[str, pl.DataFrame]) -> pl.DataFrame:
    firms = population["firms"].with_columns(
        quartile=(pl.col("latent_risk").rank("ordinal") * 4 / pl.len()).ceil().cast(pl.Int8)
    )
    bad = (
        pl.concat(
            [population[s].select("uscc") for s in ("penalty_decisions", "correction_notices")]
        )
        .group_by("uscc")
        .len(name="bad")
    )
    failed = population["inspection_outcomes"].select(
        "uscc", failed=pl.col("result") != "未发现问题"
    )
    per_firm = firms.join(bad, on="uscc", how="left").with_columns(pl.col("bad").fill_null(0))
    return (
        per_firm.group_by("quartile")
        .agg(pl.col("bad").mean())
        .join(
            failed.join(firms, on="uscc").group_by("quartile").agg(pl.col("failed").mean()),
            on="quartile",
        )
        .sort("quartile")
    )


def test_latent_risk_carries_signal(population):
    stats = _quartile_stats(population)
    low, high = stats.row(0, named=True), stats.row(3, named=True)
    assert high["bad"] > 3 * low["bad"]
    assert high["failed"] > 2 * low["failed"]


def test_risk_persists_so_the_past_predicts_the_future(population):
    bad = pl.concat(
        [
            population["penalty_decisions"].select("uscc", day="decided_on"),
            population["correction_notices"].select("uscc", day="issued_on"),
        ]
    ).with_columns(late=pl.col("day").dt.year() >= 2024)
    counts = bad.group_by("uscc").agg(past=(~pl.col("late")).sum(), future=pl.col("late").sum())
    per_firm = population["firms"].select("uscc").join(counts, on="uscc", how="left").fill_null(0)
    assert per_firm.select(pl.corr("past", "future")).item() > 0.3


def test_intensity_scales_record_rates():
    base = generate(3, firms=1_000, years=2)
    double = generate(3, firms=1_000, years=2, intensity=2.0)
    events = SOURCE_ORDER[3:]
    total = sum(len(double[n]) for n in events) / sum(len(base[n]) for n in events)
    assert 1.85 < total < 2.15
    # per source noisier: a few high-risk firms carry many of the bad records
    assert all(1.3 < len(double[n]) / len(base[n]) < 2.9 for n in events)
    assert len(double["firms"]) == len(base["firms"])


def test_texts_read_as_chinese_records(population):
    p = population["penalty_decisions"]
    assert p["violation"].str.starts_with("经查，当事人在").all()
    assert p["legal_basis"].str.contains(r"^《.+》第.+条").all()
    assert population["circulars"]["summary"].str.contains("通报").all()
    assert re.search(r"[\u4e00-\u9fff]", population["firms"]["address"][0])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="firms"):
        generate(1, firms=0)
