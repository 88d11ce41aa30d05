"""The orders an incremental run touched: what it rebuilds and checks row by row.

A batch run lands JSON order batches only, so the only orders whose silver rows can have
changed since the last publish are those with a batch row (order, item, payment) loaded
after gold's watermark (``publish.published_watermark``; a failed run's rows included), and
those whose customer row was delivered again in such a batch. The incremental facts
(``fct_orders``, ``fct_order_items``, ``fct_order_payments``) recompute just those orders
against the audit schema's rows, and the GX suites with an order key check just their rows,
so a batch costs what it holds rather than a pass over every order ever sold. A change
that reaches every order without a new row (a new ``future_tolerance_hours``, a model's
logic) waits for the daily build, which compares every order.

The list is handed over as literal keys (dbt's ``touched_orders`` var, GX's query), not as a
subquery: DuckDB pushes a constant ``order_id in (...)`` below the window that keeps each
key's latest delivery in the staging views, so only the touched keys' rows are ranked; a
semi-join is not pushed there, and ranking every delivery of a large history costs more
than the rest of a batch's model SQL together (0.6 s against 2.5 s for ``fct_orders``'
SQL at scale 10, measured on a copy of the warehouse).

``None`` means "every order", as in the daily build: no watermark (nothing published
yet), a CSV snapshot loaded after it (a new export version can change or drop any order,
and dropped orders leave no row to find them by), or more than ``limit`` orders. The limit
is BigQuery's: a query's text may hold 1,024K characters, and ``fct_orders``' SQL writes
the order list five times and the customer list once, about 230 characters an order; 2,000
orders make under half of it (a 15-minute batch holds about 1,000).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from warehouse.engine import Warehouse

BRONZE = "bronze"
# the CSV snapshots the incremental facts read (their staging models and products'
# category); any of them loaded after the watermark sends the run down the full path
SNAPSHOTS = (
    "orders",
    "order_items",
    "order_payments",
    "order_reviews",
    "customers",
    "products",
    "category_translation",
)
# the batch tables whose rows carry their order's key
BATCH_ORDER_PARTS = ("batch_orders", "batch_order_items", "batch_order_payments")
TOUCHED_LIMIT = 2_000
_PLAIN = re.compile(r"^[0-9A-Za-z_-]+$")


@dataclass(frozen=True)
class Touched:
    """The touched orders and every customer key they were delivered with (a superset of
    the current ones: the join keeps the right rows)."""

    order_ids: tuple[str, ...]
    customer_ids: tuple[str, ...]


def _after(loaded_after: datetime) -> str:
    return f"cast('{loaded_after.isoformat(sep=' ')}' as timestamp)"


def snapshot_loaded_after(
    wh: Warehouse, loaded_after: datetime, present: set[str] | None = None
) -> str | None:
    """The first CSV snapshot table with rows loaded after ``loaded_after``, or None. One
    query for all of them (on BigQuery each query is a job); ``present``: the bronze
    tables, when the caller listed them already."""
    if present is None:
        present = set(wh.tables(BRONZE, views=False))
    tables = [t for t in SNAPSHOTS if t in present]
    if not tables:
        return None
    newer = " union all ".join(
        f"select '{table}' as snapshot from (select 1 from {BRONZE}.{table} "
        f"where _loaded_at > {_after(loaded_after)} limit 1) as newer_{i}"
        for i, table in enumerate(tables)
    )
    found = set(wh.query(newer)["snapshot"])
    return next((t for t in tables if t in found), None)


def touched_orders(
    wh: Warehouse, loaded_after: datetime | None, limit: int = TOUCHED_LIMIT
) -> Touched | None:
    """The orders with a batch row loaded after ``loaded_after`` (naive UTC), or whose
    customer was delivered again after it; None for every order (the module's docstring)."""
    if loaded_after is None:
        return None
    present = set(wh.tables(BRONZE, views=False))
    if snapshot_loaded_after(wh, loaded_after, present) is not None:
        return None
    after = _after(loaded_after)
    parts = [
        f"select order_id from {BRONZE}.{table} where _loaded_at > {after}"
        for table in BATCH_ORDER_PARTS
        if table in present
    ]
    if "batch_customers" in present:
        deliveries = " union all ".join(
            f"select order_id, customer_id from {BRONZE}.{table}"
            for table in ("orders", "batch_orders")
            if table in present
        )
        parts.append(
            f"select deliveries.order_id from ({deliveries}) as deliveries "
            f"inner join {BRONZE}.batch_customers as customers "
            "on deliveries.customer_id = customers.customer_id "
            f"where customers._loaded_at > {after}"
        )
    if not parts:
        return Touched((), ())
    order_ids = wh.query(
        f"select distinct order_id from ({' union all '.join(parts)}) as touched "
        f"where order_id is not null limit {limit + 1}"
    )["order_id"]
    if len(order_ids) > limit:
        return None
    keys = sorted(str(k) for k in order_ids)
    if not plain(keys):
        return None
    customers = _customers_of(wh, keys, present)
    return Touched(tuple(keys), tuple(customers)) if plain(customers) else None


@dataclass(frozen=True)
class Before:
    """What the touched orders were in the built facts before a build rewrites them: the
    people they belonged to and the days they were purchased on (ISO dates)."""

    people: tuple[str, ...]
    days: tuple[str, ...]


def dbt_vars(found: Touched, before: Before | None = None) -> dict[str, object]:
    """The dbt vars of ``found`` (dbt/macros/rows_to_build.sql's ``touched_keys``), and of
    ``before`` (``before_build``) when known."""
    named: dict[str, object] = {
        "touched_orders": list(found.order_ids),
        "touched_customers": list(found.customer_ids),
    }
    if before is not None:
        named["touched_people"] = list(before.people)
        named["touched_days"] = list(before.days)
    return named


def before_build(wh: Warehouse, order_ids: Sequence[str], schema: str) -> Before | None:
    """The people (``customer_unique_id``) ``order_ids`` belong to in ``schema.fct_orders``,
    and their purchase days, before a build rewrites it; None when that table is missing or
    a key is not plain.

    With the orders' owners and days after the build, they name every row of a customer-
    or period-grain mart the batch can change: an order that changed hands, or was dated
    again, or vanished, leaves its former owner's row and its former period to rebuild, and
    only the table before the build knows which. ``dim_customers`` then reads those people's
    orders alone instead of comparing every customer's totals, and the monthly marts
    rebuild those months alone (rows_to_build.sql's ``touched_periods``). Valid only when
    the table is what those marts were built from: the caller passes it when the previous
    run published (``publish.rows_publishable``)."""
    if "fct_orders" not in wh.tables(schema, views=False):
        return None
    if not order_ids:
        return Before((), ())
    frame = wh.query(
        f"select distinct customer_unique_id, cast(purchased_at as date) as purchase_day "
        f"from {schema}.fct_orders where order_id in ({in_list(order_ids)})"
    )
    people = sorted({str(k) for k in frame["customer_unique_id"].dropna()})
    days = sorted({str(d)[:10] for d in frame["purchase_day"].dropna()})
    return Before(tuple(people), tuple(days)) if plain(people) and plain(days) else None


def _customers_of(wh: Warehouse, order_ids: Sequence[str], present: set[str]) -> list[str]:
    """Every customer key ``order_ids`` were delivered with, CSV or batch."""
    if not order_ids:
        return []
    keys = in_list(order_ids)
    deliveries = " union all ".join(
        f"select customer_id from {BRONZE}.{table} where order_id in ({keys})"
        for table in ("orders", "batch_orders")
        if table in present
    )
    frame = wh.query(
        f"select distinct customer_id from ({deliveries}) as d where customer_id is not null"
    )
    return sorted(str(k) for k in frame["customer_id"])


def plain(keys: Sequence[str]) -> bool:
    """True when every key is letters, digits, ``_`` or ``-`` (the contracts admit 32-hex
    keys only): such a key is the same string literal on both engines, which escape a
    quote differently (DuckDB ``''``, BigQuery ``\\'``)."""
    return all(_PLAIN.match(k) for k in keys)


def in_list(keys: Sequence[str]) -> str:
    """Plain ``keys`` as the items of a SQL ``in (...)``."""
    if not plain(keys):
        raise ValueError("only plain keys go into a literal list")
    return ", ".join(f"'{k}'" for k in keys)
