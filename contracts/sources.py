"""The 9 Olist source files: names, tables and exact column order (Kaggle spelling)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceTable:
    table: str
    file: str
    columns: tuple[str, ...]
    key: tuple[str, ...]


SOURCES: tuple[SourceTable, ...] = (
    SourceTable(
        "orders",
        "olist_orders_dataset.csv",
        (
            "order_id",
            "customer_id",
            "order_status",
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
            "order_estimated_delivery_date",
        ),
        ("order_id",),
    ),
    SourceTable(
        "order_items",
        "olist_order_items_dataset.csv",
        (
            "order_id",
            "order_item_id",
            "product_id",
            "seller_id",
            "shipping_limit_date",
            "price",
            "freight_value",
        ),
        ("order_id", "order_item_id"),
    ),
    SourceTable(
        "order_payments",
        "olist_order_payments_dataset.csv",
        ("order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"),
        ("order_id", "payment_sequential"),
    ),
    SourceTable(
        "order_reviews",
        "olist_order_reviews_dataset.csv",
        (
            "review_id",
            "order_id",
            "review_score",
            "review_comment_title",
            "review_comment_message",
            "review_creation_date",
            "review_answer_timestamp",
        ),
        ("review_id", "order_id"),
    ),
    SourceTable(
        "customers",
        "olist_customers_dataset.csv",
        (
            "customer_id",
            "customer_unique_id",
            "customer_zip_code_prefix",
            "customer_city",
            "customer_state",
        ),
        ("customer_id",),
    ),
    SourceTable(
        "sellers",
        "olist_sellers_dataset.csv",
        ("seller_id", "seller_zip_code_prefix", "seller_city", "seller_state"),
        ("seller_id",),
    ),
    SourceTable(
        "products",
        "olist_products_dataset.csv",
        (
            "product_id",
            "product_category_name",
            "product_name_lenght",
            "product_description_lenght",
            "product_photos_qty",
            "product_weight_g",
            "product_length_cm",
            "product_height_cm",
            "product_width_cm",
        ),
        ("product_id",),
    ),
    SourceTable(
        "geolocation",
        "olist_geolocation_dataset.csv",
        (
            "geolocation_zip_code_prefix",
            "geolocation_lat",
            "geolocation_lng",
            "geolocation_city",
            "geolocation_state",
        ),
        (),
    ),
    SourceTable(
        "category_translation",
        "product_category_name_translation.csv",
        ("product_category_name", "product_category_name_english"),
        ("product_category_name",),
    ),
)


def source_for_file(file_name: str) -> SourceTable | None:
    return next((s for s in SOURCES if s.file == file_name), None)


@dataclass(frozen=True)
class Reference:
    """``child.column`` must name an existing ``parent.parent_column``."""

    child: str
    column: str
    parent: str
    parent_column: str

    @property
    def check_name(self) -> str:
        return f"{self.column}_exists_in_{self.parent}"


REFERENCES: tuple[Reference, ...] = (
    Reference("order_items", "order_id", "orders", "order_id"),
    Reference("order_payments", "order_id", "orders", "order_id"),
    Reference("order_reviews", "order_id", "orders", "order_id"),
    Reference("orders", "customer_id", "customers", "customer_id"),
    Reference("order_items", "product_id", "products", "product_id"),
    Reference("order_items", "seller_id", "sellers", "seller_id"),
)

# the JSON order batches' tables (bronze.batch_*) and what their keys name
BATCH_REFERENCES: tuple[Reference, ...] = (
    Reference("batch_order_items", "order_id", "batch_orders", "order_id"),
    Reference("batch_order_payments", "order_id", "batch_orders", "order_id"),
    Reference("batch_orders", "customer_id", "batch_customers", "customer_id"),
    Reference("batch_order_items", "product_id", "products", "product_id"),
    Reference("batch_order_items", "seller_id", "sellers", "seller_id"),
)
