"""The credit report on a real warehouse (the fixture landing folder, run by `renfang run` in
a child process: `fixtures.cli.run_fixture`): `renfang report` writes an A4 PDF whose page,
rendered to PNG and read back as text (no OCR), shows the score, the tier and every counting
document number; `renfang verify-report` says it verifies; a report whose page text or
embedded facts were altered does not (exit 1, both languages); bad options exit 2 before
anything is written; every report is in the audit log."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pypdfium2 as pdfium
import pytest
from fixtures.cli import renfang, run_fixture
from fixtures.shared import built_once, copy_of

from models.credit_report import verification_code
from models.labels import default_labels
from warehouse.connection import Warehouse
from warehouse.credit import official_rules
from warehouse.report_pdf import draw, read_back, with_facts

pytestmark = pytest.mark.slow

AS_OF = "2025-12-31"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fixture landing folder's `renfang run` (built once per test run)."""
    shared = built_once(tmp_path_factory, "fixture_run", run_fixture)
    return copy_of(shared, tmp_path_factory.mktemp("report") / "root")


@pytest.fixture(scope="module")
def firm(root: Path) -> tuple[str, dict[str, object], list[str]]:
    """The firm with the most counting records on the date: its USCC, score row and the
    document numbers of its counting records."""
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        [(uscc,)] = con.execute(
            "SELECT uscc FROM score_reasons WHERE as_of = ? GROUP BY uscc "
            "ORDER BY count(*) DESC, uscc LIMIT 1",
            [AS_OF],
        ).fetchall()
        row = con.execute(
            "SELECT score, tier FROM credit_scores WHERE uscc = ? AND as_of = ?", [uscc, AS_OF]
        ).fetchone()
        docs = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT evidence_doc_no FROM score_reasons WHERE uscc = ? AND as_of = ?",
                [uscc, AS_OF],
            ).fetchall()
        ]
    assert row is not None and docs
    return uscc, {"score": row[0], "tier": row[1]}, docs


@pytest.fixture(scope="module")
def report(root: Path, firm) -> Path:
    out = root / "out" / "信用报告.pdf"
    done = renfang("report", "--uscc", firm[0], "--as-of", AS_OF, "--out", str(out), root=root)
    assert "核验码 / verification code" in done.stdout
    return out


def test_the_report_renders_and_reads_back_with_score_tier_and_every_document(
    report: Path, firm, tmp_path: Path
) -> None:
    uscc, score, docs = firm
    pdf = pdfium.PdfDocument(str(report))
    assert len(pdf) >= 1
    page = pdf[0]
    width, height = page.get_size()
    assert abs(width / height - 210 / 297) < 0.01  # A4
    image = page.render(scale=2).to_pil()
    png = tmp_path / "page1.png"
    image.save(png)
    assert png.stat().st_size > 20_000
    assert image.convert("L").getextrema()[0] < 50  # something is drawn in dark ink
    text = "".join("".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf)))
    assert "人防行业信用报告" in text and uscc in text
    assert f"信用得分Score{score['score']:.2f}" in text
    assert f"信用等级Tier{score['tier']}" in text
    for doc in docs:  # every counting document number (the page may wrap a long one)
        assert "".join(str(doc).split()) in text, doc
    found = read_back(report.read_bytes())  # pypdf reads the same
    assert found.facts is not None and found.printed_code == verification_code(found.facts)
    assert sorted({r["doc_no"] for r in found.facts["records"]}) == sorted(docs)


def test_verify_report_says_it_verifies(root: Path, report: Path, firm) -> None:
    done = renfang("verify-report", str(report), root=root)
    assert "核验通过 / VERIFIED" in done.stdout and firm[0] in done.stdout


def _altered(report: Path, out: Path, *, text: bool) -> Path:
    """A copy of the report whose page says another score (the facts embedded untouched), or
    whose embedded facts say another score (the page untouched)."""
    wh = Warehouse(path=str(report.parents[1] / "warehouse.duckdb"))
    facts = read_back(report.read_bytes()).facts
    assert facts is not None
    with wh.connect(read_only=True) as con:
        rules = official_rules(con).for_date(date.fromisoformat(AS_OF))
    assert rules is not None
    changed = {**facts, "score": "99.00", "tier": "A"}
    if text:
        data = with_facts(draw(changed, rules, default_labels()), facts)
    else:
        data = with_facts(draw(facts, rules, default_labels()), changed)
    out.write_bytes(data)
    return out


@pytest.mark.parametrize("what", ["text", "facts"])
def test_an_altered_report_does_not_verify(root: Path, report: Path, tmp_path: Path, what) -> None:
    forged = _altered(report, tmp_path / f"forged_{what}.pdf", text=what == "text")
    done = renfang("verify-report", str(forged), root=root, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "核验未通过 / NOT VERIFIED" in done.stderr
    if what == "text":
        assert "页面文字与按数据仓库重新生成的报告不一致" in done.stderr
        assert "the page text differs" in done.stderr
    else:
        assert "嵌入的事实与数据仓库不符：score" in done.stderr
        assert "embedded fact differs: score" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_file_that_is_no_report_does_not_verify(root: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.4 not really")
    done = renfang("verify-report", str(junk), root=root, check=False)
    assert done.returncode == 1 and "核验未通过" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--uscc", "91310000ABCDEFGHIJ"],  # check character wrong
        ["--as-of", "2025-02-30"],
        ["--as-of", "2025-12-30"],  # no scores stored that day
        ["--out", "{tmp}/report.xlsx"],
        ["--out", "{tmp}"],  # a folder
        ["--out", "{tmp}/link.pdf"],  # a symlink
    ],
    ids=["uscc", "date", "unscored", "suffix", "folder", "symlink"],
)
def test_bad_options_are_refused_before_anything_is_written(
    root: Path, firm, tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "elsewhere.pdf").write_text("someone's file")
    (tmp_path / "link.pdf").symlink_to(tmp_path / "elsewhere.pdf")
    given = {"--uscc": firm[0], "--out": str(tmp_path / "new" / "r.pdf"), "--as-of": AS_OF}
    given |= {args[0]: args[1].format(tmp=tmp_path)}
    before = sorted(p.name for p in tmp_path.rglob("*"))
    done = renfang("report", *[x for kv in given.items() for x in kv], root=root, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "elsewhere.pdf").read_text() == "someone's file"


def test_every_report_is_in_the_audit_log(root: Path, report: Path, firm) -> None:
    entries = [
        json.loads(line)
        for line in (root / "warehouse.audit.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    made = [e for e in entries if e["action"] == "credit_report"]
    assert made and made[-1]["detail"]["uscc"] == firm[0]
    assert made[-1]["detail"]["out"] == str(report)
    assert len(made[-1]["detail"]["code"]) == 64
