"""Contract for ``olist_order_reviews_dataset.csv``.

Olist reuses a review id across orders and gives some orders several reviews: both are
warnings; the pair (review_id, order_id) is the key.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts._patterns import (
    HEX32,
    TIMESTAMP,
    as_timestamp,
    is_calendar_timestamp,
    not_in_the_future,
)


class OrderReviews(pa.DataFrameModel):
    review_id: Series[str] = pa.Field(
        str_matches=HEX32,
        unique=True,
        metadata={"check_severity": {"field_uniqueness": "warning"}},
    )
    order_id: Series[str] = pa.Field(
        str_matches=HEX32,
        unique=True,
        metadata={"check_severity": {"field_uniqueness": "warning"}},
    )
    review_score: Series[str] = pa.Field(isin=["1", "2", "3", "4", "5"])
    review_comment_title: Series[str] = pa.Field(nullable=True)
    review_comment_message: Series[str] = pa.Field(nullable=True)
    review_creation_date: Series[str] = pa.Field(str_matches=TIMESTAMP)
    review_answer_timestamp: Series[str] = pa.Field(str_matches=TIMESTAMP)

    @pa.check("review_creation_date", "review_answer_timestamp", name="is_calendar_timestamp")
    def real_timestamp(cls, series: Series[str]) -> Series[bool]:
        return is_calendar_timestamp(series)

    @pa.check("review_creation_date", "review_answer_timestamp", name="not_after_load_time")
    def not_after_load_time(cls, series: Series[str]) -> Series[bool]:
        return not_in_the_future(series)

    @pa.dataframe_check(name="review_key_is_unique")
    def review_key_is_unique(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df.duplicated(["review_id", "order_id"], keep=False)

    @pa.dataframe_check(name="answer_not_before_creation")
    def answer_not_before_creation(cls, df: pd.DataFrame) -> Series[bool]:
        answered = as_timestamp(df["review_answer_timestamp"])
        created = as_timestamp(df["review_creation_date"])
        return answered.isna() | created.isna() | (answered >= created)

    class Config:
        strict = True
        metadata = {
            "check_severity": {
                "review_key_is_unique": "critical",
                "answer_not_before_creation": "warning",
            }
        }
