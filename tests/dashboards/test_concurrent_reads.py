"""The dashboards never block the pipeline's single writer, and a write never breaks a page.

A real writer process replaces `credit_scores` in 15 transactions (each holding the file
lock like an asset does) while this process runs the overview's query through the
dashboards' read path as fast as it can. Both must finish: every write commits, every read
returns the whole table — the old or the new version, never an error or half of it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dashboards.data import read
from dashboards.queries.overview import Scope, tier_mix
from warehouse.connection import PROJECT_ROOT

WRITES = 15

WRITER = textwrap.dedent(
    """
    import sys, time
    from pipelines.resources import Warehouse
    warehouse = Warehouse(path=sys.argv[1])
    for i in range(int(sys.argv[2])):
        with warehouse.transaction() as con:  # the lock is held as long as an asset holds it
            con.execute("CREATE OR REPLACE TABLE credit_scores AS SELECT * FROM credit_scores")
            con.execute("CREATE OR REPLACE TABLE _write_probe AS SELECT ? AS i", [i])
            time.sleep(0.05)
        time.sleep(0.02)
    print("writes", i + 1)
    """
)


def test_a_writer_and_the_dashboard_both_make_progress(dashboard_warehouse: Path, tmp_path: Path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(dashboard_warehouse, path)
    expected = read(path, tier_mix, Scope())["firms"].sum()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(WRITES)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    totals = []
    deadline = time.monotonic() + 60
    while writer.poll() is None and time.monotonic() < deadline:
        totals.append(read(path, tier_mix, Scope())["firms"].sum())
        time.sleep(0.005)
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err[-2000:]
    assert out.strip() == f"writes {WRITES}"
    assert len(totals) >= 10  # the dashboard kept reading during the writes
    assert set(totals) == {expected}
    assert read(path, lambda con, _: con.sql("SELECT i FROM _write_probe").fetchall(), None) == [
        (WRITES - 1,)
    ]
