"""Incremental marts: after JSON batches (new orders, and a later delivery of orders already
loaded) an incremental build ends in exactly the tables a full refresh builds, also when it
recomputes only the orders the batch touched, as ``olist incremental`` does."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from flows.incremental import INCREMENTAL_MARTS
from ingestion import batches
from synthetic.batches import generate_batch
from tests.dbt_helpers import dbt
from warehouse import local as warehouse
from warehouse import publish, touched
from warehouse.engine import DuckDBWarehouse

INCREMENTAL = (
    "fct_orders",
    "fct_order_items",
    "fct_order_payments",
    "agg_hourly_metrics",
    "agg_sales_kpi",
    "fct_seller_performance",
)
DOWNSTREAM = ("dim_customers", "agg_sales_daily", "fct_customer_ltv", "agg_cohort_retention")


def land(warehouse_path: Path, folder: Path, run_id: str) -> None:
    with warehouse.connect(warehouse_path) as con:
        batches.land_batches(con, folder, run_id)
        batches.clean_batches(con, run_id)
        batches.file_away(con, folder)


def delivered_later(
    batch: Path, out: Path, n: int, start: int = 0, name: str = "orders_update.json"
) -> list[str]:
    """A batch re-delivering ``n`` orders of ``batch`` (from ``start``) as delivered."""
    doc = json.loads(batch.read_text(encoding="utf-8"))
    orders = doc["orders"][start : start + n]
    for order in orders:
        order["order_status"] = "delivered"
        order["order_delivered_carrier_date"] = order["order_purchase_timestamp"]
        order["order_delivered_customer_date"] = order["order_estimated_delivery_date"]
    doc |= {"batch_id": f"{doc['batch_id']}-{name}", "orders": orders}
    (out / name).write_text(json.dumps(doc), encoding="utf-8")
    return [o["order_id"] for o in orders]


def batch_vars(warehouse_path: Path, owners: bool = True) -> dict:
    """The dbt vars ``olist incremental`` passes for what was landed since gold's latest
    load (``flows.transform.touched_vars``): the cut-off, the touched orders and, as after a
    run that published (gold is what the marts were built from), their owners and days
    before the build; without ``owners``, as after one that did not."""
    with DuckDBWarehouse(warehouse_path, read_only=True) as wh:
        after = publish.published_watermark(wh, INCREMENTAL_MARTS)
        found = touched.touched_orders(wh, after)
        assert found is not None and found.order_ids  # a batch landed since: not "all"
        before = touched.before_build(wh, found.order_ids, "gold") if owners else None
    assert not owners or before is not None  # empty when every touched order is new
    return {"loaded_after": after.isoformat(sep=" "), **touched.dbt_vars(found, before)}


def alter_by_hand(warehouse_path: Path) -> str:
    """Alter one order of the sample in ``gold.fct_orders``; return its id."""
    con = duckdb.connect(str(warehouse_path))
    try:
        order_id = con.sql("select min(order_id) from gold.fct_orders").fetchall()[0][0]
        con.execute(
            "update gold.fct_orders set customer_state = 'XX' where order_id = ?", [order_id]
        )
    finally:
        con.close()
    return order_id


def move_to_another_person(batch: Path) -> tuple[str, str]:
    """Deliver the first order of ``batch`` again as the second one's person (its per-order
    customer row changes hands): (the order, its new person)."""
    doc = json.loads(batch.read_text(encoding="utf-8"))
    first, second = doc["orders"][0], doc["orders"][1]
    person = second["customer"]["customer_unique_id"]
    assert first["customer"]["customer_unique_id"] != person
    first["customer"]["customer_unique_id"] = person
    batch.write_text(json.dumps(doc), encoding="utf-8")
    return first["order_id"], person


def redate(batch: Path, index: int, days: int) -> str:
    """Deliver the ``index``-th order of ``batch`` again with every date ``days`` earlier
    (its purchase falls in another month): the order."""
    doc = json.loads(batch.read_text(encoding="utf-8"))
    order = doc["orders"][index]
    for field, value in order.items():
        if field.endswith(("_timestamp", "_date", "_at")) and isinstance(value, str) and value:
            moved = datetime.fromisoformat(value) - timedelta(days=days)
            order[field] = moved.isoformat(sep=" ")
    batch.write_text(json.dumps(doc), encoding="utf-8")
    return order["order_id"]


def purchase_month(warehouse_path: Path, order_id: str) -> str:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return con.execute(
            "select strftime(purchased_at, '%Y-%m') from gold.fct_orders where order_id = ?",
            [order_id],
        ).fetchone()[0]
    finally:
        con.close()


def person_of(warehouse_path: Path, order_id: str) -> str:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return con.execute(
            "select customer_unique_id from gold.fct_orders where order_id = ?", [order_id]
        ).fetchone()[0]
    finally:
        con.close()


def statuses(warehouse_path: Path, order_ids: list[str]) -> list[tuple[str, int]]:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return con.execute(
            "select order_status, count(*) from gold.fct_orders where order_id in "
            f"({', '.join('?' for _ in order_ids)}) group by 1",
            order_ids,
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("owners", [True, False], ids=["owners-named", "customers-compared"])
def test_incremental_build_equals_full_refresh(
    sample_dir: Path, sample_warehouse: Path, tmp_path: Path, owners: bool
) -> None:
    wh, landing = tmp_path / "olist.duckdb", tmp_path / "batches"
    shutil.copy(sample_warehouse, wh)  # the sample loaded as b1 and built, as load + build

    first = generate_batch(sample_dir, landing, n_orders=40, seed=5)
    kept = tmp_path / first.name
    shutil.copy(first, kept)
    # the same orders again in a later file of the same run: the later delivery wins
    same_run = delivered_later(kept, landing, n=2, start=10, name="orders_update_same_run.json")
    land(wh, landing, "b2")
    dbt(wh, tmp_path, "build", run_vars=batch_vars(wh, owners))
    assert statuses(wh, same_run) == [("delivered", 2)]

    updated = delivered_later(kept, landing, n=3)
    moved = move_to_another_person(landing / "orders_update.json")
    # an order purchased two months earlier than first delivered: its old month loses it
    redated = redate(landing / "orders_update.json", index=1, days=61)
    month_before = purchase_month(wh, redated)
    generate_batch(sample_dir, landing, n_orders=25, seed=6)
    land(wh, landing, "b3")
    dbt(wh, tmp_path, "build", run_vars=batch_vars(wh, owners))

    assert statuses(wh, updated) == [("delivered", 3)]  # merged in place, one row per order
    assert person_of(wh, moved[0]) == moved[1]  # the order changed hands
    assert purchase_month(wh, redated) != month_before  # ... and this one changed months
    con = duckdb.connect(str(wh))
    try:
        # customers with an order of the sample and one of a batch: rebuilt from both
        returning = con.sql(
            "select count(*) from (select customer_unique_id from gold.fct_orders "
            "group by 1 having min(_loaded_at) < max(_loaded_at))"
        ).fetchall()[0][0]
        assert returning > 0
        con.execute("create schema snapshot")
        for table in INCREMENTAL + DOWNSTREAM:
            con.execute(f"create table snapshot.{table} as select * from gold.{table}")
        total = con.sql("select count(*) from gold.fct_orders").fetchall()[0][0]
    finally:
        con.close()
    assert total == 8135 + 40 + 25

    dbt(wh, tmp_path, "build", "--full-refresh")
    con = duckdb.connect(str(wh), read_only=True)
    try:
        for table in INCREMENTAL + DOWNSTREAM:
            for a, b in (("gold", "snapshot"), ("snapshot", "gold")):
                extra = con.sql(
                    f"select count(*) from (select * from {a}.{table} "
                    f"except all select * from {b}.{table})"
                ).fetchall()[0][0]
                assert extra == 0, f"{table}: {extra} rows in {a} but not in {b}"
    finally:
        con.close()


def test_an_incremental_build_rebuilds_only_the_customers_whose_orders_changed(
    sample_dir: Path, sample_warehouse: Path, tmp_path: Path
) -> None:
    """dim_customers merges the customers of the batch; a customer the batch does not touch
    keeps its row as it was, even one altered by hand, which a rebuild would restore; so
    does an order of the facts that no batch row touched."""
    wh, landing = tmp_path / "olist.duckdb", tmp_path / "batches"
    shutil.copy(sample_warehouse, wh)
    batch = generate_batch(sample_dir, landing, n_orders=30, seed=7)
    doc = json.loads(batch.read_text(encoding="utf-8"))
    in_batch = sorted({o["customer"]["customer_unique_id"] for o in doc["orders"]})

    con = duckdb.connect(str(wh))
    try:
        marks = ", ".join("?" for _ in in_batch)
        untouched = con.execute(
            "select customer_unique_id from gold.dim_customers "
            f"where customer_unique_id not in ({marks}) order by 1 limit 1",
            in_batch,
        ).fetchone()[0]
        con.execute(
            "update gold.dim_customers set customer_city = 'altered by hand' "
            "where customer_unique_id = ?",
            [untouched],
        )
        returning = con.execute(
            f"select customer_unique_id, orders_count from gold.dim_customers "
            f"where customer_unique_id in ({marks}) order by 1",
            in_batch,
        ).fetchall()
    finally:
        con.close()
    assert returning  # the batch brings orders of customers the sample already has

    altered = alter_by_hand(wh)
    land(wh, landing, "b2")
    dbt(wh, tmp_path, "run", "--select", "+dim_customers", run_vars=batch_vars(wh))

    con = duckdb.connect(str(wh), read_only=True)
    try:
        city = con.execute(
            "select customer_city from gold.dim_customers where customer_unique_id = ?",
            [untouched],
        ).fetchone()
        state = con.execute(
            "select distinct customer_state from gold.fct_orders where order_id = ?", [altered]
        ).fetchall()
        counts = con.execute(
            "select d.customer_unique_id, d.orders_count, count(*) "
            "from gold.dim_customers as d "
            "inner join gold.fct_orders as o on d.customer_unique_id = o.customer_unique_id "
            f"where d.customer_unique_id in ({marks}) group by 1, 2 order by 1",
            in_batch,
        ).fetchall()
    finally:
        con.close()
    assert city == ("altered by hand",)  # not rebuilt
    # nor is an order no batch row touched (a comparison of every order would restore it)
    assert state == [("XX",)]
    assert [c[0] for c in counts] == in_batch  # every customer of the batch is in the dim
    assert all(dim == facts for _, dim, facts in counts)  # ... counting old and new orders
    before = dict(returning)
    assert all(before[c] < dim for c, dim, _ in counts if c in before)


def test_with_the_owners_named_only_their_customer_rows_are_rebuilt(
    sample_dir: Path, sample_warehouse: Path, tmp_path: Path
) -> None:
    """Given the touched orders' owners, dim_customers rebuilds those people's rows only:
    an untouched customer whose count was altered by hand keeps it, which the comparison
    of every customer's totals (the path without owners) would restore."""
    wh, landing = tmp_path / "olist.duckdb", tmp_path / "batches"
    shutil.copy(sample_warehouse, wh)
    batch = generate_batch(sample_dir, landing, n_orders=30, seed=7)
    doc = json.loads(batch.read_text(encoding="utf-8"))
    in_batch = sorted({o["customer"]["customer_unique_id"] for o in doc["orders"]})
    con = duckdb.connect(str(wh))
    try:
        untouched = con.execute(
            "select customer_unique_id from gold.dim_customers where customer_unique_id "
            f"not in ({', '.join('?' for _ in in_batch)}) order by 1 limit 1",
            in_batch,
        ).fetchone()[0]
        con.execute(
            "update gold.dim_customers set orders_count = 99 where customer_unique_id = ?",
            [untouched],
        )
    finally:
        con.close()
    land(wh, landing, "b2")
    dbt(wh, tmp_path, "run", "--select", "+dim_customers", run_vars=batch_vars(wh))

    con = duckdb.connect(str(wh), read_only=True)
    try:
        kept = con.execute(
            "select orders_count from gold.dim_customers where customer_unique_id = ?",
            [untouched],
        ).fetchone()
        rebuilt = con.execute(
            "select count(*) from gold.dim_customers as d where d.customer_unique_id in "
            f"({', '.join('?' for _ in in_batch)}) and d.orders_count = (select count(*) "
            "from gold.fct_orders as o where o.customer_unique_id = d.customer_unique_id)",
            in_batch,
        ).fetchone()
    finally:
        con.close()
    assert kept == (99,)
    assert rebuilt == (len(in_batch),)
