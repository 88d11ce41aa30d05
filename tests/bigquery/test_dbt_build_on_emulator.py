"""`dbt build --target bigquery` of the whole project against crucible-emulator, a local
BigQuery API on DuckDB, on the real sample's bronze (ingest + contracts, then copied through
the BigQuery API). Whatever models the project holds are built and tested; their gold
tables are then compared with the same project built on DuckDB.

Needs ``make setup-bq-emulator`` (.venv-bq). Without it the tests skip locally and fail in CI.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from google.cloud import bigquery

from olist.bigquery_emulator import (
    Emulator,
    client_for,
    copy_schema,
    copy_warehouse_schema,
    dbt_env,
    running_emulator,
)
from tests.bigquery.emulator import require_emulator_python
from tests.dbt_helpers import load_bronze

pytestmark = [pytest.mark.bigquery_emulator, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PROJECT = "olist-ci"
REDELIVERED_ORDERS = 25


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def emulator_python() -> Path:
    return require_emulator_python()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bigquery_emulator")


@pytest.fixture(scope="module")
def warehouse(sample_dir: Path, work: Path) -> Path:
    """The sample's bronze, as the platform makes it (strict ingest + contracts)."""
    path = work / "wh.duckdb"
    load_bronze(sample_dir, path)
    return path


@pytest.fixture(scope="module")
def emulator(emulator_python: Path, work: Path) -> Iterator[Emulator]:
    with running_emulator(emulator_python, work / "crucible.log") as running:
        yield running


@pytest.fixture(scope="module")
def client(emulator: Emulator) -> Iterator[bigquery.Client]:
    bq = client_for(emulator.endpoint, PROJECT)
    yield bq
    bq.close()


def dbt_paths(work: Path) -> list[str]:
    """The project, and target and log folders of its own (no collision with other dbt runs;
    runs sharing ``work`` reuse the parse)."""
    return [
        "--profiles-dir",
        str(REPO / "dbt"),
        "--project-dir",
        str(REPO / "dbt"),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]


