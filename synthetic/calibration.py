"""Shape statistics of an Olist folder, to calibrate the generator against real data.

``profile(folder)`` reads the 9 CSVs with DuckDB (explicit dialect, every column as text)
and returns the ratios the generator is tuned to. Run it on the real sample and on a
generated folder side by side with ``olist calibrate``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from synthetic.vocab import HEADERS

# Statistics that do not depend on the real sample's status bias (it keeps every
# canceled/unavailable/shipped order but only a share of the delivered ones), so the
# sample and a synthetic folder can be compared directly.
COMPARABLE = (
    "delivered.late_rate",
    "delivered.carrier_before_approval_rate",
    "delivered.avg_delivery_days",
    "delivered.avg_estimated_days",
    "delivered.review_score_5_share",
    "delivered.review_score_1_share",
    "items.per_order_with_items",
    "items.single_item_order_share",
    "items.price_median",
    "items.freight_median",
    "payments.credit_card_share",
    "payments.boleto_share",
    "payments.voucher_share",
    "payments.cc_installments_mean",
    "products.no_category_share",
    "reviews.title_share",
    "customers.sp_share",
    "geolocation.duplicate_row_share",
    "orders.nov_2017_share",
)


def _read(con: duckdb.DuckDBPyConnection, folder: Path, file: str, view: str) -> None:
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in HEADERS[file])
    con.execute(
        f"create view {view} as select * from read_csv('{(folder / file).as_posix()}', "
        f"header=true, delim=',', quote='\"', escape='\"', columns={{{cols}}})"
    )


def profile(folder: Path | str) -> dict[str, float]:
    folder = Path(folder)
    con = duckdb.connect()
    try:
        views = {
            "olist_orders_dataset.csv": "orders",
            "olist_order_items_dataset.csv": "items",
            "olist_order_payments_dataset.csv": "payments",
            "olist_order_reviews_dataset.csv": "reviews",
            "olist_customers_dataset.csv": "customers",
            "olist_products_dataset.csv": "products",
            "olist_geolocation_dataset.csv": "geo",
        }
        for file, view in views.items():
            _read(con, folder, file, view)
        queries = {
            "orders.count": "select count(*) from orders",
            "orders.delivered_share": "select avg((order_status = 'delivered')::int) from orders",
            "orders.nov_2017_share": (
                "select avg((order_purchase_timestamp like '2017-11%')::int) from orders"
            ),
            "customers.orders_per_unique_customer": (
                "select count(*) / count(distinct customer_unique_id) from customers"
            ),
            "customers.sp_share": "select avg((customer_state = 'SP')::int) from customers",
            "delivered.late_rate": (
                "select avg((order_delivered_customer_date::timestamp >= "
                "order_estimated_delivery_date::timestamp + interval 1 day)::int) from orders "
                "where order_status = 'delivered' and order_delivered_customer_date is not null"
            ),
            "delivered.carrier_before_approval_rate": (
                "select avg(coalesce(order_delivered_carrier_date < order_approved_at, false)::int) "
                "from orders where order_status = 'delivered'"
            ),
            "delivered.avg_delivery_days": (
                "select avg(date_diff('second', order_purchase_timestamp::timestamp, "
                "order_delivered_customer_date::timestamp)) / 86400 from orders "
                "where order_status = 'delivered'"
            ),
            "delivered.avg_estimated_days": (
                "select avg(date_diff('second', order_purchase_timestamp::timestamp, "
                "order_estimated_delivery_date::timestamp)) / 86400 from orders "
                "where order_status = 'delivered'"
            ),
            "delivered.review_score_5_share": (
                "select avg((r.review_score = '5')::int) from reviews r join orders o "
                "using (order_id) where o.order_status = 'delivered'"
            ),
            "delivered.review_score_1_share": (
                "select avg((r.review_score = '1')::int) from reviews r join orders o "
                "using (order_id) where o.order_status = 'delivered'"
            ),
            "items.per_order_with_items": "select count(*) / count(distinct order_id) from items",
            "items.single_item_order_share": (
                "select avg((n = 1)::int) from (select count(*) n from items group by order_id)"
            ),
            "items.price_median": "select median(price::double) from items",
            "items.freight_median": "select median(freight_value::double) from items",
            "payments.per_order": "select count(*) / count(distinct order_id) from payments",
            "payments.credit_card_share": (
                "select avg((payment_type = 'credit_card')::int) from payments"
            ),
            "payments.boleto_share": "select avg((payment_type = 'boleto')::int) from payments",
            "payments.voucher_share": "select avg((payment_type = 'voucher')::int) from payments",
            "payments.cc_installments_mean": (
                "select avg(payment_installments::int) from payments "
                "where payment_type = 'credit_card'"
            ),
            "reviews.per_order": "select count(*) / count(distinct order_id) from reviews",
            "reviews.title_share": (
                "select avg((review_comment_title is not null)::int) from reviews"
            ),
            "products.no_category_share": (
                "select avg((product_category_name is null)::int) from products"
            ),
            "geolocation.duplicate_row_share": (
                "select 1 - (select count(*) from (select distinct * from geo)) / count(*) from geo"
            ),
        }
        return {name: float(con.execute(sql).fetchone()[0]) for name, sql in queries.items()}
    finally:
        con.close()


def compare(real: Path | str, synthetic: Path | str) -> list[tuple[str, float, float]]:
    """(statistic, real value, synthetic value) for every statistic of both folders."""
    a, b = profile(real), profile(synthetic)
    return [(k, a[k], b[k]) for k in a]
