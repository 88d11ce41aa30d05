"""Raw data contracts: the 9 Olist source tables as delivered, as pandera models.

Imports nothing of ours. ``SOURCES`` is the single list of files, tables and columns that
ingestion, the generator and the dbt sources agree on; ``CONTRACTS`` maps each table to its
model. Every column is text as delivered; formats, value sets, ranges and cross-field rules
are checks, each with a severity (critical quarantines the row; warning and info record).
"""

import pandera.pandas as pa

from contracts.category_translation import CategoryTranslation
from contracts.customers import Customers
from contracts.geolocation import Geolocation
from contracts.order_items import OrderItems
from contracts.order_payments import OrderPayments
from contracts.order_reviews import OrderReviews
from contracts.orders import Orders
from contracts.products import Products
from contracts.sellers import Sellers
from contracts.severity import Severity, check_severity
from contracts.sources import SOURCES, SourceTable, source_for_file

CONTRACTS: dict[str, type[pa.DataFrameModel]] = {
    "orders": Orders,
    "order_items": OrderItems,
    "order_payments": OrderPayments,
    "order_reviews": OrderReviews,
    "customers": Customers,
    "sellers": Sellers,
    "products": Products,
    "geolocation": Geolocation,
    "category_translation": CategoryTranslation,
}

__all__ = [
    "CONTRACTS",
    "SOURCES",
    "CategoryTranslation",
    "Customers",
    "Geolocation",
    "OrderItems",
    "OrderPayments",
    "OrderReviews",
    "Orders",
    "Products",
    "Sellers",
    "Severity",
    "SourceTable",
    "check_severity",
    "source_for_file",
]
