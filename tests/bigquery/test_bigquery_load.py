"""Bronze → BigQuery load jobs (warehouse/bigquery_load.py).

The unit tests pin what production sends (quoted newlines allowed, an explicit schema,
truncate-and-replace) and what the CSV holds. The emulator tests run real load jobs through
google-cloud-bigquery's upload against crucible-emulator (``make setup-bq-emulator``) on a
few hundred rows of a DuckDB made here: crucible 0.1.0a2 refuses ``allowQuotedNewlines`` and
inserts row by row, so those tables have no newlines and load with ``quoted_newlines=False``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from google.cloud import bigquery

from tests.bigquery.emulator import require_emulator_python
from tests.support.bigquery_emulator import (
    Emulator,
    dbt_env,
    running_emulator,
)
from warehouse.bigquery_load import (
    BigQueryLoadError,
    bigquery_schema,
    client_from_env,
    export_csv,
    load_bronze,
    load_job_config,
    load_table,
)

PROJECT = "olist-load-ci"


def duckdb_with(sql: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema bronze")
    con.execute(sql)
    return con


# --- job config and schema ---------------------------------------------------------------------
def test_job_config_allows_quoted_newlines_and_replaces_the_table() -> None:
    schema = [bigquery.SchemaField("review_comment_message", "STRING")]
    config = load_job_config(schema)
    assert config.allow_quoted_newlines is True
    assert config.source_format == bigquery.SourceFormat.CSV
    assert config.skip_leading_rows == 1
    assert config.write_disposition == bigquery.WriteDisposition.WRITE_TRUNCATE
    assert config.schema == schema
    assert config.to_api_repr()["load"]["allowQuotedNewlines"] is True


def test_job_config_without_quoted_newlines_leaves_the_field_out() -> None:
    config = load_job_config([bigquery.SchemaField("a", "STRING")], quoted_newlines=False)
    assert "allowQuotedNewlines" not in config.to_api_repr()["load"]


def test_schema_maps_duckdb_types_in_column_order() -> None:
    con = duckdb_with(
        "create table bronze.t (zip varchar, n integer, big bigint, price decimal(18, 2), "
        "lat double, ok boolean, day date, _loaded_at timestamp, "
        "seen timestamp with time zone, raw blob)"
    )
    fields = bigquery_schema(con, "t")
    assert [(f.name, f.field_type, f.mode) for f in fields] == [
        ("zip", "STRING", "NULLABLE"),
        ("n", "INT64", "NULLABLE"),
        ("big", "INT64", "NULLABLE"),
        ("price", "NUMERIC", "NULLABLE"),
        ("lat", "FLOAT64", "NULLABLE"),
        ("ok", "BOOL", "NULLABLE"),
        ("day", "DATE", "NULLABLE"),
        ("_loaded_at", "TIMESTAMP", "NULLABLE"),
        ("seen", "TIMESTAMP", "NULLABLE"),
        ("raw", "BYTES", "NULLABLE"),
    ]


def test_schema_refuses_a_nested_column_naming_it() -> None:
    con = duckdb_with("create table bronze.t (items integer[])")
    with pytest.raises(BigQueryLoadError, match=r"bronze\.t\.items"):
        bigquery_schema(con, "t")


# --- the CSV file ------------------------------------------------------------------------------
def test_export_quotes_newlines_commas_and_quotes_and_keeps_null_apart_from_empty(
    tmp_path: Path,
) -> None:
    comment = 'Entrega rápida,\n"recomendo"\nnota 10'
    con = duckdb_with("create table bronze.reviews (id integer, message varchar, title varchar)")
    con.executemany(
        "insert into bronze.reviews values (?, ?, ?)", [(1, comment, ""), (2, None, "x")]
    )
    path = tmp_path / "reviews.csv"
    assert export_csv(con, "reviews", path) == 2
    raw = path.read_text(encoding="utf-8")
    assert raw.endswith("\n2,,x\n")  # NULL: an empty unquoted field
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))  # RFC 4180, as BigQuery reads it
    assert rows == [["id", "message", "title"], ["1", comment, ""], ["2", "", "x"]]
    assert '1,"Entrega rápida,\n""recomendo""\nnota 10",""\n' in raw  # empty string: ""


def test_export_spells_timestamps_bytes_and_nan_the_way_bigquery_reads_them(
    tmp_path: Path,
) -> None:
    con = duckdb_with(
        "create table bronze.t as select timestamp '2018-03-04 05:06:07.5' as ts, "
        "timestamptz '2020-01-01 10:00:00+03' as tz, '\\xAA\\x00'::blob as raw, "
        "'nan'::double as x, 0.1::double as y"
    )
    path = tmp_path / "t.csv"
    export_csv(con, "t", path)
    assert path.read_text().splitlines()[1] == (
        "2018-03-04 05:06:07.500000,2020-01-01 07:00:00.000000,qgA=,NaN,0.1"
    )


# --- the row-count check -----------------------------------------------------------------------
@dataclass
class ShortLoadJob:
    """A load job whose statistics report fewer rows than were sent."""

    output_rows: int
    job_id: str = "job-1"
    errors: None = None

    def result(self, timeout: float | None = None) -> ShortLoadJob:
        return self


class ShortLoadingClient:
    project = "p"

    def load_table_from_file(self, data: Any, destination: Any, **kwargs: Any) -> ShortLoadJob:
        data.read()
        return ShortLoadJob(output_rows=2)


def test_a_row_count_mismatch_names_the_table_and_both_counts() -> None:
    con = duckdb_with("create table bronze.orders as select range as id from range(3)")
    client: Any = ShortLoadingClient()
    with pytest.raises(BigQueryLoadError, match=r"bronze\.orders: BigQuery loaded 2 rows .* 3"):
        load_table(con, client, "bronze", "orders")


# --- the client --------------------------------------------------------------------------------
def test_client_from_env_reads_the_dbt_profile_variables() -> None:
    client = client_from_env(
        {
            "OLIST_BQ_METHOD": "oauth-secrets",
            "OLIST_BQ_TOKEN": "dummy",
            "OLIST_BQ_PROJECT": "acme-data",
            "OLIST_BQ_LOCATION": "southamerica-east1",
            "OLIST_BQ_API_ENDPOINT": "http://127.0.0.1:9999",
        }
    )
    assert (client.project, client.location) == ("acme-data", "southamerica-east1")
    assert client._connection.API_BASE_URL == "http://127.0.0.1:9999"
    assert client._credentials.token == "dummy"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OLIST_BQ_METHOD": "service-account"}, "OLIST_BQ_KEYFILE"),
        ({"OLIST_BQ_METHOD": "oauth-secrets"}, "OLIST_BQ_TOKEN"),
        ({"OLIST_BQ_METHOD": "service-account-json"}, "not supported"),
    ],
)
def test_client_from_env_refuses_an_incomplete_method(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        client_from_env(env)


# --- against the emulator ----------------------------------------------------------------------
CUSTOMERS = """
create table bronze.customers as
select
    'c' || lpad(i::varchar, 4, '0') as customer_id,
    lpad((i * 37 % 99999)::varchar, 5, '0') as customer_zip_code_prefix,
    case i % 5
        when 0 then 'São Paulo, SP'
        when 1 then 'rio de "janeiro"'
        when 2 then ''
        when 3 then null
        else 'belo horizonte'
    end as customer_city,
    'b1' as _batch_id,
    timestamp '2018-01-01 00:00:00' + to_microseconds(i * 1000003) as _loaded_at
