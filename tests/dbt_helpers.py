"""Build a real warehouse for data tests: ingest + contracts into a DuckDB file, then the dbt
CLI in a subprocess (its own target and log folders, so parallel builds never collide)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from ingestion import batches, cleaning
from ingestion import csv_files as ingest
from warehouse import local as warehouse
from warehouse.dbt_cli import dbt_command

REPO = Path(__file__).resolve().parents[1]


def load_bronze(
    source: Path,
    warehouse_path: Path,
    batch_id: str = "b1",
    quarantine_threshold: float = 0.01,
    corrections: tuple[str, ...] = (),
) -> None:
    with warehouse.connect(warehouse_path) as con:
        result = ingest.ingest_folder(con, source, batch_id)
        batches.ensure_batch_tables(con)
        cleaning.clean_all(
            con, batch_id, result.tables, quarantine_threshold, corrections=corrections
        )


def dbt(
    warehouse_path: Path, work: Path, *args: str, run_vars: dict | None = None
) -> subprocess.CompletedProcess:
    """Run ``dbt <args>`` on the DuckDB target; fail with dbt's own output if it fails."""
    command = dbt_command(work, *args, project_dir=REPO / "dbt")
    if run_vars:
        command += ["--vars", json.dumps(run_vars)]
    env = {**os.environ, "OLIST_WAREHOUSE": str(warehouse_path), "OLIST_DBT_TARGET": "duckdb"}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-5000:]}")
    return proc


def dbt_test_results(
    warehouse_path: Path, work: Path, select: str, run_vars: dict | None = None
) -> dict[str, int]:
    """``dbt test --select <select>`` on the DuckDB target, passing or not: each data test's
    name (without its hash) → its failing rows."""
    command = dbt_command(work, "test", "--select", select, project_dir=REPO / "dbt")
    if run_vars:
        command += ["--vars", json.dumps(run_vars)]
    env = {**os.environ, "OLIST_WAREHOUSE": str(warehouse_path), "OLIST_DBT_TARGET": "duckdb"}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    results = json.loads((work / "target" / "run_results.json").read_text(encoding="utf-8"))
    out = {
        r["unique_id"].split(".")[2]: r["failures"]
        for r in results["results"]
        if r["unique_id"].startswith("test.") and r["status"] != "error"
    }
    errors = [r["unique_id"] for r in results["results"] if r["status"] == "error"]
    if errors:
        raise AssertionError(f"dbt test errored on {errors}:\n{proc.stdout[-5000:]}")
    return out
