"""Checks against earlier loads run in the target warehouse, not in the run's working file.

On BigQuery a run parses and checks new files in a scratch DuckDB file that holds no bronze;
here the target is a second DuckDB file, so the same split is tested without an emulator
(tests/bigquery/test_history_checks.py runs it against BigQuery's stand-in).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from contracts.sources import Reference
from ingestion import cleaning
from ingestion import csv_files as ingest
from tests.dbt_helpers import load_bronze
from tests.sample_edits import drop_orders_with_items
from warehouse import local as warehouse
from warehouse.engine import DuckDBWarehouse

PAYMENTS = "olist_order_payments_dataset.csv"
ITEM_PRODUCT = Reference("batch_order_items", "product_id", "products", "product_id")


@pytest.fixture
def source(sample_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    shutil.copytree(sample_dir, folder)
    return folder


@pytest.fixture
def target(source: Path, tmp_path: Path) -> Path:
    """The target warehouse after a first full load of the sample."""
    path = tmp_path / "target.duckdb"
    load_bronze(source, path)
    return path


@pytest.fixture
def scratch(target: Path, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A working file as a BigQuery run gets it: the target's ledger, no bronze."""
    ledger = duckdb.connect(str(target), read_only=True)
    try:
        rows = ledger.sql("select * from ops.file_ledger").df()
    finally:
        ledger.close()
    con = duckdb.connect(str(tmp_path / "scratch.duckdb"))
    warehouse.ensure_schemas(con)
    ingest.ensure_ledger(con)
    con.register("_rows", rows)
    con.execute("insert into ops.file_ledger by name select * from _rows")
    con.unregister("_rows")
    yield con
    con.close()


def test_a_changed_child_is_checked_against_the_targets_unchanged_parent(
    scratch: duckdb.DuckDBPyConnection, source: Path, target: Path
) -> None:
    payments = source / PAYMENTS
    payments.write_text(
        payments.read_text(encoding="utf-8") + "e" * 32 + ",1,boleto,1,10.0\n", encoding="utf-8"
    )
    result = ingest.ingest_folder(scratch, source, "b2")
    assert result.tables == ["order_payments"]
    with DuckDBWarehouse(target) as history:
        outcome = cleaning.clean_all(scratch, "b2", result.tables, history=history)
    assert outcome.committed
    quarantined = scratch.sql("select order_id, _reason from quarantine.order_payments").fetchall()
    assert quarantined == [("e" * 32, "order_id: not in orders")]
    [check] = [c for c in outcome.checks if c.check_name == "order_id_exists_in_orders"]
    assert (check.passed, check.unexpected_count, check.sample_values) == (False, 1, ["e" * 32])


def test_a_parent_file_lacking_keys_the_targets_children_name_is_refused(
    scratch: duckdb.DuckDBPyConnection, source: Path, target: Path
) -> None:
    dropped = drop_orders_with_items(source)
    result = ingest.ingest_folder(scratch, source, "b2")
    assert result.tables == ["orders"]
    with DuckDBWarehouse(target) as history:
        outcome = cleaning.clean_all(scratch, "b2", result.tables, history=history)
    assert not outcome.committed
    blocking = {c.check_name: c for c in outcome.blocking}
    assert "referenced_by_order_items_order_id" in blocking
    named = blocking["referenced_by_order_items_order_id"].sample_values
    assert "OLIST_CORRECTIONS=orders" in named[0]
    assert set(named[1:]) <= set(dropped) and named[1:]
    assert not warehouse.table_exists(scratch, "bronze", "orders")


def _items_naming(con: duckdb.DuckDBPyConnection, *products: str) -> dict[str, pd.DataFrame]:
    con.execute("create schema if not exists landing")
    con.execute(
        "create or replace table landing.batch_order_items as select * from (values "
        + ", ".join(f"({n}, '{p}')" for n, p in enumerate(products, 1))
        + ") t(_row_number, product_id)"
    )
    empty = pd.DataFrame(
        {"_row_number": pd.Series([], dtype="int64"), "_reason": pd.Series([], dtype="str")}
    )
    return {"batch_order_items": empty}


@pytest.mark.parametrize(
    ("fresh", "orphan"),
    [
        pytest.param((), "p1", id="history answers"),
        pytest.param(("products",), "p2", id="this run's products file answers"),
    ],
)
def test_a_batchs_keys_go_to_history_unless_this_run_loaded_the_parent(
    tmp_path: Path, fresh: tuple[str, ...], orphan: str
) -> None:
    with DuckDBWarehouse(tmp_path / "target.duckdb") as history:
        history.replace("bronze", {"products": pd.DataFrame({"product_id": ["p2"]})})
        con = duckdb.connect(str(tmp_path / "scratch.duckdb"))
        try:
            con.execute("create schema bronze")
            con.execute("create table bronze.products as select 'p1' as product_id")
            rejected = _items_naming(con, "p1", "p2")
            merged, [check] = cleaning.find_orphans(
                con, rejected, "r1", (ITEM_PRODUCT,), history=history, fresh=fresh
            )
        finally:
            con.close()
    assert check.sample_values == [orphan]
    assert merged["batch_order_items"]["_reason"].tolist() == ["product_id: not in products"]
