"""Contract for ``olist_order_items_dataset.csv``: one row per order line."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts._patterns import (
    DECIMAL,
    HEX32,
    INTEGER,
    TIMESTAMP,
    as_number,
    is_calendar_timestamp,
)


class OrderItems(pa.DataFrameModel):
    order_id: Series[str] = pa.Field(str_matches=HEX32)
    order_item_id: Series[str] = pa.Field(str_matches=INTEGER)
    product_id: Series[str] = pa.Field(str_matches=HEX32)
    seller_id: Series[str] = pa.Field(str_matches=HEX32)
    shipping_limit_date: Series[str] = pa.Field(str_matches=TIMESTAMP)
    price: Series[str] = pa.Field(str_matches=DECIMAL)
    freight_value: Series[str] = pa.Field(str_matches=DECIMAL)

    @pa.check("shipping_limit_date", name="is_calendar_timestamp")
    def real_timestamp(cls, series: Series[str]) -> Series[bool]:
        return is_calendar_timestamp(series)

    @pa.dataframe_check(name="order_line_is_unique")
    def order_line_is_unique(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["order_id", "order_item_id"], keep=False)

    @pa.dataframe_check(name="price_is_positive")
    def price_is_positive(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(as_number(df["price"]) <= 0)

    @pa.dataframe_check(name="freight_not_negative")
    def freight_not_negative(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(as_number(df["freight_value"]) < 0)

    class Config:
        strict = True
        metadata = {
            "check_severity": {
                "order_line_is_unique": "critical",
                "price_is_positive": "critical",
                "freight_not_negative": "critical",
            }
        }
