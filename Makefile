# One-command entry points. `make run` and `make test` set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= 1
SEED   ?= 1
SAMPLE ?= ../shared/data/olist_sample

export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= true
export MLFLOW_DISABLE_TELEMETRY ?= true

.PHONY: help setup run test test-fast lint bench bench-ingest generate clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

setup: $(STAMP)  ## create .venv and install pinned dependencies (no-op when up to date)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing pinned dependencies into $(VENV) (first time: ~2-3 min)"
	@$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]" 2>&1 \
		| grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import prefect, prefect_dbt, dbt, great_expectations, mlflow, xgboost, pandera" \
		|| { echo "install check failed"; exit 1; }
	@touch $(STAMP)

run: setup  ## generate synthetic data if absent, run the whole platform on DuckDB
	@$(BIN)/olist run

test: setup  ## unit, data, flow and end-to-end tests
	@$(BIN)/python -m pytest

test-fast: setup  ## everything but the slow end-to-end tests
	@$(BIN)/python -m pytest -m "not e2e"

lint: setup  ## ruff lint + format check
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup  ## time generate + run per stage at SCALE (default 1)
	@$(BIN)/python -m bench --scale $(SCALE) --seed $(SEED)

bench-ingest: setup  ## ingest + contract throughput at SCALE
	@$(BIN)/python -m bench.ingest --scale $(SCALE) --seed $(SEED)

generate: setup  ## (re)generate the default synthetic data in data/raw
	@$(BIN)/olist generate --scale $(SCALE) --seed $(SEED) --force

clean:  ## remove generated outputs (keeps .venv)
	rm -rf warehouse reports mlruns .prefect dbt/target dbt/logs data/raw data/batches

distclean: clean  ## also remove the virtualenv
	rm -rf $(VENV)
