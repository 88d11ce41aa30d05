"""Which orders an incremental run recomputes (``warehouse.touched``): those a batch row
loaded after the watermark names, or whose customer such a batch delivered again; every
order (None) when a CSV snapshot is newer than the watermark, when the list would be too
long, or when a key could not be written as the same literal on both engines."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from warehouse import touched
from warehouse.engine import DuckDBWarehouse

OLD, CUT, NEW = "2024-01-01 00:00:00", datetime(2024, 6, 1), "2024-07-01 00:00:00"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Bronze with a CSV snapshot loaded before the cut and an empty batch history."""
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema bronze")
    for table in ("orders", "batch_orders"):
        con.execute(
            f"create table bronze.{table} (order_id varchar, customer_id varchar, "
            "_loaded_at timestamp)"
        )
    for table in ("order_items", "order_payments", "order_reviews"):
        con.execute(f"create table bronze.{table} (order_id varchar, _loaded_at timestamp)")
        con.execute(f"insert into bronze.{table} values ('o1', '{OLD}')")
    for table in ("batch_order_items", "batch_order_payments"):
        con.execute(f"create table bronze.{table} (order_id varchar, _loaded_at timestamp)")
    for table in ("customers", "batch_customers"):
        con.execute(f"create table bronze.{table} (customer_id varchar, _loaded_at timestamp)")
    for table in ("products", "category_translation"):
        con.execute(f"create table bronze.{table} (_loaded_at timestamp)")
        con.execute(f"insert into bronze.{table} values ('{OLD}')")
    con.execute(f"insert into bronze.orders values ('o1', 'c1', '{OLD}'), ('o2', 'c2', '{OLD}')")
    con.execute(f"insert into bronze.customers values ('c1', '{OLD}'), ('c2', '{OLD}')")
    con.close()
    return path


def _run(path: Path, sql: str = "", **kwargs: object) -> touched.Touched | None:
    if sql:
        con = duckdb.connect(str(path))
        con.execute(sql)
        con.close()
    with DuckDBWarehouse(path, read_only=True) as wh:
        return touched.touched_orders(wh, CUT, **kwargs)


def test_the_orders_of_the_batch_rows_loaded_after_the_cut(path: Path) -> None:
    found = _run(
        path,
        f"insert into bronze.batch_orders values ('o3', 'c3', '{NEW}'), ('o0', 'c0', '{OLD}');"
        f"insert into bronze.batch_order_items values ('o1', '{NEW}');"
        f"insert into bronze.batch_order_payments values ('o3', '{NEW}')",
    )
    assert found == touched.Touched(("o1", "o3"), ("c1", "c3"))


def test_a_customer_delivered_again_touches_its_orders(path: Path) -> None:
    found = _run(path, f"insert into bronze.batch_customers values ('c2', '{NEW}')")
    assert found == touched.Touched(("o2",), ("c2",))


def test_nothing_loaded_after_the_cut_touches_nothing(path: Path) -> None:
    assert _run(path) == touched.Touched((), ())


def test_no_cut_means_every_order(path: Path) -> None:
    with DuckDBWarehouse(path, read_only=True) as wh:
        assert touched.touched_orders(wh, None) is None


@pytest.mark.parametrize("snapshot", touched.SNAPSHOTS)
def test_a_csv_snapshot_newer_than_the_cut_means_every_order(path: Path, snapshot: str) -> None:
    """A new export version can drop orders, which leave no row to be found by."""
    con = duckdb.connect(str(path))
    con.execute(f"update bronze.{snapshot} set _loaded_at = '{NEW}'")
    con.execute(f"insert into bronze.batch_orders values ('o3', 'c3', '{NEW}')")
    con.close()
    assert _run(path) is None


def test_more_orders_than_the_limit_means_every_order(path: Path) -> None:
    sql = f"insert into bronze.batch_orders values ('o3', 'c3', '{NEW}'), ('o4', 'c4', '{NEW}')"
    assert _run(path, sql, limit=1) is None


def test_a_key_that_is_not_plain_means_every_order(path: Path) -> None:
    """Quotes are escaped differently by DuckDB and BigQuery: never written as a literal."""
    assert _run(path, f"insert into bronze.batch_orders values ('o''3', 'c3', '{NEW}')") is None
    with pytest.raises(ValueError):
        touched.in_list(["o'3"])


def _before(path: Path, order_ids: list[str], sql: str = "") -> touched.Before | None:
    if sql:
        con = duckdb.connect(str(path))
        con.execute(sql)
        con.close()
    with DuckDBWarehouse(path, read_only=True) as wh:
        return touched.before_build(wh, order_ids, "gold_audit")


FACTS = (
    "create schema gold_audit; create table gold_audit.fct_orders "
    "(order_id varchar, customer_unique_id varchar, purchased_at timestamp);"
    "insert into gold_audit.fct_orders values ('o1', 'u1', '2018-01-01 10:00:00'), "
    "('o2', 'u1', '2018-01-01 23:00:00'), ('o3', 'u2', '2018-02-03 00:00:00'), "
    "('o4', 'u3', '2018-03-04 00:00:00');"
)


def test_before_the_build_the_orders_have_their_owners_and_days_in_the_built_facts(
    path: Path,
) -> None:
    assert _before(path, ["o1", "o2", "o3", "o9"], FACTS) == touched.Before(
        ("u1", "u2"), ("2018-01-01", "2018-02-03")
    )


def test_no_touched_order_has_nothing_before(path: Path) -> None:
    assert _before(path, [], FACTS) == touched.Before((), ())


def test_nothing_is_known_before_without_built_facts(path: Path) -> None:
    assert _before(path, ["o1"]) is None


def test_an_owner_key_that_is_not_plain_makes_nothing_known(path: Path) -> None:
    sql = FACTS + "insert into gold_audit.fct_orders values ('o5', 'u''5', '2018-01-01');"
    assert _before(path, ["o1", "o5"], sql) is None


def test_dbt_vars_name_the_owners_and_days_only_when_known() -> None:
    found = touched.Touched(("o1",), ("c1",))
    assert "touched_people" not in touched.dbt_vars(found)
    assert "touched_days" not in touched.dbt_vars(found)
    named = touched.dbt_vars(found, touched.Before(("u1",), ("2018-01-01",)))
    assert named["touched_people"] == ["u1"]
    assert named["touched_days"] == ["2018-01-01"]
