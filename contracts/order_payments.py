"""Contract for ``olist_order_payments_dataset.csv``: one row per payment of an order."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts._patterns import DECIMAL, HEX32, INTEGER, as_number

PAYMENT_TYPES = ["credit_card", "boleto", "voucher", "debit_card", "not_defined"]


class OrderPayments(pa.DataFrameModel):
    order_id: Series[str] = pa.Field(str_matches=HEX32)
    payment_sequential: Series[str] = pa.Field(str_matches=INTEGER)
    payment_type: Series[str] = pa.Field(isin=PAYMENT_TYPES)
    payment_installments: Series[str] = pa.Field(str_matches=INTEGER)
    payment_value: Series[str] = pa.Field(str_matches=DECIMAL)

    @pa.dataframe_check(name="payment_is_unique")
    def payment_is_unique(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["order_id", "payment_sequential"], keep=False)

    @pa.dataframe_check(name="payment_type_defined")
    def payment_type_defined(cls, df: pd.DataFrame) -> Series[bool]:
        """Olist has a few ``not_defined`` payments on canceled orders: flag, keep."""
        return df["payment_type"] != "not_defined"

    @pa.dataframe_check(name="payment_value_positive")
    def payment_value_positive(cls, df: pd.DataFrame) -> Series[bool]:
        """Zero-value vouchers exist in Olist: flag, keep."""
        return ~(as_number(df["payment_value"]) <= 0)

    @pa.dataframe_check(name="payment_value_not_negative")
    def payment_value_not_negative(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(as_number(df["payment_value"]) < 0)

    @pa.dataframe_check(name="installments_at_least_one")
    def installments_at_least_one(cls, df: pd.DataFrame) -> Series[bool]:
        """Two credit-card payments in Olist have 0 installments: flag, keep."""
        return ~(as_number(df["payment_installments"]) < 1)

    class Config:
        strict = True
        metadata = {
            "check_severity": {
                "payment_is_unique": "critical",
                "payment_type_defined": "warning",
                "payment_value_positive": "info",
                "payment_value_not_negative": "critical",
                "installments_at_least_one": "warning",
            }
        }
