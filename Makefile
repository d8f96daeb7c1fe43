# The platform's entry points. Environments are created on first use from the
# pinned files in requirements/ (make lock recompiles them from the .in files).
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
DBT_VENV := .venv-dbt
PY := $(VENV)/bin/python
export UV_CACHE_DIR ?= $(HOME)/.cache/uv

.PHONY: help setup demo up test test-services bench lock clean
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

setup: $(VENV)/.installed $(DBT_VENV)/.installed  ## Create the environments (done on first use)

test: setup  ## Run the whole test suite
	$(PY) -m pytest $(PYTEST_ARGS)

lock: | $(UV)  ## Recompile requirements/*.txt from the .in files
	cd requirements && for f in platform dbt dev; do ../$(UV) pip compile -q --universal --python-version 3.11 $$f.in -o $$f.txt; done

clean:  ## Remove the environments and local state
	rm -rf $(VENV) $(DBT_VENV) .tools .dataops
