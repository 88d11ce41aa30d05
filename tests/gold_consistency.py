"""Every revenue mart of a warehouse adds up to ``fct_orders``: the test-side statement of
gold's consistency, written apart from the dbt test that checks it in the platform."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from warehouse import local as warehouse

PLACED = "order_status not in ('canceled', 'unavailable')"
DELIVERED = "order_status = 'delivered'"

# measure of fct_orders → (mart, the mart's total of that measure)
EXPECTED = {
    "revenue": f"select sum(case when {DELIVERED} then items_value else 0 end) from {{s}}.fct_orders",
    "gmv": f"select sum(case when {PLACED} then order_value else 0 end) from {{s}}.fct_orders",
    "placed_orders": f"select count(case when {PLACED} then 1 end) from {{s}}.fct_orders",
    "items_value": "select sum(items_value) from {s}.fct_orders",
    "payments": "select sum(payment_value) from {s}.fct_orders",
    "placed_payments": (
        f"select sum(case when {PLACED} then payment_value else 0 end) from {{s}}.fct_orders"
    ),
}
MARTS = [
    ("agg_sales_daily", "revenue", "sum(revenue)"),
    ("agg_sales_daily", "gmv", "sum(gmv)"),
    ("agg_sales_daily", "placed_orders", "sum(orders)"),
    ("agg_sales_kpi", "revenue", "sum(revenue)"),
    ("agg_sales_kpi", "gmv", "sum(gmv)"),
    ("agg_geo_sales", "revenue", "sum(revenue)"),
    ("agg_geo_sales", "gmv", "sum(gmv)"),
    ("agg_hourly_metrics", "gmv", "sum(gmv)"),
    ("agg_hourly_metrics", "placed_orders", "sum(orders)"),
    ("fct_seller_performance", "revenue", "sum(revenue)"),
    ("dim_sellers", "revenue", "sum(revenue)"),
    ("fct_customer_ltv", "gmv", "sum(historical_revenue)"),
    ("dim_customers", "gmv", "sum(spend)"),
    ("fct_order_items", "items_value", "sum(price)"),
    ("fct_order_payments", "payments", "sum(payment_value)"),
    ("agg_payment_behavior", "placed_payments", "sum(payment_value)"),
]


def revenue_mismatches(path: Path, schema: str = "gold") -> list[str]:
    """``mart.measure: mart total != fct_orders total`` for each revenue mart that does not
    add up; empty when gold is consistent."""
    with warehouse.connect(path, read_only=True) as con:
        expected = {
            k: Decimal(str(warehouse.scalar(con, sql.format(s=schema)) or 0))
            for k, sql in EXPECTED.items()
        }
        out = []
        for mart, measure, total in MARTS:
            got = Decimal(str(warehouse.scalar(con, f"select {total} from {schema}.{mart}") or 0))
            if abs(got - expected[measure]) > Decimal("0.005"):
                out.append(f"{mart}.{measure}: {got} != fct_orders {expected[measure]}")
        return out