from range(250) r(i)
"""
PAYMENTS = """
create table bronze.order_payments as
select
    'o' || lpad(i::varchar, 4, '0') as order_id,
    (i % 3 + 1)::integer as payment_sequential,
    i % 7 = 0 as voucher,
    (i * 13.37)::decimal(18, 2) as payment_value,
    i / 7.0 as ratio,
    date '2017-01-01' + (i % 365)::integer as paid_on
from range(200) r(i)
"""
EMPTY_BATCH = "create table bronze.batch_orders (order_id varchar, _loaded_at timestamp)"
KEYS = {"customers": "customer_id", "order_payments": "order_id", "batch_orders": "order_id"}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    python = require_emulator_python()
    log = tmp_path_factory.mktemp("bigquery_load") / "crucible.log"
    with running_emulator(python, log) as running:
        yield running


@pytest.fixture(scope="module")
def client(emulator: Emulator) -> Iterator[bigquery.Client]:
    """Built the way production builds it, from dbt's variables (pointing at the emulator)."""
    bq = client_from_env(dbt_env(emulator.endpoint, PROJECT))
    bq.create_dataset(f"{PROJECT}.bronze", exists_ok=True)
    yield bq
    bq.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path_factory.mktemp("bronze") / "wh.duckdb"))
    con.execute("create schema bronze")
    for sql in (CUSTOMERS, PAYMENTS, EMPTY_BATCH):
        con.execute(sql)
    yield con
    con.close()


