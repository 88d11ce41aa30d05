"""Contract for ``olist_sellers_dataset.csv``."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from contracts._patterns import BRAZIL_STATES, HEX32, ZIP_PREFIX


class Sellers(pa.DataFrameModel):
    seller_id: Series[str] = pa.Field(str_matches=HEX32, unique=True)
    seller_zip_code_prefix: Series[str] = pa.Field(str_matches=ZIP_PREFIX)
    seller_city: Series[str] = pa.Field(str_length={"min_value": 1})
    seller_state: Series[str] = pa.Field(isin=BRAZIL_STATES)

    class Config:
        strict = True
