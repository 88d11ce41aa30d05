"""The dbt project built on crucible-emulator and on DuckDB from the same bronze: helpers for
the package-scoped fixtures in conftest.py, which test_dbt_build_on_emulator.py and
test_gx_on_emulator.py share (one emulator, one dbt build per test run)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.cloud import bigquery

from tests.support.bigquery_emulator import Emulator, dbt_env
from warehouse.dbt_cli import dbt_command

REPO = Path(__file__).resolve().parents[2]
PROJECT = "olist-ci"


def dbt_bigquery(emulator: Emulator, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``dbt <args> --target bigquery`` against the emulator."""
    command = dbt_command(
        work / "bigquery", *args, "--target", "bigquery", project_dir=REPO / "dbt"
    )
    env = {**os.environ, **dbt_env(emulator.endpoint, PROJECT)}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def failures(proc: subprocess.CompletedProcess[str], work: Path) -> str:
    """dbt's failing nodes with their messages, else the end of its output."""
    results = work / "bigquery" / "target" / "run_results.json"
    lines = []
    if results.is_file():
        for r in json.loads(results.read_text())["results"]:
            if r["status"] not in ("success", "pass"):
                lines.append(f"{r['unique_id']}: {r['status']}: {r.get('message')}")
    return "\n".join(lines) or proc.stdout[-5000:]


# Reviews: how many have a comment, how many span lines, their total length.
REVIEW_TEXT = (
    "select count(review_comment_message), "
    "sum(case when strpos(review_comment_message, {newline}) > 0 then 1 else 0 end), "
    "sum(length(review_comment_message)) from bronze.order_reviews"
)


@dataclass
class Build:
    """What the emulator held right after the copy and the full build (later fixtures change
    it, so tests read these snapshots, never the live emulator)."""

    bronze_rows: dict[str, int]
    review_text: tuple[Any, ...]
    returncode: int
    report: str
    gold: dict[str, dict[str, Any]]  # table -> profile


# --- profiles: a few aggregates per column, the same on both warehouses ------------------------
def scalar(client: bigquery.Client, sql: str) -> Any:
    return next(iter(client.query(sql).result()))[0]


def gold_tables(client: bigquery.Client) -> list[str]:
    return sorted(t.table_id for t in client.list_tables("gold") if t.table_type == "TABLE")


_NUMBERS = {"INTEGER", "INT64", "NUMERIC", "BIGNUMERIC", "FLOAT", "FLOAT64"}
_INSTANTS = {"DATE", "DATETIME", "TIMESTAMP"}


def _aggregates(field_type: str, column: str) -> list[tuple[str, str]]:
    """(name, SQL valid on both BigQuery and DuckDB) per column; nested columns are skipped."""
    if field_type in _NUMBERS:
        return [("sum", f"sum({column})")]
    if field_type in ("BOOLEAN", "BOOL"):
        return [("true", f"sum(case when {column} then 1 else 0 end)")]
    if field_type == "STRING":
        return [("distinct", f"count(distinct {column})")]
    if field_type in _INSTANTS:
        return [("min", f"min({column})"), ("max", f"max({column})")]
    return []


def profile_sql(table: str, fields: list[tuple[str, str]], quote: str) -> tuple[str, list[str]]:
    names, parts = ["rows"], ["count(*)"]
    for name, field_type in fields:
        column = f"{quote}{name}{quote}"
        names.append(f"{name}.nulls")
        parts.append(f"count(*) - count({column})")
        for agg, sql in _aggregates(field_type, column):
            names.append(f"{name}.{agg}")
            parts.append(sql)
    return f"select {', '.join(parts)} from gold.{quote}{table}{quote}", names


def bigquery_profile(client: bigquery.Client, table: str) -> dict[str, Any]:
    schema = client.get_table(f"{client.project}.gold.{table}").schema
    fields = [(f.name, f.field_type) for f in schema if f.mode != "REPEATED"]
    sql, names = profile_sql(table, fields, "`")
    row = next(iter(client.query(sql).result()))
    return {"_fields": fields, **dict(zip(names, row, strict=True))}
