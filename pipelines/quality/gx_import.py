"""Importing Great Expectations: once, lazily, and ahead of need when a run will use it.

What belongs here: the one import of GX the gate uses (`gx`, with analytics off before GX
reads its environment) and `preload`, which starts that import in a background thread as
soon as the ingestion steps know rows will be validated.
Why a module of its own: the ingestion assets start the preload and the gate
(`pipelines.quality.gx_gate`) imports the ingestion assets, so the two cannot import each
other; and Dagster loads the gate whenever it loads the definitions, so GX (~1.5–3 s of
Python) is never imported at module level.
"""

import os
import threading
from types import ModuleType

_preloading: threading.Thread | None = None


def gx() -> ModuleType:
    """GX, imported on first use (after the background import, if one was started)."""
    if _preloading is not None:
        _preloading.join()  # one importer at a time: never a half-initialised module
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every pandas batch below this size (1e9 bytes) with pandas'
    # `hash_pandas_object` and MD5, for a batch marker (`pandas_data_fingerprint`) that no
    # expectation reads and nothing here uses: 10.7 s of a national table's 17.6 s
    # validation. No batch is fingerprinted; every expectation runs as before.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return great_expectations


def preload() -> None:
    """Start importing GX in a background thread (once per process).

    Called by the ingestion steps when a source received rows, so that the gate will run
    GX: its import then overlaps with receiving and cleaning, which spend most of their
    time in DuckDB and polars with the interpreter lock released. `gx` waits for the
    thread, so the import itself still happens once, in one thread."""
    global _preloading
    if _preloading is None:
        _preloading = threading.Thread(target=_import_gx, name="gx-preload", daemon=True)
        _preloading.start()


def _import_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    try:
        import great_expectations.expectations  # the gate's expectation classes, and GX
    except Exception:  # the gate's own import, in its step, reports a broken install
        return
    del great_expectations
