"""The contracts' checks against earlier loads run in BigQuery itself (here
crucible-emulator): a BigQuery run's working file holds no bronze, so before these ran in the
engine, the orphan check of a changed child against an unchanged parent and the check of a
parent file against the children bronze holds were skipped there.

History is the real sample's bronze and ledger in the emulator; each test prepares a working
file as a run does (``target_state.hydrate``: the ledger, no bronze, no keys), lands one
changed file in it and applies the contracts with BigQuery as history.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingestion import cleaning
from ingestion import csv_files as ingest
from tests.sample_edits import drop_orders_with_items
from tests.support.bigquery_emulator import Emulator, dbt_env
from warehouse import local as warehouse
from warehouse.bigquery import replace_from_duckdb, target_client
from warehouse.engine import KEYS_SCHEMA, BigQueryWarehouse
from warehouse.target_state import hydrate

pytestmark = [pytest.mark.bigquery_emulator]

PROJECT = "olist-history"
HISTORY = (
    *("orders", "order_items", "order_payments", "order_reviews", "customers", "batch_orders"),
    *("products", "sellers"),  # the keys a run's working file once received
)


@pytest.fixture(scope="module")
def history(emulator: Emulator, warehouse: Path) -> Iterator[BigQueryWarehouse]:
    """BigQuery after a first load of the sample: the bronze tables these tests touch, and
    the ledger."""
    with BigQueryWarehouse(target_client(dbt_env(emulator.endpoint, PROJECT))) as wh:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            for schema in ("bronze", "ops"):
                wh.ensure_schema(schema)
            replace_from_duckdb(con, wh.target, "bronze", "bronze", list(HISTORY))
            replace_from_duckdb(con, wh.target, "ops", "ops", ["file_ledger"])
        finally:
            con.close()
        yield wh


@pytest.fixture
def source(sample_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    shutil.copytree(sample_dir, folder)
    return folder


@pytest.fixture
def scratch(history: BigQueryWarehouse, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path / "run.duckdb"
    hydrate(history, path)
    with warehouse.connect(path) as con:
        yield con


def test_the_working_file_receives_no_bronze_keys(scratch: duckdb.DuckDBPyConnection) -> None:
    tables = scratch.sql(
        "select table_name from information_schema.tables where table_schema = 'bronze'"
    ).fetchall()
    assert tables == []
    assert scratch.sql("select count(*) from ops.file_ledger").fetchall()[0][0] == 9


def test_a_changed_child_naming_no_parent_in_bigquery_bronze_is_quarantined(
    history: BigQueryWarehouse, scratch: duckdb.DuckDBPyConnection, source: Path
) -> None:
    payments = source / "olist_order_payments_dataset.csv"
    payments.write_text(
        payments.read_text(encoding="utf-8") + "e" * 32 + ",1,boleto,1,10.0\n", encoding="utf-8"
    )
    result = ingest.ingest_folder(scratch, source, "run-2")
    assert result.tables == ["order_payments"]
    outcome = cleaning.clean_all(scratch, "run-2", result.tables, history=history)
    assert outcome.committed
    quarantined = scratch.sql("select order_id, _reason from quarantine.order_payments").fetchall()
    assert quarantined == [("e" * 32, "order_id: not in orders")]
    # the keys went to a scratch table of the run, which is gone
    assert not [t for t in history.tables(KEYS_SCHEMA) if t.startswith("_keys_")]


def test_a_parent_file_lacking_keys_that_bigquery_children_name_is_refused(
    history: BigQueryWarehouse, scratch: duckdb.DuckDBPyConnection, source: Path
) -> None:
    dropped = drop_orders_with_items(source)
    result = ingest.ingest_folder(scratch, source, "run-3")
    assert result.tables == ["orders"]
    outcome = cleaning.clean_all(scratch, "run-3", result.tables, history=history)
    assert not outcome.committed
    blocking = {c.check_name: c for c in outcome.blocking}
    assert {
        "referenced_by_order_items_order_id",
        "referenced_by_order_payments_order_id",
    } <= set(blocking)
    named = blocking["referenced_by_order_items_order_id"].sample_values
    assert "rows of bronze.order_items name a order_id the file lacks" in named[0]
    assert named[1:] and set(named[1:]) <= dropped
    [(status,)] = scratch.sql(
        "select status from ops.file_ledger where table_name = 'orders' and batch_id = 'run-3'"
    ).fetchall()
    assert status == "refused"


def test_key_tables_a_crashed_run_left_are_dropped_by_the_next_holder_of_the_slot(
    history: BigQueryWarehouse,
) -> None:
    history.append(KEYS_SCHEMA, "_keys_crashed_run_0a1b2c3d", pd.DataFrame({"new_key": ["x"]}))
    history.append(KEYS_SCHEMA, "kept_table", pd.DataFrame({"new_key": ["y"]}))
    assert history.drop_leftover_keys() == ["_keys_crashed_run_0a1b2c3d"]
    left = history.tables(KEYS_SCHEMA)
    assert "kept_table" in left
    assert not [t for t in left if t.startswith("_keys_")]
