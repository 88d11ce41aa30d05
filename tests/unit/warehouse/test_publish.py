"""When a platform run with no new source file may skip: only after a run that succeeded
and published every mart, never after an incremental run that published some of them. How
a batch run publishes: the order- and customer-keyed marts by the touched orders' rows,
only after a run that published, and whole when gold turns out not to be what that
promised."""

from __future__ import annotations

import time

import duckdb
import pytest

from quality import runs, store
from warehouse import publish
from warehouse.engine import DuckDBWarehouse
from warehouse.touched import Touched


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def _run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    partial: bool = False,
    published: bool = False,
) -> None:
    runs.start_run(con, run_id, None, "src")
    if partial:
        publish.record_partial_publication(con, run_id, ["fct_orders"])
    if published:
        store.record_run(con, run_id, None, True)  # the gate's verdict: published
    runs.finish_run(con, run_id, status)
    time.sleep(0.002)  # started_at orders the runs


def test_a_fresh_warehouse_is_not_up_to_date(con) -> None:
    assert not publish.gold_up_to_date(con)


def test_a_successful_full_run_is_up_to_date(con) -> None:
    _run(con, "full", "succeeded")
    assert publish.gold_up_to_date(con)


def test_an_incremental_publish_after_it_is_not(con) -> None:
    _run(con, "full", "succeeded")
    _run(con, "incr-1", "succeeded", partial=True)
    assert not publish.gold_up_to_date(con)


def test_the_next_full_run_catches_up(con) -> None:
    _run(con, "full", "succeeded")
    _run(con, "incr-1", "succeeded", partial=True)
    _run(con, "daily", "succeeded")
    assert publish.gold_up_to_date(con)


def test_a_failed_last_run_is_not_up_to_date(con) -> None:
    _run(con, "full", "succeeded")
    _run(con, "daily", "failed")
    assert not publish.gold_up_to_date(con)


def test_a_batch_may_publish_by_rows_only_after_a_run_that_published(con) -> None:
    assert not publish.rows_publishable(con, "incr-1")  # nothing ran yet
    _run(con, "full", "succeeded", published=True)
    runs.start_run(con, "incr-1", None, "src")  # the batch run itself is not "previous"
    assert publish.rows_publishable(con, "incr-1")
    runs.finish_run(con, "incr-1", "failed")
    runs.start_run(con, "incr-2", None, "src")
    assert not publish.rows_publishable(con, "incr-2")


def test_a_run_that_succeeded_without_publishing_is_not_enough(con) -> None:
    """A backfill stopped by its day limit succeeds having rebuilt some days' orders in the
    audit schema and published nothing: the next batch must copy the marts whole."""
    _run(con, "full", "succeeded", published=True)
    _run(con, "backfill-partial", "succeeded")
    runs.start_run(con, "incr-1", None, "src")
    assert not publish.rows_publishable(con, "incr-1")


def _marts(con: duckdb.DuckDBPyConnection) -> None:
    """gold and gold_audit alike: orders o1 (customer a), o2 (b), o3 (c), their items and
    payments, the customers, and a mart not keyed by order (agg)."""
    for schema in ("gold", "gold_audit"):
        con.execute(f"create schema {schema}")
        con.execute(
            f"create table {schema}.fct_orders as select * from (values "
            "('o1', 'a', 10), ('o2', 'b', 20), ('o3', 'c', 30)) as t(order_id, "
            "customer_unique_id, order_value)"
        )
        for table in ("fct_order_items", "fct_order_payments"):
            con.execute(
                f"create table {schema}.{table} as select * from (values "
                "('o1', 1, 10), ('o2', 1, 20), ('o3', 1, 15), ('o3', 2, 15)) as t(order_id, n, v)"
            )
        con.execute(
            f"create table {schema}.dim_customers as select * from (values "
            "('a', 1, 10), ('b', 1, 20), ('c', 1, 30)) as t(customer_unique_id, orders, spend)"
        )
        con.execute(f"create table {schema}.agg as select 60 as revenue")


def _rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple]:
    return con.execute(f"select * from {schema}.{table} order by all").fetchall()


def test_a_batch_publishes_only_the_touched_orders_rows_of_the_keyed_marts(con) -> None:
    _marts(con)
    # the batch: o2 changed hands (b -> a) and value, o3 lost an item, o4 is new (customer d)
    con.execute(
        "update gold_audit.fct_orders set customer_unique_id = 'a', order_value = 25 "
        "where order_id = 'o2'"
    )
    con.execute("insert into gold_audit.fct_orders values ('o4', 'd', 40)")
    con.execute("delete from gold_audit.fct_order_items where order_id = 'o3' and n = 2")
    con.execute("insert into gold_audit.fct_order_items values ('o4', 1, 40)")
    con.execute("delete from gold_audit.dim_customers where customer_unique_id in ('a', 'b')")
    con.execute("insert into gold_audit.dim_customers values ('a', 2, 35), ('d', 1, 40)")
    con.execute("update gold_audit.agg set revenue = 110")
    # and a row no touched order owns differs (what the row count check cannot see): a
    # whole copy would publish it, a copy by rows leaves it
    con.execute("update gold_audit.fct_order_payments set v = 99 where order_id = 'o1'")
    wh = DuckDBWarehouse.over(con)

    publication = publish.publish_marts(wh, touched=Touched(("o2", "o3", "o4"), ()))

    assert publication.by_rows == list(publish.ROW_MARTS)
    assert publication.whole_after_mismatch == []
    for table in ("fct_orders", "fct_order_items", "dim_customers", "agg"):
        assert _rows(con, "gold", table) == _rows(con, "gold_audit", table), table
    # customer b lost their only order: gone from gold too, found through gold's o2 row
    assert ("b", 1, 20) not in _rows(con, "gold", "dim_customers")
    assert ("o1", 1, 10) in _rows(con, "gold", "fct_order_payments")  # untouched: not copied


def test_a_keyed_mart_whose_row_count_then_differs_is_copied_whole(con) -> None:
    _marts(con)
    # gold is not the audit schema but for the touched orders: a row of untouched o1 is gone
    con.execute("delete from gold_audit.fct_order_items where order_id = 'o1'")
    con.execute("update gold_audit.fct_orders set order_value = 21 where order_id = 'o2'")
    wh = DuckDBWarehouse.over(con)

    publication = publish.publish_marts(wh, touched=Touched(("o2",), ()))

    assert publication.whole_after_mismatch == ["fct_order_items"]
    assert "fct_order_items" not in publication.by_rows and "fct_orders" in publication.by_rows
    for table in ("fct_orders", "fct_order_items"):
        assert _rows(con, "gold", table) == _rows(con, "gold_audit", table), table


def test_without_touched_orders_every_mart_is_copied_whole(con) -> None:
    _marts(con)
    con.execute("update gold_audit.fct_order_payments set v = 99 where order_id = 'o1'")
    wh = DuckDBWarehouse.over(con)

    publication = publish.publish_marts(wh)

    assert publication.by_rows == [] and len(publication.tables) == 5
    assert _rows(con, "gold", "fct_order_payments") == _rows(
        con, "gold_audit", "fct_order_payments"
    )


def test_a_batch_that_touched_no_order_leaves_the_keyed_marts_as_they_are(con) -> None:
    _marts(con)
    wh = DuckDBWarehouse.over(con)

    publication = publish.publish_marts(wh, touched=Touched((), ()))

    assert publication.by_rows == list(publish.ROW_MARTS)
    assert _rows(con, "gold", "fct_orders") == _rows(con, "gold_audit", "fct_orders")
