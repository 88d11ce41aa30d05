"""`dbt build --target bigquery` of the whole project against crucible-emulator, a local
BigQuery API on DuckDB, on the real sample's bronze (ingest + contracts, then copied through
the BigQuery API). Whatever models the project holds are built and tested; their gold
tables are then compared with the same project built on DuckDB.

Needs ``make setup-bq-emulator`` (.venv-bq). Without it the tests skip locally and fail in CI.
The emulator, the copy and both builds are package fixtures (conftest.py), shared with
test_gx_on_emulator.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from google.cloud import bigquery

from tests.bigquery.builds import REVIEW_TEXT, Build, dbt_bigquery, failures, profile_sql, scalar
from tests.support.bigquery_emulator import Emulator, copy_schema

pytestmark = [pytest.mark.bigquery_emulator, pytest.mark.slow]

REDELIVERED_ORDERS = 25


# --- fixtures (emulator, client, warehouse, duckdb_build, built: conftest.py) ------------------
@pytest.fixture(scope="module")
def duckdb_gold(built: Build, duckdb_built: Path) -> dict[str, dict[str, Any]]:
    con = duckdb.connect(str(duckdb_built), read_only=True)
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


# --- profiles: the DuckDB side of tests.bigquery.builds.bigquery_profile ------------------------
def scalar_duckdb(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def duckdb_profile(
    con: duckdb.DuckDBPyConnection, table: str, reference: dict[str, Any]
) -> dict[str, Any]:
    """The profile of the DuckDB table, over the columns the BigQuery one has."""
    sql, names = profile_sql(table, reference["_fields"], '"')
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
