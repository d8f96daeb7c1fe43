# The platform's entry points. Environments are created on first use from the
# pinned files in requirements/ (make lock recompiles them from the .in files).
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
DBT_VENV := .venv-dbt
BENCH_VENV := .venv-bench
PY := $(VENV)/bin/python
export UV_CACHE_DIR ?= $(HOME)/.cache/uv
# Installed packages are byte-compiled once, at install: a machine that sets
# PYTHONDONTWRITEBYTECODE would otherwise recompile Airflow and dbt at every start.
export UV_COMPILE_BYTECODE := 1
# uv gives up on a file after 60 s: aws_cdk's largest modules took longer while the
# platform's tests ran beside the infra install (make test), and the install failed.
export UV_COMPILE_BYTECODE_TIMEOUT ?= 0
STACK ?= embedded

.PHONY: help setup demo up test test-platform test-infra test-services bench lock clean
help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	@echo "==> bootstrapping uv $(UV_VERSION) in .tools/"
	@$(PYTHON) -m venv .tools && .tools/bin/pip install -q "uv==$(UV_VERSION)"

$(VENV)/.installed: requirements/dev.txt pyproject.toml | $(UV)
	@echo "==> platform environment ($(VENV)): Airflow 3 and the dataops package"
	@test -d $(VENV) || $(UV) venv -q --python $(PYTHON) $(VENV)
	@VIRTUAL_ENV=$(VENV) $(UV) pip sync -q requirements/dev.txt
	@VIRTUAL_ENV=$(VENV) $(UV) pip install -q --no-deps -e .
	@touch $@

$(DBT_VENV)/.installed: requirements/dbt.txt | $(UV)
	@echo "==> dbt environment ($(DBT_VENV))"
	@test -d $(DBT_VENV) || $(UV) venv -q --python $(PYTHON) $(DBT_VENV)
	@VIRTUAL_ENV=$(DBT_VENV) $(UV) pip sync -q requirements/dbt.txt
	@touch $@

$(BENCH_VENV)/.installed: requirements/bench.txt pyproject.toml | $(UV)
	@echo "==> benchmark environment ($(BENCH_VENV)): the platform's and astronomer-cosmos"
	@test -d $(BENCH_VENV) || $(UV) venv -q --python $(PYTHON) $(BENCH_VENV)
	@VIRTUAL_ENV=$(BENCH_VENV) $(UV) pip sync -q requirements/bench.txt
	@VIRTUAL_ENV=$(BENCH_VENV) $(UV) pip install -q --no-deps -e .
	@touch $@

setup: $(VENV)/.installed $(DBT_VENV)/.installed  ## Create the environments (done on first use)

demo: setup  ## The main job: TICKIT into DuckDB, the DAG through Airflow, results
	$(VENV)/bin/dataops demo

up: setup  ## Start Airflow on 127.0.0.1 (STACK=services for PostgreSQL, Redis, Celery); Ctrl-C stops it
	$(VENV)/bin/dataops up --stack $(STACK)

# The platform's tests run in TEST_WORKERS pytest-xdist workers, a file to a worker, handed out
# costliest first (tests/conftest.py): the local Airflows' waits (restarts, heartbeats) leave room
# for a third and fourth on two cores; six measured slower (more of them busy at once).
TEST_WORKERS ?= 4

test: setup  ## Run the whole test suite: platform and infra side by side, slowest tests listed at the end
	@$(MAKE) --no-print-directory --output-sync=target -j2 test-platform test-infra

test-platform: setup  ## Only the platform's tests (tests/)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15 $(PYTEST_ARGS)

test-infra: | $(UV)  ## Only the infra tests (infra/tests, offline)
	@# Its tests run make themselves: they must not inherit this make's job server.
	MAKEFLAGS= $(MAKE) --no-print-directory -C infra test

test-services: setup  ## Only the tests that need PostgreSQL and Redis
	$(PY) -m pytest -m services $(PYTEST_ARGS)

bench: setup $(BENCH_VENV)/.installed  ## Benchmarks (in their own environment, with astronomer-cosmos); QUICK=1 for the short version
	$(BENCH_VENV)/bin/python bench/run.py $(if $(QUICK),--quick)

lock: | $(UV)  ## Recompile requirements/*.txt from the .in files
	cd requirements && for f in platform dbt dev bench; do ../$(UV) pip compile -q --universal --python-version 3.11 $$f.in -o $$f.txt; done

clean:  ## Remove the environments and local state
	rm -rf $(VENV) $(DBT_VENV) $(BENCH_VENV) .tools .dataops
