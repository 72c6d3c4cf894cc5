# Two commands on a fresh machine with python3, pip and make:
#   make run   — install everything (first time), run the main job on the bundled sample
#   make test  — lint (ruff, mypy) + the whole test suite
# uv is bootstrapped into .tools/ with pip; the environment (.venv/) is synced from uv.lock
# with bytecode compilation (imports are ~3x faster on this machine with it).

SHELL   := /bin/bash
PYTHON  ?= python3
UV_VERSION := 0.13.8
UV      := .tools/bin/uv
VENV    := .venv
STAMP   := $(VENV)/.synced

CHROMIUM := /usr/bin/chromium
# The CJK font the credit report (信用报告) is drawn with (Debian package fonts-wqy-microhei).
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: run test ui lint format sample bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

run: $(STAMP) $(CJK_FONT)
	$(VENV)/bin/renfang run

# The browser tests drive Debian's chromium (Playwright downloads no browser); a CJK font makes
# the screenshots readable. Installed with apt-get only when missing (sudo when not root).
$(CHROMIUM):
	$$([ "$$(id -u)" -eq 0 ] || echo sudo) apt-get update -qq
	$$([ "$$(id -u)" -eq 0 ] || echo sudo) apt-get install -y -qq chromium fonts-wqy-microhei

# The credit report's font, by its own file: `renfang report` refuses to run without it (exit 2).
$(CJK_FONT):
	$$([ "$$(id -u)" -eq 0 ] || echo sudo) apt-get update -qq
	$$([ "$$(id -u)" -eq 0 ] || echo sudo) apt-get install -y -qq fonts-wqy-microhei

# One worker per core (at most four); a module's tests stay on one worker, so its
# module-scoped fixtures (a whole pipeline run, a served app) are built once. The modules are
# handed out longest first, in the order tests/conftest.py gives them (tests/module_seconds.json),
# not pytest-xdist's (most tests first).
# The tests' temporary folders (a few hundred small warehouses, Dagster instances, archives) go
# to memory when /dev/shm has room: DuckDB and Dagster's SQLite storage sync every commit to
# disk, which costs a fifth of an end-to-end module's time and proves nothing here (the crash
# test kills processes; it does not cut the power).
TEST_TMPDIR ?= $(shell [ "$$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $$4}')" -gt 4000000 ] 2>/dev/null && echo /dev/shm)

test: $(STAMP) $(CHROMIUM) $(CJK_FONT)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR)) \
		$(VENV)/bin/pytest -n auto --maxprocesses 4 --dist loadscope --no-loadscope-reorder

# `make ui DEMO=1` allows the shipped demo users (passwords in the README) for a local trial;
# without it the dashboards need RENFANG_USERS.
ui: $(STAMP) $(CJK_FONT)
	$(VENV)/bin/renfang ui $(if $(DEMO),--demo,)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Regenerate the bundled sample (deterministic: same seed, same bytes).
sample: $(STAMP)
	rm -rf data/sample/landing
	$(VENV)/bin/renfang generate --out data/sample/landing

clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/.warehouse.duckdb.* data/reports \
		data/warehouse.dagster data/archive data/models data/warehouse.audit.jsonl .dagster