def dbt_bigquery(emulator: Emulator, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``dbt <args> --target bigquery`` against the emulator."""
    command = [
        str(Path(sys.executable).with_name("dbt")),
        *args,
        "--target",
        "bigquery",
        *dbt_paths(work / "bigquery"),
    ]
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


@pytest.fixture(scope="module")
def duckdb_build(
    emulator_python: Path, warehouse: Path, work: Path
) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """The same project run on DuckDB, on a copy of the warehouse, in the background while
    the emulator is loaded and built (about 10 s off the wall time). Asks for the emulator
    first, so nothing starts when it is missing."""
    path = work / "duckdb-build.duckdb"
    shutil.copyfile(warehouse, path)
    env = {**os.environ, "OLIST_DBT_TARGET": "duckdb", "OLIST_WAREHOUSE": str(path)}
    with (work / "duckdb-run.txt").open("w") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("dbt")), "run"] + dbt_paths(work / "duckdb"),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    yield path, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def built(
    duckdb_build: tuple[Path, subprocess.Popen[str]],  # first: it runs meanwhile
    emulator: Emulator,
    client: bigquery.Client,
    warehouse: Path,
    work: Path,
) -> Build:
    copies = copy_warehouse_schema(warehouse, client)
    bronze_rows = {
        c.table: scalar(client, f"select count(*) from bronze.`{c.table}`") for c in copies
    }
    review_text = tuple(
        next(iter(client.query(REVIEW_TEXT.format(newline="'\\n'")).result())).values()
    )
    proc = dbt_bigquery(emulator, work, "build")
    report = failures(proc, work) if proc.returncode else ""
    gold = {t: bigquery_profile(client, t) for t in gold_tables(client)}
    return Build(bronze_rows, review_text, proc.returncode, report, gold)


@pytest.fixture(scope="module")
def duckdb_gold(
    built: Build, duckdb_build: tuple[Path, subprocess.Popen[str]], work: Path
) -> dict[str, dict[str, Any]]:
    path, proc = duckdb_build
    returncode = proc.wait(timeout=900)
    log = (work / "duckdb-run.txt").read_text()
    assert returncode == 0, f"dbt run on DuckDB failed:\n{log[-5000:]}"
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: duckdb_profile(con, t, built.gold[t]) for t in built.gold}
    finally:
        con.close()


@dataclass
class Incremental:
    returncode: int
    report: str
    redelivered_at: datetime
    orders_before: int
    orders_after: int
    orders_at_redelivery: int


@pytest.fixture(scope="module")
def incremental(
    built: Build, emulator: Emulator, client: bigquery.Client, work: Path
) -> Incremental:
    """Some orders delivered again by a later batch, then only the incremental models: their
    MERGE must update those orders in place."""
    assert built.returncode == 0, "the full build failed; see test_dbt_build_passes"
    redelivered_at = datetime(2030, 1, 1, 12, 0, 0)
    stamp = f"timestamp '{redelivered_at:%Y-%m-%d %H:%M:%S}'"
    replaced = {"_loaded_at": stamp, "_batch_id": "'redelivery'"}
    # crucible 0.1.0a2 miscounts `select * replace (...)` in an INSERT: spell the columns out
    columns = [f.name for f in client.get_table(f"{client.project}.bronze.batch_orders").schema]
    client.query(
        f"insert into bronze.batch_orders ({', '.join(columns)}) "
        f"select {', '.join(replaced.get(c, c) for c in columns)} "
        f"from bronze.orders order by order_id limit {REDELIVERED_ORDERS}"
    ).result()
    before = scalar(client, "select count(*) from gold.fct_orders")
    proc = dbt_bigquery(emulator, work, "build", "--select", "config.materialized:incremental")
    report = failures(proc, work) if proc.returncode else ""
    after = scalar(client, "select count(*) from gold.fct_orders")
    at_redelivery = scalar(
        client,
        f"select count(*) from gold.fct_orders where _loaded_at = {stamp}",
    )
    return Incremental(proc.returncode, report, redelivered_at, before, after, at_redelivery)


# --- profiles: a few aggregates per column, the same on both warehouses ------------------------
def scalar(client: bigquery.Client, sql: str) -> Any:
    return next(iter(client.query(sql).result()))[0]


def scalar_duckdb(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


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


def _profile_sql(table: str, fields: list[tuple[str, str]], quote: str) -> tuple[str, list[str]]:
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
    sql, names = _profile_sql(table, fields, "`")
    row = next(iter(client.query(sql).result()))
    return {"_fields": fields, **dict(zip(names, row, strict=True))}


def duckdb_profile(
    con: duckdb.DuckDBPyConnection, table: str, reference: dict[str, Any]
) -> dict[str, Any]:
    """The profile of the DuckDB table, over the columns the BigQuery one has."""
    sql, names = _profile_sql(table, reference["_fields"], '"')
    row = con.execute(sql).fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def same(left: Any, right: Any) -> bool:
    if isinstance(left, datetime) and isinstance(right, datetime):
        # BigQuery TIMESTAMP is UTC; DuckDB's naive timestamps hold the same digits
        return left.replace(tzinfo=None) == right.replace(tzinfo=None)
    if isinstance(left, float | Decimal) or isinstance(right, float | Decimal):
        if left is None or right is None:
            return left is right
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-6)
    return bool(left == right)


# --- tests -------------------------------------------------------------------------------------
TRICKY_ROWS = [
    (
        1,
        "quote ' double \" backslash \\ newline \n crlf \r\n tab \t end",
        Decimal("12.34"),
        1.5,
        True,
        date(2024, 2, 29),
        datetime(2024, 1, 1, 10, 0, 0, 123456),
        time(23, 59, 59, 500000),
        b"\x00\xff'\\",
    ),
    (
        2,
        "",
        Decimal("-0.01"),
        float("inf"),
        False,
        date(1970, 1, 1),
        datetime(2016, 9, 4, 21, 15, 19),
        time(0, 0),
        b"",
    ),
    (3, None, None, None, None, None, None, None, None),
    (
        4,
        "são paulo – ü 🙂 \\n literal \\' x \u2028 \x01",
        Decimal("0"),
        -0.0,
        None,
        None,
        None,
        None,
        None,
    ),
]


def test_copy_table_round_trips_every_value(client: bigquery.Client) -> None:
    con = duckdb.connect()
    con.execute("create schema src")
    con.execute(
        "create table src.tricky (i bigint, s varchar, d decimal(18, 2), f double, b boolean, "
        "dt date, ts timestamp, tm time, bl blob)"
    )
    con.executemany("insert into src.tricky values (?, ?, ?, ?, ?, ?, ?, ?, ?)", TRICKY_ROWS)
    [copied] = copy_schema(con, client, "src", dataset="roundtrip", max_statement_bytes=200)
    con.close()
    assert copied.rows == len(TRICKY_ROWS) and copied.statements > 2  # chunked
    back = [tuple(r.values()) for r in client.query("select * from roundtrip.tricky order by i")]
    back = [
        tuple(v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in r) for r in back
    ]
    assert back == TRICKY_ROWS


def test_bronze_copy_keeps_every_table_row_and_review_text(built: Build, warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'bronze'"
        ).fetchall()
        expected = {t: scalar_duckdb(con, f'select count(*) from bronze."{t}"') for (t,) in tables}
        review_text = con.execute(REVIEW_TEXT.format(newline="chr(10)")).fetchone()
    finally:
        con.close()
    assert built.bronze_rows == expected
    assert review_text is not None and review_text[1] > 0  # the sample has multi-line reviews
    assert built.review_text == review_text


def test_dbt_build_passes(built: Build) -> None:
    assert built.returncode == 0, f"dbt build --target bigquery failed:\n{built.report}"


def test_fct_orders_has_one_row_per_order_with_a_customer(built: Build, warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            "with orders as (select order_id, customer_id from bronze.orders "
            "union select order_id, customer_id from bronze.batch_orders), "
            "customers as (select customer_id, customer_unique_id from bronze.customers "
            "union select customer_id, customer_unique_id from bronze.batch_customers) "
            "select count(distinct o.order_id), count(distinct c.customer_unique_id) "
            "from orders o join customers c using (customer_id)"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    orders, customers = row
    assert orders == 8135 and customers == 8016  # the sample: every order has its customer
    assert built.gold["fct_orders"]["rows"] == orders
    assert built.gold["fct_orders"]["order_id.distinct"] == orders
    assert built.gold["fct_orders"]["customer_unique_id.distinct"] == customers
    assert built.gold["dim_customers"]["rows"] == customers


def test_every_gold_table_matches_the_duckdb_build(
    built: Build, duckdb_gold: dict[str, dict[str, Any]]
) -> None:
    differences = [
        f"{table}.{key}: bigquery {value!r} != duckdb {duckdb_gold[table][key]!r}"
        for table, profile in built.gold.items()
        for key, value in profile.items()
        if key != "_fields" and not same(value, duckdb_gold[table][key])
    ]
    assert built.gold, "no gold tables were built"
    assert not differences, "\n".join(differences)


def test_incremental_models_merge_redelivered_orders_in_place(incremental: Incremental) -> None:
    assert incremental.returncode == 0, f"incremental build failed:\n{incremental.report}"
    assert incremental.orders_after == incremental.orders_before
    assert incremental.orders_at_redelivery == REDELIVERED_ORDERS
