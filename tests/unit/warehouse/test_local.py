"""warehouse.local: the DuckDB file helpers."""

from __future__ import annotations

import duckdb
import pandas as pd

from warehouse.local import frame


def test_frame_is_the_frame_df_builds_for_the_columns_contracts_read() -> None:
    """Landing's varchar columns (nulls, empty and non-ASCII strings included) and its
    bigint row number: what the contracts validate must not change with the faster path."""
    con = duckdb.connect()
    con.execute(
        "create table landing as select i as _row_number, "
        "case when i % 7 = 0 then null when i % 5 = 0 then '' else 'São Paulo ' || i end "
        "as city, cast(i * 1.5 as varchar) as lat from range(1, 5000) t(i)"
    )
    relation = "select * from landing order by _row_number"
    fast = frame(con.sql(relation))
    pd.testing.assert_frame_equal(fast, con.sql(relation).df())
    assert fast["city"].isna().sum() == len(range(7, 5000, 7))
