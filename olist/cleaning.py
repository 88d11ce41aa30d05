"""Apply the raw data contracts: landing → bronze (accepted) + quarantine (rejected).

Validation is lazy, so one run reports every failure. A row that breaks a critical
row-level rule is quarantined with the checks it failed; warnings and info keep the row.
Every check's outcome becomes a ``CheckResult`` for ``quality.check_results``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

import duckdb
import pandas as pd
import pandera.pandas as pa

from contracts import Orders, check_severity
from contracts.sources import SOURCES, SourceTable
from olist.quality_store import CheckResult
from olist.warehouse import row_count

# pandera on lazy frames checks only the schema unless told to check data too.
os.environ.setdefault("PANDERA_VALIDATION_DEPTH", "SCHEMA_AND_DATA")

CONTRACTS: dict[str, type[pa.DataFrameModel]] = {"orders": Orders}
META_COLUMNS = ("_row_number", "_batch_id", "_source_file", "_loaded_at")


@dataclass
class CleanResult:
    table: str
    accepted: int
    quarantined: int
    checks: list[CheckResult]


def _check_ids(model: type[pa.DataFrameModel]) -> list[tuple[str | None, str]]:
    """Every check the model runs, as (column, check name); passing ones too."""
    schema = model.to_schema()
    ids: list[tuple[str | None, str]] = []
    for name, column in schema.columns.items():
        if not column.nullable:
            ids.append((name, "not_nullable"))
        if column.unique:
            ids.append((name, "field_uniqueness"))
        ids.extend((name, check.name) for check in column.checks)
    ids.extend((None, check.name) for check in schema.checks)
    return ids


def validate_frame(
    df: pd.DataFrame, model: type[pa.DataFrameModel], table: str, run_id: str, layer: str = "bronze"
) -> tuple[dict[int, list[str]], list[CheckResult]]:
    """Validate ``df``; return {row index: failed critical checks} and one result per check."""
    try:
        model.validate(df, lazy=True)
        failures = pd.DataFrame(columns=["column", "check", "failure_case", "index"])
    except pa.errors.SchemaErrors as err:
        failures = err.failure_cases
    results: list[CheckResult] = []
    quarantine: dict[int, list[str]] = defaultdict(list)
    n = len(df)
    first_column = df.columns[0] if len(df.columns) else None
    for column, check_name in _check_ids(model):
        if column is None:
            # lazy mode repeats a data-frame check's failure once per column of the row
            match = failures[failures["check"] == check_name]
            sample_source = match[match["column"] == first_column]
        else:
            match = failures[
                (failures["column"] == column)
                & failures["check"].astype(str).str.startswith(check_name)
            ]
            sample_source = match
        rows = match["index"].dropna().astype(int).unique()
        unexpected = len(rows) if len(rows) or match.empty else len(match)
        severity = check_severity(model, column, check_name)
        if severity == "critical":
            for idx in rows:
                quarantine[int(idx)].append(f"{column or table}: {check_name}")
        samples = sample_source["failure_case"].dropna().astype(str).unique()[:5]
        results.append(
            CheckResult(
                run_id=run_id,
                layer=layer,
                table_name=table,
                column_name=column,
                check_name=check_name,
                check_engine="pandera",
                severity=severity,
                passed=unexpected == 0,
                observed_count=n,
                unexpected_count=int(unexpected),
                unexpected_percent=round(100.0 * unexpected / n, 4) if n else 0.0,
                sample_values=list(samples),
            )
        )
    return dict(quarantine), results


def clean_table(con: duckdb.DuckDBPyConnection, source: SourceTable, run_id: str) -> CleanResult:
    """landing.<table> → bronze.<table> and quarantine.<table> in one transaction."""
    model = CONTRACTS.get(source.table)
    checks: list[CheckResult] = []
    reasons: dict[int, list[str]] = {}
    if model is not None:
        df = con.sql(f"select * from landing.{source.table}").df()
        data = df[list(source.columns)]
        reasons, checks = validate_frame(data, model, source.table, run_id)
        row_numbers = df["_row_number"].to_numpy()
        rejected = pd.DataFrame(
            {
                "_row_number": [int(row_numbers[i]) for i in reasons],
                "_reason": ["; ".join(r) for r in reasons.values()],
            }
        )
    else:
        rejected = pd.DataFrame(
            {"_row_number": pd.Series([], dtype="int64"), "_reason": pd.Series([], dtype="str")}
        )
    con.register("_rejected", rejected)
    con.execute("begin transaction")
    try:
        con.execute(
            f"create or replace table bronze.{source.table} as select * from landing.{source.table} "
            f"where _row_number not in (select _row_number from _rejected)"
        )
        con.execute(
            f"create table if not exists quarantine.{source.table} as "
            f"select l.*, r._reason from landing.{source.table} l, _rejected r limit 0"
        )
        # re-running the same batch replaces its quarantined rows instead of doubling them
        con.execute(
            f"delete from quarantine.{source.table} where _batch_id in "
            f"(select distinct _batch_id from landing.{source.table})"
        )
        con.execute(
            f"insert into quarantine.{source.table} select l.*, r._reason "
            f"from landing.{source.table} l join _rejected r using (_row_number)"
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_rejected")
    accepted = row_count(con, "bronze", source.table)
    return CleanResult(source.table, accepted, len(reasons), checks)


def clean_all(con: duckdb.DuckDBPyConnection, run_id: str) -> list[CleanResult]:
    return [clean_table(con, source, run_id) for source in SOURCES]
