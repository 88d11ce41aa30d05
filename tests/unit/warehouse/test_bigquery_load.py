"""What production sends to BigQuery's load jobs (warehouse/bigquery_load.py), checked without
BigQuery: the job config, the schema, and the Parquet file read back by an independent reader
(pyarrow) value by value and type by type. The emulator side is tests/bigquery/test_bigquery_load.py.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import pyarrow.parquet as pq
import pytest
from google.cloud import bigquery

from warehouse.bigquery_load import (
    BigQueryLoadError,
    bigquery_schema,
    client_from_env,
    export_parquet,
    load_job_config,
    load_table,
)

COMMENT = 'Entrega rápida,\n"recomendo"\r\nnota 10, back\\slash\ttab; emoji 😀'
# Every value a CSV round trip could change: text with newlines, quotes and commas, '' apart
# from NULL, a zip prefix with a leading zero, NaN and infinities, decimals of both BigQuery
# decimal types, instants naive (UTC here) and aware, bytes with a NUL, small and unsigned
# integers, a UUID.
NASTY = """
create table bronze.nasty as
select * from (values
    (1, '01037', ?, '', 'nan'::double, 1234.56::decimal(18, 2),
     12345678901234567890.1234567891::decimal(38, 10),
     timestamp '2018-03-04 05:06:07.123456', timestamptz '2020-01-01 10:00:00.5+03',
     '2017-05-06 07:08:09'::timestamp_s, date '2017-01-01', time '23:59:59.999999', true,
     '\\xAA\\x00\\x0A'::blob, 7::tinyint, 250::utinyint, 1.5::float,
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid),
    (2, '00000', null, null, 'inf'::double, -0.01::decimal(18, 2),
     -0.0000000001::decimal(38, 10), null, null, null, null, null, false,
     ''::blob, (-128)::tinyint, 0::utinyint, null, null),
    (3, null, 'a,b', 'x', -0.0::double, null, null,
     timestamp '1970-01-01 00:00:00', timestamptz '2000-02-29 23:59:59.999999+00',
     null, date '2000-02-29', time '00:00:00', null, null, null, null, 'nan'::float, null)
) as t(id, zip, message, title, x, price, big, loaded_at, seen, seen_s, day, clock, ok, raw,
       tiny, unsigned, f, u)
