"""Contract for ``olist_customers_dataset.csv``: one row per order's customer id."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from contracts._patterns import BRAZIL_STATES, HEX32, ZIP_PREFIX


class Customers(pa.DataFrameModel):
    customer_id: Series[str] = pa.Field(str_matches=HEX32, unique=True)
    customer_unique_id: Series[str] = pa.Field(str_matches=HEX32)
    customer_zip_code_prefix: Series[str] = pa.Field(str_matches=ZIP_PREFIX)
    customer_city: Series[str] = pa.Field(str_length={"min_value": 1})
    customer_state: Series[str] = pa.Field(isin=BRAZIL_STATES)

    class Config:
        strict = True