@dataclass
class Loaded:
    counts: dict[str, int]
    progress: list[tuple[str, int]]


@pytest.fixture(scope="module")
def loaded(warehouse: duckdb.DuckDBPyConnection, client: bigquery.Client) -> Loaded:
    seen: list[tuple[str, int]] = []
    counts = load_bronze(
        warehouse,
        client,
        "bronze",
        progress=lambda table, rows: seen.append((table, rows)),
        quoted_newlines=False,
    )
    return Loaded(counts, seen)


def bigquery_rows(client: bigquery.Client, table: str) -> list[tuple[Any, ...]]:
    rows = client.query(f"select * from bronze.`{table}` order by {KEYS[table]}").result()
    return [tuple(_naive_utc(v) for v in row.values()) for row in rows]


def _naive_utc(value: Any) -> Any:
    """BigQuery TIMESTAMPs come back aware; bronze keeps UTC without a zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


@pytest.mark.bigquery_emulator
@pytest.mark.slow
def test_load_bronze_loads_every_table_with_duckdbs_row_counts(
    loaded: Loaded, client: bigquery.Client
) -> None:
    assert loaded.counts == {"batch_orders": 0, "customers": 250, "order_payments": 200}
    assert loaded.progress == sorted(loaded.counts.items())
    for table, rows in loaded.counts.items():
        count = next(iter(client.query(f"select count(*) from bronze.`{table}`").result()))[0]
        assert count == rows, table


@pytest.mark.bigquery_emulator
@pytest.mark.slow
@pytest.mark.parametrize("table", ["customers", "order_payments"])
def test_loaded_values_equal_duckdbs(
    loaded: Loaded, warehouse: duckdb.DuckDBPyConnection, client: bigquery.Client, table: str
) -> None:
    expected = warehouse.execute(f"select * from bronze.{table} order by {KEYS[table]}").fetchall()
    assert bigquery_rows(client, table) == expected


@pytest.mark.bigquery_emulator
@pytest.mark.slow
def test_loaded_types_keep_zip_prefixes_as_text_and_empty_apart_from_null(
    loaded: Loaded, client: bigquery.Client
) -> None:
    table = client.get_table(f"{PROJECT}.bronze.customers")
    assert {f.name: f.field_type for f in table.schema}["customer_zip_code_prefix"] == "STRING"
    empty, null, zip_code = next(
        iter(
            client.query(
                "select countif(customer_city = ''), countif(customer_city is null), "
                "min(customer_zip_code_prefix) from bronze.customers"
            ).result()
        )
    ).values()
    assert (empty, null, zip_code) == (50, 50, "00000")
    payments = client.get_table(f"{PROJECT}.bronze.order_payments")
    assert isinstance(
        next(iter(client.query("select sum(payment_value) from bronze.order_payments").result()))[
            0
        ],
        Decimal,
    )
    assert payments.num_rows == 200


@pytest.mark.bigquery_emulator
@pytest.mark.slow
def test_loading_again_replaces_the_table_instead_of_appending(
    loaded: Loaded, warehouse: duckdb.DuckDBPyConnection, client: bigquery.Client
) -> None:
    assert load_bronze(warehouse, client, "bronze", ["customers"], quoted_newlines=False) == {
        "customers": 250
    }
    count = next(iter(client.query("select count(*) from bronze.customers").result()))[0]
    assert count == 250