"""


def nasty(con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    con = con or duckdb.connect()
    con.execute("create schema if not exists bronze")
    con.execute(NASTY, [COMMENT])
    return con


def canonical(value: Any) -> Any:
    """One spelling per value, so equal means the same value: floats by their exact repr (NaN
    equals NaN, -0.0 differs from 0.0), instants as aware UTC (naive ones in bronze are UTC),
    a UUID as its text (BigQuery keeps it as a STRING)."""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


def duckdb_rows(con: duckdb.DuckDBPyConnection, table: str = "nasty") -> list[tuple[Any, ...]]:
    rows = con.execute(f"select * from bronze.{table} order by id").fetchall()
    return [tuple(canonical(v) for v in row) for row in rows]


def parquet_rows(path: Path) -> list[tuple[Any, ...]]:
    rows = pq.read_table(path).to_pylist()
    return sorted((tuple(canonical(v) for v in row.values()) for row in rows), key=lambda r: r[0])


# --- job config and schema ---------------------------------------------------------------------
def test_job_config_loads_parquet_into_the_explicit_schema_and_replaces_the_table() -> None:
    schema = [bigquery.SchemaField("review_comment_message", "STRING")]
    config = load_job_config(schema)
    assert config.source_format == bigquery.SourceFormat.PARQUET
    assert config.schema == schema
    assert config.write_disposition == bigquery.WriteDisposition.WRITE_TRUNCATE
    # NUMERIC first: BigQuery takes the first listed type a decimal fits, as bigquery_type does
    assert config.to_api_repr()["load"]["decimalTargetTypes"] == ["NUMERIC", "BIGNUMERIC"]
    # nothing of the CSV options, and no autodetect
    assert set(config.to_api_repr()["load"]) == {
        "sourceFormat",
        "schema",
        "writeDisposition",
        "decimalTargetTypes",
    }


def test_schema_maps_duckdb_types_in_column_order() -> None:
    con = nasty()
    fields = bigquery_schema(con, "nasty")
    assert [(f.name, f.field_type, f.mode) for f in fields] == [
        ("id", "INT64", "NULLABLE"),
        ("zip", "STRING", "NULLABLE"),
        ("message", "STRING", "NULLABLE"),
        ("title", "STRING", "NULLABLE"),
        ("x", "FLOAT64", "NULLABLE"),
        ("price", "NUMERIC", "NULLABLE"),
        ("big", "BIGNUMERIC", "NULLABLE"),
        ("loaded_at", "TIMESTAMP", "NULLABLE"),
        ("seen", "TIMESTAMP", "NULLABLE"),
        ("seen_s", "TIMESTAMP", "NULLABLE"),
        ("day", "DATE", "NULLABLE"),
        ("clock", "TIME", "NULLABLE"),
        ("ok", "BOOL", "NULLABLE"),
        ("raw", "BYTES", "NULLABLE"),
        ("tiny", "INT64", "NULLABLE"),
        ("unsigned", "INT64", "NULLABLE"),
        ("f", "FLOAT64", "NULLABLE"),
        ("u", "STRING", "NULLABLE"),
    ]


@pytest.mark.parametrize("kind", ["integer[]", "hugeint", "ubigint", "struct(a integer)"])
def test_schema_refuses_a_type_without_an_exact_bigquery_load_naming_the_column(
    kind: str,
) -> None:
    con = duckdb.connect()
    con.execute(f"create schema bronze; create table bronze.t (items {kind})")
    with pytest.raises(BigQueryLoadError, match=r"bronze\.t\.items"):
        bigquery_schema(con, "t")


# --- the Parquet file --------------------------------------------------------------------------
def test_the_parquet_file_holds_every_value_exactly(tmp_path: Path) -> None:
    con = nasty()
    path = tmp_path / "nasty.parquet"
    assert export_parquet(con, "nasty", path) == 3
    assert parquet_rows(path) == duckdb_rows(con)
    message, title = pq.read_table(path, columns=["message", "title"]).to_pylist()[1].values()
    assert (message, title) == (None, None)  # NULL stays NULL, '' stays '' (row 1)
    assert pq.read_table(path, columns=["title"]).to_pylist()[0]["title"] == ""


@pytest.mark.parametrize(
    "change",
    [
        "update bronze.nasty set zip = '1037' where id = 1",
        "update bronze.nasty set message = replace(message, '\r\n', '\n') where id = 1",
        "update bronze.nasty set title = null where id = 1",
        "update bronze.nasty set x = null where id = 1",
        "update bronze.nasty set x = 'inf'::double where id = 3",
        "update bronze.nasty set price = 1234.57 where id = 1",
        "update bronze.nasty set loaded_at = loaded_at + interval 1 microsecond where id = 1",
        "update bronze.nasty set raw = '\\xAA\\x00'::blob where id = 1",
    ],
)
def test_the_round_trip_comparison_catches_a_changed_value(tmp_path: Path, change: str) -> None:
    """The comparison above can fail: one changed value after the export is a difference."""
    con = nasty()
    path = tmp_path / "nasty.parquet"
    export_parquet(con, "nasty", path)
    con.execute(change)
    assert parquet_rows(path) != duckdb_rows(con)


# (physical type, logical type) BigQuery reads into each column type of the schema
# (cloud.google.com/bigquery/docs/loading-data-cloud-storage-parquet, "Parquet conversions")
READS_AS = {
    "STRING": ("BYTE_ARRAY", "String"),
    "INT64": ("INT64", "Int"),  # signed, 64 bits (checked below)
    "FLOAT64": ("DOUBLE", "None"),
    "BOOL": ("BOOLEAN", "None"),
    "BYTES": ("BYTE_ARRAY", "None"),
    "DATE": ("INT32", "Date"),
    "TIME": ("INT64", "Time"),
    "TIMESTAMP": ("INT64", "Timestamp"),
    "NUMERIC": (None, "Decimal"),  # INT32, INT64 or FIXED_LEN_BYTE_ARRAY by precision
    "BIGNUMERIC": (None, "Decimal"),
}


def test_each_parquet_column_has_the_type_bigquery_reads_into_the_schema(tmp_path: Path) -> None:
    con = nasty()
    path = tmp_path / "nasty.parquet"
    export_parquet(con, "nasty", path)
    written = pq.ParquetFile(path).schema
    fields = bigquery_schema(con, "nasty")
    assert written.names == [f.name for f in fields]
    for i, f in enumerate(fields):
        column = written.column(i)
        logical = json.loads(column.logical_type.to_json())
        physical, expected = READS_AS[f.field_type]
        assert physical in (None, column.physical_type), f.name
        assert logical.get("Type") == expected, f.name
        if f.field_type == "INT64":  # small and unsigned DuckDB integers widened
            assert (logical["bitWidth"], logical["isSigned"]) == (64, True), f.name
        if f.field_type in ("TIME", "TIMESTAMP"):
            assert logical["timeUnit"] == "microseconds", f.name
        if f.field_type == "TIMESTAMP":  # an instant; a local time BigQuery reads as DATETIME
            assert logical["isAdjustedToUTC"] is True, f.name
    decimals = {written.column(i).name: written.column(i) for i in (5, 6)}
    assert (decimals["price"].precision, decimals["price"].scale) == (18, 2)
    assert (decimals["big"].precision, decimals["big"].scale) == (38, 10)


def test_naive_timestamps_are_written_as_the_utc_instant_whatever_the_session_zone(
    tmp_path: Path,
) -> None:
    con = nasty()
    con.execute("set TimeZone = 'America/Sao_Paulo'")
    path = tmp_path / "nasty.parquet"
    export_parquet(con, "nasty", path)
    loaded_at = pq.read_table(path, columns=["loaded_at"]).to_pylist()[0]["loaded_at"]
    assert loaded_at == datetime(2018, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


# --- the load and its row-count check ----------------------------------------------------------
@dataclass
class ShortLoadJob:
    """A load job whose statistics report fewer rows than were sent."""

    output_rows: int
    job_id: str = "job-1"
    errors: None = None

    def result(self, timeout: float | None = None) -> ShortLoadJob:
        return self


@dataclass
class ShortLoadingClient:
    """Takes the upload (keeping its first bytes and the job config) and reports 2 rows."""

    project: str = "p"
    sent: list[tuple[bytes, Any]] = field(default_factory=list)

    def load_table_from_file(self, data: Any, destination: Any, **kwargs: Any) -> ShortLoadJob:
        self.sent.append((data.read(4), kwargs["job_config"]))
        return ShortLoadJob(output_rows=2)


def test_a_row_count_mismatch_names_the_table_and_both_counts() -> None:
    con = duckdb.connect()
    con.execute(
        "create schema bronze; create table bronze.orders as select range as id from range(3)"
    )
    client: Any = ShortLoadingClient()
    with pytest.raises(BigQueryLoadError, match=r"bronze\.orders: BigQuery loaded 2 rows .* 3"):
        load_table(con, client, "bronze", "orders")
    [(magic, config)] = client.sent
    assert magic == b"PAR1"  # a Parquet file was uploaded
    assert config.source_format == bigquery.SourceFormat.PARQUET


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
