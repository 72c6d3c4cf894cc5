"""The landing folder: formats, encodings, spellings, determinism, and the defect manifest."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from stdnum.cn import uscc as stdnum_uscc

from generator import generate, landing, layout, write_landing
from generator.population import GENERATED_SOURCES, generated_columns
from models.contracts import default_contracts, header_key

CONTRACT = default_contracts()
SAMPLE = Path(__file__).parents[3] / "data" / "sample" / "landing"
KINDS = {
    "invalid_uscc",
    "unknown_firm",
    "invalid_date",
    "duplicate_identical",
    "duplicate_conflict",
    "missing_required",
    "deadline_before_issue",
    "negative_amount",
    "invalid_enum",
    "future_date",
}


# ---------------------------------------------------------------- a minimal independent reader


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def encoding_of(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".xlsx":
        return "xlsx"
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        data.decode("gbk")
        return "gbk"
    return "utf-8"


def read_grid(path: Path) -> list[list[str | None]]:
    """Every physical row of a file as text cells: grid[i] is spreadsheet row i + 1."""
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path).worksheets[0]
        return [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    text = path.read_bytes().decode(encoding_of(path))
    return [[c or None for c in row] for row in csv.reader(io.StringIO(text))]


def header_index(grid: list[list[str | None]]) -> int:
    """A title row has a single non-empty cell; the header row follows it."""
    return 1 if sum(c is not None for c in grid[0]) == 1 else 0


def columns(path: Path, source: str) -> dict[str, int]:
    """Canonical column → position, from the file's header row."""
    grid = read_grid(path)
    lookup = CONTRACT.header_lookup(source)
    return {
        lookup[header_key(h)]: j
        for j, h in enumerate(grid[header_index(grid)])
        if h and header_key(h) in lookup
    }


def parse_date(text: str) -> dt.date:
    """ISO, slash, dot and 年月日 spellings, or an Excel serial number."""
    if text.isdigit():
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(text))
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not match:
        raise ValueError(text)
    return dt.date(*(int(g) for g in match.groups()))


def landing_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".csv", ".xlsx"))


@pytest.fixture(scope="module")
def manifest(written) -> list[dict]:
    return json.loads((written[0] / landing.MANIFEST).read_text(encoding="utf-8"))


# ---------------------------------------------------------------- layout and spelling


def test_all_four_formats_are_present(written):
    found = {encoding_of(p) for p in landing_files(written[0])}
    assert found == {"xlsx", "utf-8-sig", "gbk", "utf-8"}


def test_gbk_files_decode_as_gbk_and_not_as_utf8(written):
    gbk = [p for p in landing_files(written[0]) if encoding_of(p) == "gbk"]
    assert len(gbk) >= 2
    for path in gbk:
        data = path.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert "统一社会信用代码" in data.decode("gbk") or "社会信用代码" in data.decode("gbk")


def test_every_source_has_files_and_rows_match_the_returned_counts(written):
    root, counts = written
    for source in GENERATED_SOURCES:
        files = landing_files(root / source)
        assert files, source
        rows = 0
        for path in files:
            grid = read_grid(path)
            rows += len(grid) - header_index(grid) - 1
        assert rows == counts[source], source


def test_headers_map_to_every_contract_column(written):
    root = written[0]
    styles = set()
    for source in GENERATED_SOURCES:
        expected = {c.name for c in generated_columns(source)}
        lookup = CONTRACT.header_lookup(source)
        for path in landing_files(root / source):
            grid = read_grid(path)
            header = [h for h in grid[header_index(grid)] if h]
            mapped = [lookup[header_key(h)] for h in header if header_key(h) in lookup]
            assert sorted(mapped) == sorted(expected), path.name
            assert {h for h in header if header_key(h) not in lookup} <= {"备注"}
            styles.add("en" if header[0].isascii() else "zh")
            styles |= {"star" for h in header if h.endswith("*")}
    assert styles == {"en", "zh", "star"}


def test_title_rows_and_a_merged_title(written):
    root = written[0]
    titled = {p.suffix for p in landing_files(root) if header_index(read_grid(p)) == 1}
    assert titled == {".csv", ".xlsx"}
    merged = [
        p
        for p in landing_files(root)
        if p.suffix == ".xlsx" and openpyxl.load_workbook(p).worksheets[0].merged_cells.ranges
    ]
    assert merged


def test_xlsx_dates_are_date_cells_with_a_few_bare_serials(written):
    path = written[0] / "inspection_outcomes" / "双随机抽查结果_2023.xlsx"
    sheet = openpyxl.load_workbook(path).worksheets[0]
    position = columns(path, "inspection_outcomes")["inspected_on"]
    values = [row[position] for row in sheet.iter_rows(min_row=3, values_only=True)]
    kinds = [type(v).__name__ for v in values]
    assert kinds.count("datetime") > 0.8 * len(values)
    assert "int" in kinds


def test_values_are_spelled_like_real_exports(written):
    root = written[0]
    cells = " ".join(
        str(c) for p in landing_files(root / "penalty_decisions") for r in read_grid(p) for c in r
    )
    assert re.search(r"\d,\d{3}元", cells) and re.search(r"\d(\.\d+)?万元", cells)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", cells) and re.search(r"\d{4}/\d{1,2}/\d", cells)
    firms = root / "firms" / "检查对象名录库_设计监理.xlsx"
    position = columns(firms, "firms")["firm_type"]
    types = {row[position] for row in read_grid(firms)[2:]}
    assert types <= {"设计单位", "监理单位", "施工"}  # long synonyms in this file; 施工 a defect


