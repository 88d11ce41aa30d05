"""Contract for ``olist_orders_dataset.csv`` as delivered (every column is text)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts._patterns import HEX32, TIMESTAMP, is_calendar_timestamp, not_in_the_future

ORDER_STATUSES = [
    "created",
    "approved",
    "invoiced",
    "processing",
    "shipped",
    "delivered",
    "canceled",
    "unavailable",
]


def _ts(df: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(df[column], format="%Y-%m-%d %H:%M:%S", errors="coerce")


class Orders(pa.DataFrameModel):
    order_id: Series[str] = pa.Field(str_matches=HEX32, unique=True)
    customer_id: Series[str] = pa.Field(str_matches=HEX32)
    order_status: Series[str] = pa.Field(isin=ORDER_STATUSES)
    order_purchase_timestamp: Series[str] = pa.Field(str_matches=TIMESTAMP)
    order_approved_at: Series[str] = pa.Field(nullable=True, str_matches=TIMESTAMP)
    order_delivered_carrier_date: Series[str] = pa.Field(nullable=True, str_matches=TIMESTAMP)
    order_delivered_customer_date: Series[str] = pa.Field(nullable=True, str_matches=TIMESTAMP)
    order_estimated_delivery_date: Series[str] = pa.Field(str_matches=TIMESTAMP)

    @pa.check(
        "order_purchase_timestamp",
        "order_approved_at",
        "order_delivered_carrier_date",
        "order_delivered_customer_date",
        "order_estimated_delivery_date",
        name="is_calendar_timestamp",
    )
    def real_timestamp(cls, series: Series[str]) -> Series[bool]:
        return is_calendar_timestamp(series)

    @pa.check(
        "order_purchase_timestamp",
        "order_approved_at",
        "order_delivered_carrier_date",
        "order_delivered_customer_date",
        name="not_after_load_time",
    )
    def not_after_load_time(cls, series: Series[str]) -> Series[bool]:
        """What happened cannot be later than the load (the estimate may be)."""
        return not_in_the_future(series)

    @pa.dataframe_check(name="delivered_has_delivery_date")
    def delivered_has_delivery_date(cls, df: pd.DataFrame) -> Series[bool]:
        """Olist has a handful of delivered orders without a date: flag, keep."""
        return (df["order_status"] != "delivered") | df["order_delivered_customer_date"].notna()

    @pa.dataframe_check(name="carrier_not_before_approval")
    def carrier_not_before_approval(cls, df: pd.DataFrame) -> Series[bool]:
        carrier, approved = _ts(df, "order_delivered_carrier_date"), _ts(df, "order_approved_at")
        return carrier.isna() | approved.isna() | (carrier >= approved)

    @pa.dataframe_check(name="approval_not_before_purchase")
    def approval_not_before_purchase(cls, df: pd.DataFrame) -> Series[bool]:
        approved, purchase = _ts(df, "order_approved_at"), _ts(df, "order_purchase_timestamp")
        return approved.isna() | (approved >= purchase)

    class Config:
        strict = True
        metadata = {
            "check_severity": {
                "delivered_has_delivery_date": "warning",
                "carrier_not_before_approval": "warning",
                "approval_not_before_purchase": "critical",
            }
        }
