"""`make lint` lints the dbt models with sqlfluff's dbt templater, compiling against an empty
in-memory DuckDB, so a fresh clone lints with no warehouse built and no cloud reachable."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_make_lint_runs_sqlfluff_on_the_dbt_models_after_ruff() -> None:
    done = subprocess.run(
        ["make", "-n", "lint"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    plan = done.stdout
    assert "sqlfluff lint dbt/models" in plan
    assert plan.index("ruff format --check") < plan.index("sqlfluff lint")


def test_sqlfluff_compiles_with_dbt_against_an_in_memory_duckdb_target() -> None:
    config = configparser.ConfigParser()
    config.read(REPO / ".sqlfluff")
    assert config["sqlfluff"]["templater"] == "dbt"
    dbt = config["sqlfluff:templater:dbt"]
    assert dbt["project_dir"] == "dbt" and dbt["profiles_dir"] == "dbt"

    profiles = yaml.safe_load((REPO / "dbt" / "profiles.yml").read_text())
    target = profiles[dbt["profile"]]["outputs"][dbt["target"]]
    assert target["type"] == "duckdb"
    assert target["path"] == ":memory:"
