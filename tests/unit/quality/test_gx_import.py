"""GX imported once, in the background when a run will validate rows (gx_import)."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from pipelines.quality import gx_import
    assert "great_expectations" not in sys.modules  # loading the module imports no GX
    gx_import.preload()
    gx_import.preload()  # a second call starts no second import
    threads = [t for t in threading.enumerate() if t.name == "gx-preload"]
    assert len(threads) <= 1, threads
    gx = gx_import.gx()  # waits for the background import
    assert not any(t.name == "gx-preload" for t in threading.enumerate())
    assert gx is sys.modules["great_expectations"]
    assert "great_expectations.expectations" in sys.modules  # the gate's classes, loaded
    print("ok")
    """
)


def test_preload_imports_gx_once_and_gx_waits_for_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
