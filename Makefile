# One-command entry points. `make run` and `make test` set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= 1
SEED   ?= 1
REPEAT ?= 1
SAMPLE ?= ../shared/data/olist_sample
DASHBOARD_PORT ?= 8501
DOCS_PORT ?= 8080
# BigQuery emulator for the dbt-on-BigQuery test: its own venv (crucible pins its own duckdb).
BQ_VENV   := .venv-bq
BQ_STAMP  := $(BQ_VENV)/.installed-crucible-0.1.0a2
BQ_PINS   := "crucible-emulator[server]==0.1.0a2" duckdb==1.5.6 sqlglot==30.22.0 \
	starlette==1.10.0 uvicorn==0.54.0 anyio==4.16.0 h11==0.16.0 click==8.5.1 idna==3.20 \
	pytz==2026.6 PyYAML==6.0.3 typing_extensions==4.16.0

# the Prefect home `olist` uses (config.settings.configure_runtime): PREFECT_HOME, else .prefect
PREFECT_HOME_DIR := $(or $(PREFECT_HOME),$(CURDIR)/.prefect)
PREFECT_DB_STAMP := $(PREFECT_HOME_DIR)/.olist-database-upgraded

export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= true
export MLFLOW_DISABLE_TELEMETRY ?= true

.PHONY: help setup setup-bq-emulator setup-browser run server stop dashboard docs test test-fast test-bq lint bench bench-summary bench-ingest bench-warehouse bench-ml generate clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

setup: $(STAMP) $(PREFECT_DB_STAMP)  ## create .venv, install pinned dependencies, migrate Prefect's database (no-op when up to date)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing pinned dependencies into $(VENV) (first time: ~2-3 min)"
	@$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]" 2>&1 \
		| grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import prefect, prefect_dbt, dbt, great_expectations, mlflow, xgboost, pandera, sqlfluff_templater_dbt" \
		|| { echo "install check failed"; exit 1; }
	@touch $(STAMP)

# Prefect's database in the home `olist` uses, migrated here rather than by the first run's
# ephemeral API, whose start-up timeout a fresh migration outlasts on a busy machine.
$(PREFECT_DB_STAMP): $(STAMP)
	@mkdir -p "$(PREFECT_HOME_DIR)"
	@echo "migrating Prefect's database in $(PREFECT_HOME_DIR) (first time: ~30-90 s)"
	@PREFECT_HOME="$(PREFECT_HOME_DIR)" $(BIN)/prefect server database upgrade -y >/dev/null \
		|| { echo "Prefect database migration failed in $(PREFECT_HOME_DIR): see the message above"; exit 1; }
	@touch "$@"

setup-bq-emulator: $(BQ_STAMP)  ## create .venv-bq with crucible-emulator, a local BigQuery (~10-20 s)

$(BQ_STAMP):
	@test -x $(BQ_VENV)/bin/python || $(PYTHON) -m venv $(BQ_VENV)
	@echo "installing crucible-emulator into $(BQ_VENV) (first time: ~10-20 s)"
	@start=$$(date +%s); \
	$(BQ_VENV)/bin/pip install --quiet --disable-pip-version-check --pre $(BQ_PINS) 2>&1 \
		| grep -v "^WARNING: Location"; \
	$(BQ_VENV)/bin/crucible --help >/dev/null || { echo "crucible install check failed"; exit 1; }; \
	echo "crucible-emulator installed in $$(( $$(date +%s) - start )) s"
	@touch $(BQ_STAMP)

setup-browser:  ## Debian's chromium for the report's headless-browser test (apt; root or sudo)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the report test (first time: ~1 min)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
			chromium >/dev/null && echo "chromium installed"; }

run: setup  ## generate synthetic data if absent, run the whole platform on DuckDB
	@$(BIN)/olist run

server: setup  ## local Prefect server + worker, every deployment of prefect.yaml, automations (UI on :4200, reports on :4280)
	@$(BIN)/olist generate --scale $(SCALE) --seed $(SEED)
	@$(BIN)/python -m deployments.local up

stop:  ## stop the server and worker `make server` started
	@$(BIN)/python -m deployments.local down

dashboard: setup  ## KPI dashboard over the published gold marts on http://127.0.0.1:8501 (after `make run`)
	@$(BIN)/python -m reporting.dashboard --port $(DASHBOARD_PORT)

docs: setup  ## build the dbt docs site (models, columns, tests, lineage) and serve it on http://127.0.0.1:8080
	@$(BIN)/python -m reporting.dbt_docs --port $(DOCS_PORT)

test: setup setup-bq-emulator setup-browser  ## unit, data, flow, end-to-end and dbt-on-BigQuery-emulator tests
	@$(BIN)/python -m pytest -n auto --dist loadfile

test-fast: setup setup-bq-emulator setup-browser  ## everything but the slow end-to-end tests
	@$(BIN)/python -m pytest -n auto --dist loadfile -m "not e2e"

test-bq: setup setup-bq-emulator  ## only dbt build on the bigquery target against the local emulator
	@$(BIN)/python -m pytest -m bigquery_emulator

lint: setup  ## ruff lint + format check, sqlfluff on the dbt models (dbt templater, .sqlfluff)
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .
	@$(BIN)/sqlfluff lint dbt/models dbt/tests

# Issue 8's targets are medians of 3 runs: make bench SCALE=1 REPEAT=3 (then SCALE=10),
# then make bench-summary.
bench: setup  ## stages, floor, incremental, fixed costs, dbt, ML at SCALE; targets: REPEAT=3 (medians)
	@$(BIN)/python -m bench --scale $(SCALE) --seed $(SEED) --repeat $(REPEAT)
	@$(BIN)/python -m bench.warehouse --scale $(SCALE) --seed $(SEED)
	@$(BIN)/python -m bench.ml --scale $(SCALE) --seed $(SEED)

bench-summary: setup  ## newest scale-1 and scale-10 bench results against the targets (Markdown)
	@$(BIN)/python -m bench.summary

bench-ml: setup  ## training time (50 trials a model), scoring throughput, models on validation and holdout vs the observable ceiling at SCALE
	@$(BIN)/python -m bench.ml --scale $(SCALE) --seed $(SEED)

bench-warehouse: setup  ## dbt build time and nested-vs-star queries at SCALE
	@$(BIN)/python -m bench.warehouse --scale $(SCALE) --seed $(SEED)

bench-ingest: setup  ## ingest + contract throughput at SCALE, and a 1,000-order batch's contracts on that history
	@$(BIN)/python -m bench.ingest --scale $(SCALE) --seed $(SEED)

generate: setup  ## (re)generate the default synthetic data in data/raw
	@$(BIN)/olist generate --scale $(SCALE) --seed $(SEED) --force

clean:  ## stop `make server`, remove generated outputs (keeps .venv)
	-@test ! -x $(BIN)/python || $(BIN)/python -m deployments.local down
	rm -rf data/olist.duckdb data/olist.duckdb.wal reports mlruns .prefect .prefect-server dbt/target dbt/logs data/raw data/batches

distclean: clean  ## also remove the virtualenvs
	rm -rf $(VENV) $(BQ_VENV)
