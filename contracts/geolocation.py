"""Contract for ``olist_geolocation_dataset.csv``: many points per zip prefix.

Duplicate points (a quarter of the real file) are a table-level fact, counted in SQL by the
cleaning step (``duplicate_rows``, info), not a row rule: as a lazy pandera check they would
expand into one failure case per column of every duplicate row.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from contracts._patterns import BRAZIL_STATES, COORDINATE, ZIP_PREFIX, as_number

# Brazil's bounding box, with a margin for islands.
LAT_RANGE = (-35.0, 5.5)
LNG_RANGE = (-75.0, -28.0)


class Geolocation(pa.DataFrameModel):
    geolocation_zip_code_prefix: Series[str] = pa.Field(str_matches=ZIP_PREFIX)
    geolocation_lat: Series[str] = pa.Field(str_matches=COORDINATE)
    geolocation_lng: Series[str] = pa.Field(str_matches=COORDINATE)
    geolocation_city: Series[str] = pa.Field(str_length={"min_value": 1})
    geolocation_state: Series[str] = pa.Field(isin=BRAZIL_STATES)

    @pa.dataframe_check(name="point_inside_brazil")
    def point_inside_brazil(cls, df: pd.DataFrame) -> Series[bool]:
        """A few Olist points fall in Europe or the Atlantic: flag, keep (silver drops them)."""
        lat, lng = as_number(df["geolocation_lat"]), as_number(df["geolocation_lng"])
        inside = lat.between(*LAT_RANGE) & lng.between(*LNG_RANGE)
        return inside | lat.isna() | lng.isna()

    class Config:
        strict = True
        metadata = {
            # every check looks at one row at a time, so the table can be validated in chunks
            "row_local": True,
            "check_severity": {"point_inside_brazil": "warning"},
        }
