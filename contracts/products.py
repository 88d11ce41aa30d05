"""Contract for ``olist_products_dataset.csv`` (Kaggle's ``lenght`` spelling kept)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts._patterns import HEX32, INTEGER

_OPTIONAL_INT = {"str_matches": INTEGER, "nullable": True}


class Products(pa.DataFrameModel):
    product_id: Series[str] = pa.Field(str_matches=HEX32, unique=True)
    product_category_name: Series[str] = pa.Field(nullable=True, str_matches=r"^[a-z0-9_]+$")
    product_name_lenght: Series[str] = pa.Field(**_OPTIONAL_INT)
    product_description_lenght: Series[str] = pa.Field(**_OPTIONAL_INT)
    product_photos_qty: Series[str] = pa.Field(**_OPTIONAL_INT)
    product_weight_g: Series[str] = pa.Field(**_OPTIONAL_INT)
    product_length_cm: Series[str] = pa.Field(**_OPTIONAL_INT)
    product_height_cm: Series[str] = pa.Field(**_OPTIONAL_INT)
    product_width_cm: Series[str] = pa.Field(**_OPTIONAL_INT)

    @pa.dataframe_check(name="product_has_category")
    def product_has_category(cls, df: pd.DataFrame) -> Series[bool]:
        """~2% of Olist products have no category: flag, keep (mapped to `unknown`)."""
        return df["product_category_name"].notna()

    @pa.dataframe_check(name="product_has_dimensions")
    def product_has_dimensions(cls, df: pd.DataFrame) -> Series[bool]:
        return df["product_weight_g"].notna()

    class Config:
        strict = True
        metadata = {
            "check_severity": {"product_has_category": "warning", "product_has_dimensions": "info"}
        }