def test_unusual_usccs_are_valid_after_normalisation(written, manifest):
    root = written[0]
    bad = {(e["file"], e["row_number"]) for e in manifest}
    unusual = []
    for source in GENERATED_SOURCES[2:]:
        for path in landing_files(root / source):
            grid = read_grid(path)
            position = columns(path, source)["uscc"]
            rel = path.relative_to(root).as_posix()
            for i, row in enumerate(grid[header_index(grid) + 1 :], start=header_index(grid) + 2):
                code = row[position] or ""
                if (code != code.upper() or not code.isascii()) and (rel, i) not in bad:
                    unusual.append(code)
    assert len(unusual) >= 5
    assert all(stdnum_uscc.is_valid(unicodedata.normalize("NFKC", c).upper()) for c in unusual)


# ---------------------------------------------------------------- defects


def test_defects_are_a_few_dozen_of_every_kind_across_sources(manifest):
    assert 30 <= len(manifest) <= 60
    assert {e["kind"] for e in manifest} == KINDS
    assert len({e["source"] for e in manifest}) >= 5
    assert len({(e["file"], e["row_number"]) for e in manifest}) == len(manifest)


def _cell(root: Path, entry: dict, column: str) -> str | None:
    path = root / entry["file"]
    return read_grid(path)[entry["row_number"] - 1][columns(path, entry["source"])[column]]


def _row(root: Path, source: str, file: str, row_number: int) -> dict[str, str | None]:
    path = root / file
    grid_row = read_grid(path)[row_number - 1]
    return {c: grid_row[j] for c, j in columns(path, source).items()}


def test_each_listed_defect_is_really_in_its_row(written, manifest):
    root = written[0]
    directory = set(generate(20251231)["firms"]["uscc"])
    for e in manifest:
        kind, column = e["kind"], e["column"]
        value = _cell(root, e, column) if column else None
        if kind == "invalid_uscc":
            assert not stdnum_uscc.is_valid(unicodedata.normalize("NFKC", value).upper())
        elif kind == "unknown_firm":
            assert stdnum_uscc.is_valid(value) and value not in directory
        elif kind == "invalid_date":
            with pytest.raises(ValueError):
                parse_date(value)
        elif kind == "future_date":
            assert parse_date(value).year == 2031
        elif kind == "missing_required":
            assert value is None and CONTRACT.source(e["source"]).column(column).required
        elif kind == "negative_amount":
            assert value.startswith("-")
        elif kind == "invalid_enum":
            enum = CONTRACT.source(e["source"]).column(column).enum
            items = re.split(r"[、，,；;/ ]", value)
            assert any(header_key(i) not in CONTRACT.enum_lookup(enum) for i in items)
        elif kind == "deadline_before_issue":
            assert parse_date(value) < parse_date(_cell(root, e, "issued_on"))
        else:
            _check_duplicate(root, e)


def _check_duplicate(root: Path, entry: dict) -> None:
    source = entry["source"]
    copy = _row(root, source, entry["file"], entry["row_number"])
    original = _row(root, source, **entry["duplicate_of"])
    key = CONTRACT.source(source).key
    assert [copy[k] for k in key] == [original[k] for k in key]
    if entry["kind"] == "duplicate_conflict":
        assert copy[entry["column"]] != original[entry["column"]]
    elif entry["file"] == entry["duplicate_of"]["file"]:
        assert copy == original


# ---------------------------------------------------------------- determinism and the sample


def _bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_same_arguments_give_byte_identical_files(tmp_path):
    first = _bytes_after(tmp_path / "a")
    second = _bytes_after(tmp_path / "b")
    assert first == second
    assert any(name.endswith(".xlsx") for name in first)


def _bytes_after(out: Path) -> dict[str, bytes]:
    write_landing(out, seed=11, firms=150, years=2)
    return _bytes(out)


def test_rewriting_a_folder_removes_files_of_the_previous_run(tmp_path):
    write_landing(tmp_path, seed=11, firms=150, years=2)
    write_landing(tmp_path, seed=11, firms=150, years=1, defects=False)
    names = {p.name for p in landing_files(tmp_path)}
    assert not any("2022" in n for n in names)
    assert not (tmp_path / landing.MANIFEST).exists()


def test_bundled_sample_is_the_default_output_and_small(written):
    assert _bytes(SAMPLE) == _bytes(written[0])
    assert sum(len(b) for b in _bytes(SAMPLE).values()) < 3_000_000


def test_large_populations_are_chunked_plain_utf8_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(layout, "CHUNK_ROWS", 10_000)
    counts = write_landing(tmp_path, firms=layout.LARGE_FIRMS, years=1, defects=False)
    files = landing_files(tmp_path)
    assert {encoding_of(p) for p in files} == {"utf-8"}
    assert len(landing_files(tmp_path / "inspection_outcomes")) >= 2
    for path in files:
        lines = path.read_bytes().count(b"\n")
        assert lines <= 10_000 + 1
    assert counts["firms"] == layout.LARGE_FIRMS


def test_large_landing_files_stay_below_the_ingestion_file_limit(tmp_path, monkeypatch):
    """Files are cut by size as well as rows: a wide source's million rows would be a file
    the warehouse refuses (the default limit), and a benchmark would measure less work."""
    monkeypatch.setattr(layout, "CHUNK_BYTES", 400_000)
    write_landing(tmp_path, firms=layout.LARGE_FIRMS, years=1, defects=False)
    sizes = {p.name: p.stat().st_size for p in landing_files(tmp_path)}
    assert max(sizes.values()) <= 400_000 * 1.2, sizes
    assert len([n for n in sizes if n.startswith("penalty_decisions")]) >= 2
