"""Contract for ``product_category_name_translation.csv``."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series


class CategoryTranslation(pa.DataFrameModel):
    product_category_name: Series[str] = pa.Field(str_matches=r"^[a-z0-9_]+$", unique=True)
    product_category_name_english: Series[str] = pa.Field(str_matches=r"^[a-z0-9_]+$")

    class Config:
        strict = True
