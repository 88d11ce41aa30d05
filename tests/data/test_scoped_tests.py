"""An incremental run's dbt tests read the rows it loaded (``where: __new_rows__`` with the
``loaded_after`` var, dbt/macros/where_subquery.sql): a bad new row is caught, a bad old row
is not reported again, and the tests that must see the whole table (``unique``) still do.
Without the var (the daily build) every test reads the whole mart."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from tests.dbt_helpers import dbt_test_results

AFTER = "2099-12-31 00:00:00"  # later than the sample's load time
NEW = "2100-01-01 00:00:00"  # when the "new" rows were loaded


def _break_rows(path: Path) -> tuple[str, str, str]:
    """In gold.fct_orders: an old row without a status, a new row (loaded after AFTER) without
    one too, and a new row repeating an old row's key; their order ids."""
    con = duckdb.connect(str(path))
    try:
        old, new, repeated = (
            r[0]
            for r in con.sql("select order_id from gold.fct_orders order by 1 limit 3").fetchall()
        )
        con.execute(
            "update gold.fct_orders set order_status = null where order_id in (?, ?)", [old, new]
        )
        con.execute(
            f"update gold.fct_orders set _loaded_at = timestamp '{NEW}' where order_id = ?", [new]
        )
        con.execute(
            "insert into gold.fct_orders select * replace "
            f"(timestamp '{NEW}' as _loaded_at) from gold.fct_orders where order_id = ?",
            [repeated],
        )
    finally:
        con.close()
    return old, new, repeated


def test_scoped_tests_catch_new_rows_and_keep_uniqueness_whole(
    sample_warehouse: Path, tmp_path: Path
) -> None:
    wh = tmp_path / "olist.duckdb"
    shutil.copy(sample_warehouse, wh)
    _break_rows(wh)

    scoped = dbt_test_results(wh, tmp_path / "scoped", "fct_orders", {"loaded_after": AFTER})
    whole = dbt_test_results(wh, tmp_path / "whole", "fct_orders")

    def failures(results: dict[str, int], test: str) -> int:
        (name,) = (n for n in results if n.startswith(test))
        return results[name]

    status = "not_null_fct_orders_order_status"
    assert failures(scoped, status) == 1  # the new row only: the old one was reported when loaded
    assert failures(whole, status) == 2
    unique = "unique_fct_orders_order_id"  # a new row repeating an old key: seen either way
    assert failures(scoped, unique) == failures(whole, unique) == 1
