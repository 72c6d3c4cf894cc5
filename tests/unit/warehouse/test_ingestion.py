"""Receiving landing files: a file untouched since it was hashed keeps its hash, and any
change to it — even one that keeps its size and modification time — is read again."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from models.contracts import default_contracts
from warehouse import ingestion
from warehouse.archive import archive_root
from warehouse.connection import Warehouse
from warehouse.ingestion import PathRecord, known_hash, receive
from warehouse.landing import LandingFolder
from warehouse.tables import ensure_bookkeeping

CONTRACTS = default_contracts()
SOURCE = CONTRACTS.source("circulars")
HEADER = "doc_no,title,issued_on,authority,uscc,firm_name,kind,summary\n"


def row(number: int, kind: str = "通报批评") -> str:
    return (
        f"沪民防通〔2025〕{number}号,关于检查情况的通报,2025-03-0{number % 9 + 1},"
        f"上海市国防动员办公室,91310115MA1FL07778,上海申防人防工程设计有限公司,{kind},摘要\n"
    )


def stat_of(size: int = 10, mtime: int = 5, ctime: int = 7, inode: int = 3) -> os.stat_result:
    # mode, inode, device, links, uid, gid, size, 3 whole-second times, 3 float times, then
    # the access, modification and change times in ns
    return os.stat_result((0o100644, inode, 0, 1, 0, 0, size, 0, 0, 0, 0.0, 0.0, 0.0, 0, mtime,
                           ctime))  # fmt: skip


SETTLED = PathRecord("abc", 10, 5, 7, 3, 7 + ingestion.RACY_NS + 1)


def test_a_hash_is_reused_only_for_the_same_untouched_file() -> None:
    assert known_hash(SETTLED, stat_of()) == "abc"
    assert known_hash(SETTLED, stat_of(size=11)) is None
    assert known_hash(SETTLED, stat_of(mtime=6)) is None
    assert known_hash(SETTLED, stat_of(ctime=8)) is None  # written, mtime set back
    assert known_hash(SETTLED, stat_of(inode=4)) is None  # another file moved in
    # changed just before it was hashed: it may have changed again within the clock tick
    racy = PathRecord("abc", 10, 5, 7, 3, 7 + ingestion.RACY_NS)
    assert known_hash(racy, stat_of()) is None
    # recorded before the change time was kept: read again once
    assert known_hash(PathRecord("abc", 10, 5, None, None, None), stat_of()) is None


def receive_folder(warehouse: Warehouse, landing: LandingFolder, *, rehash: bool = False):
    with warehouse.transaction() as con:
        ensure_bookkeeping(con)
        receive(con, landing, SOURCE, CONTRACTS, archive_root(warehouse), "run", rehash=rehash)
        return {
            file: (sha, hashed_at)
            for file, sha, hashed_at in con.execute(
                "SELECT file, sha256, hashed_at_ns FROM landing_paths"
            ).fetchall()
        }, {r[0] for r in con.execute("SELECT sha256 FROM landing_files").fetchall()}


@pytest.fixture
def no_racy_window(monkeypatch):
    """Files here are written and received within milliseconds; the window is the clock
    tick guard, not what is tested (each change below is made well after the last hash)."""
    monkeypatch.setattr(ingestion, "RACY_NS", 0)


def test_receiving_again_reads_only_what_changed(tmp_path: Path, no_racy_window) -> None:
    landing = LandingFolder(path=str(tmp_path / "landing"), today="2025-12-31")
    warehouse = Warehouse(path=str(tmp_path / "warehouse.duckdb"))
    folder = tmp_path / "landing" / "circulars"
    folder.mkdir(parents=True)
    first, second = folder / "a.csv", folder / "b.csv"
    first.write_text(HEADER + row(1) + row(2), encoding="utf-8")
    second.write_text(HEADER + row(3), encoding="utf-8")
    paths, received = receive_folder(warehouse, landing)
    assert len(received) == 2

    time.sleep(0.05)  # later clock ticks than the hashes above
    again, _ = receive_folder(warehouse, landing)
    assert again == paths  # same hashes, and neither file read again (hash times kept)

    # same size, other content, the modification time set back: read again, a new version
    stat = first.stat()
    text = first.read_text(encoding="utf-8").replace("通报批评", "通报表扬", 1)
    assert len(text.encode()) == stat.st_size
    first.write_text(text, encoding="utf-8")
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert first.stat().st_mtime_ns == stat.st_mtime_ns
    changed, received = receive_folder(warehouse, landing)
    assert changed["circulars/a.csv"][0] != paths["circulars/a.csv"][0]
    assert changed["circulars/b.csv"] == paths["circulars/b.csv"]
    assert len(received) == 3

    # another file moved over it, its times copied: read again
    time.sleep(0.05)
    other = tmp_path / "other.csv"
    other.write_text(HEADER + row(4), encoding="utf-8")
    os.utime(other, ns=(stat.st_atime_ns, second.stat().st_mtime_ns))
    other.replace(second)
    moved, received = receive_folder(warehouse, landing)
    assert moved["circulars/b.csv"][0] != paths["circulars/b.csv"][0]
    assert len(received) == 4

    # a full rebuild reads every file again, finding the same content
    time.sleep(0.05)
    full, received = receive_folder(warehouse, landing, rehash=True)
    assert {f: sha for f, (sha, _) in full.items()} == {f: sha for f, (sha, _) in moved.items()}
    assert all(full[f][1] > moved[f][1] for f in full)
    assert len(received) == 4
