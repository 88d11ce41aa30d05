"""Deletions propagate: a corrected export that drops rows (orders, items, payments,
reviews) reaches every mart, the incremental ones included, on the next build, which then
equals a full refresh of the same bronze."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb

from ingestion import batches
from synthetic.batches import generate_batch
from tests.dbt_helpers import dbt, load_bronze
from tests.gold_consistency import revenue_mismatches
from tests.sample_window import BY_ORDER, ORDERS
from warehouse import local as warehouse

ITEMS, PAYMENTS, REVIEWS = BY_ORDER


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        return next(reader), list(reader)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def corrected_export(source: Path, out: Path, n_orders: int) -> dict[str, list]:
    """A copy of ``source`` without its first ``n_orders`` orders (and their parts), and
    without one item line, one payment and one review of orders that stay; returns what
    was dropped."""
    shutil.copytree(source, out)
    header, orders = _rows(source / ORDERS)
    key = header.index("order_id")
    dropped = {o[key] for o in orders[:n_orders]}
    _write(out / ORDERS, header, orders[n_orders:])

    out_of = {}
    for name in (ITEMS, PAYMENTS, REVIEWS):
        h, rows = _rows(source / name)
        out_of[name] = (h, [r for r in rows if r[h.index("order_id")] not in dropped])

    h, items = out_of[ITEMS]
    last_line = next(r for r in items if r[h.index("order_item_id")] == "2")
    items.remove(last_line)  # the second line of a multi-item order
    h, payments = out_of[PAYMENTS]
    split = next(r for r in payments if r[h.index("payment_sequential")] == "2")
    payments.remove(split)  # the second payment of an order paid in several parts
    h, reviews = out_of[REVIEWS]
    per_order: dict[str, int] = {}
    for r in reviews:
        per_order[r[h.index("order_id")]] = per_order.get(r[h.index("order_id")], 0) + 1
    unreviewed = next(r for r in reviews if per_order[r[h.index("order_id")]] == 1)
    reviews.remove(unreviewed)  # the order keeps no review
    for name, (h, rows) in out_of.items():
        _write(out / name, h, rows)
    return {
        "orders": sorted(dropped),
        "item": [last_line[0], last_line[1]],
        "payment": [split[0], split[1]],
        "review": [unreviewed[h.index("order_id")]],
    }


def _snapshot(con: duckdb.DuckDBPyConnection) -> list[str]:
    tables = [
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'gold' order by 1"
        ).fetchall()
    ]
    con.execute("create schema if not exists snapshot")
    for table in tables:
        con.execute(f"create or replace table snapshot.{table} as select * from gold.{table}")
    return tables


def _differences(con: duckdb.DuckDBPyConnection, tables: list[str]) -> list[str]:
    out = []
    for table in tables:
        for a, b in (("gold", "snapshot"), ("snapshot", "gold")):
            extra = con.sql(
                f"select count(*) from (select * from {a}.{table} "
                f"except all select * from {b}.{table})"
            ).fetchall()[0][0]
            if extra:
                out.append(f"{table}: {extra} rows in {a} but not in {b}")
    return out


def _differences_after_full_refresh(wh: Path, work: Path, tables: list[str]) -> list[str]:
    """What a ``--full-refresh`` build changes in gold against the snapshot of ``tables``
    (none: the incremental build already held what a rebuild from scratch makes)."""
    dbt(wh, work, "build", "--full-refresh")
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return _differences(con, tables)
    finally:
        con.close()


def test_a_corrected_export_without_100_orders_reaches_every_mart(
    sample_dir: Path, sample_warehouse: Path, tmp_path: Path
) -> None:
    wh = tmp_path / "olist.duckdb"
    shutil.copy(sample_warehouse, wh)  # the sample loaded as b1 and built, as load + build

    dropped = corrected_export(sample_dir, tmp_path / "corrected", n_orders=100)
    load_bronze(tmp_path / "corrected", wh, batch_id="b2")
    dbt(wh, tmp_path, "build")

    con = duckdb.connect(str(wh))
    try:
        ids = dropped["orders"]
        marks = ", ".join("?" for _ in ids)
        assert con.execute(
            f"select count(*) from bronze.orders where order_id in ({marks})", ids
        ).fetchone() == (0,)  # the correction landed
        for fact in ("fct_orders", "fct_order_items", "fct_order_payments"):
            left = con.execute(
                f"select count(*) from gold.{fact} where order_id in ({marks})", ids
            ).fetchone()
            assert left == (0,), fact
        assert con.execute(
            "select count(*) from gold.fct_order_items where order_id = ? and order_item_id = ?",
            dropped["item"],
        ).fetchone() == (0,)
        assert con.execute(
            "select review_score from gold.fct_orders where order_id = ?", dropped["review"]
        ).fetchone() == (None,)
        tables = _snapshot(con)
    finally:
        con.close()
    assert revenue_mismatches(wh) == []

    assert _differences_after_full_refresh(wh, tmp_path, tables) == []


def test_a_shrunken_reviews_file_clears_the_removed_reviews_from_gold(
    window: Path, tmp_path: Path
) -> None:
    """Only the reviews file changes: no order, item or payment is delivered again, so the
    orders that lost their review are found by their changed row, not by a load time."""
    wh = tmp_path / "olist.duckdb"
    load_bronze(window, wh)
    dbt(wh, tmp_path, "build")

    shutil.copytree(window, tmp_path / "corrected")
    header, reviews = _rows(window / REVIEWS)
    key = header.index("order_id")
    lost = sorted({r[key] for r in reviews})[:10]
    _write(tmp_path / "corrected" / REVIEWS, header, [r for r in reviews if r[key] not in lost])
    # 10 of the window's reviews are 14% of the file: a drop that large is refused unless
    # declared a correction (OLIST_CORRECTIONS in a run)
    load_bronze(tmp_path / "corrected", wh, batch_id="b2", corrections=("order_reviews",))
    dbt(wh, tmp_path, "build")

    con = duckdb.connect(str(wh))
    try:
        marks = ", ".join("?" for _ in lost)
        scores = con.execute(
            f"select count(review_score) from gold.fct_orders where order_id in ({marks})", lost
        ).fetchone()
        tables = _snapshot(con)
    finally:
        con.close()
    assert scores == (0,)

    assert _differences_after_full_refresh(wh, tmp_path, tables) == []


def _without_orders(folder: Path, order_ids: set[str], names: tuple[str, ...]) -> None:
    for name in names:
        header, rows = _rows(folder / name)
        key = header.index("order_id")
        _write(folder / name, header, [r for r in rows if r[key] not in order_ids])


def test_a_customer_who_loses_an_order_or_its_items_with_no_new_delivery_is_rebuilt(
    sample_dir: Path, sample_warehouse: Path, tmp_path: Path
) -> None:
    """dim_customers rebuilds the customers whose orders changed without a later load time:
    one whose sample order vanished while its batch order stays (no row of theirs is
    delivered again), and one whose order lost all its items (its load time stays, or
    moves back). Each build then equals a full refresh."""
    wh, landing = tmp_path / "olist.duckdb", tmp_path / "batches"
    shutil.copy(sample_warehouse, wh)
    generate_batch(sample_dir, landing, n_orders=40, seed=8)
    with warehouse.connect(wh) as con:
        batches.land_batches(con, landing, "b2")
        batches.clean_batches(con, "b2")
        batches.file_away(con, landing)
    dbt(wh, tmp_path, "build")

    con = duckdb.connect(str(wh), read_only=True)
    try:
        sample_load = con.execute("select min(_loaded_at) from gold.fct_orders").fetchone()[0]
        # a customer with an order of the sample and one of the batch
        person, lost_order = con.execute(
            "select customer_unique_id, min(order_id) filter (where _loaded_at = ?) "
            "from gold.fct_orders group by 1 having min(_loaded_at) < max(_loaded_at) "
            "order by 1 limit 1",
            [sample_load],
        ).fetchone()
        # a placed sample order with items, of a customer with only sample orders
        emptied_order, emptied_person, value = con.execute(
            "select order_id, customer_unique_id, order_value from gold.fct_orders "
            "where order_status not in ('canceled', 'unavailable') and items_count > 0 "
            "and order_value > 0 and customer_unique_id in ("
            "  select customer_unique_id from gold.fct_orders group by 1"
            "  having max(_loaded_at) = ?) "
            "order by order_id limit 1",
            [sample_load],
        ).fetchone()
        before = dict(
            con.execute(
                "select customer_unique_id, (orders_count, spend) from gold.dim_customers "
                "where customer_unique_id in (?, ?)",
                [person, emptied_person],
            ).fetchall()
        )
    finally:
        con.close()

    corrected = tmp_path / "corrected"
    shutil.copytree(sample_dir, corrected)
    _without_orders(corrected, {emptied_order}, (ITEMS,))  # only the items file changes
    load_bronze(corrected, wh, batch_id="b3")
    dbt(wh, tmp_path, "build")
    _without_orders(corrected, {lost_order}, (ORDERS, *BY_ORDER))
    load_bronze(corrected, wh, batch_id="b4")
    dbt(wh, tmp_path, "build")

    con = duckdb.connect(str(wh))
    try:
        after = dict(
            con.execute(
                "select customer_unique_id, (orders_count, spend) from gold.dim_customers "
                "where customer_unique_id in (?, ?)",
                [person, emptied_person],
            ).fetchall()
        )
        tables = _snapshot(con)
    finally:
        con.close()
    assert after[person][0] == before[person][0] - 1
    assert after[emptied_person] == (before[emptied_person][0], before[emptied_person][1] - value)

    assert _differences_after_full_refresh(wh, tmp_path, tables) == []
