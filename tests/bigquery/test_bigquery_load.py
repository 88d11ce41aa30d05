"""Bronze → BigQuery on the emulator (warehouse/bigquery_load.py, warehouse/bigquery.py).

Production loads bronze by Parquet load jobs; crucible-emulator 0.1.0a2 runs none, so on it
``replace_from_duckdb`` copies the same tables by DML. These tests pin both halves against a
crucible started here (``make setup-bq-emulator``): the refusal, with the table named (this
test fails the day crucible loads Parquet: then drop the DML copy), and the DML copy keeping
every awkward value of tests/unit/warehouse/test_bigquery_load.py exactly. What production
sends (job config, Parquet types and values) is checked there, without BigQuery.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from google.cloud import bigquery

from tests.bigquery.emulator import require_emulator_python
from tests.support.bigquery_emulator import Emulator, dbt_env, running_emulator
from tests.unit.warehouse.test_bigquery_load import canonical, duckdb_rows, nasty
from warehouse.bigquery import Target, replace_from_duckdb, target_client
from warehouse.bigquery_load import (
    BigQueryLoadError,
    bigquery_schema,
    client_from_env,
    load_table,
)

PROJECT = "olist-load-ci"
EMPTY_BATCH = "create table bronze.batch_orders (order_id varchar, _loaded_at timestamp)"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    python = require_emulator_python()
    log = tmp_path_factory.mktemp("bigquery_load") / "crucible.log"
    with running_emulator(python, log) as running:
        yield running


@pytest.fixture(scope="module")
def target(emulator: Emulator) -> Iterator[Target]:
    """What the platform builds from dbt's variables pointing at the emulator."""
    with target_client(dbt_env(emulator.endpoint, PROJECT)) as built:
        assert built.emulator
        built.client.create_dataset(f"{PROJECT}.bronze", exists_ok=True)
        yield built


@pytest.fixture
def warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    con = nasty()
    # crucible stores BIGNUMERIC nowhere ("precision 76 exceeds DuckDB's 38"); the Parquet
    # file's BIGNUMERIC column is checked in the unit tests
    con.execute("alter table bronze.nasty drop column big")
    con.execute(EMPTY_BATCH)
    yield con
    con.close()


def emulator_rows(client: bigquery.Client, table: str = "nasty") -> list[tuple[Any, ...]]:
    rows = client.query(f"select * from bronze.`{table}` order by id").result()
    return [tuple(canonical(v) for v in row.values()) for row in rows]


@pytest.mark.bigquery_emulator
@pytest.mark.slow
def test_the_emulator_refuses_a_parquet_load_job_and_the_error_names_the_table(
    emulator: Emulator, target: Target, warehouse: duckdb.DuckDBPyConnection
) -> None:
    client = client_from_env(dbt_env(emulator.endpoint, PROJECT))  # production's client
    with pytest.raises(BigQueryLoadError, match=r"bronze\.nasty \(3 rows\).*Not supported"):
        load_table(warehouse, client, "bronze", "nasty")
    client.close()


@pytest.mark.bigquery_emulator
@pytest.mark.slow
def test_every_awkward_value_reaches_the_emulator_exactly(
    target: Target, warehouse: duckdb.DuckDBPyConnection
) -> None:
    seen: list[tuple[str, int]] = []
    copied = replace_from_duckdb(
        warehouse,
        target,
        "bronze",
        "bronze",
        ["nasty", "batch_orders"],
        progress=lambda table, rows: seen.append((table, rows)),
    )
    assert copied == {"nasty": 3, "batch_orders": 0}
    assert seen == list(copied.items())
    assert emulator_rows(target.client) == duckdb_rows(warehouse)
    table = target.client.get_table(f"{PROJECT}.bronze.nasty")
    assert [(f.name, f.field_type) for f in table.schema] == [
        (f.name, {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN"}.get(t, t))
        for f, t in ((f, f.field_type) for f in bigquery_schema(warehouse, "nasty"))
    ]
    assert target.client.get_table(f"{PROJECT}.bronze.batch_orders").num_rows == 0
    # the comparison can fail: one changed value is a difference
    warehouse.execute("update bronze.nasty set zip = '1037' where id = 1")
    assert emulator_rows(target.client) != duckdb_rows(warehouse)


@pytest.mark.bigquery_emulator
@pytest.mark.slow
def test_copying_again_replaces_the_table_instead_of_appending(
    target: Target, warehouse: duckdb.DuckDBPyConnection
) -> None:
    for _ in range(2):
        assert replace_from_duckdb(warehouse, target, "bronze", "bronze", ["nasty"]) == {"nasty": 3}
    count = next(iter(target.client.query("select count(*) from bronze.nasty").result()))[0]
    assert count == 3
